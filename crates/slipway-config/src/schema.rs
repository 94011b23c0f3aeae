//! The file format of `slipway.toml`, exactly as written: every key optional,
//! spans kept so validation can point at the line at fault.
//!
//! [`crate::load`] turns this into the resolved [`crate::Project`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    /// An AWS SAM template, relative to this file, that defines the functions.
    pub sam: Option<Spanned<String>>,
    /// Values every function inherits unless it sets its own.
    #[serde(default)]
    pub defaults: RawFunction,
    #[serde(default)]
    pub functions: BTreeMap<Spanned<String>, Spanned<RawFunction>>,
    #[serde(default)]
    pub python: RawPython,
    #[serde(default)]
    pub scan: RawScan,
    #[serde(default)]
    pub aws: RawAws,
    #[serde(default)]
    pub nodejs: RawNodejs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodejs {
    /// npm packages with a `binding.gyp` and no prebuilt binary that the
    /// project accepts anyway (it supplies the binary another way).
    pub accept_native: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunction {
    pub source: Option<Spanned<String>>,
    pub handler: Option<Spanned<String>>,
    pub runtime: Option<Spanned<String>>,
    pub architecture: Option<Spanned<String>>,
    pub requirements: Option<Spanned<String>>,
    pub include: Option<Spanned<Vec<String>>>,
    pub exclude: Option<Spanned<Vec<String>>>,
    pub environment: Option<Spanned<BTreeMap<String, String>>>,
    pub memory: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<i64>>,
    pub role: Option<Spanned<String>>,
    pub layers: Option<Spanned<Vec<String>>>,
    pub description: Option<Spanned<String>>,
    pub tags: Option<Spanned<BTreeMap<String, String>>>,
    /// Distributions the runtime already provides (boto3, botocore, …), left out of the package.
    pub exclude_packages: Option<Spanned<Vec<String>>>,
    /// Put the dependencies in a separate layer zip instead of the function zip.
    pub layer: Option<bool>,
    pub publish: Option<bool>,
    pub alias: Option<Spanned<String>>,
    pub s3_bucket: Option<Spanned<String>>,
    pub s3_prefix: Option<Spanned<String>>,
    pub code_signing_config_arn: Option<Spanned<String>>,
    pub signing_profile: Option<Spanned<String>>,
    pub require_signature: Option<bool>,
    /// `false` skips the parse that proves the module binds the handler (for
    /// modules that bind it dynamically).
    pub handler_check: Option<bool>,
    pub sqs: Option<Vec<Spanned<RawSqsTrigger>>>,
    pub s3: Option<Vec<Spanned<RawS3Trigger>>>,
    pub url: Option<Spanned<RawFunctionUrl>>,
    pub alexa: Option<Vec<Spanned<RawAlexaTrigger>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlexaTrigger {
    pub skill_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSqsTrigger {
    pub queue_arn: String,
    pub batch_size: Option<i64>,
    pub batching_window: Option<i64>,
    pub report_batch_item_failures: Option<bool>,
    pub maximum_concurrency: Option<i64>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3Trigger {
    pub bucket: String,
    pub events: Option<Vec<String>>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunctionUrl {
    pub auth: Option<String>,
    pub cors: Option<RawCors>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCors {
    pub allow_origins: Option<Vec<String>>,
    pub allow_methods: Option<Vec<String>>,
    pub allow_headers: Option<Vec<String>>,
    pub expose_headers: Option<Vec<String>>,
    pub allow_credentials: Option<bool>,
    pub max_age: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPython {
    pub index_url: Option<Spanned<String>>,
    pub extra_index_urls: Option<Spanned<Vec<String>>>,
    pub find_links: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScan {
    pub db: Option<String>,
    pub fail_on: Option<Spanned<String>>,
    pub max_db_age_days: Option<i64>,
    pub allow_unscored: Option<bool>,
    #[serde(default)]
    pub ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIgnore {
    pub id: String,
    pub reason: String,
    pub until: Option<toml::value::Datetime>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<Spanned<String>>,
}
