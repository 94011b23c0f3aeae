//! Deploying a SAM application through CloudFormation, as `sam deploy` does,
//! with slipway's proof at the end: upload each package under its SHA-256,
//! create a change set (CREATE or UPDATE), wait for it, execute it, wait for
//! the stack, then compare every function's live CodeSha256 (found by the
//! stack's physical ids) with its manifest.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client as CloudFormation;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};
use serde::Serialize;
use slipway_config::Function;

use crate::deploy::{S3Upload, Steps, s3_key, upload_file};
use crate::error::describe;
use crate::{Artifact, Aws, AwsError};

/// Where one function's package (and dependencies layer) went.
#[derive(Debug, Clone, Serialize)]
pub struct Uploaded {
    pub logical_id: String,
    pub bucket: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_key: Option<String>,
    /// Uploads made now (nothing when the objects were there already).
    pub changes: Vec<String>,
}

/// Uploads each function's zip (and layer zip) to `bucket` under
/// `[prefix/]LogicalId/<sha256>.zip`: the same bytes give the same key, so a
/// rebuild from another checkout uploads nothing and changes no template.
pub async fn upload_packages(
    aws: &Aws,
    functions: &[(&Function, &Artifact)],
    bucket: &str,
    prefix: Option<&str>,
    steps: Steps<'_>,
) -> Result<Vec<Uploaded>, AwsError> {
    let mut out = Vec::new();
    for (function, artifact) in functions {
        let keyed = Function {
            s3_prefix: prefix.map(str::to_string),
            ..(*function).clone()
        };
        let mut changes = Vec::new();
        let record = &artifact.manifest.artifact;
        let key = s3_key(&keyed, &record.sha256);
        upload_file(
            aws,
            function,
            S3Upload {
                zip: &artifact.zip,
                record,
                bucket,
                key: &key,
            },
            &mut changes,
            steps,
        )
        .await?;
        let layer_key = match &artifact.manifest.layer {
            Some(layer) => {
                let key = s3_key(&keyed, &format!("layer-{}", layer.sha256));
                let zip = artifact.dir.join(&layer.file);
                upload_file(
                    aws,
                    function,
                    S3Upload {
                        zip: &zip,
                        record: layer,
                        bucket,
                        key: &key,
                    },
                    &mut changes,
                    steps,
                )
                .await?;
                Some(key)
            }
            None => None,
        };
        out.push(Uploaded {
            logical_id: function.name.clone(),
            bucket: bucket.to_string(),
            key,
            layer_key,
            changes,
        });
    }
    Ok(out)
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct StackRequest {
    pub stack_name: String,
    pub template_body: String,
    /// Values given now; the template's other parameters keep the stack's
    /// previous values on an update, or their defaults.
    pub parameters: BTreeMap<String, String>,
    /// Every parameter the template declares.
    pub declared_parameters: Vec<String>,
    pub capabilities: Vec<String>,
    /// Logical id → the CodeSha256 its manifest records.
    pub functions: BTreeMap<String, String>,
    /// How long to wait for the change set and the stack.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackAction {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackOutcome {
    pub stack_name: String,
    pub stack_id: String,
    pub action: StackAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_set: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub functions: Vec<ProvenFunction>,
}

/// A function of the stack whose live code was compared with its manifest.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenFunction {
    pub logical_id: String,
    pub function_name: String,
    pub code_sha256: String,
}

const NO_CHANGES: [&str; 3] = [
    "didn't contain changes",
    "No updates are to be performed",
    "does not contain changes",
];

/// Creates or updates the stack through a change set and proves the code.
pub async fn deploy_stack(
    aws: &Aws,
    cf: &CloudFormation,
    request: &StackRequest,
    steps: Steps<'_>,
) -> Result<StackOutcome, AwsError> {
    let name = request.stack_name.as_str();
    let existing = describe_stack(cf, name).await?;
    let creating = match &existing {
        None => true,
        // A stack that only ever had change sets (REVIEW_IN_PROGRESS) is created, not updated.
        Some(s) => s.status == "REVIEW_IN_PROGRESS",
    };
    if let Some(s) = &existing
        && (s.status == "ROLLBACK_COMPLETE" || s.status.ends_with("_IN_PROGRESS") && !creating)
    {
        return Err(AwsError::StackNotReady {
            stack: name.to_string(),
            status: s.status.clone(),
        });
    }
    let mut parameters = Vec::new();
    for declared in &request.declared_parameters {
        let builder = Parameter::builder().parameter_key(declared);
        if let Some(v) = request.parameters.get(declared) {
            parameters.push(builder.parameter_value(v).build());
        } else if !creating
            && existing
                .as_ref()
                .is_some_and(|s| s.parameters.contains(declared))
        {
            parameters.push(builder.use_previous_value(true).build());
        }
    }
    let change_set_name = format!(
        "slipway-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    );
    steps(&format!(
        "{name}: creating change set {change_set_name} ({})",
        if creating { "CREATE" } else { "UPDATE" }
    ));
    let created = cf
        .create_change_set()
        .stack_name(name)
        .change_set_name(&change_set_name)
        .change_set_type(if creating {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .template_body(&request.template_body)
        .set_parameters(Some(parameters))
        .set_capabilities(Some(
            request
                .capabilities
                .iter()
                .map(|c| Capability::from(c.as_str()))
                .collect(),
        ))
        .send()
        .await;
    let unchanged = |stack_id: String| StackOutcome {
        stack_name: name.to_string(),
        stack_id,
        action: StackAction::Unchanged,
        change_set: None,
        outputs: BTreeMap::new(),
        functions: Vec::new(),
    };
    let change_set_id = match created {
        Ok(c) => c.id().unwrap_or(&change_set_name).to_string(),
        Err(e) => {
            let (code, message) = describe(&e);
            if NO_CHANGES.iter().any(|n| message.contains(n)) {
                steps(&format!("{name}: no changes to deploy"));
                let id = existing.map(|s| s.id).unwrap_or_default();
                return finish(aws, cf, unchanged(id), request).await;
            }
            return Err(AwsError::Api {
                operation: "CreateChangeSet",
                function: None,
                code,
                message: format!("{name}: {message}"),
            });
        }
    };

    let deadline = Instant::now() + request.timeout;
    let mut pause = Pause::new();
    loop {
        let cs = cf
            .describe_change_set()
            .stack_name(name)
            .change_set_name(&change_set_id)
            .send()
            .await
            .map_err(|e| AwsError::api("DescribeChangeSet", name, e))?;
        match cs.status() {
            Some(ChangeSetStatus::CreateComplete) => break,
            Some(ChangeSetStatus::Failed) => {
                let reason = cs.status_reason().unwrap_or_default().to_string();
                if NO_CHANGES.iter().any(|n| reason.contains(n)) {
                    steps(&format!("{name}: no changes to deploy"));
                    // An empty change set is left behind by CloudFormation; it is of no use.
                    let _ = cf
                        .delete_change_set()
                        .stack_name(name)
                        .change_set_name(&change_set_id)
                        .send()
                        .await;
                    let id = cs.stack_id().unwrap_or_default().to_string();
                    return finish(aws, cf, unchanged(id), request).await;
                }
                return Err(AwsError::StackFailed {
                    stack: name.to_string(),
                    status: "change set FAILED".into(),
                    reasons: reason,
                });
            }
            _ => {}
        }
        pause.wait(deadline, name, "the change set").await?;
    }

    steps(&format!("{name}: executing change set {change_set_name}"));
    cf.execute_change_set()
        .stack_name(name)
        .change_set_name(&change_set_id)
        .send()
        .await
        .map_err(|e| AwsError::api("ExecuteChangeSet", name, e))?;
    let mut pause = Pause::new();
    let stack = loop {
        let stack = describe_stack(cf, name)
            .await?
            .ok_or_else(|| AwsError::StackFailed {
                stack: name.to_string(),
                status: "gone".into(),
                reasons: "the stack disappeared while the change set ran".into(),
            })?;
        if !stack.status.ends_with("_IN_PROGRESS") {
            break stack;
        }
        pause.wait(deadline, name, "the stack").await?;
    };
    if !matches!(stack.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        return Err(AwsError::StackFailed {
            stack: name.to_string(),
            status: stack.status.clone(),
            reasons: failure_reasons(cf, name).await,
        });
    }
    let outcome = StackOutcome {
        stack_name: name.to_string(),
        stack_id: stack.id.clone(),
        action: if creating {
            StackAction::Created
        } else {
            StackAction::Updated
        },
        change_set: Some(change_set_name),
        outputs: BTreeMap::new(),
        functions: Vec::new(),
    };
    finish(aws, cf, outcome, request).await
}

/// The stack's outputs and the proof of every function's code.
async fn finish(
    aws: &Aws,
    cf: &CloudFormation,
    mut outcome: StackOutcome,
    request: &StackRequest,
) -> Result<StackOutcome, AwsError> {
    let name = request.stack_name.as_str();
    if let Some(stack) = describe_stack(cf, name).await? {
        outcome.stack_id = stack.id;
        outcome.outputs = stack.outputs;
    }
    let mut physical = BTreeMap::new();
    let mut token = None;
    loop {
        let page = cf
            .list_stack_resources()
            .stack_name(name)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::api("ListStackResources", name, e))?;
        for r in page.stack_resource_summaries() {
            if r.resource_type() == Some("AWS::Lambda::Function")
                && let (Some(l), Some(p)) = (r.logical_resource_id(), r.physical_resource_id())
            {
                physical.insert(l.to_string(), p.to_string());
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for (logical_id, expected) in &request.functions {
        let Some(function_name) = physical.get(logical_id) else {
            return Err(AwsError::StackFunctionMissing {
                stack: name.to_string(),
                logical_id: logical_id.clone(),
            });
        };
        let live = aws
            .lambda
            .get_function()
            .function_name(function_name)
            .send()
            .await
            .map_err(|e| AwsError::api("GetFunction", function_name, e))?
            .configuration
            .and_then(|c| c.code_sha256)
            .unwrap_or_default();
        if &live != expected {
            return Err(AwsError::ProofFailed {
                function: format!("{logical_id} ({function_name})"),
                live,
                expected: expected.clone(),
                rollback: "check that the stack's code locations are the uploaded packages (a transformed template from another build?), then deploy again".into(),
            });
        }
        outcome.functions.push(ProvenFunction {
            logical_id: logical_id.clone(),
            function_name: function_name.clone(),
            code_sha256: live,
        });
    }
    Ok(outcome)
}

struct StackState {
    id: String,
    status: String,
    parameters: Vec<String>,
    outputs: BTreeMap<String, String>,
}

async fn describe_stack(cf: &CloudFormation, name: &str) -> Result<Option<StackState>, AwsError> {
    match cf.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().map(|s| StackState {
            id: s.stack_id().unwrap_or_default().to_string(),
            status: s
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| p.parameter_key().map(str::to_string))
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect(),
        })),
        // CloudFormation answers a stack it does not know with a ValidationError.
        Err(e) if describe(&e).1.contains("does not exist") => Ok(None),
        Err(e) => Err(AwsError::api("DescribeStacks", name, e)),
    }
}

/// The resources that failed, most recent first, as the console lists them.
async fn failure_reasons(cf: &CloudFormation, name: &str) -> String {
    let Ok(events) = cf.describe_stack_events().stack_name(name).send().await else {
        return "the stack's events could not be read".into();
    };
    let reasons: Vec<String> = events
        .stack_events()
        .iter()
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("_FAILED"))
        })
        .take(5)
        .map(|e| {
            format!(
                "{}: {}",
                e.logical_resource_id().unwrap_or_default(),
                e.resource_status_reason().unwrap_or_default()
            )
        })
        .collect();
    if reasons.is_empty() {
        "no resource reported a failure".into()
    } else {
        reasons.join("; ")
    }
}

/// Polling that starts quick (emulators finish at once) and settles at 5 s.
struct Pause(Duration);

impl Pause {
    fn new() -> Pause {
        Pause(Duration::from_millis(200))
    }

    async fn wait(&mut self, deadline: Instant, stack: &str, what: &str) -> Result<(), AwsError> {
        if Instant::now() + self.0 > deadline {
            return Err(AwsError::StackFailed {
                stack: stack.to_string(),
                status: "timed out".into(),
                reasons: format!("{what} was still in progress when slipway stopped waiting"),
            });
        }
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        Ok(())
    }
}
