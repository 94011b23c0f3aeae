//! Which functions changed: each function's input hash from `slipway plan`
//! against the input hash in the manifest of its last deploy.
//!
//! The input hash covers everything a build reads (sources, the resolved
//! configuration, the dependency inputs, slipway's version), so comparing
//! hashes finds every function a commit affects, including one whose
//! shared library folder or lock file changed, and none that only moved.
//!
//! The deployed manifests sit in a folder laid out as `dist/` is:
//! `<function>/manifest.json` with the `deploy.json` that `slipway deploy`
//! wrote beside it. A manifest without a matching deploy record (same zip
//! SHA-256) was built but never deployed, and does not count.

use std::path::Path;

use serde::{Deserialize, Serialize};
use slipway_artifact::Manifest;

use crate::CiError;

/// The JSON of `slipway --format json plan`.
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    pub functions: Vec<PlannedFunction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlannedFunction {
    pub name: String,
    pub input_hash: String,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

impl Plan {
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Plan, CiError> {
        let plan: Plan = serde_json::from_slice(bytes).map_err(|e| CiError::PlanInvalid {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(f) = plan.functions.iter().find(|f| f.input_hash.is_empty()) {
            return Err(CiError::PlanInvalid {
                origin: origin.to_string(),
                reason: format!("function `{}` has an empty input_hash", f.name),
            });
        }
        Ok(plan)
    }

    pub fn read(path: &Path) -> Result<Plan, CiError> {
        let bytes = std::fs::read(path).map_err(|source| CiError::PlanUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
        Plan::from_json(&bytes, &path.display().to_string())
    }
}

/// One function's state against its last deploy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub function: String,
    pub input_hash: String,
    #[serde(flatten)]
    pub reason: ChangeReason,
}

impl Change {
    pub fn is_changed(&self) -> bool {
        !matches!(self.reason, ChangeReason::Unchanged)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChangeReason {
    /// No deploy record for this function.
    NeverDeployed,
    /// Deployed from other inputs.
    Changed { deployed_input_hash: String },
    /// The inputs of the last deploy.
    Unchanged,
}

impl ChangeReason {
    pub fn describe(&self) -> String {
        match self {
            ChangeReason::NeverDeployed => "never deployed".to_string(),
            ChangeReason::Changed {
                deployed_input_hash,
            } => format!(
                "input hash differs from the deployed one ({})",
                short(deployed_input_hash)
            ),
            ChangeReason::Unchanged => "unchanged".to_string(),
        }
    }
}

fn short(hash: &str) -> &str {
    let h = hash.strip_prefix("sha256:").unwrap_or(hash);
    h.get(..12).unwrap_or(h)
}

/// Every planned function with its state; `deployed` may not exist (no
/// deploy yet: every function changed).
pub fn changes(plan: &Plan, deployed: &Path) -> Result<Vec<Change>, CiError> {
    plan.functions
        .iter()
        .map(|f| {
            let reason = match deployed_input_hash(&deployed.join(&f.name))? {
                None => ChangeReason::NeverDeployed,
                Some(h) if h == f.input_hash => ChangeReason::Unchanged,
                Some(h) => ChangeReason::Changed {
                    deployed_input_hash: h,
                },
            };
            Ok(Change {
                function: f.name.clone(),
                input_hash: f.input_hash.clone(),
                reason,
            })
        })
        .collect()
}

/// The input hash of the manifest deployed from `dir`, if a deploy record
/// beside it says that zip was deployed.
fn deployed_input_hash(dir: &Path) -> Result<Option<String>, CiError> {
    let manifest_path = dir.join(slipway_artifact::MANIFEST_FILE_NAME);
    let record_path = dir.join("deploy.json");
    if !manifest_path.is_file() || !record_path.is_file() {
        return Ok(None);
    }
    let manifest = Manifest::read(&manifest_path).map_err(|e| CiError::DeployedUnreadable {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    let record: serde_json::Value = std::fs::read(&record_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|reason| CiError::DeployedUnreadable {
            path: record_path.clone(),
            reason,
        })?;
    let deployed_sha = record["sha256"].as_str().unwrap_or_default();
    if deployed_sha != manifest.artifact.sha256 {
        // The manifest of a later build that never reached AWS.
        return Ok(None);
    }
    Ok(Some(manifest.input_hash))
}
