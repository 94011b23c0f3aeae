//! Decisions slipway-aws makes without calling AWS: runtime lifecycle
//! refusals, content-addressed S3 keys, and the deploy records.

use slipway_aws::{Action, DeployOutcome, DeployRecord, check_lifecycle, role_name, s3_key};
use time::macros::date;

fn function(runtime: &str, extra: &str) -> (tempfile::TempDir, slipway_config::Function) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let toml = format!(
        "[functions.orders-api]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"{runtime}\"\n{extra}"
    );
    let path = dir.path().join("slipway.toml");
    let project = slipway_config::parse(&toml, &path).unwrap();
    let f = project.functions["orders-api"].clone();
    (dir, f)
}

#[test]
fn retired_runtimes_are_refused_by_the_date_aws_would_refuse_them() {
    let (_d, f) = function("python3.9", "");
    // Deprecated only: both still allowed.
    assert!(check_lifecycle(&f, Some(true), date!(2026 - 01 - 10)).is_ok());
    // Creation blocked from 2026-06-01: an update passes, a create is refused.
    assert!(check_lifecycle(&f, Some(false), date!(2026 - 06 - 15)).is_ok());
    let err = check_lifecycle(&f, Some(true), date!(2026 - 06 - 15)).unwrap_err();
    assert!(
        err.to_string().contains("can no longer be used to create"),
        "{err}"
    );
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(
        help.contains("python3.13"),
        "the successor is named: {help}"
    );
    // Updates blocked from 2026-07-01: refused before knowing whether the function exists.
    let err = check_lifecycle(&f, None, date!(2026 - 07 - 01)).unwrap_err();
    assert!(err.to_string().contains("to update"), "{err}");
    assert!(err.is_input());

    let (_d, current) = function("python3.13", "");
    assert!(check_lifecycle(&current, Some(true), date!(2026 - 11 - 26)).is_ok());
}

#[test]
fn s3_keys_are_content_addressed_under_the_prefix() {
    let (_d, f) = function(
        "python3.12",
        "s3_bucket = \"b\"\ns3_prefix = \"/builds/lambda/\"\n",
    );
    assert_eq!(s3_key(&f, "ab12"), "builds/lambda/orders-api/ab12.zip");
    let (_d, bare) = function("python3.12", "s3_bucket = \"b\"\n");
    assert_eq!(s3_key(&bare, "ab12"), "orders-api/ab12.zip");
    assert_eq!(role_name(&bare), "slipway-orders-api-exec");
}

#[test]
fn dotenv_lines_name_the_function_and_skip_what_is_unknown() {
    let outcome = DeployOutcome {
        function: "orders-api".into(),
        action: Action::Created,
        function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:orders-api".into(),
        region: "eu-west-1".into(),
        version: Some("7".into()),
        alias: None,
        alias_arn: None,
        previous_version: None,
        canary_weight: None,
        code_sha256: "q83vEjRWeJA=".into(),
        sha256: "abcdef".into(),
        signed_code_sha256: None,
        s3_location: None,
        function_url: Some("https://abc.lambda-url.eu-west-1.on.aws/".into()),
        changes: vec![],
    };
    let record = DeployRecord::new(&outcome, "0.1.0");
    let env = record.dotenv_lines();
    assert!(env.contains("SLIPWAY_ORDERS_API_FUNCTION_ARN=arn:aws:lambda:eu-west-1:123456789012:function:orders-api\n"));
    assert!(env.contains("SLIPWAY_ORDERS_API_VERSION=7\n"));
    assert!(
        env.contains("SLIPWAY_ORDERS_API_FUNCTION_URL=https://abc.lambda-url.eu-west-1.on.aws/\n")
    );
    assert!(env.contains("SLIPWAY_ORDERS_API_CODE_SHA256=q83vEjRWeJA=\n"));
    assert!(!env.contains("ALIAS"), "{env}");
    let deployed_at = time::OffsetDateTime::parse(
        &record.deployed_at,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        (time::OffsetDateTime::now_utc() - deployed_at)
            .whole_minutes()
            .abs()
            < 5
    );

    let dir = tempfile::tempdir().unwrap();
    let path = record.write(dir.path()).unwrap();
    assert_eq!(DeployRecord::read(dir.path()).unwrap(), record);
    assert_eq!(path, dir.path().join("deploy.json"));
}
