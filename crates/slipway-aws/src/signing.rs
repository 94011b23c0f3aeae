//! Code signing: attaching a code signing config, and signing the zip with an
//! AWS Signer job so Lambda runs the signed object.

use crate::deploy::Steps;
use crate::live::LiveFunction;
use crate::retry::{BUSY, retrying};
use crate::{Artifact, Aws, AwsError};
use slipway_config::Function;

/// The signed object a Signer job wrote, ready for Lambda.
#[derive(Debug, Clone)]
pub struct Signed {
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
    pub signed_code_sha256: String,
    pub job_id: String,
}

/// Signs the artifact with AWS Signer when `signing_profile` is set.
pub(crate) async fn prepare(
    _aws: &Aws,
    function: &Function,
    _artifact: &Artifact,
    _live: Option<&LiveFunction>,
    _steps: Steps<'_>,
) -> Result<Option<Signed>, AwsError> {
    if function.signing_profile.is_none() {
        return Ok(None);
    }
    Err(AwsError::Signing {
        function: function.name.clone(),
        what: "signing with AWS Signer is not implemented yet".into(),
        help: "remove `signing_profile` for now".into(),
    })
}

/// Attaches `code_signing_config_arn` when the function does not have it.
pub(crate) async fn attach_config(
    aws: &Aws,
    function: &Function,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<(), AwsError> {
    let Some(arn) = &function.code_signing_config_arn else {
        return Ok(());
    };
    let name = function.name.as_str();
    let current = retrying("GetFunctionCodeSigningConfig", BUSY, || {
        aws.lambda
            .get_function_code_signing_config()
            .function_name(name)
            .send()
    })
    .await
    .map_err(|e| AwsError::api("GetFunctionCodeSigningConfig", name, e))?;
    if current.code_signing_config_arn() == arn {
        return Ok(());
    }
    steps(&format!("{name}: attaching code signing config {arn}"));
    retrying("PutFunctionCodeSigningConfig", BUSY, || {
        aws.lambda
            .put_function_code_signing_config()
            .function_name(name)
            .code_signing_config_arn(arn)
            .send()
    })
    .await
    .map_err(|e| AwsError::api("PutFunctionCodeSigningConfig", name, e))?;
    changes.push(format!("attached code signing config {arn}"));
    Ok(())
}
