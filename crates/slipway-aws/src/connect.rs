//! Clients for the AWS APIs slipway calls, from aws-config's standard chain:
//! environment, profiles, SSO, web identity (`AWS_ROLE_ARN` +
//! `AWS_WEB_IDENTITY_TOKEN_FILE`, how a GitLab OIDC token becomes credentials),
//! container and instance metadata.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_lambda::config::Region;

use crate::AwsError;

/// Where to talk to AWS. Each field overrides the standard chain when set.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// An emulator or a private endpoint; `AWS_ENDPOINT_URL` also works.
    pub endpoint_url: Option<String>,
}

/// The service clients, all sharing one configuration.
#[derive(Debug, Clone)]
pub struct Aws {
    pub lambda: aws_sdk_lambda::Client,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub signer: aws_sdk_signer::Client,
    /// Used only by `--create-role`.
    pub iam: aws_sdk_iam::Client,
    pub region: String,
}

/// Attempts per call for throttling, 5xx and dropped connections when the
/// user has not chosen (`AWS_MAX_ATTEMPTS`): deploys are worth a few more than
/// the SDK's default three.
const DEFAULT_MAX_ATTEMPTS: u32 = 6;

pub async fn connect(options: &ConnectOptions) -> Result<Aws, AwsError> {
    let shared = shared_config(options).await?;
    let region = shared
        .region()
        .map(|r| r.to_string())
        .ok_or(AwsError::MissingRegion)?;
    // Emulators and private endpoints serve buckets by path, not by host name.
    let path_style = shared.endpoint_url().is_some();
    let s3_config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(path_style)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .build();
    Ok(Aws {
        lambda: aws_sdk_lambda::Client::new(&shared),
        s3: aws_sdk_s3::Client::from_conf(s3_config),
        sqs: aws_sdk_sqs::Client::new(&shared),
        signer: aws_sdk_signer::Client::new(&shared),
        iam: aws_sdk_iam::Client::new(&shared),
        region,
    })
}

/// CloudFormation, for a SAM application's deploy, from the same chain as [`connect`].
pub async fn connect_cloudformation(
    options: &ConnectOptions,
) -> Result<aws_sdk_cloudformation::Client, AwsError> {
    Ok(aws_sdk_cloudformation::Client::new(
        &shared_config(options).await?,
    ))
}

async fn shared_config(options: &ConnectOptions) -> Result<aws_config::SdkConfig, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        check_profile_exists(profile).await?;
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
        loader =
            loader.retry_config(RetryConfig::standard().with_max_attempts(DEFAULT_MAX_ATTEMPTS));
    }
    Ok(loader.load().await)
}

/// A profile the user named must exist in the AWS config or credentials
/// file. Otherwise the SDK's chain moves on without it and the user reads an
/// instance-metadata timeout instead of the name they mistyped. The files are
/// read by aws-config's own parser, so slipway sees exactly what the SDK sees.
async fn check_profile_exists(name: &str) -> Result<(), AwsError> {
    let profiles = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await
    .map_err(|e| AwsError::ProfileFiles {
        message: e.to_string(),
    })?;
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = profiles.profiles().collect();
    known.sort_unstable();
    Err(AwsError::UnknownProfile {
        profile: name.to_string(),
        known: if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        },
    })
}

impl Aws {
    /// Clients from ready-made configurations (recorded-response tests).
    pub fn from_parts(
        lambda: aws_sdk_lambda::Client,
        s3: aws_sdk_s3::Client,
        sqs: aws_sdk_sqs::Client,
        signer: aws_sdk_signer::Client,
        iam: aws_sdk_iam::Client,
        region: &str,
    ) -> Aws {
        Aws {
            lambda,
            s3,
            sqs,
            signer,
            iam,
            region: region.to_string(),
        }
    }
}
