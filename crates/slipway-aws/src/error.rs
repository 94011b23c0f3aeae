//! Everything that can go wrong talking to AWS, with what to do about it.

use std::path::PathBuf;

use aws_sdk_lambda::error::ProvideErrorMetadata;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AwsError {
    #[error("no AWS region configured")]
    #[diagnostic(
        code(slipway::aws::no_region),
        help(
            "pass `--region`, set `region` under `[aws]` in slipway.toml, set AWS_REGION, or set `region` in your AWS profile; slipway never guesses a region"
        )
    )]
    MissingRegion,

    #[error(
        "AWS profile `{profile}` is not in the AWS config or credentials file (profiles there: {known})"
    )]
    #[diagnostic(
        code(slipway::aws::unknown_profile),
        help(
            "check the name given to `--profile` or `[aws] profile`, or add the profile with `aws configure --profile NAME`; AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE say where the files are"
        )
    )]
    UnknownProfile { profile: String, known: String },

    #[error("the AWS config or credentials file cannot be read: {message}")]
    #[diagnostic(
        code(slipway::aws::profile_files),
        help(
            "fix the file (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE say which), or unset the profile"
        )
    )]
    ProfileFiles { message: String },

    #[error("`{function}`: {runtime} can no longer be used to {action} a function ({sentence})")]
    #[diagnostic(
        code(slipway::aws::runtime_retired),
        help("set `runtime = \"{successor}\"` in slipway.toml, rebuild and deploy again")
    )]
    RuntimeRetired {
        function: String,
        runtime: String,
        action: &'static str,
        sentence: String,
        successor: String,
    },

    #[error("`{function}` does not exist yet and slipway.toml gives it no `role`")]
    #[diagnostic(
        code(slipway::aws::no_role),
        help(
            "set `role = \"arn:aws:iam::ACCOUNT:role/NAME\"` (an existing execution role) for the function or in `[defaults]`; slipway does not create roles"
        )
    )]
    MissingRole { function: String },

    #[error("`{function}` has not been built: {} is missing", path.display())]
    #[diagnostic(
        code(slipway::aws::not_built),
        help("run `slipway build {function}` first")
    )]
    NotBuilt { function: String, path: PathBuf },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] slipway_artifact::ManifestError),

    #[error(
        "`{function}`: the manifest was built for {field} `{built}` but slipway.toml now says `{configured}`"
    )]
    #[diagnostic(
        code(slipway::aws::stale_artifact),
        help("rebuild with `slipway build {function}` so the artifact matches slipway.toml")
    )]
    StaleArtifact {
        function: String,
        field: &'static str,
        built: String,
        configured: String,
    },

    #[error(
        "`{function}` is {size} bytes zipped, over Lambda's 50 MB direct-upload limit, and has no `s3_bucket`"
    )]
    #[diagnostic(
        code(slipway::aws::needs_bucket),
        help(
            "set `s3_bucket` (and optionally `s3_prefix`) for the function; slipway uploads the zip there first"
        )
    )]
    NeedsBucket { function: String, size: u64 },

    #[error(
        "`{function}`: SQS queue {queue} has a visibility timeout of {visibility}s, less than the function's timeout of {timeout}s"
    )]
    #[diagnostic(
        code(slipway::aws::visibility_timeout),
        help(
            "Lambda refuses this mapping: raise the queue's VisibilityTimeout to at least {timeout}s (AWS recommends six times the function timeout), or lower `timeout`"
        )
    )]
    VisibilityTimeout {
        function: String,
        queue: String,
        visibility: u64,
        timeout: u32,
    },

    #[error("`{function}` changed on AWS while slipway was deploying it ({operation})")]
    #[diagnostic(
        code(slipway::aws::concurrent_change),
        help(
            "someone else updated the function at the same time; check who, then run `slipway deploy {function}` again"
        )
    )]
    ConcurrentChange {
        function: String,
        operation: &'static str,
    },

    #[error("`{function}`: {what} did not settle: {reason}")]
    #[diagnostic(
        code(slipway::aws::update_failed),
        help(
            "look at the function in the Lambda console or with `aws lambda get-function`; fix the cause and deploy again"
        )
    )]
    UpdateFailed {
        function: String,
        what: &'static str,
        reason: String,
    },

    #[error(
        "`{function}`: the live code is not the built code: Lambda reports CodeSha256 {live}, the manifest says {expected}"
    )]
    #[diagnostic(
        code(slipway::aws::proof_failed),
        help("something replaced the code during the deploy; {rollback}")
    )]
    ProofFailed {
        function: String,
        live: String,
        expected: String,
        rollback: String,
    },

    #[error("stack `{stack}` is {status}; slipway deploys no change set onto it")]
    #[diagnostic(
        code(slipway::aws::stack_not_ready),
        help(
            "a stack in ROLLBACK_COMPLETE (its creation failed) must be deleted first (`aws cloudformation delete-stack`); a stack in progress must finish first"
        )
    )]
    StackNotReady { stack: String, status: String },

    #[error("stack `{stack}`: {status}: {reasons}")]
    #[diagnostic(
        code(slipway::aws::stack_failed),
        help(
            "the reasons are CloudFormation's (`aws cloudformation describe-stack-events --stack-name {stack}` lists them all); fix the template or the account and deploy again"
        )
    )]
    StackFailed {
        stack: String,
        status: String,
        reasons: String,
    },

    #[error("stack `{stack}` has no AWS::Lambda::Function `{logical_id}` to check")]
    #[diagnostic(
        code(slipway::aws::stack_function_missing),
        help(
            "the deployed template does not define the function the SAM template does; deploy the template built from it (with `--transformed`, one transformed from `.aws-sam/packaged.yaml`)"
        )
    )]
    StackFunctionMissing { stack: String, logical_id: String },

    #[error("`{function}` does not exist on AWS")]
    #[diagnostic(
        code(slipway::aws::not_deployed),
        help("deploy it first with `slipway deploy {function}`")
    )]
    NotDeployed { function: String },

    #[error("`{function}` has no alias in slipway.toml")]
    #[diagnostic(
        code(slipway::aws::no_alias),
        help("set `alias = \"live\"` and `publish = true` to use canaries")
    )]
    NoAlias { function: String },

    #[error("alias `{alias}` of `{function}` has no canary in progress")]
    #[diagnostic(
        code(slipway::aws::no_canary),
        help("start one with `slipway deploy {function} --canary PERCENT`")
    )]
    NoCanary { function: String, alias: String },

    #[error("`{function}`: {what}")]
    #[diagnostic(code(slipway::aws::signing), help("{help}"))]
    Signing {
        function: String,
        what: String,
        help: String,
    },

    #[error("{operation} failed{}: {code}: {message}", function.as_deref().map(|f| format!(" for `{f}`")).unwrap_or_default())]
    #[diagnostic(code(slipway::aws::api), help("{}", api_help(code)))]
    Api {
        operation: &'static str,
        function: Option<String>,
        code: String,
        message: String,
    },

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(code(slipway::aws::write))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(code(slipway::aws::read))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn api_help(code: &str) -> String {
    match code {
        "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException"
        | "InvalidSignatureException" | "ExpiredTokenException" => {
            "check the AWS credentials slipway picked up (environment, `--profile`, web identity) and that they may call this API".into()
        }
        "InvalidParameterValueException" => {
            "AWS rejected a value from slipway.toml; the message above names it".into()
        }
        "dispatch failure" | "timeout" => {
            "AWS could not be reached; check the network, `--endpoint-url` and `--region`".into()
        }
        _ => "run again with `-vv` to see each call slipway makes".into(),
    }
}

impl AwsError {
    /// Turns an SDK error into an [`AwsError::Api`] naming the operation.
    pub(crate) fn api<E, R>(
        operation: &'static str,
        function: &str,
        err: aws_sdk_lambda::error::SdkError<E, R>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let (code, message) = describe(&err);
        AwsError::Api {
            operation,
            function: Some(function.to_string()),
            code,
            message,
        }
    }
}

/// The error code and message of an SDK error, for transport failures too.
pub(crate) fn describe<E, R>(err: &aws_sdk_lambda::error::SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_lambda::error::SdkError;
    match err {
        SdkError::ServiceError(s) => {
            let e = s.err();
            (
                e.code().unwrap_or("unknown error").to_string(),
                e.message()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string()),
            )
        }
        SdkError::DispatchFailure(d) => (
            "dispatch failure".into(),
            chain(d.as_connector_error().map(|c| c as &dyn std::error::Error)),
        ),
        SdkError::TimeoutError(_) => ("timeout".into(), "the request timed out".into()),
        SdkError::ResponseError(_) => (
            "malformed response".into(),
            "the response could not be read".into(),
        ),
        SdkError::ConstructionFailure(_) => ("request not built".into(), chain(Some(err))),
        _ => ("error".into(), chain(Some(err))),
    }
}

fn chain(e: Option<&dyn std::error::Error>) -> String {
    let mut parts = Vec::new();
    let mut cur = e;
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.join(": ")
}

/// The AWS error code of an SDK error, when the service answered with one.
pub(crate) fn code_of<E, R>(err: &aws_sdk_lambda::error::SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(ProvideErrorMetadata::code)
}

/// `Ok(None)` when AWS answered `code` (the thing is absent, or already
/// there); otherwise the value, or the error as an [`AwsError::Api`].
pub(crate) fn unless_code<T, E, R>(
    result: Result<T, aws_sdk_lambda::error::SdkError<E, R>>,
    code: &str,
    operation: &'static str,
    function: &str,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if code_of(&e) == Some(code) => Ok(None),
        Err(e) => Err(AwsError::api(operation, function, e)),
    }
}

/// The answer to a write with a precondition (the `RevisionId` slipway read,
/// or `PublishVersion`'s `CodeSha256`): Lambda's `PreconditionFailedException`
/// means someone else changed the function since slipway read it.
pub(crate) fn revision_checked<T, E, R>(
    result: Result<T, aws_sdk_lambda::error::SdkError<E, R>>,
    operation: &'static str,
    function: &str,
) -> Result<T, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => Ok(v),
        Err(e) if code_of(&e) == Some("PreconditionFailedException") => {
            Err(AwsError::ConcurrentChange {
                function: function.to_string(),
                operation,
            })
        }
        Err(e) => Err(AwsError::api(operation, function, e)),
    }
}

impl AwsError {
    /// True when the fault is in the user's input (configuration, flags,
    /// missing build) rather than in what AWS did: exit code 2, not 1.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            AwsError::MissingRegion
                | AwsError::UnknownProfile { .. }
                | AwsError::ProfileFiles { .. }
                | AwsError::RuntimeRetired { .. }
                | AwsError::MissingRole { .. }
                | AwsError::NotBuilt { .. }
                | AwsError::Manifest(_)
                | AwsError::StaleArtifact { .. }
                | AwsError::NeedsBucket { .. }
                | AwsError::VisibilityTimeout { .. }
                | AwsError::NoAlias { .. }
                | AwsError::NoCanary { .. }
        )
    }
}
