//! `dist/<function>/deploy.json` and the `--dotenv` report: what was deployed, where and when.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{AwsError, DeployOutcome};

pub use slipway_artifact::layout::DEPLOY_RECORD_FILE_NAME;

/// What `dist/<function>/deploy.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub function: String,
    pub region: String,
    pub function_arn: String,
    pub version: Option<String>,
    pub alias: Option<String>,
    pub alias_arn: Option<String>,
    pub canary_weight: Option<f64>,
    /// `CodeSha256` of the built zip (base64), equal to the manifest's.
    pub code_sha256: String,
    /// SHA-256 of the built zip (hex).
    pub sha256: String,
    /// `CodeSha256` Lambda reports when it runs a Signer-signed copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_code_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_location: Option<String>,
    /// The Function URL's address, when the function has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_url: Option<String>,
    /// RFC 3339, UTC.
    pub deployed_at: String,
    pub slipway_version: String,
}

impl DeployRecord {
    pub fn new(outcome: &DeployOutcome, slipway_version: &str) -> DeployRecord {
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        DeployRecord {
            function: outcome.function.clone(),
            region: outcome.region.clone(),
            function_arn: outcome.function_arn.clone(),
            version: outcome.version.clone(),
            alias: outcome.alias.clone(),
            alias_arn: outcome.alias_arn.clone(),
            canary_weight: outcome.canary_weight,
            code_sha256: outcome.code_sha256.clone(),
            sha256: outcome.sha256.clone(),
            signed_code_sha256: outcome.signed_code_sha256.clone(),
            s3_location: outcome.s3_location.clone(),
            function_url: outcome.function_url.clone(),
            deployed_at: now
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            slipway_version: slipway_version.to_string(),
        }
    }

    /// Writes `deploy.json` into the function's dist folder, atomically.
    pub fn write(&self, dist_dir: &Path) -> Result<PathBuf, AwsError> {
        let path = dist_dir.join(DEPLOY_RECORD_FILE_NAME);
        let mut bytes = serde_json::to_vec_pretty(self).expect("record serialises");
        bytes.push(b'\n');
        slipway_artifact::fs::write_atomic(&path, &bytes).map_err(|source| AwsError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    pub fn read(dist_dir: &Path) -> Option<DeployRecord> {
        let bytes = std::fs::read(dist_dir.join(DEPLOY_RECORD_FILE_NAME)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// `KEY=value` lines for a GitLab `dotenv` report, keys prefixed by the
    /// function name so several functions fit in one file.
    pub fn dotenv_lines(&self) -> String {
        let prefix: String = format!("SLIPWAY_{}", self.function)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let mut out = String::new();
        let mut line = |key: &str, value: Option<&str>| {
            if let Some(v) = value {
                out.push_str(&format!("{prefix}_{key}={v}\n"));
            }
        };
        line("FUNCTION_ARN", Some(&self.function_arn));
        line("REGION", Some(&self.region));
        line("VERSION", self.version.as_deref());
        line("ALIAS", self.alias.as_deref());
        line("ALIAS_ARN", self.alias_arn.as_deref());
        line("CODE_SHA256", Some(&self.code_sha256));
        line("SHA256", Some(&self.sha256));
        line("SIGNED_CODE_SHA256", self.signed_code_sha256.as_deref());
        line("FUNCTION_URL", self.function_url.as_deref());
        line("DEPLOYED_AT", Some(&self.deployed_at));
        out
    }
}

/// Writes the dotenv report for several functions, atomically.
pub fn write_dotenv(path: &Path, records: &[DeployRecord]) -> Result<(), AwsError> {
    let text: String = records.iter().map(DeployRecord::dotenv_lines).collect();
    slipway_artifact::fs::write_atomic(path, text.as_bytes()).map_err(|source| AwsError::Write {
        path: path.to_path_buf(),
        source,
    })
}
