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
    parameters: std::collections::BTreeMap<String, String>,
    /// slipway.toml, read once.
    loaded_config: std::sync::OnceLock<slipway_config::Config>,
    /// The template behind `--sam` or slipway.toml's `sam`, read once for the
    /// project and the build template.
    sam_project: std::sync::OnceLock<slipway_sam::SamProject>,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Context {
        Context {
            format: global.format,
            verbose: global.verbose,
            quiet: global.quiet,
            config: global.config.clone(),
            sam: global.sam.clone(),
            // A later value for the same name wins, as in `sam build`.
            parameters: global
                .parameter_overrides
                .iter()
                .flat_map(|o| o.0.iter().cloned())
                .collect(),
            loaded_config: std::sync::OnceLock::new(),
            sam_project: std::sync::OnceLock::new(),
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
            .with_writer(|| RedactingStderr)
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
        if let Some(sam) = self.sam_project()? {
            return Ok(sam.project.clone());
        }
        match self.config()? {
            slipway_config::Config::Functions(project) => Ok(project.clone()),
            slipway_config::Config::Sam(_) => unreachable!("sam_project read the template"),
        }
    }

    /// slipway.toml, read (once).
    fn config(&self) -> Result<&slipway_config::Config, Failure> {
        if self.loaded_config.get().is_none() {
            let path = self.config_path()?;
            let _ = self.loaded_config.set(slipway_config::load_config(&path)?);
        }
        Ok(self.loaded_config.get().expect("set above"))
    }

    /// The SAM template of `--sam`, or else the one slipway.toml names with
    /// `sam = "…"`, read (once); `None` when slipway.toml defines its functions.
    pub fn sam_project(&self) -> Result<Option<&slipway_sam::SamProject>, Failure> {
        if let Some(sam) = self.sam_project.get() {
            return Ok(Some(sam));
        }
        let sam = match &self.sam {
            Some(template) => crate::sam::load(template, &self.parameters)?,
            None => match self.config()? {
                slipway_config::Config::Sam(source) => {
                    crate::sam::load_config(source, &self.parameters)?
                }
                slipway_config::Config::Functions(project) => {
                    if let Some(name) = self.parameters.keys().next() {
                        return Err(Failure::input(miette::miette!(
                            code = "slipway::sam::no_template",
                            help = "give the template with `--sam TEMPLATE`, or name it in slipway.toml with `sam = \"template.yaml\"`",
                            "`--parameter-overrides` sets `{name}`, but {} defines its functions without a SAM template",
                            project.file.path.display()
                        )));
                    }
                    return Ok(None);
                }
            },
        };
        let _ = self.sam_project.set(sam);
        Ok(self.sam_project.get())
    }

    /// `--parameter-overrides`, by name.
    pub fn parameters(&self) -> &std::collections::BTreeMap<String, String> {
        &self.parameters
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

/// Stderr for log lines, with credentials taken out of every line whatever
/// crate wrote it: connection pools print `user:password@host` authorities,
/// and no filter can list every target that might. The formatter writes each
/// event in one call, so each call is one whole line.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact_credentials(&text, &secret_env_values()).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Values of the environment's credential variables, never to be logged.
fn secret_env_values() -> Vec<String> {
    static VALUES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    VALUES
        .get_or_init(|| {
            [
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "SLIPWAY_SIGNING_KEY",
            ]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .filter(|v| v.len() >= 8)
            .collect()
        })
        .clone()
}

/// `text` with the user information of every URL or authority
/// (`scheme://user:pass@`, `user:pass@host`) and every value in `secrets`
/// replaced by `***`. A bare `name@host` (an identity) is left alone.
fn redact_credentials(text: &str, secrets: &[String]) -> String {
    let userinfo = |c: char| c.is_ascii_alphanumeric() || "-._~%!$&'*+;=:".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let before = &rest[..at];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| userinfo(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let info = &before[start..];
        let after_scheme = before[..start].ends_with("://");
        if !info.is_empty() && (after_scheme || info.contains(':')) {
            out.push_str(&before[..start]);
            out.push_str("***@");
        } else {
            out.push_str(&rest[..=at]);
        }
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    for secret in secrets {
        out = out.replace(secret.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_credentials;

    #[test]
    fn credentials_in_urls_and_authorities_are_redacted() {
        let secrets = vec!["wJalrXUtnFEMI/K7MDENG".to_string()];
        for (line, shown) in [
            (
                "connecting to http://AKIA:s3cret@127.0.0.1:4566/path",
                "connecting to http://***@127.0.0.1:4566/path",
            ),
            (
                r#"checkout waiting for idle connection: ("http", AKIA:s3cret@127.0.0.1:4566)"#,
                r#"checkout waiting for idle connection: ("http", ***@127.0.0.1:4566)"#,
            ),
            ("https://token@host/simple", "https://***@host/simple"),
            ("signed by release@example", "signed by release@example"),
            (
                "key wJalrXUtnFEMI/K7MDENG in a header",
                "key *** in a header",
            ),
            ("no at sign here", "no at sign here"),
        ] {
            assert_eq!(redact_credentials(line, &secrets), shown, "{line}");
        }
    }
}
