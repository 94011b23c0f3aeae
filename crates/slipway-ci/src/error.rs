use std::path::PathBuf;

/// What can go wrong while generating a pipeline.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CiError {
    #[error("cannot read the plan {}: {source}", path.display())]
    #[diagnostic(
        code(slipway::ci::plan_unreadable),
        help("write it with `slipway --format json plan > slipway-plan.json`")
    )]
    PlanUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{origin} is not a slipway plan: {reason}")]
    #[diagnostic(
        code(slipway::ci::plan_invalid),
        help(
            "give `--plan` the JSON of `slipway --format json plan`: {{\"functions\": [{{\"name\", \"input_hash\", …}}]}}"
        )
    )]
    PlanInvalid { origin: String, reason: String },

    #[error("`{name}` is not an input of the slipway component")]
    #[diagnostic(
        code(slipway::ci::unknown_input),
        help("the component's inputs are: {known}")
    )]
    UnknownInput { name: String, known: String },

    #[error("`{value}` is not NAME=VALUE")]
    #[diagnostic(
        code(slipway::ci::input_syntax),
        help("write inputs as NAME=VALUE, e.g. `environment=staging`")
    )]
    InputSyntax { value: String },

    #[error("input `{name}` is set by slipway itself")]
    #[diagnostic(
        code(slipway::ci::reserved_input),
        help(
            "slipway sets `{name}` from slipway.toml and the generator's own flags; leave it out"
        )
    )]
    ReservedInput { name: String },

    #[error("the deployed manifest {} is unreadable: {reason}", path.display())]
    #[diagnostic(
        code(slipway::ci::deployed_unreadable),
        help(
            "the deployed folder holds <function>/manifest.json and <function>/deploy.json as a deploy job left them; delete the broken entry to treat the function as never deployed"
        )
    )]
    DeployedUnreadable { path: PathBuf, reason: String },
}
