use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// Everything that can be wrong with finding or reading `slipway.toml`.
#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("no slipway.toml in {} or any folder above it", start.display())]
    #[diagnostic(
        code(slipway::config::not_found),
        help("run `slipway init` in your function's folder, or pass `--config PATH`")
    )]
    NotFound { start: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(code(slipway::config::unreadable))]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A syntax error, an unknown key, a bad value or an impossible combination.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

#[derive(Debug, Error, Diagnostic)]
#[error("{path}: {message}")]
#[diagnostic(code(slipway::config::invalid))]
pub struct InvalidConfig {
    /// `file:line`, as shown.
    pub path: String,
    /// The 1-based line at fault, when the error points at one.
    pub line: Option<usize>,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
    #[help]
    pub help: Option<String>,
}

impl ConfigError {
    pub(crate) fn invalid(
        file: &crate::SourceFile,
        span: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let line = span.as_ref().map(|s| file.line_of(s.start));
        let shown_line = line.map(|l| format!(":{l}")).unwrap_or_default();
        ConfigError::Invalid(Box::new(InvalidConfig {
            path: format!("{}{shown_line}", file.path.display()),
            line,
            message: message.into(),
            src: NamedSource::new(file.path.display().to_string(), file.text.clone()),
            span: span.map(|s| SourceSpan::from(s.start..s.end)),
            help,
        }))
    }

    /// The line (1-based) the error points at, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid(e) => e.line,
            _ => None,
        }
    }
}
