//! The dependencies layer (`layer = true`): published once per content, found
//! again by the digest slipway writes into the layer version's description.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use slipway_artifact::ArtifactRecord;
use slipway_config::{Function, limits};

use crate::deploy::Steps;
use crate::error::unless_code;
use crate::live::NOT_FOUND;
use crate::retry::{BUSY, retrying};
use crate::{Artifact, Aws, AwsError};

const DESCRIPTION_PREFIX: &str = "slipway sha256:";

pub(crate) fn layer_name(function: &Function) -> String {
    format!("{}-dependencies", function.name)
}

fn description(record: &ArtifactRecord) -> String {
    format!("{DESCRIPTION_PREFIX}{}", record.sha256)
}

/// The ARN of the layer version holding exactly `record`, if one was published.
pub(crate) async fn find(
    aws: &Aws,
    function: &Function,
    record: &ArtifactRecord,
) -> Result<Option<String>, AwsError> {
    let name = layer_name(function);
    let want = description(record);
    let mut marker: Option<String> = None;
    loop {
        let page = retrying("ListLayerVersions", BUSY, || {
            aws.lambda
                .list_layer_versions()
                .layer_name(&name)
                .set_marker(marker.clone())
                .send()
        })
        .await;
        let Some(page) = unless_code(page, NOT_FOUND, "ListLayerVersions", &function.name)? else {
            return Ok(None);
        };
        if let Some(v) = page
            .layer_versions()
            .iter()
            .find(|v| v.description() == Some(want.as_str()))
        {
            return Ok(v.layer_version_arn().map(str::to_string));
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(None);
        }
    }
}

/// Publishes the dependencies layer unless this exact content already is; returns its version ARN.
pub(crate) async fn ensure(
    aws: &Aws,
    function: &Function,
    artifact: &Artifact,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<Option<String>, AwsError> {
    let Some(record) = &artifact.manifest.layer else {
        return Ok(None);
    };
    if let Some(arn) = find(aws, function, record).await? {
        return Ok(Some(arn));
    }
    // Its bytes were checked with the function's before the deploy began.
    let zip = artifact.dir.join(&record.file);
    let content = match &function.s3_bucket {
        Some(bucket) => {
            let key = crate::deploy::s3_key(function, &format!("layer-{}", record.sha256));
            let object = crate::deploy::S3Upload {
                zip: &zip,
                record,
                bucket,
                key: &key,
            };
            crate::deploy::upload_file(aws, function, object, changes, steps).await?;
            LayerVersionContentInput::builder()
                .s3_bucket(bucket)
                .s3_key(key)
                .build()
        }
        None if record.zipped_size > limits::ZIPPED_DIRECT_UPLOAD_BYTES => {
            return Err(AwsError::NeedsBucket {
                function: function.name.clone(),
                size: record.zipped_size,
            });
        }
        None => {
            let bytes = std::fs::read(&zip).map_err(|source| AwsError::Read {
                path: zip.clone(),
                source,
            })?;
            LayerVersionContentInput::builder()
                .zip_file(Blob::new(bytes))
                .build()
        }
    };
    let name = layer_name(function);
    steps(&format!(
        "{}: publishing the dependencies layer {name}",
        function.name
    ));
    let published = retrying("PublishLayerVersion", BUSY, || {
        aws.lambda
            .publish_layer_version()
            .layer_name(&name)
            .description(description(record))
            .content(content.clone())
            .compatible_runtimes(Runtime::from(function.runtime.id))
            .compatible_architectures(Architecture::from(function.architecture.lambda_name()))
            .send()
    })
    .await
    .map_err(|e| AwsError::api("PublishLayerVersion", &function.name, e))?;
    let live = published
        .content()
        .and_then(|c| c.code_sha256())
        .unwrap_or_default();
    if live != record.code_sha256 {
        return Err(AwsError::ProofFailed {
            function: function.name.clone(),
            live: live.to_string(),
            expected: record.code_sha256.clone(),
            rollback: "the layer version was published but is not attached".into(),
        });
    }
    let arn = published
        .layer_version_arn()
        .unwrap_or_default()
        .to_string();
    changes.push(format!("published dependencies layer {arn}"));
    Ok(Some(arn))
}
