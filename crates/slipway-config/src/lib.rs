//! `slipway.toml`: finding it, reading it, and validating it into a [`Project`].
//!
//! One file describes one or more functions; `[defaults]` holds values every
//! function inherits. Every error names the key and the line at fault.

mod error;
pub mod init;
mod load;
mod sam;
pub mod schema;
pub mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::ConfigError;
pub use load::{find_config, load_config, load_file, parse, parse_config};
/// The value checks `slipway.toml` applies, for other configuration sources (SAM templates).
pub use load::{is_iam_role_arn, is_layer_version_arn, valid_python_handler};
pub use sam::{Config, SAM_FUNCTION_KEYS, SamSource, SlipwayOnly};
pub use settings::{DEPLOYMENT_SETTINGS_FILE_NAME, DeploymentSettings};
pub use slipway_artifact::runtime::{self, Architecture, LifecycleStatus, Runtime, RuntimeFamily};

/// The file name slipway looks for.
pub const CONFIG_FILE_NAME: &str = "slipway.toml";

/// Lambda's limits that configuration is checked against.
pub mod limits {
    pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 128..=10240;
    pub const TIMEOUT_SECONDS_MAX: u32 = 900;
    /// Total size of environment variable names and values.
    pub const ENVIRONMENT_BYTES: usize = 4096;
    pub const LAYERS_MAX: usize = 5;
    pub const TAGS_MAX: usize = 50;
    pub const DESCRIPTION_MAX: usize = 256;
    pub const FUNCTION_NAME_MAX: usize = 64;
    /// Zipped package size above which the upload goes through S3.
    pub const ZIPPED_DIRECT_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
    /// Unzipped size of the function and all its layers.
    pub const UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;
}

/// The text of a configuration file, kept for diagnostics.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

/// A validated `slipway.toml`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The configuration file itself.
    pub file: SourceFile,
    /// The folder holding the configuration file; relative paths start here.
    pub root: PathBuf,
    pub functions: BTreeMap<String, Function>,
    pub python: PythonSettings,
    pub scan: ScanSettings,
    pub aws: AwsSettings,
    pub nodejs: NodejsSettings,
}

/// `[nodejs]`: settings of Node.js dependency installs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodejsSettings {
    /// Native addons (`binding.gyp`, no prebuilt binary) accepted as they are.
    pub accept_native: Vec<String>,
}

impl Project {
    /// The functions named, or all of them when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Function>, UnknownFunction> {
        if names.is_empty() {
            return Ok(self.functions.values().collect());
        }
        names
            .iter()
            .map(|n| {
                self.functions.get(n).ok_or_else(|| UnknownFunction {
                    name: n.clone(),
                    known: self.functions.keys().cloned().collect(),
                    config: self.file.path.clone(),
                })
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("no function named `{name}` in {}", config.display())]
#[diagnostic(code(slipway::config::unknown_function), help("functions defined there: {}", known.join(", ")))]
pub struct UnknownFunction {
    pub name: String,
    pub known: Vec<String>,
    pub config: PathBuf,
}

/// One function, with `[defaults]` applied and every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    /// The source folder, absolute.
    pub source: PathBuf,
    /// The source folder as written, relative to the configuration file.
    pub source_relative: String,
    pub handler: String,
    pub runtime: &'static Runtime,
    pub architecture: Architecture,
    /// The dependency file (requirements.txt, pyproject.toml or uv.lock), absolute.
    pub requirements: Option<PathBuf>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub memory: u32,
    pub timeout: u32,
    pub role: Option<String>,
    pub layers: Vec<String>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub exclude_packages: Vec<String>,
    /// Dependencies go into their own layer zip.
    pub dependencies_layer: bool,
    pub publish: bool,
    pub alias: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub code_signing_config_arn: Option<String>,
    pub signing_profile: Option<String>,
    pub require_signature: bool,
    /// Whether the build parses the handler's module to prove it binds the
    /// handler (`handler_check = false` turns it off).
    pub handler_check: bool,
    pub triggers: Triggers,
}

impl Function {
    /// The function's configuration as slipway hashes and records it: every
    /// value that shapes the artifact or the deployment, no absolute paths.
    pub fn fingerprint_fields(&self) -> Vec<(&'static str, String)> {
        let list = |v: &[String]| v.join("\u{1f}");
        let map = |m: &BTreeMap<String, String>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\u{1f}")
        };
        vec![
            ("name", self.name.clone()),
            ("source", self.source_relative.clone()),
            ("handler", self.handler.clone()),
            ("runtime", self.runtime.id.to_string()),
            ("architecture", self.architecture.to_string()),
            ("include", list(&self.include)),
            ("exclude", list(&self.exclude)),
            ("exclude_packages", list(&self.exclude_packages)),
            ("dependencies_layer", self.dependencies_layer.to_string()),
            ("environment", map(&self.environment)),
        ]
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Triggers {
    pub sqs: Vec<SqsTrigger>,
    pub s3: Vec<S3Trigger>,
    pub url: Option<FunctionUrl>,
    pub alexa: Vec<AlexaTrigger>,
}

/// An Alexa Skills Kit trigger: only this skill may invoke the function.
#[derive(Debug, Clone, PartialEq)]
pub struct AlexaTrigger {
    /// `amzn1.ask.skill.<uuid>`, the skill's id in the Alexa developer console.
    pub skill_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SqsTrigger {
    pub queue_arn: String,
    pub batch_size: u32,
    pub batching_window_seconds: u32,
    pub report_batch_item_failures: bool,
    pub maximum_concurrency: Option<u32>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct S3Trigger {
    pub bucket: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAuth {
    AwsIam,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUrl {
    pub auth: UrlAuth,
    pub cors: Option<Cors>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PythonSettings {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    /// Folders of wheels, absolute.
    pub find_links: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanSettings {
    pub db: Option<String>,
    pub fail_on: Option<slipway_artifact::Severity>,
    pub max_db_age_days: Option<u32>,
    /// Findings without a severity score pass the gate.
    pub allow_unscored: bool,
    pub ignore: Vec<IgnoreEntry>,
}

/// An accepted risk: an advisory that does not fail the scan until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct IgnoreEntry {
    pub id: String,
    pub reason: String,
    pub until: Option<time::Date>,
    /// Where the entry is written, for reports.
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Environment variables Lambda sets itself; a function may not set them.
pub const RESERVED_ENVIRONMENT_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

pub fn is_reserved_environment_variable(name: &str) -> bool {
    RESERVED_ENVIRONMENT_VARIABLES.contains(&name)
}

/// The inverse of [`resolve_path`]: `path` as written relative to the
/// configuration folder, `/`-separated, with `..` when it lies outside.
/// Reports and evidence name files this way, never by absolute path.
pub fn relative_path(root: &Path, path: &Path) -> String {
    use std::path::Component;
    let path: Vec<Component> = path.components().collect();
    let root: Vec<Component> = root.components().collect();
    let common = path.iter().zip(&root).take_while(|(a, b)| a == b).count();
    let ups = root[common..]
        .iter()
        .filter(|c| matches!(c, Component::Normal(_)))
        .map(|_| "..".to_string());
    let downs = path[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// Resolves `path` (as written in the file) against the configuration folder.
pub fn resolve_path(root: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// `value` when it is an absolute http(s) URL with a host; else why not.
/// Also the command-line parser of URL flags (`--endpoint-url`), so a flag and
/// its `slipway.toml` key accept the same values.
pub fn parse_http_url(value: &str) -> Result<String, String> {
    match url::Url::parse(value) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Ok(value.to_string())
        }
        Ok(u) => Err(format!(
            "`{}` is not an http(s) URL (scheme `{}`)",
            slipway_artifact::redact_url(value),
            u.scheme()
        )),
        Err(e) => Err(format!(
            "`{}` is not a URL ({e})",
            slipway_artifact::redact_url(value)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::relative_path;
    use std::path::Path;

    #[test]
    fn paths_are_relative_even_outside_the_root() {
        let root = Path::new("/work/project");
        assert_eq!(
            relative_path(root, Path::new("/work/project/requirements.txt")),
            "requirements.txt"
        );
        assert_eq!(
            relative_path(root, Path::new("/work/project/fn/req.txt")),
            "fn/req.txt"
        );
        assert_eq!(
            relative_path(root, Path::new("/work/shared/req.txt")),
            "../shared/req.txt"
        );
    }
}
