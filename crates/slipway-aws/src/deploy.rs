//! `slipway deploy` for one function: create or update it, publish, move the
//! alias, reconcile triggers, then prove the live code is the built code.
//!
//! Every step reads first and writes only what differs, so a rerun after any
//! interruption converges and a deploy with nothing to change writes nothing.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, Architecture, Environment, FunctionCode, FunctionConfiguration,
    LastUpdateStatus, Runtime as LambdaRuntime, State,
};
use serde::Serialize;
use slipway_config::{Function, LifecycleStatus, limits};

use crate::error::{code_of, revision_checked, unless_code};
use crate::live::{self, LiveFunction};
use crate::retry::{
    BUSY, BUSY_BUT_NOT_CONFLICT, Backoff, LONGEST_POLL_PAUSE, POLL_LIMIT, retrying,
};
use crate::settings::{Difference, Settings};
use crate::{Artifact, Aws, AwsError, layers, roles, signing, triggers};

/// Choices the command line makes for a deploy.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Send this share (0–100) of the alias's traffic to the new version, leaving the rest on the old one.
    pub canary_percent: Option<f64>,
    /// The date the runtime lifecycle is judged on (today, normally).
    pub today: Option<time::Date>,
    /// Create a minimal execution role for a new function that names none.
    pub create_role: bool,
}

/// What a deploy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    UpToDate,
}

/// The result of deploying one function.
#[derive(Debug, Clone, Serialize)]
pub struct DeployOutcome {
    pub function: String,
    pub action: Action,
    pub function_arn: String,
    pub region: String,
    /// The published version the deploy produced or found, when `publish = true`.
    pub version: Option<String>,
    pub alias: Option<String>,
    pub alias_arn: Option<String>,
    /// The version the alias pointed to before, when the deploy moved it.
    pub previous_version: Option<String>,
    /// The canary share of traffic on the new version, when one was started.
    pub canary_weight: Option<f64>,
    /// `CodeSha256` of the built zip, as the manifest records it.
    pub code_sha256: String,
    pub sha256: String,
    /// `CodeSha256` of the signed object Lambda runs, when AWS Signer signed it.
    pub signed_code_sha256: Option<String>,
    /// `s3://bucket/key` when the code went through S3.
    pub s3_location: Option<String>,
    /// The Function URL's address, when the function has one.
    pub function_url: Option<String>,
    /// Every write made, in order, as a short sentence.
    pub changes: Vec<String>,
}

/// Step reports for progress lines; the library never prints.
pub type Steps<'a> = &'a (dyn Fn(&str) + Send + Sync);

pub(crate) fn lambda_runtime(function: &Function) -> LambdaRuntime {
    LambdaRuntime::from(function.runtime.id)
}

pub(crate) fn lambda_architecture(function: &Function) -> Architecture {
    Architecture::from(function.architecture.lambda_name())
}

/// Refuses, before any call, what AWS would refuse because of the runtime's lifecycle.
pub fn check_lifecycle(
    function: &Function,
    creating: Option<bool>,
    today: time::Date,
) -> Result<(), AwsError> {
    let runtime = function.runtime;
    let status = runtime.status_on(today);
    let refused = match status {
        LifecycleStatus::UpdateBlocked => Some(if creating == Some(true) {
            "create"
        } else {
            "update"
        }),
        LifecycleStatus::CreateBlocked if creating == Some(true) => Some("create"),
        _ => None,
    };
    match refused {
        None => Ok(()),
        Some(action) => Err(AwsError::RuntimeRetired {
            function: function.name.clone(),
            runtime: runtime.id.to_string(),
            action,
            sentence: runtime.lifecycle_sentence(),
            successor: runtime
                .successor
                .filter(|s| *s != runtime.id)
                .unwrap_or("a supported runtime")
                .to_string(),
        }),
    }
}

pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Deploys one function. `artifact` must already have passed [`Artifact::check`]
/// and `slipway verify`'s checks: its zips are not hashed again here, and the
/// proof at the end compares what Lambda runs with the manifest.
pub async fn deploy(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    options: &DeployOptions,
    steps: Steps<'_>,
) -> Result<DeployOutcome, AwsError> {
    let name = function.name.as_str();
    let today = options.today.unwrap_or_else(today);
    // Update-blocked runtimes are refused before any call at all.
    check_lifecycle(function, None, today)?;

    let mut outcome = DeployOutcome {
        function: name.to_string(),
        action: Action::UpToDate,
        function_arn: String::new(),
        region: aws.region.clone(),
        version: None,
        alias: function.alias.clone(),
        alias_arn: None,
        previous_version: None,
        canary_weight: None,
        code_sha256: artifact.code_sha256().to_string(),
        sha256: artifact.manifest.artifact.sha256.clone(),
        signed_code_sha256: None,
        s3_location: None,
        function_url: None,
        changes: Vec::new(),
    };

    steps(&format!("{name}: reading the live function"));
    let existing = live::get_function(aws, name, None).await?;
    // What AWS would refuse for a new function is refused before any write.
    if existing.is_none() {
        check_lifecycle(function, Some(true), today)?;
        if function.role.is_none() && !options.create_role {
            return Err(AwsError::MissingRole {
                function: name.to_string(),
            });
        }
    }

    // The dependencies layer next: the function's configuration names its version.
    let mut layer_changes = Vec::new();
    let with_layer;
    let function = match layers::ensure(aws, function, artifact, &mut layer_changes, steps).await? {
        None => function,
        Some(arn) => {
            let mut f = function.clone();
            f.layers.insert(0, arn);
            with_layer = f;
            &with_layer
        }
    };
    outcome.changes.extend(layer_changes);

    let signing = signing::prepare(aws, function, artifact, existing.as_ref(), steps).await?;
    let expected_code = expected_code(artifact, signing.as_ref());
    outcome.signed_code_sha256 = signing.as_ref().map(|s| s.signed_code_sha256.clone());

    let current = match existing {
        None => {
            let created = create(
                aws,
                function,
                artifact,
                signing.as_ref(),
                options.create_role,
                &mut outcome,
                steps,
            )
            .await?;
            outcome.action = Action::Created;
            created
        }
        Some(live) => {
            update(
                aws,
                function,
                artifact,
                signing.as_ref(),
                live,
                &mut outcome,
                steps,
            )
            .await?
        }
    };
    outcome.function_arn = current
        .function_arn()
        .map(|a| a.split(':').take(7).collect::<Vec<_>>().join(":"))
        .unwrap_or_default();

    signing::attach_config(aws, function, &mut outcome.changes, steps).await?;

    if function.publish {
        let version = publish(aws, function, &expected_code, &mut outcome.changes, steps).await?;
        outcome.version = Some(version);
    }

    let mut moved_alias = None;
    if let Some(alias) = &function.alias {
        let target = outcome.version.clone().unwrap_or_else(|| "$LATEST".into());
        let moved = point_alias(
            aws,
            name,
            alias,
            &target,
            options.canary_percent,
            &mut outcome.changes,
            steps,
        )
        .await?;
        outcome.alias_arn = Some(format!("{}:{alias}", outcome.function_arn));
        if let Some(m) = &moved {
            outcome.previous_version = m.previous_version.clone();
            outcome.canary_weight = m.canary_weight;
        }
        moved_alias = moved;
    }

    triggers::reconcile(
        aws,
        function,
        &outcome.function_arn,
        &mut outcome.changes,
        steps,
    )
    .await?;
    if function.triggers.url.is_some() {
        outcome.function_url = triggers::function_url(aws, function).await?;
    }

    steps(&format!("{name}: proving the live code is the built code"));
    let proof = live::get_function(aws, name, outcome.version.as_deref())
        .await?
        .ok_or_else(|| AwsError::NotDeployed {
            function: name.to_string(),
        })?;
    if proof.code_sha256() != expected_code {
        let rollback = match (&moved_alias, &function.alias) {
            (Some(m), Some(alias)) if m.previous_version.is_some() => {
                let previous = m.previous_version.clone().unwrap_or_default();
                restore_alias(aws, name, alias, &previous).await?;
                format!("alias `{alias}` was moved back to version {previous}")
            }
            _ => "no alias was moved; deploy again once the cause is found".into(),
        };
        return Err(AwsError::ProofFailed {
            function: name.to_string(),
            live: proof.code_sha256().to_string(),
            expected: expected_code,
            rollback,
        });
    }
    // Any write to an existing function, its alias or its triggers is an update.
    if outcome.action == Action::UpToDate && !outcome.changes.is_empty() {
        outcome.action = Action::Updated;
    }
    Ok(outcome)
}

/// Where Lambda takes the code from.
enum Code {
    Zip(Vec<u8>),
    S3 {
        bucket: String,
        key: String,
        version: Option<String>,
    },
}

impl Code {
    fn function_code(&self) -> FunctionCode {
        match self {
            Code::Zip(bytes) => FunctionCode::builder()
                .zip_file(Blob::new(bytes.clone()))
                .build(),
            Code::S3 {
                bucket,
                key,
                version,
            } => FunctionCode::builder()
                .s3_bucket(bucket)
                .s3_key(key)
                .set_s3_object_version(version.clone())
                .build(),
        }
    }
}

/// The content-addressed S3 key of a function's zip.
pub fn s3_key(function: &Function, sha256_hex: &str) -> String {
    let prefix = function
        .s3_prefix
        .as_deref()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty());
    match prefix {
        Some(p) => format!("{p}/{}/{sha256_hex}.zip", function.name),
        None => format!("{}/{sha256_hex}.zip", function.name),
    }
}

async fn code_for(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    signed: Option<&signing::Signed>,
    outcome: &mut DeployOutcome,
    steps: Steps<'_>,
) -> Result<Code, AwsError> {
    if let Some(s) = signed {
        outcome.s3_location = Some(format!("s3://{}/{}", s.bucket, s.key));
        return Ok(Code::S3 {
            bucket: s.bucket.clone(),
            key: s.key.clone(),
            version: s.version.clone(),
        });
    }
    let size = artifact.manifest.artifact.zipped_size;
    match &function.s3_bucket {
        None if size > limits::ZIPPED_DIRECT_UPLOAD_BYTES => Err(AwsError::NeedsBucket {
            function: function.name.clone(),
            size,
        }),
        None => {
            let bytes = std::fs::read(&artifact.zip).map_err(|source| AwsError::Read {
                path: artifact.zip.clone(),
                source,
            })?;
            Ok(Code::Zip(bytes))
        }
        Some(bucket) => {
            let key = s3_key(function, &artifact.manifest.artifact.sha256);
            let version = upload(
                aws,
                function,
                artifact,
                bucket,
                &key,
                &mut outcome.changes,
                steps,
            )
            .await?;
            outcome.s3_location = Some(format!("s3://{bucket}/{key}"));
            Ok(Code::S3 {
                bucket: bucket.clone(),
                key,
                version,
            })
        }
    }
}

/// Puts the zip at its content-addressed key unless an object of the same
/// size is already there (the key names the digest; the proof after deploy
/// catches an object that is not the zip). Returns the object's version ID on
/// versioned buckets.
pub(crate) async fn upload(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    bucket: &str,
    key: &str,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<Option<String>, AwsError> {
    let object = S3Upload {
        zip: &artifact.zip,
        record: &artifact.manifest.artifact,
        bucket,
        key,
    };
    upload_file(aws, function, object, changes, steps).await
}

/// A zip and the S3 object it goes to.
pub(crate) struct S3Upload<'a> {
    pub zip: &'a std::path::Path,
    /// The zip's record: its size and checksum decide whether the object is already there.
    pub record: &'a slipway_artifact::ArtifactRecord,
    pub bucket: &'a str,
    pub key: &'a str,
}

/// Puts the zip at its key unless an object of that size is already there.
pub(crate) async fn upload_file(
    aws: &Aws,
    function: &Function,
    object: S3Upload<'_>,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<Option<String>, AwsError> {
    let S3Upload {
        zip,
        record,
        bucket,
        key,
    } = object;
    let name = function.name.as_str();
    let head = aws.s3.head_object().bucket(bucket).key(key).send().await;
    match head {
        Ok(h) if h.content_length() == Some(record.zipped_size as i64) => {
            steps(&format!("{name}: s3://{bucket}/{key} already uploaded"));
            return Ok(h.version_id().map(str::to_string));
        }
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) => return Err(AwsError::api("HeadObject", name, e)),
    }
    steps(&format!("{name}: uploading to s3://{bucket}/{key}"));
    let body = aws_sdk_s3::primitives::ByteStream::from_path(zip)
        .await
        .map_err(|e| AwsError::Read {
            path: zip.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
    let put = aws
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .checksum_sha256(&record.code_sha256)
        .content_type("application/zip")
        .send()
        .await
        .map_err(|e| AwsError::api("PutObject", name, e))?;
    changes.push(format!("uploaded s3://{bucket}/{key}"));
    Ok(put.version_id().map(str::to_string))
}

async fn create(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    signed: Option<&signing::Signed>,
    create_role: bool,
    outcome: &mut DeployOutcome,
    steps: Steps<'_>,
) -> Result<FunctionConfiguration, AwsError> {
    let name = function.name.as_str();
    let (role, fresh_role) = match (&function.role, create_role) {
        (Some(role), _) => (role.clone(), false),
        (None, true) => roles::ensure(aws, function, &mut outcome.changes, steps).await?,
        (None, false) => {
            return Err(AwsError::MissingRole {
                function: name.to_string(),
            });
        }
    };
    let code = code_for(aws, function, artifact, signed, outcome, steps).await?;
    steps(&format!("{name}: creating the function"));
    let desired = Settings::desired(function);
    let tags: HashMap<String, String> = function.tags.clone().into_iter().collect();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = retrying("CreateFunction", BUSY_BUT_NOT_CONFLICT, || {
            aws.lambda
                .create_function()
                .function_name(name)
                .runtime(lambda_runtime(function))
                .role(&role)
                .handler(&desired.handler)
                .code(code.function_code())
                .description(&desired.description)
                .timeout(desired.timeout)
                .memory_size(desired.memory)
                .publish(false)
                .environment(
                    Environment::builder()
                        .set_variables(Some(desired.environment.clone().into_iter().collect()))
                        .build(),
                )
                .architectures(lambda_architecture(function))
                .set_layers((!desired.layers.is_empty()).then(|| desired.layers.clone()))
                .set_tags((!tags.is_empty()).then(|| tags.clone()))
                .set_code_signing_config_arn(function.code_signing_config_arn.clone())
                .send()
        })
        .await;
        match result {
            Ok(_) => {
                outcome.changes.push("created the function".into());
                break;
            }
            // An earlier attempt whose answer was lost, or a concurrent deploy,
            // created it: carry on as an update. A conflict with no function
            // behind it is AWS being busy: try again.
            Err(e) if code_of(&e) == Some("ResourceConflictException") => {
                tracing::debug!("{name}: CreateFunction answered ResourceConflictException");
                if let Some(live) = live::get_function(aws, name, None).await? {
                    return update(aws, function, artifact, signed, live, outcome, steps).await;
                }
                if attempt >= 5 {
                    return Err(AwsError::api("CreateFunction", name, e));
                }
                tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
            }
            // A role IAM created seconds ago is not assumable everywhere yet.
            Err(e)
                if fresh_role
                    && attempt < 12
                    && e.as_service_error()
                        .and_then(|s| aws_sdk_lambda::error::ProvideErrorMetadata::message(s))
                        .is_some_and(|m| m.contains("cannot be assumed")) =>
            {
                steps(&format!("{name}: waiting for the new role to reach Lambda"));
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(AwsError::api("CreateFunction", name, e)),
        }
    }
    wait_ready(aws, name, steps).await
}

/// The `CodeSha256` Lambda reports once the deploy is done: the signed
/// zip's when the code is signed, else the built zip's.
fn expected_code(artifact: &Artifact, signed: Option<&signing::Signed>) -> String {
    signed.map_or_else(
        || artifact.code_sha256().to_string(),
        |s| s.signed_code_sha256.clone(),
    )
}

async fn update(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    signed: Option<&signing::Signed>,
    live: LiveFunction,
    outcome: &mut DeployOutcome,
    steps: Steps<'_>,
) -> Result<FunctionConfiguration, AwsError> {
    let name = function.name.as_str();
    let expected_code = expected_code(artifact, signed);
    let mut current = if settling(&live.config) {
        wait_ready(aws, name, steps).await?
    } else {
        live.config.clone()
    };
    let desired = Settings::desired(function);

    let live_arch = Settings::live(&current).architecture;
    if current.code_sha256() != Some(expected_code.as_str()) || live_arch != desired.architecture {
        let code = code_for(aws, function, artifact, signed, outcome, steps).await?;
        steps(&format!("{name}: updating the code"));
        let revision = current.revision_id().map(str::to_string);
        let result = retrying("UpdateFunctionCode", BUSY, || {
            let mut call = aws
                .lambda
                .update_function_code()
                .function_name(name)
                .architectures(lambda_architecture(function))
                .publish(false)
                .set_revision_id(revision.clone());
            call = match &code {
                Code::Zip(bytes) => call.zip_file(Blob::new(bytes.clone())),
                Code::S3 {
                    bucket,
                    key,
                    version,
                } => call
                    .s3_bucket(bucket)
                    .s3_key(key)
                    .set_s3_object_version(version.clone()),
            };
            call.send()
        })
        .await;
        revision_checked(result, "UpdateFunctionCode", name)?;
        outcome.changes.push(format!(
            "updated the code from {} to {expected_code}",
            current.code_sha256().unwrap_or("nothing")
        ));
        current = wait_ready(aws, name, steps).await?;
    }

    let differences: Vec<Difference> = desired
        .differences(&Settings::live(&current))
        .into_iter()
        .filter(|d| d.field != "architecture")
        .collect();
    if !differences.is_empty() {
        let fields: Vec<&str> = differences.iter().map(|d| d.field.as_str()).collect();
        steps(&format!("{name}: updating {}", fields.join(", ")));
        let revision = current.revision_id().map(str::to_string);
        let result = retrying("UpdateFunctionConfiguration", BUSY, || {
            let mut call = aws
                .lambda
                .update_function_configuration()
                .function_name(name)
                .set_revision_id(revision.clone());
            for field in &fields {
                call = match *field {
                    "runtime" => call.runtime(lambda_runtime(function)),
                    "handler" => call.handler(&desired.handler),
                    "memory" => call.memory_size(desired.memory),
                    "timeout" => call.timeout(desired.timeout),
                    "role" => call.set_role(desired.role.clone()),
                    "layers" => call.set_layers(Some(desired.layers.clone())),
                    "description" => call.description(&desired.description),
                    "environment" => call.environment(
                        Environment::builder()
                            .set_variables(Some(desired.environment.clone().into_iter().collect()))
                            .build(),
                    ),
                    _ => call,
                };
            }
            call.send()
        })
        .await;
        revision_checked(result, "UpdateFunctionConfiguration", name)?;
        outcome
            .changes
            .push(format!("updated {}", fields.join(", ")));
        current = wait_ready(aws, name, steps).await?;
    }

    let missing_tags: HashMap<String, String> = function
        .tags
        .iter()
        .filter(|(k, v)| live.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing_tags.is_empty() {
        let arn = current.function_arn().unwrap_or_default().to_string();
        retrying("TagResource", BUSY, || {
            aws.lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(missing_tags.clone()))
                .send()
        })
        .await
        .map_err(|e| AwsError::api("TagResource", name, e))?;
        let mut keys: Vec<_> = missing_tags.keys().cloned().collect();
        keys.sort();
        outcome.changes.push(format!("tagged {}", keys.join(", ")));
    }
    Ok(current)
}

fn settling(config: &FunctionConfiguration) -> bool {
    matches!(config.state(), Some(State::Pending))
        || matches!(
            config.last_update_status(),
            Some(LastUpdateStatus::InProgress)
        )
}

/// Polls until the function is neither being created nor updated.
pub(crate) async fn wait_ready(
    aws: &Aws,
    name: &str,
    steps: Steps<'_>,
) -> Result<FunctionConfiguration, AwsError> {
    let mut backoff = Backoff::new(Duration::from_millis(200), LONGEST_POLL_PAUSE);
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    let mut announced = false;
    loop {
        let config = live::get_function(aws, name, None)
            .await?
            .ok_or_else(|| AwsError::NotDeployed {
                function: name.to_string(),
            })?
            .config;
        if matches!(config.state(), Some(State::Failed)) {
            return Err(AwsError::UpdateFailed {
                function: name.to_string(),
                what: "the function's state",
                reason: config
                    .state_reason()
                    .unwrap_or("State is Failed")
                    .to_string(),
            });
        }
        if matches!(config.last_update_status(), Some(LastUpdateStatus::Failed)) {
            return Err(AwsError::UpdateFailed {
                function: name.to_string(),
                what: "the last update",
                reason: config
                    .last_update_status_reason()
                    .unwrap_or("LastUpdateStatus is Failed")
                    .to_string(),
            });
        }
        if !settling(&config) {
            return Ok(config);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(AwsError::UpdateFailed {
                function: name.to_string(),
                what: "the function",
                reason: "still Pending or InProgress after 10 minutes".into(),
            });
        }
        if !announced {
            steps(&format!("{name}: waiting for Lambda to finish the update"));
            announced = true;
        }
        backoff.wait().await;
    }
}

/// Publishes a version unless the latest published one already holds the
/// desired code and configuration (a rerun after an interruption, or nothing
/// changed). Returns the version number.
async fn publish(
    aws: &Aws,
    function: &Function,
    expected_code: &str,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<String, AwsError> {
    let name = function.name.as_str();
    let desired = Settings::desired(function);
    if let Some(latest) = live::latest_version(aws, name).await?
        && latest.code_sha256() == Some(expected_code)
        && desired.differences(&Settings::live(&latest)).is_empty()
    {
        return Ok(latest.version().unwrap_or_default().to_string());
    }
    steps(&format!("{name}: publishing a version"));
    let published = retrying("PublishVersion", BUSY, || {
        aws.lambda
            .publish_version()
            .function_name(name)
            .code_sha256(expected_code)
            .send()
    })
    .await;
    let published = revision_checked(published, "PublishVersion", name)?;
    let version = published.version().unwrap_or_default().to_string();
    changes.push(format!("published version {version}"));
    Ok(version)
}

/// How a deploy moved an alias.
#[derive(Debug, Clone)]
pub(crate) struct AliasMove {
    pub previous_version: Option<String>,
    pub canary_weight: Option<f64>,
}

async fn point_alias(
    aws: &Aws,
    name: &str,
    alias: &str,
    target: &str,
    canary_percent: Option<f64>,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<Option<AliasMove>, AwsError> {
    let current = live::get_alias(aws, name, alias).await?;
    let Some(current) = current else {
        steps(&format!("{name}: creating alias {alias} → {target}"));
        let result = retrying("CreateAlias", BUSY_BUT_NOT_CONFLICT, || {
            aws.lambda
                .create_alias()
                .function_name(name)
                .name(alias)
                .function_version(target)
                .send()
        })
        .await;
        // Created by an attempt whose answer was lost: point it again.
        if unless_code(result, "ResourceConflictException", "CreateAlias", name)?.is_none() {
            return Box::pin(point_alias(
                aws,
                name,
                alias,
                target,
                canary_percent,
                changes,
                steps,
            ))
            .await;
        }
        changes.push(format!("created alias {alias} → {target}"));
        return Ok(Some(AliasMove {
            previous_version: None,
            canary_weight: None,
        }));
    };
    let on = current.function_version().unwrap_or_default().to_string();
    let weights = live::routing_weights(&current);
    let (version, routing, description) = match canary_percent {
        Some(p) if on != target => {
            let weight = (p / 100.0).clamp(0.0, 1.0);
            // A canary already on this version at this weight is done.
            if weights.len() == 1 && weights[0].0 == target && (weights[0].1 - weight).abs() < 1e-9
            {
                return Ok(None);
            }
            (
                on.clone(),
                HashMap::from([(target.to_string(), weight)]),
                format!("canary {p}% of {alias} → {target}"),
            )
        }
        _ => {
            if on == target && weights.is_empty() {
                return Ok(None);
            }
            (
                target.to_string(),
                HashMap::new(),
                format!("moved alias {alias} from {on} to {target}"),
            )
        }
    };
    steps(&format!("{name}: {description}"));
    let revision = current.revision_id().map(str::to_string);
    let weight = routing.get(target).copied();
    let result = retrying("UpdateAlias", BUSY, || {
        aws.lambda
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(&version)
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(routing.clone()))
                    .build(),
            )
            .set_revision_id(revision.clone())
            .send()
    })
    .await;
    revision_checked(result, "UpdateAlias", name)?;
    changes.push(description);
    Ok(Some(AliasMove {
        previous_version: (on != target).then_some(on).filter(|v| v != "$LATEST"),
        canary_weight: weight,
    }))
}

/// Points `alias` fully at `version`, with no canary.
pub(crate) async fn restore_alias(
    aws: &Aws,
    name: &str,
    alias: &str,
    version: &str,
) -> Result<(), AwsError> {
    retrying("UpdateAlias", BUSY, || {
        aws.lambda
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(HashMap::new()))
                    .build(),
            )
            .send()
    })
    .await
    .map_err(|e| AwsError::api("UpdateAlias", name, e))?;
    Ok(())
}

/// How `promote` and `rollback` end a canary.
#[derive(Debug, Clone, Serialize)]
pub struct AliasOutcome {
    pub function: String,
    pub alias: String,
    /// The version the alias now sends all traffic to.
    pub version: String,
    /// The version that no longer gets traffic.
    pub dropped_version: String,
}

/// Ends a canary: `promote = true` moves the alias to the canary version,
/// `false` drops the canary and keeps the old version.
pub async fn finish_canary(
    aws: &Aws,
    function: &Function,
    promote: bool,
) -> Result<AliasOutcome, AwsError> {
    let name = function.name.as_str();
    let alias = function.alias.clone().ok_or_else(|| AwsError::NoAlias {
        function: name.to_string(),
    })?;
    let current =
        live::get_alias(aws, name, &alias)
            .await?
            .ok_or_else(|| AwsError::NotDeployed {
                function: format!("{name}:{alias}"),
            })?;
    let stable = current.function_version().unwrap_or_default().to_string();
    let weights = live::routing_weights(&current);
    let Some((canary, _)) = weights.into_iter().next() else {
        return Err(AwsError::NoCanary {
            function: name.to_string(),
            alias,
        });
    };
    let (keep, drop) = if promote {
        (canary, stable)
    } else {
        (stable, canary)
    };
    restore_alias(aws, name, &alias, &keep).await?;
    Ok(AliasOutcome {
        function: name.to_string(),
        alias,
        version: keep,
        dropped_version: drop,
    })
}
