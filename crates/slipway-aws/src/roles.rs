//! `--create-role`: the one case where slipway makes an IAM role, and then the
//! smallest one that runs a function: trusted by Lambda, allowed to write its
//! own logs (AWS's `AWSLambdaBasicExecutionRole`), nothing else.

use aws_sdk_iam::error::ProvideErrorMetadata;
use slipway_config::Function;

use crate::deploy::Steps;
use crate::{Aws, AwsError};

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// `slipway-<function>-exec`, cut to IAM's 64 characters.
pub fn role_name(function: &Function) -> String {
    let mut name = format!("slipway-{}-exec", function.name);
    name.truncate(64);
    name
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The role's ARN, creating it first when it does not exist. The flag says
/// whether it was created now (IAM then needs a few seconds before Lambda may assume it).
pub(crate) async fn ensure(
    aws: &Aws,
    function: &Function,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<(String, bool), AwsError> {
    let name = role_name(function);
    let fname = function.name.as_str();
    let policy = format!(
        "arn:{}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        partition(&aws.region)
    );
    let existing = match aws.iam.get_role().role_name(&name).send().await {
        Ok(out) => out.role().map(|r| r.arn().to_string()),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchEntity") => None,
        Err(e) => return Err(AwsError::api("GetRole", fname, e)),
    };
    let (arn, created) = match existing {
        Some(arn) => (arn, false),
        None => {
            steps(&format!("{fname}: creating the execution role {name}"));
            let created = aws
                .iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(TRUST_POLICY)
                .description(format!(
                    "Execution role of Lambda function {fname}, created by slipway --create-role"
                ))
                .send()
                .await
                .map_err(|e| AwsError::api("CreateRole", fname, e))?;
            let arn = created
                .role()
                .map(|r| r.arn().to_string())
                .unwrap_or_default();
            changes.push(format!("created execution role {arn}"));
            (arn, true)
        }
    };
    // Checked on every run: an interrupted first run may have created the role only.
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .map_err(|e| AwsError::api("ListAttachedRolePolicies", fname, e))?;
    if !attached
        .attached_policies()
        .iter()
        .any(|p| p.policy_arn() == Some(policy.as_str()))
    {
        aws.iam
            .attach_role_policy()
            .role_name(&name)
            .policy_arn(&policy)
            .send()
            .await
            .map_err(|e| AwsError::api("AttachRolePolicy", fname, e))?;
        changes.push(format!("attached {policy} to {name}"));
    }
    Ok((arn, created))
}
