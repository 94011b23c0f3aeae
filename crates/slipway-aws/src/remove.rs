//! `slipway remove`: the function, its versions, aliases and triggers.

use serde::Serialize;
use slipway_config::Function;

use crate::error::unless_code;
use crate::live::NOT_FOUND;
use crate::retry::{BUSY, retrying};
use crate::{Aws, AwsError, live, triggers};

#[derive(Debug, Clone, Serialize)]
pub struct RemoveOutcome {
    pub function: String,
    /// False when there was nothing to remove.
    pub existed: bool,
    pub changes: Vec<String>,
}

/// Deletes the triggers slipway manages, then the function with all its versions and aliases.
pub async fn remove(aws: &Aws, function: &Function) -> Result<RemoveOutcome, AwsError> {
    let name = function.name.as_str();
    let mut outcome = RemoveOutcome {
        function: name.to_string(),
        existed: false,
        changes: Vec::new(),
    };
    let Some(current) = live::get_function(aws, name, None).await? else {
        return Ok(outcome);
    };
    outcome.existed = true;
    triggers::remove_all(aws, function, current.arn(), &mut outcome.changes).await?;
    let result = retrying("DeleteFunction", BUSY, || {
        aws.lambda.delete_function().function_name(name).send()
    })
    .await;
    unless_code(result, NOT_FOUND, "DeleteFunction", name)?;
    outcome
        .changes
        .push("deleted the function, its versions and aliases".into());
    Ok(outcome)
}
