//! A SAM template standing in for slipway.toml (`--sam TEMPLATE`), and the
//! build template written after `build`.

use std::path::{Path, PathBuf};

use crate::cli::Command;
use crate::context::Context;
use crate::output::Failure;
use crate::progress::Progress;

/// Reads the template; `AWS::Region` is the region the AWS tools would use.
pub fn load(template: &Path) -> Result<slipway_sam::SamProject, Failure> {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()));
    let options = slipway_sam::Options {
        region,
        ..Default::default()
    };
    Ok(slipway_sam::load(&Context::user_path(template), &options)?)
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
    match ctx.sam_template() {
        None => Ok(()),
        Some(template) => Err(Failure::input(miette::miette!(
            code = "slipway::sam::deploy",
            help = "deploy with `sam deploy` (it reads .aws-sam/build/template.yaml that `slipway --sam TEMPLATE build` wrote and uploads the zips unchanged), then `slipway verify --deployed` against a slipway.toml naming the deployed functions",
            "`slipway {name}` works through the Lambda API with slipway.toml; {} is deployed by CloudFormation",
            template.display()
        ))),
    }
}
