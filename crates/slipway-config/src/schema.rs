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

/// Declares [`RawFunction`] and its [`RawFunction::overlay`] from one field
/// list, each field with the rule that combines it with `[defaults]`: a key
/// added here cannot be left out of the inheritance, nor given a rule by
/// accident.
macro_rules! raw_function {
    ($($(#[$meta:meta])* $field:ident: $ty:ty => $rule:ident,)*) => {
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawFunction {
            $($(#[$meta])* pub $field: Option<$ty>,)*
        }

        impl RawFunction {
            /// This table over `defaults`. Values keep the span of the place
            /// they were written (the function's table or `[defaults]`), so
            /// validation of the result points at the real line.
            pub fn overlay(&self, defaults: &RawFunction) -> RawFunction {
                RawFunction {
                    $($field: $rule(&self.$field, &defaults.$field),)*
                }
            }

            /// Whether this table sets `key` (a field name as written in slipway.toml).
            pub fn sets(&self, key: &str) -> bool {
                match key {
                    $(stringify!($field) => self.$field.is_some(),)*
                    _ => false,
                }
            }
        }
    };
}

/// The function's own value when it has one, else `[defaults]`'s.
fn own_wins<T: Clone>(own: &Option<T>, default: &Option<T>) -> Option<T> {
    own.as_ref().or(default.as_ref()).cloned()
}

/// `[defaults]`'s entries with the function's added over them, key by key.
/// The span is the function's table when it has one: that is where a bad
/// combined value is fixed.
fn merge_keys(
    own: &Option<Spanned<BTreeMap<String, String>>>,
    default: &Option<Spanned<BTreeMap<String, String>>>,
) -> Option<Spanned<BTreeMap<String, String>>> {
    let span = own.as_ref().or(default.as_ref())?.span();
    let mut merged = default
        .as_ref()
        .map(|d| d.get_ref().clone())
        .unwrap_or_default();
    if let Some(o) = own {
        merged.extend(o.get_ref().clone());
    }
    Some(Spanned::new(span, merged))
}

raw_function! {
    source: Spanned<String> => own_wins,
    handler: Spanned<String> => own_wins,
    runtime: Spanned<String> => own_wins,
    architecture: Spanned<String> => own_wins,
    requirements: Spanned<String> => own_wins,
    include: Spanned<Vec<String>> => own_wins,
    exclude: Spanned<Vec<String>> => own_wins,
    environment: Spanned<BTreeMap<String, String>> => merge_keys,
    memory: Spanned<i64> => own_wins,
    timeout: Spanned<i64> => own_wins,
    role: Spanned<String> => own_wins,
    layers: Spanned<Vec<String>> => own_wins,
    description: Spanned<String> => own_wins,
    tags: Spanned<BTreeMap<String, String>> => merge_keys,
    /// Distributions the runtime already provides (boto3, botocore, …), left out of the package.
    exclude_packages: Spanned<Vec<String>> => own_wins,
    /// Put the dependencies in a separate layer zip instead of the function zip.
    layer: bool => own_wins,
    publish: bool => own_wins,
    alias: Spanned<String> => own_wins,
    s3_bucket: Spanned<String> => own_wins,
    s3_prefix: Spanned<String> => own_wins,
    code_signing_config_arn: Spanned<String> => own_wins,
    signing_profile: Spanned<String> => own_wins,
    require_signature: bool => own_wins,
    /// `false` skips the parse that proves the module binds the handler (for
    /// modules that bind it dynamically).
    handler_check: bool => own_wins,
    sqs: Vec<Spanned<RawSqsTrigger>> => own_wins,
    s3: Vec<Spanned<RawS3Trigger>> => own_wins,
    url: Spanned<RawFunctionUrl> => own_wins,
    alexa: Vec<Spanned<RawAlexaTrigger>> => own_wins,
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
