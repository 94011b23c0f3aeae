//! What every command gets: the global flags and the way to the project.

use std::path::{Path, PathBuf};

use crate::cli::{Format, GlobalArgs};
use crate::output::Failure;

pub struct Context {
    pub format: Format,
    pub verbose: u8,
    pub quiet: bool,
    config: Option<PathBuf>,
    sam: Option<PathBuf>,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Context {
        Context {
            format: global.format,
            verbose: global.verbose,
            quiet: global.quiet,
            config: global.config.clone(),
            sam: global.sam.clone(),
        }
    }

    /// Logs go to stderr; stdout is kept for results so `--format json` can be piped.
    pub fn init_logging(&self) {
        let level = match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            _ => "trace",
        };
        // The AWS SDK's orchestrator and signer log the resolved identity
        // (access key id included) at info, debug and trace level; they stay at warn
        // whatever SLIPWAY_LOG asks, so credentials never reach a log.
        const QUIET_SIGNING: &str = "aws_smithy_runtime=warn,aws_smithy_runtime_api=warn,aws_smithy_types=warn,\
                                     aws_sigv4=warn,aws_credential_types=warn,aws_config=warn,aws_runtime=warn";
        let default = format!("warn,slipway={level}");
        let directives = std::env::var("SLIPWAY_LOG").unwrap_or_else(|_| default.clone());
        let filter =
            tracing_subscriber::EnvFilter::try_new(format!("{directives},{QUIET_SIGNING}"))
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(format!("{default},{QUIET_SIGNING}"))
                });
        use std::io::IsTerminal;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .without_time()
            .with_target(false)
            .try_init();
    }

    /// The configuration file: `--config`, or `slipway.toml` here or above.
    pub fn config_path(&self) -> Result<PathBuf, Failure> {
        match &self.config {
            Some(p) => Ok(p.clone()),
            None => {
                let cwd = std::env::current_dir().map_err(|e| {
                    Failure::input(miette::miette!("cannot read the current folder: {e}"))
                })?;
                Ok(slipway_config::find_config(&cwd)?)
            }
        }
    }

    pub fn project(&self) -> Result<slipway_config::Project, Failure> {
        if let Some(template) = &self.sam {
            return Ok(crate::sam::load(template)?.project);
        }
        let path = self.config_path()?;
        Ok(slipway_config::load_file(&path)?)
    }

    /// The SAM template given with `--sam`, which then stands in for slipway.toml.
    pub fn sam_template(&self) -> Option<&Path> {
        self.sam.as_deref()
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// The output folder: `--out` (against the current folder), else
    /// `dist/` beside the configuration file.
    pub fn out_dir(project: &slipway_config::Project, given: Option<&Path>) -> PathBuf {
        given
            .map(Context::user_path)
            .unwrap_or_else(|| project.root.join("dist"))
    }

    /// Resolves a user-given path against the current folder.
    pub fn user_path(p: &Path) -> PathBuf {
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    }
}
