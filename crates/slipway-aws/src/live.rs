//! Reading what runs on AWS: a function, its versions and its alias.

use std::collections::HashMap;

use aws_sdk_lambda::types::{AliasConfiguration, FunctionConfiguration};

use crate::error::unless_code;
use crate::retry::{BUSY, retrying};
use crate::{Aws, AwsError};

/// A function as GetFunction reports it.
#[derive(Debug, Clone)]
pub struct LiveFunction {
    pub config: FunctionConfiguration,
    pub tags: HashMap<String, String>,
}

impl LiveFunction {
    pub fn arn(&self) -> &str {
        self.config.function_arn().unwrap_or_default()
    }

    pub fn code_sha256(&self) -> &str {
        self.config.code_sha256().unwrap_or_default()
    }
}

pub(crate) const NOT_FOUND: &str = "ResourceNotFoundException";

/// The function (or one version of it), or `None` when it does not exist.
pub async fn get_function(
    aws: &Aws,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Option<LiveFunction>, AwsError> {
    let result = retrying("GetFunction", BUSY, || {
        aws.lambda
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
    })
    .await;
    Ok(
        unless_code(result, NOT_FOUND, "GetFunction", name)?.and_then(|out| {
            out.configuration.map(|config| LiveFunction {
                config,
                tags: out.tags.unwrap_or_default(),
            })
        }),
    )
}

/// The highest-numbered published version, if any.
pub async fn latest_version(
    aws: &Aws,
    name: &str,
) -> Result<Option<FunctionConfiguration>, AwsError> {
    let mut marker: Option<String> = None;
    let mut best: Option<(u64, FunctionConfiguration)> = None;
    loop {
        let page = retrying("ListVersionsByFunction", BUSY, || {
            aws.lambda
                .list_versions_by_function()
                .function_name(name)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|e| AwsError::api("ListVersionsByFunction", name, e))?;
        for v in page.versions() {
            if let Some(n) = v.version().and_then(|s| s.parse::<u64>().ok())
                && best.as_ref().is_none_or(|(b, _)| n > *b)
            {
                best = Some((n, v.clone()));
            }
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    Ok(best.map(|(_, v)| v))
}

pub async fn get_alias(
    aws: &Aws,
    name: &str,
    alias: &str,
) -> Result<Option<AliasConfiguration>, AwsError> {
    let result = retrying("GetAlias", BUSY, || {
        aws.lambda
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
    })
    .await;
    Ok(
        unless_code(result, NOT_FOUND, "GetAlias", name)?.map(|out| {
            AliasConfiguration::builder()
                .set_alias_arn(out.alias_arn)
                .set_name(out.name)
                .set_function_version(out.function_version)
                .set_routing_config(out.routing_config)
                .set_revision_id(out.revision_id)
                .build()
        }),
    )
}

/// The canary weights of an alias: version → share of traffic.
pub fn routing_weights(alias: &AliasConfiguration) -> Vec<(String, f64)> {
    alias
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default()
}

/// The account ID in a function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`).
pub fn account_of(function_arn: &str) -> Option<&str> {
    function_arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}
