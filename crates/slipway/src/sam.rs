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
/// id beside the stack, so they refuse a template.
pub fn check_command(ctx: &Context, command: &Command) -> Result<(), Failure> {
    let name = match command {
        Command::Deploy(_) => "deploy",
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
            help = "deploy with `sam deploy` (it reads .aws-sam/build/template.yaml that `slipway --sam TEMPLATE build` wrote and uploads the zips unchanged), then `slipway verify --deployed` against a slipway.toml naming the deployed functions",
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
