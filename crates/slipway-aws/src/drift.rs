//! The desired state (slipway.toml + manifest) against the live function:
//! what `slipway verify --deployed` and `slipway drift` report.

use serde::Serialize;
use slipway_config::Function;

use crate::live;
use crate::settings::{Difference, Settings};
use crate::{Artifact, Aws, AwsError, DeployRecord, layers, signing, triggers};

/// How one live function compares with its desired state.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionDrift {
    pub function: String,
    pub function_arn: Option<String>,
    /// The function exists on AWS.
    pub deployed: bool,
    /// The `CodeSha256` Lambda reports for `$LATEST`.
    pub live_code_sha256: Option<String>,
    pub expected_code_sha256: Option<String>,
    pub differences: Vec<Difference>,
}

impl FunctionDrift {
    pub fn in_sync(&self) -> bool {
        self.deployed && self.differences.is_empty()
    }
}

/// Compares one function. Without an artifact (never built here) the code is
/// not compared, everything else is.
pub async fn compare(
    aws: &Aws,
    function: &Function,
    artifact: Option<&Artifact>,
) -> Result<FunctionDrift, AwsError> {
    let name = function.name.as_str();
    let expected_code = artifact.map(|a| expected_code(function, a));
    let mut drift = FunctionDrift {
        function: name.to_string(),
        function_arn: None,
        deployed: false,
        live_code_sha256: None,
        expected_code_sha256: expected_code.clone(),
        differences: Vec::new(),
    };
    let Some(current) = live::get_function(aws, name, None).await? else {
        drift
            .differences
            .push(Difference::new("function", "deployed", "does not exist"));
        return Ok(drift);
    };
    drift.deployed = true;
    let arn = current.arn().to_string();
    drift.function_arn = Some(arn.clone());
    drift.live_code_sha256 = Some(current.code_sha256().to_string());
    let diffs = &mut drift.differences;

    if let Some(expected) = &expected_code
        && current.code_sha256() != expected
    {
        diffs.push(Difference::new(
            "code_sha256",
            expected.clone(),
            current.code_sha256(),
        ));
    }
    let mut desired = Settings::desired(function);
    if let Some(record) = artifact.and_then(|a| a.manifest.layer.as_ref()) {
        match layers::find(aws, function, record).await? {
            Some(arn) => desired.layers.insert(0, arn),
            None => diffs.push(Difference::new(
                "dependencies layer",
                format!("{} published", layers::layer_name(function)),
                "this build's layer is not published",
            )),
        }
    }
    diffs.extend(desired.differences(&Settings::live(&current.config)));
    for (k, v) in &function.tags {
        match current.tags.get(k) {
            Some(have) if have == v => {}
            Some(have) => diffs.push(Difference::new(
                format!("tags.{k}"),
                v.clone(),
                have.clone(),
            )),
            None => diffs.push(Difference::new(format!("tags.{k}"), v.clone(), "(missing)")),
        }
    }

    if let Some(want) = &function.code_signing_config_arn {
        let have = signing::attached_config(aws, name).await?;
        if have != *want {
            diffs.push(Difference::new(
                "code_signing_config_arn",
                want.clone(),
                have,
            ));
        }
    }

    let mut released_code = None;
    if function.publish {
        match live::latest_version(aws, name).await? {
            None => diffs.push(Difference::new("version", "published", "none published")),
            Some(v) => {
                released_code = Some((
                    v.version().unwrap_or_default().to_string(),
                    v.code_sha256().unwrap_or_default().to_string(),
                ))
            }
        }
    }
    if let Some(alias) = &function.alias {
        match live::get_alias(aws, name, alias).await? {
            None => diffs.push(Difference::new(
                format!("alias.{alias}"),
                "exists",
                "missing",
            )),
            Some(a) => {
                let on = a.function_version().unwrap_or_default().to_string();
                if let Some((latest, _)) = &released_code
                    && &on != latest
                    && live::routing_weights(&a).iter().all(|(v, _)| v != latest)
                {
                    diffs.push(Difference::new(
                        format!("alias.{alias}"),
                        format!("version {latest}"),
                        format!("version {on}"),
                    ));
                }
                if let Some(expected) = &expected_code
                    && on != "$LATEST"
                {
                    let target = live::get_function(aws, name, Some(&on)).await?;
                    let have = target
                        .as_ref()
                        .map(|t| t.code_sha256().to_string())
                        .unwrap_or_default();
                    let canary = !live::routing_weights(&a).is_empty();
                    if &have != expected && !canary {
                        diffs.push(Difference::new(
                            format!("alias.{alias}.code_sha256"),
                            expected.clone(),
                            have,
                        ));
                    }
                }
            }
        }
    }
    diffs.extend(triggers::compare(aws, function, &arn).await?);
    Ok(drift)
}

/// The `CodeSha256` the live function should report: the built zip's, or the
/// signed copy's recorded at the last deploy when AWS Signer signed it.
pub fn expected_code(function: &Function, artifact: &Artifact) -> String {
    if function.signing_profile.is_some()
        && let Some(record) = DeployRecord::read(&artifact.dir)
        && record.sha256 == artifact.manifest.artifact.sha256
        && let Some(signed) = record.signed_code_sha256
    {
        return signed;
    }
    artifact.code_sha256().to_string()
}
