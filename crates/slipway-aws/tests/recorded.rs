//! What moto cannot show: AWS Signer jobs, code signing configs, and the
//! RevisionId sent with updates.
//!
//! moto implements neither Signer signing jobs nor Lambda code signing
//! configs, so these tests give each SDK client a `StaticReplayClient`
//! (aws-smithy-runtime's recorded-response client): the responses are the
//! ones AWS documents for each call, and the test then checks the requests
//! slipway made and what it concluded.

use aws_sdk_lambda::config::http::{HttpRequest, HttpResponse};
use aws_smithy_runtime::client::http::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use slipway_artifact::{EntryOrigin, MANIFEST_SCHEMA_VERSION, Manifest};
use slipway_aws::{Artifact, Aws, AwsError, DeployOptions, DeployOutcome};
use slipway_package::{EntryData, ZipEntry, ZipOptions, write_zip};

const REGION: &str = "us-east-1";
const CSC: &str = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0";
const SIGNED_KEY: &str = "builds/signed/hello/3f1c-signed.zip";

fn response(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: impl Into<SdkBody>,
) -> HttpResponse {
    let mut r = HttpResponse::new(status.try_into().unwrap(), body.into());
    for (k, v) in headers {
        r.headers_mut().insert(*k, *v);
    }
    r
}

fn event(uri: &str, resp: HttpResponse) -> ReplayEvent {
    ReplayEvent::new(HttpRequest::get(uri).unwrap(), resp)
}

fn lambda_error(status: u16, code: &'static str) -> HttpResponse {
    response(
        status,
        &[
            ("x-amzn-ErrorType", code),
            ("content-type", "application/json"),
        ],
        format!("{{\"Type\":\"User\",\"Message\":\"{code}\"}}"),
    )
}

const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

/// GetFunction's answer for a function whose configuration is `configuration`.
fn get_function(configuration: &str) -> ReplayEvent {
    event(
        "https://lambda/2015-03-31/functions/hello",
        response(200, JSON, format!("{{\"Configuration\":{configuration}}}")),
    )
}

/// GetFunction's answer while the function does not exist.
fn no_function() -> ReplayEvent {
    event(
        "https://lambda/2015-03-31/functions/hello",
        lambda_error(404, "ResourceNotFoundException"),
    )
}

/// What every deploy reads last: its triggers (none here), then the live
/// function for the proof, which reports `configuration`.
fn triggers_and_proof(configuration: &str) -> Vec<ReplayEvent> {
    vec![
        event(
            "https://lambda/2015-03-31/event-source-mappings",
            response(200, JSON, "{\"EventSourceMappings\":[]}"),
        ),
        event(
            "https://lambda/2015-03-31/functions/hello/policy",
            lambda_error(404, "ResourceNotFoundException"),
        ),
        event(
            "https://lambda/2021-10-31/functions/hello/url",
            lambda_error(404, "ResourceNotFoundException"),
        ),
        get_function(configuration),
    ]
}

fn function_json(code_sha256: &str) -> String {
    serde_json::json!({
        "FunctionName": "hello",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hello",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::123456789012:role/exec",
        "Handler": "app.handler",
        "CodeSha256": code_sha256,
        "MemorySize": 128,
        "Timeout": 3,
        "Version": "$LATEST",
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "Architectures": ["x86_64"]
    })
    .to_string()
}

struct Fixture {
    _dir: tempfile::TempDir,
    function: slipway_config::Function,
    artifact: Artifact,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let toml = format!(
        "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nrole = \"arn:aws:iam::123456789012:role/exec\"\ns3_bucket = \"builds\"\ns3_prefix = \"releases\"\nsigning_profile = \"slipway_test\"\ncode_signing_config_arn = \"{CSC}\"\n"
    );
    let path = dir.path().join("slipway.toml");
    std::fs::write(&path, &toml).unwrap();
    let project = slipway_config::parse(&toml, &path).unwrap();
    let function = project.functions["hello"].clone();
    let dist = dir.path().join("dist/hello");
    std::fs::create_dir_all(&dist).unwrap();
    let record = write_zip(
        vec![ZipEntry {
            path: "app.py".into(),
            executable: false,
            data: EntryData::Bytes(b"def handler(e, c):\n    return 1\n".to_vec()),
            origin: EntryOrigin::Source,
        }],
        &dist.join("hello.zip"),
        &ZipOptions::default(),
    )
    .unwrap();
    let manifest = Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        function: "hello".into(),
        runtime: slipway_artifact::Runtime::find("python3.12").unwrap(),
        architecture: slipway_artifact::Architecture::X86_64,
        handler: "app.handler".into(),
        artifact: record,
        layer: None,
        input_hash: "x".into(),
        slipway_version: "x".into(),
        source_commit: None,
        source_date_epoch: 315532800,
        evidence_time: None,
        dependencies: vec![],
    };
    std::fs::write(dist.join("manifest.json"), manifest.to_json()).unwrap();
    let artifact = Artifact::load(&function, &dir.path().join("dist")).unwrap();
    artifact.check(&function).unwrap();
    Fixture {
        _dir: dir,
        function,
        artifact,
    }
}

/// One service client answering from `http`, with throwaway credentials.
macro_rules! client {
    ($sdk:ident, $http:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new(REGION))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDREPLAY",
                    "replay-secret",
                    None,
                    None,
                    "replay",
                ))
                .http_client($http)
                .build(),
        )
    };
}

fn clients(
    lambda: &StaticReplayClient,
    s3: &StaticReplayClient,
    signer: &StaticReplayClient,
) -> Aws {
    Aws::from_parts(
        client!(aws_sdk_lambda, lambda.clone()),
        client!(aws_sdk_s3, s3.clone()),
        client!(aws_sdk_sqs, StaticReplayClient::new(vec![])),
        client!(aws_sdk_signer, signer.clone()),
        client!(aws_sdk_iam, StaticReplayClient::new(vec![])),
        REGION,
    )
}

/// Deploys the fixture's function, each client answering from its replay.
async fn deploy(
    fx: &Fixture,
    lambda: &StaticReplayClient,
    s3: &StaticReplayClient,
    signer: &StaticReplayClient,
) -> Result<DeployOutcome, AwsError> {
    slipway_aws::deploy(
        &clients(lambda, s3, signer),
        &fx.function,
        &fx.artifact,
        &DeployOptions::default(),
        &|_| {},
    )
    .await
}

#[tokio::test]
async fn a_signed_deploy_runs_a_signer_job_deploys_the_signed_object_and_attaches_the_config() {
    let fx = fixture();
    let signed_zip = b"PK\x03\x04 the zip with a signature block added by AWS Signer".to_vec();
    let signed_digest = slipway_artifact::digest::code_sha256(&signed_zip);
    let key = format!(
        "releases/hello/{}.zip",
        fx.artifact.manifest.artifact.sha256
    );

    let created = function_json(&signed_digest);
    let mut lambda = vec![
        no_function(),
        event(
            "https://lambda/2015-03-31/functions",
            response(201, JSON, created.clone()),
        ),
        get_function(&created),
        event(
            "https://lambda/2020-06-30/functions/hello/code-signing-config",
            response(
                200,
                JSON,
                format!("{{\"CodeSigningConfigArn\":\"{CSC}\",\"FunctionName\":\"hello\"}}"),
            ),
        ),
    ];
    lambda.extend(triggers_and_proof(&created));
    let lambda = StaticReplayClient::new(lambda);
    let s3 = StaticReplayClient::new(vec![
        event(
            &format!("https://builds.s3/{key}"),
            response(404, &[], SdkBody::empty()),
        ),
        event(
            &format!("https://builds.s3/{key}"),
            response(
                200,
                &[("x-amz-version-id", "v-unsigned-1")],
                SdkBody::empty(),
            ),
        ),
        event(
            &format!("https://builds.s3/{SIGNED_KEY}"),
            response(
                200,
                &[
                    ("x-amz-version-id", "v-signed-1"),
                    ("content-type", "application/zip"),
                ],
                signed_zip.clone(),
            ),
        ),
    ]);
    let signer = StaticReplayClient::new(vec![
        event(
            "https://signer/signing-jobs",
            response(
                200,
                JSON,
                "{\"jobId\":\"job-1\",\"jobOwner\":\"123456789012\"}",
            ),
        ),
        event(
            "https://signer/signing-jobs/job-1",
            response(200, JSON, "{\"jobId\":\"job-1\",\"status\":\"InProgress\"}"),
        ),
        event(
            "https://signer/signing-jobs/job-1",
            response(
                200,
                JSON,
                format!(
                    "{{\"jobId\":\"job-1\",\"status\":\"Succeeded\",\"signedObject\":{{\"s3\":{{\"bucketName\":\"builds\",\"key\":\"{SIGNED_KEY}\"}}}}}}"
                ),
            ),
        ),
    ]);
    let outcome = deploy(&fx, &lambda, &s3, &signer).await.unwrap();

    assert_eq!(
        outcome.signed_code_sha256.as_deref(),
        Some(signed_digest.as_str())
    );
    assert_eq!(
        outcome.code_sha256,
        fx.artifact.manifest.artifact.code_sha256
    );
    assert_eq!(
        outcome.s3_location.as_deref(),
        Some(format!("s3://builds/{SIGNED_KEY}").as_str())
    );

    let s3_requests: Vec<(String, String)> = s3
        .actual_requests()
        .map(|r| (r.method().to_string(), r.uri().to_string()))
        .collect();
    assert_eq!(
        s3_requests[1].0, "PUT",
        "the unsigned zip is uploaded: {s3_requests:?}"
    );
    assert!(s3_requests[1].1.contains(&key), "{s3_requests:?}");
    let put = s3.actual_requests().nth(1).unwrap();
    assert_eq!(
        put.headers().get("x-amz-checksum-sha256"),
        Some(fx.artifact.manifest.artifact.code_sha256.as_str()),
        "S3 checks the upload against the manifest digest"
    );

    let start = signer.actual_requests().next().unwrap();
    let body: serde_json::Value = serde_json::from_slice(start.body().bytes().unwrap()).unwrap();
    assert_eq!(body["profileName"], "slipway_test");
    assert_eq!(body["source"]["s3"]["key"], key.as_str());
    assert_eq!(body["source"]["s3"]["version"], "v-unsigned-1");
    assert_eq!(
        body["clientRequestToken"],
        fx.artifact.manifest.artifact.sha256.as_str()
    );

    let create = lambda.actual_requests().nth(1).unwrap();
    let body: serde_json::Value = serde_json::from_slice(create.body().bytes().unwrap()).unwrap();
    assert_eq!(
        body["Code"]["S3Key"], SIGNED_KEY,
        "Lambda gets the signed object"
    );
    assert_eq!(body["Code"]["S3ObjectVersion"], "v-signed-1");
    assert_eq!(body["CodeSigningConfigArn"], CSC);
    assert!(body["Code"].get("ZipFile").is_none());
    // The config was attached at creation: no PutFunctionCodeSigningConfig.
    assert_eq!(lambda.actual_requests().count(), 8);
}

#[tokio::test]
async fn an_existing_function_gets_the_code_signing_config_attached() {
    let mut fx = fixture();
    fx.function.signing_profile = None;
    fx.function.s3_bucket = None;
    let digest = fx.artifact.manifest.artifact.code_sha256.clone();
    let live = function_json(&digest);
    let mut lambda = vec![
        get_function(&live),
        event(
            "https://lambda/2020-06-30/functions/hello/code-signing-config",
            response(
                200,
                JSON,
                "{\"CodeSigningConfigArn\":\"\",\"FunctionName\":\"hello\"}",
            ),
        ),
        event(
            "https://lambda/2020-06-30/functions/hello/code-signing-config",
            response(
                200,
                JSON,
                format!("{{\"CodeSigningConfigArn\":\"{CSC}\",\"FunctionName\":\"hello\"}}"),
            ),
        ),
    ];
    lambda.extend(triggers_and_proof(&live));
    let lambda = StaticReplayClient::new(lambda);
    let none = StaticReplayClient::new(vec![]);
    let outcome = deploy(&fx, &lambda, &none, &none).await.unwrap();
    assert_eq!(
        outcome.changes,
        [format!("attached code signing config {CSC}")]
    );
    let put = lambda.actual_requests().nth(2).unwrap();
    assert_eq!(put.method(), "PUT");
    assert!(
        put.uri()
            .ends_with("/2020-06-30/functions/hello/code-signing-config"),
        "{}",
        put.uri()
    );
    let body: serde_json::Value = serde_json::from_slice(put.body().bytes().unwrap()).unwrap();
    assert_eq!(body["CodeSigningConfigArn"], CSC);
}

#[tokio::test]
async fn a_failed_signing_job_fails_the_deploy_before_lambda_is_touched() {
    let fx = fixture();
    let key = format!(
        "releases/hello/{}.zip",
        fx.artifact.manifest.artifact.sha256
    );
    let lambda = StaticReplayClient::new(vec![no_function()]);
    let s3 = StaticReplayClient::new(vec![
        event(
            &format!("https://builds.s3/{key}"),
            response(404, &[], SdkBody::empty()),
        ),
        event(
            &format!("https://builds.s3/{key}"),
            response(200, &[("x-amz-version-id", "v1")], SdkBody::empty()),
        ),
    ]);
    let signer = StaticReplayClient::new(vec![
        event(
            "https://signer/signing-jobs",
            response(200, JSON, "{\"jobId\":\"job-2\"}"),
        ),
        event(
            "https://signer/signing-jobs/job-2",
            response(
                200,
                JSON,
                "{\"jobId\":\"job-2\",\"status\":\"Failed\",\"statusReason\":\"profile slipway_test is revoked\"}",
            ),
        ),
    ]);
    let err = deploy(&fx, &lambda, &s3, &signer).await.unwrap_err();
    assert!(
        err.to_string().contains("profile slipway_test is revoked"),
        "{err}"
    );
    assert_eq!(
        lambda.actual_requests().count(),
        1,
        "only the read before signing"
    );
}

/// moto returns no RevisionId, so this recorded exchange checks that the one
/// slipway read is the one it sends with its write.
#[tokio::test]
async fn updates_carry_the_revision_id_that_was_read() {
    let mut fx = fixture();
    fx.function.signing_profile = None;
    fx.function.s3_bucket = None;
    fx.function.code_signing_config_arn = None;
    let digest = fx.artifact.manifest.artifact.code_sha256.clone();
    let with_revision = |code: &str, revision: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&function_json(code)).unwrap();
        v["RevisionId"] = revision.into();
        v.to_string()
    };
    let updated = with_revision(&digest, "rev-2");
    let mut lambda = vec![
        get_function(&with_revision("b2xkIGNvZGU=", "rev-1")),
        event(
            "https://lambda/2015-03-31/functions/hello/code",
            response(200, JSON, updated.clone()),
        ),
        get_function(&updated),
    ];
    lambda.extend(triggers_and_proof(&updated));
    let lambda = StaticReplayClient::new(lambda);
    let none = StaticReplayClient::new(vec![]);
    deploy(&fx, &lambda, &none, &none).await.unwrap();
    let update = lambda.actual_requests().nth(1).unwrap();
    assert_eq!(update.method(), "PUT");
    assert!(
        update.uri().ends_with("/functions/hello/code"),
        "{}",
        update.uri()
    );
    let body: serde_json::Value = serde_json::from_slice(update.body().bytes().unwrap()).unwrap();
    assert_eq!(body["RevisionId"], "rev-1");
    assert!(body["ZipFile"].as_str().is_some_and(|z| !z.is_empty()));
}

/// The manifest must describe the function as slipway.toml does now: a
/// changed handler is refused before any call, as the user's to fix.
#[test]
fn an_artifact_built_for_another_handler_is_refused_as_stale() {
    let mut fx = fixture();
    fx.function.handler = "other.handler".into();
    let err = fx.artifact.check(&fx.function).unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::StaleArtifact {
                field: "handler",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("built for handler `app.handler` but slipway.toml now says `other.handler`"),
        "{err}"
    );
    assert!(err.is_input());
}

/// `signing_profile` needs a bucket for Signer to read and write: refused
/// after the first read, before any upload or write.
#[tokio::test]
async fn signing_without_a_bucket_is_refused_before_any_write() {
    let mut fx = fixture();
    fx.function.s3_bucket = None;
    let lambda = StaticReplayClient::new(vec![no_function()]);
    let none = StaticReplayClient::new(vec![]);
    let err = deploy(&fx, &lambda, &none, &none).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("`signing_profile` is set but `s3_bucket` is not"),
        "{err}"
    );
    assert_eq!(lambda.actual_requests().count(), 1, "only the first read");
    assert_eq!(
        none.actual_requests().count(),
        0,
        "nothing reached S3 or Signer"
    );
}

/// Over Lambda's 50 MB direct-upload limit, a zip must go through S3: without
/// `s3_bucket` the deploy stops before CreateFunction, as the user's to fix.
#[tokio::test]
async fn a_zip_over_the_direct_upload_limit_needs_a_bucket() {
    let mut fx = fixture();
    fx.function.signing_profile = None;
    fx.function.s3_bucket = None;
    fx.artifact.manifest.artifact.zipped_size = 60_000_000;
    let lambda = StaticReplayClient::new(vec![no_function()]);
    let none = StaticReplayClient::new(vec![]);
    let err = deploy(&fx, &lambda, &none, &none).await.unwrap_err();
    assert!(
        matches!(
            err,
            AwsError::NeedsBucket {
                size: 60_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_input());
    assert_eq!(lambda.actual_requests().count(), 1, "no CreateFunction");
}
