//! The deployment settings of one function as `slipway build` writes them
//! beside the package (`dist/<function>/function.json`), so a deployer that
//! is not slipway (the Terraform module under `terraform/`) reads the values
//! `slipway.toml` resolved — defaults applied, every value validated —
//! instead of a second copy of them.
//!
//! Every key is always present (absent values are `null`, empty lists `[]`),
//! so readers such as Terraform see one shape whatever the function declares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Function, UrlAuth};

/// Written beside `manifest.json` in `dist/<function>/`.
pub const DEPLOYMENT_SETTINGS_FILE_NAME: &str = "function.json";
/// Bumped whenever a key changes meaning or goes away.
pub const DEPLOYMENT_SETTINGS_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSettings {
    pub schema_version: u32,
    pub function: String,
    pub handler: String,
    pub runtime: String,
    pub architecture: String,
    /// MB.
    pub memory: u32,
    /// Seconds.
    pub timeout: u32,
    pub environment: BTreeMap<String, String>,
    /// Layer version ARNs besides the dependencies layer.
    pub layers: Vec<String>,
    /// Whether the dependencies went into `<function>-layer.zip`.
    pub dependencies_layer: bool,
    pub role: Option<String>,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub publish: bool,
    pub alias: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub code_signing_config_arn: Option<String>,
    pub triggers: TriggerSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerSettings {
    pub sqs: Vec<SqsSettings>,
    pub s3: Vec<S3Settings>,
    pub url: Option<UrlSettings>,
    pub alexa: Vec<AlexaSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqsSettings {
    pub queue_arn: String,
    pub batch_size: u32,
    /// Seconds.
    pub batching_window: u32,
    pub report_batch_item_failures: bool,
    pub maximum_concurrency: Option<u32>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Settings {
    pub bucket: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlSettings {
    /// `AWS_IAM` or `NONE`.
    pub auth: String,
    pub cors: Option<CorsSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorsSettings {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlexaSettings {
    pub skill_id: String,
}

impl From<&Function> for DeploymentSettings {
    fn from(f: &Function) -> Self {
        let t = &f.triggers;
        DeploymentSettings {
            schema_version: DEPLOYMENT_SETTINGS_SCHEMA_VERSION,
            function: f.name.clone(),
            handler: f.handler.clone(),
            runtime: f.runtime.id.to_string(),
            architecture: f.architecture.to_string(),
            memory: f.memory,
            timeout: f.timeout,
            environment: f.environment.clone(),
            layers: f.layers.clone(),
            dependencies_layer: f.dependencies_layer,
            role: f.role.clone(),
            description: f.description.clone(),
            tags: f.tags.clone(),
            publish: f.publish,
            alias: f.alias.clone(),
            s3_bucket: f.s3_bucket.clone(),
            s3_prefix: f.s3_prefix.clone(),
            code_signing_config_arn: f.code_signing_config_arn.clone(),
            triggers: TriggerSettings {
                sqs: t
                    .sqs
                    .iter()
                    .map(|s| SqsSettings {
                        queue_arn: s.queue_arn.clone(),
                        batch_size: s.batch_size,
                        batching_window: s.batching_window_seconds,
                        report_batch_item_failures: s.report_batch_item_failures,
                        maximum_concurrency: s.maximum_concurrency,
                        enabled: s.enabled,
                    })
                    .collect(),
                s3: t
                    .s3
                    .iter()
                    .map(|s| S3Settings {
                        bucket: s.bucket.clone(),
                        events: s.events.clone(),
                        prefix: s.prefix.clone(),
                        suffix: s.suffix.clone(),
                    })
                    .collect(),
                url: t.url.as_ref().map(|u| UrlSettings {
                    auth: match u.auth {
                        UrlAuth::AwsIam => "AWS_IAM",
                        UrlAuth::None => "NONE",
                    }
                    .to_string(),
                    cors: u.cors.as_ref().map(|c| CorsSettings {
                        allow_origins: c.allow_origins.clone(),
                        allow_methods: c.allow_methods.clone(),
                        allow_headers: c.allow_headers.clone(),
                        expose_headers: c.expose_headers.clone(),
                        allow_credentials: c.allow_credentials,
                        max_age: c.max_age,
                    }),
                }),
                alexa: t
                    .alexa
                    .iter()
                    .map(|a| AlexaSettings {
                        skill_id: a.skill_id.clone(),
                    })
                    .collect(),
            },
        }
    }
}

impl DeploymentSettings {
    /// Pretty JSON with a final newline: the same settings give the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("settings serialise");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_written_even_when_empty_and_values_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        let text = r#"
[defaults]
runtime = "python3.12"
tags = { team = "core" }

[functions.skill]
source = "src"
handler = "app.handler"
memory = 256
publish = true
alias = "live"

[[functions.skill.alexa]]
skill_id = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"

[[functions.skill.sqs]]
queue_arn = "arn:aws:sqs:us-east-1:123456789012:q"
batch_size = 20
batching_window = 2
maximum_concurrency = 5

[functions.skill.url]
cors = { allow_origins = ["https://example.test"] }
"#;
        let project = crate::parse(text, &dir.path().join("slipway.toml")).unwrap();
        let settings = DeploymentSettings::from(&project.functions["skill"]);
        let json: serde_json::Value = serde_json::from_slice(&settings.to_json()).unwrap();
        assert_eq!(json["memory"], 256);
        assert_eq!(json["timeout"], 3, "defaults are resolved");
        assert_eq!(json["tags"]["team"], "core");
        assert_eq!(
            json["role"],
            serde_json::Value::Null,
            "absent keys are null"
        );
        assert_eq!(json["triggers"]["s3"], serde_json::json!([]));
        assert_eq!(json["triggers"]["url"]["auth"], "AWS_IAM");
        assert_eq!(
            json["triggers"]["url"]["cors"]["max_age"],
            serde_json::Value::Null
        );
        assert_eq!(json["triggers"]["sqs"][0]["batching_window"], 2);
        assert_eq!(json["triggers"]["sqs"][0]["maximum_concurrency"], 5);
        assert_eq!(
            json["triggers"]["alexa"][0]["skill_id"],
            "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001"
        );
        let back: DeploymentSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, settings);
    }
}
