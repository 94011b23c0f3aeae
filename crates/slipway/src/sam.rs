//! A SAM template standing in for slipway.toml (`--sam TEMPLATE`), and the
//! build template written after `build`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::Command;
use crate::context::Context;
use crate::output::Failure;
use crate::progress::Progress;

/// Reads the template; `AWS::Region` is the region the AWS tools would use.
pub fn load(
    template: &Path,
    parameters: &BTreeMap<String, String>,
) -> Result<slipway_sam::SamProject, Failure> {
    Ok(slipway_sam::load(
        &Context::user_path(template),
        &options(parameters),
    )?)
}

/// Reads the template slipway.toml names, with the settings slipway.toml adds.
pub fn load_config(
    source: &slipway_config::SamSource,
    parameters: &BTreeMap<String, String>,
) -> Result<slipway_sam::SamProject, Failure> {
    Ok(slipway_sam::load_config(source, &options(parameters))?)
}

fn options(parameters: &BTreeMap<String, String>) -> slipway_sam::Options {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()));
    slipway_sam::Options {
        region,
        parameters: parameters.clone(),
        ..Default::default()
    }
}

/// The values of one `--parameter-overrides`: `Name=Value` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overrides(pub Vec<(String, String)>);

/// One `--parameter-overrides` value as `sam build` reads it: pairs separated
/// by spaces, each `Name=Value` (a value may be quoted to hold spaces) or
/// `ParameterKey=Name,ParameterValue=Value`.
pub fn parse_overrides(text: &str) -> Result<Overrides, String> {
    let mut pairs = Vec::new();
    for token in split_unquoted(text)? {
        let pair = token
            .strip_prefix("ParameterKey=")
            .and_then(|rest| rest.split_once(",ParameterValue="))
            .or_else(|| token.split_once('='));
        match pair {
            Some((name, value))
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                pairs.push((name.to_string(), value.to_string()));
            }
            _ if !token.contains('=') => {
                return Err(format!(
                    "`{token}` is not NAME=VALUE; the values run to the next option, so give `--parameter-overrides` after the command and its function names, or end them with `--`"
                ));
            }
            _ => {
                return Err(format!(
                    "`{token}` is not NAME=VALUE (a template parameter's name is letters and digits)"
                ));
            }
        }
    }
    if pairs.is_empty() {
        return Err("expected NAME=VALUE".into());
    }
    Ok(Overrides(pairs))
}

/// Splits on whitespace outside single or double quotes, dropping the quotes.
fn split_unquoted(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    tokens.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            (None, c) => {
                current.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("`{text}` has an unclosed quote"));
    }
    if started {
        tokens.push(current);
    }
    Ok(tokens)
}

/// After a build from a SAM template: `.aws-sam/build/template.yaml` from the
/// manifests in `out`. Values left for the stack are said once, here.
pub fn after_build(
    ctx: &Context,
    out: &Path,
    progress: &Progress,
) -> Result<Option<slipway_sam::BuildTemplate>, Failure> {
    let Some(sam) = ctx.sam_project()? else {
        return Ok(None);
    };
    for note in &sam.notes {
        progress.warn(&note.to_string());
    }
    for (id, f) in &sam.functions {
        for alexa in f.alexa.iter().filter(|a| a.skill_id.is_none()) {
            progress.warn(&format!(
                "{id}.Events.{}: an AlexaSkill event without `SkillId` lets any skill invoke the function",
                alexa.event
            ));
        }
    }
    match slipway_sam::write_build_template(sam, out) {
        Ok(t) => Ok(Some(t)),
        // A build of some functions only: the template waits for the rest.
        Err(slipway_sam::SamError::NotBuilt { logical_id, .. }) => {
            progress.warn(&format!(
                "{} not written: {logical_id} is not built yet",
                PathBuf::from(slipway_sam::BUILD_DIR)
                    .join(slipway_sam::BUILD_TEMPLATE)
                    .display()
            ));
            Ok(None)
        }
        Err(e @ slipway_sam::SamError::Write { .. }) => Err(Failure::failed(e)),
        Err(e) => Err(e.into()),
    }
}

/// The queues of the template that `wanted` functions' `SQS` events read,
/// found by name at `endpoint`: each function (with that queue's settings
/// as its trigger) and the queue's URL. Without an endpoint, or when a queue
/// is not there, serving goes on without it and says so: the deployed
/// queue's name is CloudFormation's to choose, so only an emulator is asked.
pub async fn template_queues<'a>(
    wanted: impl Iterator<Item = (&'a slipway_config::Function, &'a slipway_sam::SamFunction)>,
    endpoint: Option<&str>,
    region: &str,
    quiet: bool,
) -> Vec<(slipway_config::Function, String)> {
    let say = |message: String| {
        if !quiet {
            eprintln!("slipway: sqs: {message}");
        }
    };
    let wanted: Vec<_> = wanted.filter(|(_, sam)| !sam.queues.is_empty()).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let Some(endpoint) = endpoint else {
        for (f, sam) in &wanted {
            for q in &sam.queues {
                say(format!(
                    "{}.Events.{}: queue `{}` not polled: give `--endpoint-url` (an emulator such as moto, where the queue is named `{}`) or `--sqs {}=QUEUE_URL`",
                    f.name, q.event, q.logical_id, q.name, f.name
                ));
            }
        }
        return Vec::new();
    };
    let config = aws_config::from_env()
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .load()
        .await;
    let client = aws_sdk_sqs::Client::new(&config);
    let mut found = Vec::new();
    for (f, sam) in wanted {
        for q in &sam.queues {
            match client.get_queue_url().queue_name(&q.name).send().await {
                Ok(out) => {
                    let Some(url) = out.queue_url else { continue };
                    let mut function = f.clone();
                    // SqsMapping takes a trigger's settings by the queue name
                    // at the end of its ARN; the stack's ARN does not exist here.
                    function.triggers.sqs.push(slipway_config::SqsTrigger {
                        queue_arn: format!("arn:aws:sqs:{region}:000000000000:{}", q.name),
                        ..q.trigger.clone()
                    });
                    found.push((function, url));
                }
                Err(e) => say(format!(
                    "{}.Events.{}: queue `{}` not polled: {endpoint} has no queue named `{}` ({}); create it there, or give `--sqs {}=QUEUE_URL`",
                    f.name,
                    q.event,
                    q.logical_id,
                    q.name,
                    aws_sdk_sqs::error::DisplayErrorContext(&e),
                    f.name
                )),
            }
        }
    }
    found
}

/// A SAM application is deployed by CloudFormation, which names the functions;
/// the Lambda API commands would create or compare functions named by logical
/// id beside the stack, so they refuse a template (`deploy` deploys the stack).
pub fn check_command(ctx: &Context, command: &Command) -> Result<(), Failure> {
    let name = match command {
        Command::Promote(_) => "promote",
        Command::Rollback(_) => "rollback",
        Command::Drift(_) => "drift",
        Command::Remove(_) => "remove",
        _ => return Ok(()),
    };
    match ctx.sam_project()? {
        None => Ok(()),
        Some(sam) => Err(Failure::input(miette::miette!(
            code = "slipway::sam::deploy",
            help = "deploy the stack with `slipway deploy --stack-name NAME --s3-bucket BUCKET` (or `sam deploy`, which uploads the zips of .aws-sam/build/ unchanged); change it through the template",
            "`slipway {name}` works through the Lambda API with slipway.toml; {} is deployed by CloudFormation",
            sam.path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_read_as_sam_build_reads_them() {
        let o = parse_overrides(
            "Stage=dev Table=orders  Name=\"a b\" Empty= ParameterKey=Mode,ParameterValue=x=y",
        )
        .unwrap();
        let want: Vec<(String, String)> = [
            ("Stage", "dev"),
            ("Table", "orders"),
            ("Name", "a b"),
            ("Empty", ""),
            ("Mode", "x=y"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(o.0, want);
        for bad in ["Stage", "=dev", "Sta-ge=dev", "Name=\"open", " "] {
            assert!(parse_overrides(bad).is_err(), "{bad}");
        }
    }
}

#[derive(serde::Serialize)]
struct StackReport {
    ok: bool,
    /// The template as packaged: every CodeUri an S3 location.
    packaged: PathBuf,
    uploads: Vec<slipway_aws::Uploaded>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stack: Option<slipway_aws::StackOutcome>,
}

impl crate::output::Render for StackReport {
    fn human(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for u in &self.uploads {
            for change in &u.changes {
                writeln!(out, "{}: {change}", u.logical_id)?;
            }
        }
        writeln!(out, "packaged template: {}", self.packaged.display())?;
        let Some(stack) = &self.stack else {
            return Ok(());
        };
        let what = match stack.action {
            slipway_aws::StackAction::Created => "created",
            slipway_aws::StackAction::Updated => "updated",
            slipway_aws::StackAction::Unchanged => "unchanged (no changes to deploy)",
        };
        writeln!(out, "stack {}: {what}", stack.stack_name)?;
        for (k, v) in &stack.outputs {
            writeln!(out, "  output {k} = {v}")?;
        }
        for f in &stack.functions {
            writeln!(
                out,
                "  {} ({}): proven: live CodeSha256 {} is the built artifact",
                f.logical_id, f.function_name, f.code_sha256
            )?;
        }
        Ok(())
    }
}

/// `slipway deploy` of a SAM template: check every artifact as `slipway
/// verify` does, upload the packages by SHA-256, write the packaged template,
/// deploy it (or the `--transformed` one) through a change set, and prove
/// each function's live code.
pub fn deploy(
    ctx: &Context,
    sam: &slipway_sam::SamProject,
    args: &crate::commands::deploy::DeployArgs,
) -> Result<crate::output::Status, Failure> {
    use crate::commands::deployed::{aws_failure, runtime};
    let stack = &args.stack;
    let refuse = |flag: &str, why: &str| {
        Failure::input(miette::miette!(
            code = "slipway::deploy::sam",
            help = "the template says what the stack holds; `slipway deploy --help` lists the SAM options",
            "`{flag}` {why} when deploying {}",
            sam.path.display()
        ))
    };
    if !args.functions.is_empty() {
        return Err(refuse(
            "FUNCTIONS",
            "cannot be chosen: the stack is deployed whole",
        ));
    }
    if args.canary.is_some() {
        return Err(refuse(
            "--canary",
            "is `DeploymentPreference` in the template",
        ));
    }
    if args.create_role {
        return Err(refuse(
            "--create-role",
            "is the template's `Role` or `Policies`",
        ));
    }
    if args.dotenv.is_some() {
        return Err(refuse("--dotenv", "is not written"));
    }
    let (Some(stack_name), Some(bucket)) = (&stack.stack_name, &stack.s3_bucket) else {
        return Err(Failure::input(miette::miette!(
            code = "slipway::deploy::sam",
            help = "e.g. `slipway deploy --stack-name orders --s3-bucket my-artifacts`; or `sam deploy`, which uploads the zips of .aws-sam/build/ unchanged",
            "deploying the SAM template {} needs `--stack-name` and `--s3-bucket`",
            sam.path.display()
        )));
    };
    let project = &sam.project;
    let out = Context::out_dir(project, args.out.as_deref());
    let trusted = crate::commands::deploy::trusted_keys(&args.trusted_keys)?;
    let functions: Vec<&slipway_config::Function> = project.functions.values().collect();
    let mut artifacts = Vec::new();
    for f in &functions {
        let artifact = slipway_aws::Artifact::load(f, &out).map_err(aws_failure)?;
        crate::commands::deploy::check_artifact(f, &artifact, trusted.as_ref())?;
        artifacts.push(artifact);
    }
    let transformed = match &stack.transformed {
        Some(path) => {
            let path = Context::user_path(path);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::input(miette::miette!(
                    code = "slipway::deploy::transformed",
                    "cannot read {}: {e}",
                    path.display()
                ))
            })?;
            Some((path, text))
        }
        None => None,
    };

    let progress = crate::progress::Progress::new(ctx);
    let steps = |m: &str| progress.stage(m, None);
    let rt = runtime()?;
    let options = args.aws.options(project);
    let pairs: Vec<(&slipway_config::Function, &slipway_aws::Artifact)> =
        functions.iter().copied().zip(&artifacts).collect();
    let uploads = rt.block_on(async {
        let aws = slipway_aws::connect(&options).await.map_err(aws_failure)?;
        slipway_aws::upload_packages(&aws, &pairs, bucket, stack.s3_prefix.as_deref(), &steps)
            .await
            .map_err(aws_failure)
    })?;
    let locations: BTreeMap<(String, String), String> = uploads
        .iter()
        .zip(&artifacts)
        .flat_map(|(u, a)| {
            let mut l = vec![(
                (u.logical_id.clone(), a.manifest.artifact.file.clone()),
                format!("s3://{}/{}", u.bucket, u.key),
            )];
            if let (Some(key), Some(layer)) = (&u.layer_key, &a.manifest.layer) {
                l.push((
                    (u.logical_id.clone(), layer.file.clone()),
                    format!("s3://{}/{key}", u.bucket),
                ));
            }
            l
        })
        .collect();
    let packaged_text = slipway_sam::packaged_template(sam, &out, &|id, file| {
        locations[&(id.to_string(), file.to_string())].clone()
    })?;
    let packaged = project.root.join(".aws-sam/packaged.yaml");
    std::fs::create_dir_all(project.root.join(".aws-sam"))
        .and_then(|()| std::fs::write(&packaged, &packaged_text))
        .map_err(|e| {
            Failure::failed(miette::miette!(
                code = "slipway::deploy::write",
                "cannot write {}: {e}",
                packaged.display()
            ))
        })?;
    if stack.package_only {
        drop(progress);
        crate::output::emit(
            ctx,
            &StackReport {
                ok: true,
                packaged,
                uploads,
                stack: None,
            },
        )?;
        return Ok(crate::output::Status::Ok);
    }

    let body = match &transformed {
        Some((path, text)) => {
            check_transformed(path, text, &uploads)?;
            text.clone()
        }
        None => packaged_text,
    };
    // CloudFormation's limit for a template sent in the request.
    if body.len() > 51_200 {
        return Err(Failure::input(miette::miette!(
            code = "slipway::deploy::template_size",
            help = "deploy .aws-sam/packaged.yaml with `sam deploy` or `aws cloudformation deploy --s3-bucket`, which upload large templates to S3",
            "the template is {} bytes; CloudFormation takes at most 51,200 in a request, and slipway does not upload templates",
            body.len()
        )));
    }
    let declared: Vec<String> = serde_norway::from_str::<serde_norway::Value>(&body)
        .ok()
        .and_then(|t| {
            t.get("Parameters")?.as_mapping().map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let request = slipway_aws::StackRequest {
        stack_name: stack_name.clone(),
        template_body: body,
        parameters: ctx.parameters().clone(),
        declared_parameters: declared,
        capabilities: if stack.capabilities.is_empty() {
            vec!["CAPABILITY_IAM".into(), "CAPABILITY_AUTO_EXPAND".into()]
        } else {
            stack.capabilities.clone()
        },
        functions: pairs
            .iter()
            .map(|(f, a)| (f.name.clone(), a.code_sha256().to_string()))
            .collect(),
        timeout: std::time::Duration::from_secs(stack.stack_timeout.max(1) * 60),
    };
    let outcome = rt.block_on(async {
        let aws = slipway_aws::connect(&options).await.map_err(aws_failure)?;
        let cf = slipway_aws::connect_cloudformation(&options)
            .await
            .map_err(aws_failure)?;
        slipway_aws::deploy_stack(&aws, &cf, &request, &steps)
            .await
            .map_err(aws_failure)
    })?;
    drop(progress);
    crate::output::emit(
        ctx,
        &StackReport {
            ok: true,
            packaged,
            uploads,
            stack: Some(outcome),
        },
    )?;
    Ok(crate::output::Status::Ok)
}

/// A `--transformed` template must be this build's: each function of the
/// SAM template an `AWS::Lambda::Function` whose code is the package just
/// uploaded. Otherwise the proof after the deploy would fail, after the stack changed.
fn check_transformed(
    path: &Path,
    text: &str,
    uploads: &[slipway_aws::Uploaded],
) -> Result<(), Failure> {
    let fail = |message: String| {
        Failure::input(miette::miette!(
            code = "slipway::deploy::transformed",
            help = "transform .aws-sam/packaged.yaml (written by this deploy, or by `slipway deploy --package-only`) again and pass the result",
            "{}: {message}",
            path.display()
        ))
    };
    let template: serde_norway::Value =
        serde_norway::from_str(text).map_err(|e| fail(format!("not YAML or JSON: {e}")))?;
    if template.get("Transform").is_some() {
        return Err(fail(
            "still has `Transform`: it is not transformed (AWS transforms a template itself; deploy without `--transformed`)".into(),
        ));
    }
    for u in uploads {
        let code = template
            .get("Resources")
            .and_then(|r| r.get(u.logical_id.as_str()))
            .filter(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::Lambda::Function"))
            .and_then(|r| r.get("Properties")?.get("Code"));
        let key = code.and_then(|c| c.get("S3Key")?.as_str());
        let bucket = code.and_then(|c| c.get("S3Bucket")?.as_str());
        if (bucket, key) != (Some(u.bucket.as_str()), Some(u.key.as_str())) {
            return Err(fail(format!(
                "`{}` is not an AWS::Lambda::Function with the code just uploaded (s3://{}/{}); it has {}",
                u.logical_id,
                u.bucket,
                u.key,
                match (bucket, key) {
                    (Some(b), Some(k)) => format!("s3://{b}/{k}"),
                    _ => "no such code".into(),
                }
            )));
        }
    }
    Ok(())
}
