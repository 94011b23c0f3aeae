//! Triggers from slipway.toml, reconciled: SQS event source mappings, S3
//! notifications with their invoke permission, the Function URL, and the
//! Alexa Skills Kit permission scoped to a skill id.
//!
//! One planner serves both deploy and drift: it reads the live triggers and
//! lists the steps that would make them match slipway.toml. Drift reports the
//! steps; deploy runs them. Triggers invoke the alias when there is one.

use std::collections::BTreeSet;

use aws_sdk_lambda::types::{
    Cors as LambdaCors, EventSourceMappingConfiguration, FunctionResponseType, FunctionUrlAuthType,
    ScalingConfig,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use slipway_config::{Cors, Function, FunctionUrl, S3Trigger, SqsTrigger, UrlAuth};

use crate::deploy::Steps;
use crate::error::{code_of, unless_code};
use crate::live::{NOT_FOUND, account_of, partition_of};
use crate::retry::{BUSY, retrying};
use crate::settings::Difference;
use crate::{Aws, AwsError};

/// What triggers invoke: the alias when there is one, so they follow releases.
pub(crate) fn target_arn(function: &Function, function_arn: &str) -> String {
    match &function.alias {
        Some(alias) => format!("{function_arn}:{alias}"),
        None => function_arn.to_string(),
    }
}

/// Statement IDs slipway owns in the function's resource policy.
const S3_SID_PREFIX: &str = "slipway-s3-";
const URL_PUBLIC_SID: &str = "slipway-url-public";
const ALEXA_SID_PREFIX: &str = "slipway-alexa-";
const ALEXA_PRINCIPAL: &str = "alexa-appkit.amazon.com";
const CONFLICT: &str = "ResourceConflictException";

enum Step {
    CreateMapping(SqsTrigger),
    UpdateMapping {
        uuid: String,
        want: SqsTrigger,
    },
    DeleteMapping {
        uuid: String,
    },
    AddS3Permission {
        bucket: String,
        sid: String,
    },
    RemovePermission {
        sid: String,
    },
    PutNotifications {
        bucket: String,
        config: NotificationConfiguration,
    },
    CreateUrl(FunctionUrl),
    UpdateUrl(FunctionUrl),
    DeleteUrl,
    AddUrlPermission,
    AddAlexaPermission {
        skill_id: String,
        sid: String,
    },
}

struct Planned {
    step: Step,
    difference: Difference,
}

fn planned(
    step: Step,
    field: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> Planned {
    Planned {
        step,
        difference: Difference::new(field, expected, actual),
    }
}

/// Where the function's triggers point, and what the plan needs to know.
struct Target<'a> {
    function: &'a Function,
    /// Unqualified function ARN.
    function_arn: &'a str,
    /// The ARN triggers invoke (alias-qualified when there is an alias).
    invoke_arn: String,
}

impl Target<'_> {
    fn name(&self) -> &str {
        &self.function.name
    }
    fn qualifier(&self) -> Option<String> {
        self.function.alias.clone()
    }
}

pub(crate) async fn reconcile(
    aws: &Aws,
    function: &Function,
    function_arn: &str,
    changes: &mut Vec<String>,
    steps: Steps<'_>,
) -> Result<(), AwsError> {
    let target = Target {
        function,
        function_arn,
        invoke_arn: target_arn(function, function_arn),
    };
    check_visibility_timeouts(aws, function).await?;
    for p in plan(aws, &target).await? {
        let d = &p.difference;
        steps(&format!("{}: {} → {}", function.name, d.field, d.expected));
        run(aws, &target, p.step).await?;
        changes.push(format!("{}: {} (was {})", d.field, d.expected, d.actual));
    }
    Ok(())
}

pub(crate) async fn compare(
    aws: &Aws,
    function: &Function,
    function_arn: &str,
) -> Result<Vec<Difference>, AwsError> {
    let target = Target {
        function,
        function_arn,
        invoke_arn: target_arn(function, function_arn),
    };
    Ok(plan(aws, &target)
        .await?
        .into_iter()
        .map(|p| p.difference)
        .collect())
}

/// Removes every trigger slipway.toml could have made, for `slipway remove`.
pub(crate) async fn remove_all(
    aws: &Aws,
    function: &Function,
    function_arn: &str,
    changes: &mut Vec<String>,
) -> Result<(), AwsError> {
    let mut bare = function.clone();
    bare.triggers = Default::default();
    let target = Target {
        function: &bare,
        function_arn,
        invoke_arn: target_arn(function, function_arn),
    };
    for p in plan(aws, &target).await? {
        // The URL and the policy go with the function itself.
        if matches!(p.step, Step::DeleteUrl | Step::RemovePermission { .. }) {
            continue;
        }
        run(aws, &target, p.step).await?;
        changes.push(format!(
            "removed {} ({})",
            p.difference.field, p.difference.actual
        ));
    }
    Ok(())
}

async fn plan(aws: &Aws, target: &Target<'_>) -> Result<Vec<Planned>, AwsError> {
    let mut out = plan_sqs(aws, target).await?;
    let policy = policy_statements(aws, target).await?;
    out.extend(plan_s3(aws, target, &policy).await?);
    out.extend(plan_url(aws, target, &policy).await?);
    out.extend(plan_alexa(target, &policy));
    Ok(out)
}

// ---- SQS -------------------------------------------------------------------

fn describe_sqs(t: &SqsTrigger) -> String {
    let mut s = format!(
        "batch_size {}, batching_window {}s",
        t.batch_size, t.batching_window_seconds
    );
    if t.report_batch_item_failures {
        s.push_str(", report_batch_item_failures");
    }
    if let Some(c) = t.maximum_concurrency {
        s.push_str(&format!(", maximum_concurrency {c}"));
    }
    if !t.enabled {
        s.push_str(", disabled");
    }
    s
}

fn live_sqs(m: &EventSourceMappingConfiguration) -> SqsTrigger {
    SqsTrigger {
        queue_arn: m.event_source_arn().unwrap_or_default().to_string(),
        batch_size: m.batch_size().unwrap_or(10) as u32,
        batching_window_seconds: m.maximum_batching_window_in_seconds().unwrap_or(0) as u32,
        report_batch_item_failures: m
            .function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures),
        maximum_concurrency: m
            .scaling_config()
            .and_then(|s| s.maximum_concurrency())
            .map(|c| c as u32),
        enabled: !matches!(m.state(), Some("Disabled" | "Disabling")),
    }
}

async fn mappings(
    aws: &Aws,
    target: &Target<'_>,
) -> Result<Vec<EventSourceMappingConfiguration>, AwsError> {
    let mut marker: Option<String> = None;
    let mut out = Vec::new();
    loop {
        let page = retrying("ListEventSourceMappings", BUSY, || {
            aws.lambda
                .list_event_source_mappings()
                .function_name(&target.invoke_arn)
                .set_marker(marker.clone())
                .send()
        })
        .await
        .map_err(|e| AwsError::api("ListEventSourceMappings", target.name(), e))?;
        out.extend(
            page.event_source_mappings()
                .iter()
                .filter(|m| m.event_source_arn().is_some_and(|a| a.contains(":sqs:")))
                .cloned(),
        );
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

async fn plan_sqs(aws: &Aws, target: &Target<'_>) -> Result<Vec<Planned>, AwsError> {
    let live = mappings(aws, target).await?;
    let mut out = Vec::new();
    for want in &target.function.triggers.sqs {
        let field = format!("sqs {}", want.queue_arn);
        match live
            .iter()
            .find(|m| m.event_source_arn() == Some(want.queue_arn.as_str()))
        {
            None => out.push(planned(
                Step::CreateMapping(want.clone()),
                field,
                describe_sqs(want),
                "no mapping",
            )),
            Some(m) => {
                let have = live_sqs(m);
                if &have != want {
                    out.push(planned(
                        Step::UpdateMapping {
                            uuid: m.uuid().unwrap_or_default().to_string(),
                            want: want.clone(),
                        },
                        field,
                        describe_sqs(want),
                        describe_sqs(&have),
                    ));
                }
            }
        }
    }
    for m in &live {
        let arn = m.event_source_arn().unwrap_or_default();
        if !target
            .function
            .triggers
            .sqs
            .iter()
            .any(|t| t.queue_arn == arn)
        {
            out.push(planned(
                Step::DeleteMapping {
                    uuid: m.uuid().unwrap_or_default().to_string(),
                },
                format!("sqs {arn}"),
                "no mapping (not in slipway.toml)",
                describe_sqs(&live_sqs(m)),
            ));
        }
    }
    Ok(out)
}

/// Lambda refuses an SQS mapping whose queue hides messages for less time
/// than the function may run; say so before trying.
async fn check_visibility_timeouts(aws: &Aws, function: &Function) -> Result<(), AwsError> {
    for t in &function.triggers.sqs {
        let mut parts = t.queue_arn.split(':');
        let (account, queue) = (
            parts.nth(4).unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let url = aws
            .sqs
            .get_queue_url()
            .queue_name(queue)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| AwsError::api("GetQueueUrl", &function.name, e))?;
        let attributes = aws
            .sqs
            .get_queue_attributes()
            .queue_url(url.queue_url().unwrap_or_default())
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .send()
            .await
            .map_err(|e| AwsError::api("GetQueueAttributes", &function.name, e))?;
        let visibility = attributes
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(30);
        if visibility < u64::from(function.timeout) {
            return Err(AwsError::VisibilityTimeout {
                function: function.name.clone(),
                queue: t.queue_arn.clone(),
                visibility,
                timeout: function.timeout,
            });
        }
    }
    Ok(())
}

// ---- resource policy ---------------------------------------------------------

/// The function's resource policy statements (for the alias when there is one).
async fn policy_statements(
    aws: &Aws,
    target: &Target<'_>,
) -> Result<Vec<serde_json::Value>, AwsError> {
    let result = retrying("GetPolicy", BUSY, || {
        aws.lambda
            .get_policy()
            .function_name(target.name())
            .set_qualifier(target.qualifier())
            .send()
    })
    .await;
    let Some(answer) = unless_code(result, NOT_FOUND, "GetPolicy", target.name())? else {
        return Ok(Vec::new());
    };
    let policy = answer.policy.unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap_or_default();
    Ok(doc["Statement"].as_array().cloned().unwrap_or_default())
}

fn sid_of(statement: &serde_json::Value) -> &str {
    statement["Sid"].as_str().unwrap_or_default()
}

/// The bucket a slipway S3 statement allows, from its `AWS:SourceArn` condition.
fn statement_bucket(statement: &serde_json::Value) -> Option<String> {
    let condition = &statement["Condition"];
    let arn = condition["ArnLike"]["AWS:SourceArn"]
        .as_str()
        .or_else(|| condition["ArnEquals"]["AWS:SourceArn"].as_str())
        .or_else(|| condition["ArnLike"]["aws:SourceArn"].as_str())?;
    arn.rsplit(":::").next().map(str::to_string)
}

fn s3_sid(bucket: &str) -> String {
    format!("{S3_SID_PREFIX}{}", sid_safe(bucket))
}

/// Statement ids allow letters, digits, `-` and `_`.
fn sid_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

// ---- S3 ----------------------------------------------------------------------

/// A notification reduced to what slipway.toml says about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NotificationShape {
    events: BTreeSet<String>,
    prefix: Option<String>,
    suffix: Option<String>,
}

fn want_shape(t: &S3Trigger) -> NotificationShape {
    NotificationShape {
        events: t.events.iter().cloned().collect(),
        prefix: t.prefix.clone().filter(|p| !p.is_empty()),
        suffix: t.suffix.clone().filter(|s| !s.is_empty()),
    }
}

fn live_shape(c: &LambdaFunctionConfiguration) -> NotificationShape {
    let rules = c
        .filter()
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default();
    let rule = |name: &str| {
        rules
            .iter()
            .find(|r| {
                r.name()
                    .is_some_and(|n| n.as_str().eq_ignore_ascii_case(name))
            })
            .and_then(|r| r.value().map(str::to_string))
            .filter(|v| !v.is_empty())
    };
    NotificationShape {
        events: c.events().iter().map(|e| e.as_str().to_string()).collect(),
        prefix: rule("prefix"),
        suffix: rule("suffix"),
    }
}

fn describe_shapes(shapes: &[NotificationShape]) -> String {
    if shapes.is_empty() {
        return "no notification".into();
    }
    shapes
        .iter()
        .map(|s| {
            let mut d = s.events.iter().cloned().collect::<Vec<_>>().join("+");
            if let Some(p) = &s.prefix {
                d.push_str(&format!(" prefix {p}"));
            }
            if let Some(x) = &s.suffix {
                d.push_str(&format!(" suffix {x}"));
            }
            d
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn plan_s3(
    aws: &Aws,
    target: &Target<'_>,
    policy: &[serde_json::Value],
) -> Result<Vec<Planned>, AwsError> {
    let desired = &target.function.triggers.s3;
    let mut buckets: BTreeSet<String> = desired.iter().map(|t| t.bucket.clone()).collect();
    let wired: Vec<(String, String)> = policy
        .iter()
        .filter(|s| sid_of(s).starts_with(S3_SID_PREFIX))
        .filter_map(|s| Some((statement_bucket(s)?, sid_of(s).to_string())))
        .collect();
    buckets.extend(wired.iter().map(|(b, _)| b.clone()));

    let mut out = Vec::new();
    for bucket in buckets {
        let wanted: Vec<&S3Trigger> = desired.iter().filter(|t| t.bucket == bucket).collect();
        let sid = s3_sid(&bucket);
        let has_permission = policy.iter().any(|s| sid_of(s) == sid);
        if !wanted.is_empty() && !has_permission {
            out.push(planned(
                Step::AddS3Permission {
                    bucket: bucket.clone(),
                    sid: sid.clone(),
                },
                format!("s3 {bucket} permission"),
                "lambda:InvokeFunction for s3.amazonaws.com from this bucket and account",
                "missing",
            ));
        }

        let current = aws
            .s3
            .get_bucket_notification_configuration()
            .bucket(&bucket)
            .send()
            .await;
        let current = match current {
            Ok(c) => c,
            Err(e) if empty_answer(&e) => {
                aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput::builder().build()
            }
            // A bucket that is gone takes its notifications with it.
            Err(e) if wanted.is_empty() && code_of(&e) == Some("NoSuchBucket") => {
                out.push(planned(Step::RemovePermission { sid }, format!("s3 {bucket} permission"), "none", "granted to a bucket that no longer exists"));
                continue;
            }
            Err(e) => return Err(AwsError::api("GetBucketNotificationConfiguration", target.name(), e)),
        };
        let (ours, others): (Vec<_>, Vec<_>) = current
            .lambda_function_configurations()
            .iter()
            .cloned()
            .partition(|c| c.lambda_function_arn() == target.invoke_arn);
        let mut want_shapes: Vec<NotificationShape> =
            wanted.iter().map(|t| want_shape(t)).collect();
        let mut have_shapes: Vec<NotificationShape> = ours.iter().map(live_shape).collect();
        want_shapes.sort();
        have_shapes.sort();
        if want_shapes != have_shapes {
            let mut lambdas = others;
            for (i, t) in wanted.iter().enumerate() {
                lambdas.push(notification(target, t, i));
            }
            let config = NotificationConfiguration::builder()
                .set_topic_configurations(Some(current.topic_configurations().to_vec()))
                .set_queue_configurations(Some(current.queue_configurations().to_vec()))
                .set_lambda_function_configurations(Some(lambdas))
                .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
                .build();
            out.push(planned(
                Step::PutNotifications {
                    bucket: bucket.clone(),
                    config,
                },
                format!("s3 {bucket}"),
                describe_shapes(&want_shapes),
                describe_shapes(&have_shapes),
            ));
        }
        if wanted.is_empty() && has_permission {
            out.push(planned(
                Step::RemovePermission { sid },
                format!("s3 {bucket} permission"),
                "none (bucket not in slipway.toml)",
                "lambda:InvokeFunction for s3.amazonaws.com",
            ));
        }
    }
    Ok(out)
}

/// moto answers a bucket without notifications with an empty element named
/// after the operation instead of `<NotificationConfiguration/>`, which the SDK
/// cannot parse. A 200 whose body is one empty element holds no configuration.
fn empty_answer<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    let Some(raw) = e.raw_response() else {
        return false;
    };
    let body = raw
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let body = body.trim();
    let element = body
        .strip_prefix("<?xml")
        .and_then(|b| b.split_once("?>"))
        .map_or(body, |(_, rest)| rest.trim());
    raw.status().as_u16() == 200
        && element.starts_with('<')
        && element.ends_with("/>")
        && element.matches('<').count() == 1
}

fn notification(target: &Target<'_>, t: &S3Trigger, index: usize) -> LambdaFunctionConfiguration {
    let mut rules = Vec::new();
    if let Some(p) = t.prefix.as_ref().filter(|p| !p.is_empty()) {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Prefix)
                .value(p)
                .build(),
        );
    }
    if let Some(s) = t.suffix.as_ref().filter(|s| !s.is_empty()) {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Suffix)
                .value(s)
                .build(),
        );
    }
    let filter = (!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    });
    LambdaFunctionConfiguration::builder()
        .id(format!("slipway-{}-{index}", target.name()))
        .lambda_function_arn(&target.invoke_arn)
        .set_events(Some(
            t.events.iter().map(|e| Event::from(e.as_str())).collect(),
        ))
        .set_filter(filter)
        .build()
        .expect("arn and events are set")
}

// ---- Function URL ------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct UrlShape {
    auth: &'static str,
    cors: Option<Cors>,
}

fn auth_name(a: UrlAuth) -> &'static str {
    match a {
        UrlAuth::AwsIam => "AWS_IAM",
        UrlAuth::None => "NONE",
    }
}

fn describe_url(u: Option<&UrlShape>) -> String {
    match u {
        None => "no Function URL".into(),
        Some(u) => match &u.cors {
            None => format!("auth {}", u.auth),
            Some(c) => format!(
                "auth {}, CORS origins {}",
                u.auth,
                c.allow_origins.join(" ")
            ),
        },
    }
}

fn lambda_cors(c: &Cors) -> LambdaCors {
    LambdaCors::builder()
        .set_allow_origins(Some(c.allow_origins.clone()))
        .set_allow_methods(Some(c.allow_methods.clone()))
        .set_allow_headers(Some(c.allow_headers.clone()))
        .set_expose_headers(Some(c.expose_headers.clone()))
        .allow_credentials(c.allow_credentials)
        .set_max_age(c.max_age.map(|m| m as i32))
        .build()
}

fn live_cors(c: &LambdaCors) -> Cors {
    Cors {
        allow_origins: c.allow_origins().to_vec(),
        allow_methods: c.allow_methods().to_vec(),
        allow_headers: c.allow_headers().to_vec(),
        expose_headers: c.expose_headers().to_vec(),
        allow_credentials: c.allow_credentials().unwrap_or(false),
        max_age: c.max_age().filter(|m| *m > 0).map(|m| m as u32),
    }
}

/// CORS lists are sets to Lambda: the Terraform provider sends them in its
/// own (sorted) order, so the order written in slipway.toml is not drift.
fn unordered(mut c: Cors) -> Cors {
    for list in [
        &mut c.allow_origins,
        &mut c.allow_methods,
        &mut c.allow_headers,
        &mut c.expose_headers,
    ] {
        list.sort();
        list.dedup();
    }
    c
}

/// The Function URL's address as Lambda gives it (on the alias when the
/// function has one), for the deploy record and the dotenv report.
pub(crate) async fn function_url(
    aws: &Aws,
    function: &Function,
) -> Result<Option<String>, AwsError> {
    let result = retrying("GetFunctionUrlConfig", BUSY, || {
        aws.lambda
            .get_function_url_config()
            .function_name(&function.name)
            .set_qualifier(function.alias.clone())
            .send()
    })
    .await;
    Ok(
        unless_code(result, NOT_FOUND, "GetFunctionUrlConfig", &function.name)?
            .map(|u| u.function_url().to_string()),
    )
}

async fn plan_url(
    aws: &Aws,
    target: &Target<'_>,
    policy: &[serde_json::Value],
) -> Result<Vec<Planned>, AwsError> {
    let result = retrying("GetFunctionUrlConfig", BUSY, || {
        aws.lambda
            .get_function_url_config()
            .function_name(target.name())
            .set_qualifier(target.qualifier())
            .send()
    })
    .await;
    let live =
        unless_code(result, NOT_FOUND, "GetFunctionUrlConfig", target.name())?.map(|u| UrlShape {
            auth: if u.auth_type() == &FunctionUrlAuthType::None {
                "NONE"
            } else {
                "AWS_IAM"
            },
            cors: u
                .cors()
                .map(live_cors)
                .map(unordered)
                .filter(|c| c != &Cors::default()),
        });
    let want_config = target.function.triggers.url.clone();
    let want = want_config.as_ref().map(|u| UrlShape {
        auth: auth_name(u.auth),
        cors: u
            .cors
            .clone()
            .map(unordered)
            .filter(|c| c != &Cors::default()),
    });
    let mut out = Vec::new();
    let field = "url";
    match (&want_config, &live) {
        (None, None) => {}
        (None, Some(_)) => out.push(planned(
            Step::DeleteUrl,
            field,
            describe_url(None),
            describe_url(live.as_ref()),
        )),
        (Some(u), None) => out.push(planned(
            Step::CreateUrl(u.clone()),
            field,
            describe_url(want.as_ref()),
            describe_url(None),
        )),
        (Some(u), Some(l)) if Some(l) != want.as_ref() => {
            out.push(planned(
                Step::UpdateUrl(u.clone()),
                field,
                describe_url(want.as_ref()),
                describe_url(Some(l)),
            ));
        }
        _ => {}
    }
    let public = want_config
        .as_ref()
        .is_some_and(|u| u.auth == UrlAuth::None);
    let has_public = policy.iter().any(|s| sid_of(s) == URL_PUBLIC_SID);
    if public && !has_public {
        out.push(planned(
            Step::AddUrlPermission,
            "url permission",
            "public invoke (auth NONE)",
            "missing",
        ));
    } else if !public && has_public {
        out.push(planned(
            Step::RemovePermission {
                sid: URL_PUBLIC_SID.into(),
            },
            "url permission",
            "none",
            "public invoke",
        ));
    }
    Ok(out)
}

// ---- Alexa Skills Kit ----------------------------------------------------------

fn alexa_sid(skill_id: &str) -> String {
    format!(
        "{ALEXA_SID_PREFIX}{}",
        sid_safe(skill_id.trim_start_matches("amzn1.ask.skill."))
    )
}

/// The skill a statement is scoped to. Lambda writes the token as a
/// `StringEquals` condition; an emulator that drops it (moto does) leaves the
/// statement id as the only record, which names the skill too.
fn statement_skill(statement: &serde_json::Value) -> Option<&str> {
    statement["Condition"]["StringEquals"]["lambda:EventSourceToken"].as_str()
}

fn plan_alexa(target: &Target<'_>, policy: &[serde_json::Value]) -> Vec<Planned> {
    let wanted = &target.function.triggers.alexa;
    let mut out = Vec::new();
    for want in wanted {
        let sid = alexa_sid(&want.skill_id);
        let field = format!("alexa {}", want.skill_id);
        match policy.iter().find(|s| sid_of(s) == sid) {
            None => out.push(planned(
                Step::AddAlexaPermission {
                    skill_id: want.skill_id.clone(),
                    sid,
                },
                field,
                "lambda:InvokeFunction for alexa-appkit.amazon.com from this skill",
                "missing",
            )),
            Some(statement) => {
                if let Some(live) = statement_skill(statement)
                    && live != want.skill_id
                {
                    // The token is fixed at creation: replace the statement.
                    out.push(planned(
                        Step::RemovePermission { sid: sid.clone() },
                        format!("alexa {live}"),
                        "none",
                        "permission for another skill",
                    ));
                    out.push(planned(
                        Step::AddAlexaPermission {
                            skill_id: want.skill_id.clone(),
                            sid,
                        },
                        field,
                        "lambda:InvokeFunction for alexa-appkit.amazon.com from this skill",
                        format!("scoped to {live}"),
                    ));
                }
            }
        }
    }
    for statement in policy {
        let sid = sid_of(statement);
        if sid.starts_with(ALEXA_SID_PREFIX)
            && !wanted.iter().any(|w| alexa_sid(&w.skill_id) == sid)
        {
            let skill = statement_skill(statement).unwrap_or(sid);
            out.push(planned(
                Step::RemovePermission {
                    sid: sid.to_string(),
                },
                format!("alexa {skill}"),
                "none (skill not in slipway.toml)",
                "lambda:InvokeFunction for alexa-appkit.amazon.com",
            ));
        }
    }
    out
}

// ---- running steps -----------------------------------------------------------

async fn run(aws: &Aws, target: &Target<'_>, step: Step) -> Result<(), AwsError> {
    let name = target.name();
    match step {
        Step::CreateMapping(t) => {
            let result = retrying("CreateEventSourceMapping", BUSY, || {
                aws.lambda
                    .create_event_source_mapping()
                    .function_name(&target.invoke_arn)
                    .event_source_arn(&t.queue_arn)
                    .batch_size(t.batch_size as i32)
                    .maximum_batching_window_in_seconds(t.batching_window_seconds as i32)
                    .set_function_response_types(
                        t.report_batch_item_failures
                            .then(|| vec![FunctionResponseType::ReportBatchItemFailures]),
                    )
                    .set_scaling_config(t.maximum_concurrency.map(|c| {
                        ScalingConfig::builder()
                            .maximum_concurrency(c as i32)
                            .build()
                    }))
                    .enabled(t.enabled)
                    .send()
            })
            .await;
            result.map_err(|e| AwsError::api("CreateEventSourceMapping", name, e))?;
        }
        Step::UpdateMapping { uuid, want: t } => {
            retrying("UpdateEventSourceMapping", BUSY, || {
                aws.lambda
                    .update_event_source_mapping()
                    .uuid(&uuid)
                    .batch_size(t.batch_size as i32)
                    .maximum_batching_window_in_seconds(t.batching_window_seconds as i32)
                    .set_function_response_types(Some(if t.report_batch_item_failures {
                        vec![FunctionResponseType::ReportBatchItemFailures]
                    } else {
                        Vec::new()
                    }))
                    .set_scaling_config(Some(match t.maximum_concurrency {
                        Some(c) => ScalingConfig::builder()
                            .maximum_concurrency(c as i32)
                            .build(),
                        None => ScalingConfig::builder().build(),
                    }))
                    .enabled(t.enabled)
                    .send()
            })
            .await
            .map_err(|e| AwsError::api("UpdateEventSourceMapping", name, e))?;
        }
        Step::DeleteMapping { uuid } => {
            let result = retrying("DeleteEventSourceMapping", BUSY, || {
                aws.lambda.delete_event_source_mapping().uuid(&uuid).send()
            })
            .await;
            unless_code(result, NOT_FOUND, "DeleteEventSourceMapping", name)?;
        }
        Step::AddS3Permission { bucket, sid } => {
            let partition = partition_of(target.function_arn);
            let account = account_of(target.function_arn).map(str::to_string);
            let result = retrying("AddPermission", BUSY, || {
                aws.lambda
                    .add_permission()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .statement_id(&sid)
                    .action("lambda:InvokeFunction")
                    .principal("s3.amazonaws.com")
                    .source_arn(format!("arn:{partition}:s3:::{bucket}"))
                    .set_source_account(account.clone())
                    .send()
            })
            .await;
            // Added by an attempt whose answer was lost.
            unless_code(result, CONFLICT, "AddPermission", name)?;
        }
        Step::AddUrlPermission => {
            let result = retrying("AddPermission", BUSY, || {
                aws.lambda
                    .add_permission()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .statement_id(URL_PUBLIC_SID)
                    .action("lambda:InvokeFunctionUrl")
                    .principal("*")
                    .function_url_auth_type(FunctionUrlAuthType::None)
                    .send()
            })
            .await;
            unless_code(result, CONFLICT, "AddPermission", name)?;
        }
        Step::AddAlexaPermission { skill_id, sid } => {
            let result = retrying("AddPermission", BUSY, || {
                aws.lambda
                    .add_permission()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .statement_id(&sid)
                    .action("lambda:InvokeFunction")
                    .principal(ALEXA_PRINCIPAL)
                    .event_source_token(&skill_id)
                    .send()
            })
            .await;
            unless_code(result, CONFLICT, "AddPermission", name)?;
        }
        Step::RemovePermission { sid } => {
            let result = retrying("RemovePermission", BUSY, || {
                aws.lambda
                    .remove_permission()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .statement_id(&sid)
                    .send()
            })
            .await;
            unless_code(result, NOT_FOUND, "RemovePermission", name)?;
        }
        Step::PutNotifications { bucket, config } => {
            aws.s3
                .put_bucket_notification_configuration()
                .bucket(&bucket)
                .notification_configuration(config)
                .send()
                .await
                .map_err(|e| AwsError::api("PutBucketNotificationConfiguration", name, e))?;
        }
        Step::CreateUrl(u) => {
            let result = retrying("CreateFunctionUrlConfig", BUSY, || {
                aws.lambda
                    .create_function_url_config()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .auth_type(FunctionUrlAuthType::from(auth_name(u.auth)))
                    .set_cors(u.cors.as_ref().map(lambda_cors))
                    .send()
            })
            .await;
            // Made by an attempt whose answer was lost: make it match.
            if unless_code(result, CONFLICT, "CreateFunctionUrlConfig", name)?.is_none() {
                Box::pin(run(aws, target, Step::UpdateUrl(u))).await?;
            }
        }
        Step::UpdateUrl(u) => {
            retrying("UpdateFunctionUrlConfig", BUSY, || {
                aws.lambda
                    .update_function_url_config()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .auth_type(FunctionUrlAuthType::from(auth_name(u.auth)))
                    .cors(
                        u.cors
                            .as_ref()
                            .map(lambda_cors)
                            .unwrap_or_else(|| LambdaCors::builder().build()),
                    )
                    .send()
            })
            .await
            .map_err(|e| AwsError::api("UpdateFunctionUrlConfig", name, e))?;
        }
        Step::DeleteUrl => {
            let result = retrying("DeleteFunctionUrlConfig", BUSY, || {
                aws.lambda
                    .delete_function_url_config()
                    .function_name(name)
                    .set_qualifier(target.qualifier())
                    .send()
            })
            .await;
            unless_code(result, NOT_FOUND, "DeleteFunctionUrlConfig", name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKILL: &str = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001";
    const OTHER: &str = "amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000002";

    fn function(skills: &[&str]) -> Function {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        let mut text =
            "[functions.skill]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n"
                .to_string();
        for s in skills {
            text.push_str(&format!("[[functions.skill.alexa]]\nskill_id = \"{s}\"\n"));
        }
        let project = slipway_config::parse(&text, &dir.path().join("slipway.toml")).unwrap();
        project.functions["skill"].clone()
    }

    /// A statement as Lambda returns it, the skill in its condition.
    fn statement(sid: &str, token: &str) -> serde_json::Value {
        serde_json::json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": ALEXA_PRINCIPAL},
            "Action": "lambda:InvokeFunction",
            "Condition": {"StringEquals": {"lambda:EventSourceToken": token}},
        })
    }

    fn steps(skills: &[&str], policy: &[serde_json::Value]) -> Vec<String> {
        let f = function(skills);
        let target = Target {
            function: &f,
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:skill",
            invoke_arn: "arn:aws:lambda:us-east-1:123456789012:function:skill".into(),
        };
        plan_alexa(&target, policy)
            .into_iter()
            .map(|p| match p.step {
                Step::AddAlexaPermission { skill_id, sid } => format!("add {sid} {skill_id}"),
                Step::RemovePermission { sid } => format!("remove {sid}"),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn alexa_permissions_are_added_kept_replaced_and_removed() {
        let sid = alexa_sid(SKILL);
        assert_eq!(sid, "slipway-alexa-0a1b2c3d-0000-4000-8000-000000000001");
        assert_eq!(steps(&[SKILL], &[]), [format!("add {sid} {SKILL}")]);
        assert!(steps(&[SKILL], &[statement(&sid, SKILL)]).is_empty());
        // An emulator that drops the condition: the statement id decides.
        let mut bare = statement(&sid, SKILL);
        bare["Condition"] = serde_json::Value::Null;
        assert!(steps(&[SKILL], &[bare]).is_empty());
        // The statement id names this skill but the token another: replaced.
        assert_eq!(
            steps(&[SKILL], &[statement(&sid, OTHER)]),
            [format!("remove {sid}"), format!("add {sid} {SKILL}")]
        );
        // A skill no longer in slipway.toml, and statements slipway does not own.
        let foreign = statement("console-added", OTHER);
        assert_eq!(
            steps(&[], &[statement(&sid, SKILL), foreign]),
            [format!("remove {sid}")]
        );
    }
}
