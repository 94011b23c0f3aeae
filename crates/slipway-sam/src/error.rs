use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// Everything that can be wrong with a SAM template or with writing SAM's build output.
#[derive(Debug, Error, Diagnostic)]
pub enum SamError {
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::sam::unreadable),
        help("pass the SAM template with `--sam PATH`, e.g. `--sam template.yaml`")
    )]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    NotYaml(Box<NotYaml>),

    #[error("{}: not a SAM template: {reason}", path.display())]
    #[diagnostic(
        code(slipway::sam::not_a_template),
        help(
            "a SAM template has `Transform: AWS::Serverless-2016-10-31` and a `Resources` mapping with at least one `AWS::Serverless::Function`"
        )
    )]
    NotATemplate { path: PathBuf, reason: String },

    /// A property slipway needs is missing, unresolvable or unsupported.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Property(Box<PropertyError>),

    #[error("{}: `--parameter-overrides` names `{name}`, which is not a parameter of the template", path.display())]
    #[diagnostic(
        code(slipway::sam::unknown_parameter),
        help("{}", if known.is_empty() { "the template declares no `Parameters`".to_string() } else { format!("its parameters: {}", known.join(", ")) })
    )]
    UnknownParameter {
        path: PathBuf,
        name: String,
        known: Vec<String>,
    },

    #[error("{}: `--parameter-overrides` gives {name} `{value}`, which its `AllowedValues` do not list", path.display())]
    #[diagnostic(
        code(slipway::sam::parameter_not_allowed),
        help("allowed: {}", allowed.join(", "))
    )]
    ParameterNotAllowed {
        path: PathBuf,
        name: String,
        value: String,
        allowed: Vec<String>,
    },

    #[error("{}{}: `[functions.{name}]` names no `AWS::Serverless::Function` of {}", config.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), template.display())]
    #[diagnostic(
        code(slipway::sam::unknown_function),
        help("function tables next to `sam` are named by the template's logical ids: {}", known.join(", "))
    )]
    UnknownFunction {
        config: PathBuf,
        line: Option<usize>,
        name: String,
        template: PathBuf,
        known: Vec<String>,
    },

    #[error("{logical_id} has no build in {}", dist.display())]
    #[diagnostic(
        code(slipway::sam::not_built),
        help("run `slipway build --sam TEMPLATE` for every function of the template first")
    )]
    NotBuilt { logical_id: String, dist: PathBuf },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] slipway_artifact::ManifestError),

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(code(slipway::sam::write))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Error, Diagnostic)]
#[error("{}{}: not a YAML document: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
#[diagnostic(
    code(slipway::sam::not_yaml),
    help("a SAM template is YAML (or JSON); `cfn-lint` points at syntax errors too")
)]
pub struct NotYaml {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

#[derive(Debug, Error, Diagnostic)]
#[error("{}{}: {logical_id}.{property}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
#[diagnostic(code(slipway::sam::property))]
pub struct PropertyError {
    pub path: PathBuf,
    /// The line of the resource, when found.
    pub line: Option<usize>,
    pub logical_id: String,
    /// The property as SAM names it, e.g. `CodeUri` or `Metadata.slipway.layer`.
    pub property: String,
    pub message: String,
    #[help]
    pub help: Option<String>,
}

impl SamError {
    /// The logical id and property at fault, for errors that point at one.
    pub fn property(&self) -> Option<(&str, &str)> {
        match self {
            SamError::Property(e) => Some((&e.logical_id, &e.property)),
            _ => None,
        }
    }
}
