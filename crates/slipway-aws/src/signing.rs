//! Code signing: attaching a code signing config, and signing the zip with an
//! AWS Signer job so Lambda runs the signed object.
//!
//! Signer writes a new object (the zip with a signature added), so the
//! `CodeSha256` Lambda reports is the signed object's, not the manifest's. The
//! deploy records both; a later deploy or drift check accepts the signed
//! digest only when deploy.json ties it to this manifest's zip.

use std::time::Duration;

use aws_sdk_signer::types::{Destination, S3Destination, S3Source, SigningStatus, Source};
use sha2::{Digest, Sha256};
use slipway_config::Function;

use crate::deploy::{Steps, s3_key, upload};
use crate::live::LiveFunction;
use crate::retry::{BUSY, Backoff, LONGEST_POLL_PAUSE, POLL_LIMIT, retrying};
use crate::{Artifact, Aws, AwsError, DeployRecord};

/// The signed object a Signer job wrote, ready for Lambda.
#[derive(Debug, Clone)]
pub struct Signed {
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
    /// Base64 SHA-256 of the signed object: the `CodeSha256` Lambda will report.
    pub signed_code_sha256: String,
}

fn signing_error(
    function: &Function,
    what: impl Into<String>,
    help: impl Into<String>,
) -> AwsError {
    AwsError::Signing {
        function: function.name.clone(),
        what: what.into(),
        help: help.into(),
    }
}

/// Signs the artifact with AWS Signer when `signing_profile` is set, unless
/// the live function already runs the signed copy of this very zip.
pub(crate) async fn prepare(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    live: Option<&LiveFunction>,
    steps: Steps<'_>,
) -> Result<Option<Signed>, AwsError> {
    let Some(profile) = &function.signing_profile else {
        return Ok(None);
    };
    let name = function.name.as_str();
    let Some(bucket) = &function.s3_bucket else {
        return Err(signing_error(
            function,
            "`signing_profile` is set but `s3_bucket` is not",
            "AWS Signer reads and writes S3: set `s3_bucket` to a versioned bucket in the function's region",
        ));
    };

    if let Some(record) = DeployRecord::read(&artifact.dir)
        && record.sha256 == artifact.manifest.artifact.sha256
        && let (Some(signed), Some(location)) = (&record.signed_code_sha256, &record.s3_location)
        && live.is_some_and(|l| l.code_sha256() == signed)
        && let Some((b, k)) = location
            .strip_prefix("s3://")
            .and_then(|l| l.split_once('/'))
    {
        return Ok(Some(Signed {
            bucket: b.to_string(),
            key: k.to_string(),
            version: None,
            signed_code_sha256: signed.clone(),
        }));
    }

    let key = s3_key(function, &artifact.manifest.artifact.sha256);
    let mut uploads = Vec::new();
    let version = upload(aws, function, artifact, bucket, &key, &mut uploads, steps).await?;
    let Some(version) = version else {
        return Err(signing_error(
            function,
            format!("s3://{bucket} is not versioned"),
            "AWS Signer only signs versioned objects: enable versioning on the bucket",
        ));
    };

    steps(&format!(
        "{name}: signing with AWS Signer profile {profile}"
    ));
    let prefix = key.trim_end_matches(".zip").to_string() + "-signed-";
    let started = retrying("StartSigningJob", BUSY, || {
        aws.signer
            .start_signing_job()
            .profile_name(profile)
            // The same zip asks for the same job: a rerun after an interruption does not sign twice.
            .client_request_token(&artifact.manifest.artifact.sha256)
            .source(
                Source::builder()
                    .s3(S3Source::builder()
                        .bucket_name(bucket)
                        .key(&key)
                        .version(&version)
                        .build()
                        .expect("all fields set"))
                    .build(),
            )
            .destination(
                Destination::builder()
                    .s3(S3Destination::builder()
                        .bucket_name(bucket)
                        .prefix(&prefix)
                        .build())
                    .build(),
            )
            .send()
    })
    .await
    .map_err(|e| AwsError::api("StartSigningJob", name, e))?;
    let job_id = started.job_id().unwrap_or_default().to_string();

    let mut backoff = Backoff::new(Duration::from_millis(500), LONGEST_POLL_PAUSE);
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    let signed_object = loop {
        let job = retrying("DescribeSigningJob", BUSY, || {
            aws.signer.describe_signing_job().job_id(&job_id).send()
        })
        .await
        .map_err(|e| AwsError::api("DescribeSigningJob", name, e))?;
        match job.status() {
            Some(SigningStatus::Succeeded) => {
                let s3 = job.signed_object().and_then(|o| o.s3()).ok_or_else(|| {
                    signing_error(
                        function,
                        format!("signing job {job_id} succeeded without a signed object"),
                        "look at the job in the AWS Signer console",
                    )
                })?;
                break (
                    s3.bucket_name().unwrap_or(bucket).to_string(),
                    s3.key().unwrap_or_default().to_string(),
                );
            }
            Some(SigningStatus::Failed) => {
                return Err(signing_error(
                    function,
                    format!(
                        "signing job {job_id} failed: {}",
                        job.status_reason().unwrap_or("no reason given")
                    ),
                    "check that the signing profile exists, is active, and may read the bucket",
                ));
            }
            _ if tokio::time::Instant::now() > deadline => {
                return Err(signing_error(
                    function,
                    format!("signing job {job_id} did not finish in 10 minutes"),
                    "look at the job in the AWS Signer console",
                ));
            }
            _ => backoff.wait().await,
        }
    };

    // Lambda will report the signed object's digest: compute it from the object itself.
    let (signed_bucket, signed_key) = signed_object;
    let object = aws
        .s3
        .get_object()
        .bucket(&signed_bucket)
        .key(&signed_key)
        .send()
        .await
        .map_err(|e| AwsError::api("GetObject", name, e))?;
    let signed_version = object.version_id().map(str::to_string);
    let mut body = object.body;
    let mut hasher = Sha256::new();
    while let Some(chunk) = body.try_next().await.map_err(|e| AwsError::Api {
        operation: "GetObject",
        function: Some(name.to_string()),
        code: "read error".into(),
        message: e.to_string(),
    })? {
        hasher.update(&chunk);
    }
    let signed_code_sha256 =
        slipway_artifact::digest::digest_to_code_sha256(&hasher.finalize().into());
    Ok(Some(Signed {
        bucket: signed_bucket,
        key: signed_key,
        version: signed_version,
        signed_code_sha256,
    }))
}

/// Attaches `code_signing_config_arn` when the function does not have it.
pub(crate) async fn attach_config(
    aws: &Aws,
    function: &Function,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<(), AwsError> {
    let Some(arn) = &function.code_signing_config_arn else {
        return Ok(());
    };
    let name = function.name.as_str();
    if attached_config(aws, name).await? == *arn {
        return Ok(());
    }
    steps(&format!("{name}: attaching code signing config {arn}"));
    retrying("PutFunctionCodeSigningConfig", BUSY, || {
        aws.lambda
            .put_function_code_signing_config()
            .function_name(name)
            .code_signing_config_arn(arn)
            .send()
    })
    .await
    .map_err(|e| AwsError::api("PutFunctionCodeSigningConfig", name, e))?;
    changes.push(format!("attached code signing config {arn}"));
    Ok(())
}

/// The ARN of the code signing config attached to the function (empty when none).
pub(crate) async fn attached_config(aws: &Aws, name: &str) -> Result<String, AwsError> {
    let current = retrying("GetFunctionCodeSigningConfig", BUSY, || {
        aws.lambda
            .get_function_code_signing_config()
            .function_name(name)
            .send()
    })
    .await
    .map_err(|e| AwsError::api("GetFunctionCodeSigningConfig", name, e))?;
    Ok(current.code_signing_config_arn().to_string())
}
