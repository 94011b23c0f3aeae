//! `slipway init`: write a commented slipway.toml for an existing function folder.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The function folder [default: the current folder]
    pub dir: Option<PathBuf>,
    /// Replace an existing slipway.toml
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct InitResult {
    config: PathBuf,
    detected: slipway_config::init::Detected,
}

impl Render for InitResult {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "wrote {}", self.config.display())?;
        writeln!(out, "  function:     {}", self.detected.name)?;
        match &self.detected.handler {
            Some(h) => writeln!(out, "  handler:      {h}")?,
            None => writeln!(
                out,
                "  handler:      not found; edit `handler` before building"
            )?,
        }
        match &self.detected.requirements {
            Some(r) => writeln!(out, "  dependencies: {r}")?,
            None => writeln!(out, "  dependencies: none found")?,
        }
        writeln!(out, "next: slipway build")
    }
}

pub fn run(ctx: &Context, args: InitArgs) -> Result<Status, Failure> {
    let dir = Context::user_path(&args.dir.unwrap_or_else(|| PathBuf::from(".")));
    if !dir.is_dir() {
        return Err(Failure::input(miette::miette!(
            code = "slipway::init::no_folder",
            help = "give the folder that holds the function's code",
            "{} is not a folder",
            dir.display()
        )));
    }
    let config = dir.join(slipway_config::CONFIG_FILE_NAME);
    if config.exists() && !args.force {
        return Err(Failure::input(miette::miette!(
            code = "slipway::init::exists",
            help = "pass --force to replace it",
            "{} already exists",
            config.display()
        )));
    }
    let detected = slipway_config::init::detect(&dir);
    let text = slipway_config::init::render(&detected);
    slipway_artifact::fs::write_atomic(&config, text.as_bytes())
        .map_err(|e| Failure::input(miette::miette!("cannot write {}: {e}", config.display())))?;
    emit(ctx, &InitResult { config, detected })?;
    Ok(Status::Ok)
}
