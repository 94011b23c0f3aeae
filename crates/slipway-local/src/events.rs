//! Sample events for `slipway event TYPE`, with options for their key
//! fields. The shapes are the ones in `events/` (see `events/SOURCES.md`);
//! options change values, never the structure.

use md5::Digest;
use serde_json::{Value, json};

use crate::LocalError;
use crate::function_url::{HttpRequest, query_parameters, request_event};

/// The values a user may set; each event type accepts some of them.
#[derive(Debug, Clone, Default)]
pub struct EventOptions {
    pub body: Option<String>,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub size: Option<u64>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub queue: Option<String>,
    pub region: Option<String>,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub topic: Option<String>,
    pub table: Option<String>,
    pub intent: Option<String>,
    pub slots: Vec<(String, String)>,
    pub application_id: Option<String>,
    pub count: Option<u32>,
}

struct Kind {
    name: &'static str,
    about: &'static str,
    template: &'static str,
    options: &'static [&'static str],
}

const KINDS: &[Kind] = &[
    Kind {
        name: "sqs",
        about: "an SQS event source mapping batch",
        template: include_str!("../events/sqs.json"),
        options: &["body", "queue", "region", "count"],
    },
    Kind {
        name: "s3-put",
        about: "an S3 ObjectCreated:Put notification",
        template: include_str!("../events/s3-put.json"),
        options: &["bucket", "key", "size", "region"],
    },
    Kind {
        name: "function-url",
        about: "a Function URL request (payload 2.0)",
        template: include_str!("../events/function-url.json"),
        options: &["method", "path", "query", "header", "body", "region"],
    },
    Kind {
        name: "apigw-http",
        about: "an API Gateway HTTP API request (payload 2.0)",
        template: include_str!("../events/apigw-http-api-v2.json"),
        options: &["method", "path", "query", "header", "body"],
    },
    Kind {
        name: "apigw-rest",
        about: "an API Gateway REST API proxy request (payload 1.0)",
        template: include_str!("../events/apigw-rest-v1.json"),
        options: &["method", "path", "query", "header", "body"],
    },
    Kind {
        name: "dynamodb-stream",
        about: "a DynamoDB Streams batch (INSERT, MODIFY, REMOVE)",
        template: include_str!("../events/dynamodb-stream.json"),
        options: &["table", "region"],
    },
    Kind {
        name: "eventbridge-scheduled",
        about: "an EventBridge scheduled rule event",
        template: include_str!("../events/eventbridge-scheduled.json"),
        options: &["region"],
    },
    Kind {
        name: "sns",
        about: "an SNS notification",
        template: include_str!("../events/sns.json"),
        options: &["message", "subject", "topic", "region"],
    },
    Kind {
        name: "alexa-launch",
        about: "an Alexa Skills Kit LaunchRequest",
        template: include_str!("../events/alexa-launch-request.json"),
        options: &["application-id"],
    },
    Kind {
        name: "alexa-intent",
        about: "an Alexa Skills Kit IntentRequest",
        template: include_str!("../events/alexa-intent-request.json"),
        options: &["intent", "slot", "application-id"],
    },
];

/// Every event type: name and a short description.
pub fn kinds() -> Vec<(&'static str, &'static str)> {
    KINDS.iter().map(|k| (k.name, k.about)).collect()
}

fn set_options(o: &EventOptions) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut add = |set: bool, name: &'static str| {
        if set {
            v.push(name)
        }
    };
    add(o.body.is_some(), "body");
    add(o.bucket.is_some(), "bucket");
    add(o.key.is_some(), "key");
    add(o.size.is_some(), "size");
    add(o.path.is_some(), "path");
    add(o.method.is_some(), "method");
    add(o.query.is_some(), "query");
    add(!o.headers.is_empty(), "header");
    add(o.queue.is_some(), "queue");
    add(o.region.is_some(), "region");
    add(o.message.is_some(), "message");
    add(o.subject.is_some(), "subject");
    add(o.topic.is_some(), "topic");
    add(o.table.is_some(), "table");
    add(o.intent.is_some(), "intent");
    add(!o.slots.is_empty(), "slot");
    add(o.application_id.is_some(), "application-id");
    add(o.count.is_some(), "count");
    v
}

/// The sample event `kind` with `options` applied.
pub fn sample(kind: &str, options: &EventOptions) -> Result<Value, LocalError> {
    let Some(k) = KINDS.iter().find(|k| k.name == kind) else {
        return Err(LocalError::UnknownEvent {
            kind: kind.to_owned(),
            known: KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", "),
        });
    };
    if let Some(option) = set_options(options)
        .into_iter()
        .find(|o| !k.options.contains(o))
    {
        return Err(LocalError::EventOption {
            kind: kind.to_owned(),
            option: option.to_owned(),
            accepted: k
                .options
                .iter()
                .map(|o| format!("--{o}"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut event: Value = serde_json::from_str(k.template).expect("bundled events are JSON");
    let region = options.region.as_deref();
    match kind {
        "sqs" => sqs(&mut event, options, region),
        "s3-put" => s3_put(&mut event, options, region),
        "function-url" => return Ok(function_url(options, region.unwrap_or("us-east-1"))),
        "apigw-http" => apigw_http(&mut event, options),
        "apigw-rest" => apigw_rest(&mut event, options),
        "dynamodb-stream" => dynamodb(&mut event, options, region),
        "eventbridge-scheduled" => {
            if let Some(r) = region {
                event["region"] = json!(r);
                event["resources"] = json!([format!(
                    "arn:aws:events:{r}:123456789012:rule/my-scheduled-rule"
                )]);
            }
        }
        "sns" => sns(&mut event, options, region),
        "alexa-launch" | "alexa-intent" => alexa(&mut event, options),
        _ => unreachable!("every kind is handled"),
    }
    Ok(event)
}

fn md5_hex(s: &str) -> String {
    hex::encode(md5::Md5::digest(s.as_bytes()))
}

fn sqs(event: &mut Value, o: &EventOptions, region: Option<&str>) {
    let mut record = event["Records"][0].take();
    if let Some(body) = &o.body {
        record["body"] = json!(body);
        record["md5OfBody"] = json!(md5_hex(body));
    }
    let region = region.unwrap_or("us-east-1");
    let queue = o.queue.as_deref().unwrap_or("MyQueue");
    record["awsRegion"] = json!(region);
    record["eventSourceARN"] = json!(format!("arn:aws:sqs:{region}:123456789012:{queue}"));
    let count = o.count.unwrap_or(1).max(1);
    let records: Vec<Value> = (0..count)
        .map(|i| {
            let mut r = record.clone();
            if count > 1 {
                r["messageId"] = json!(uuid::Uuid::new_v4().to_string());
                r["receiptHandle"] = json!(format!("MessageReceiptHandle{i}"));
            }
            r
        })
        .collect();
    event["Records"] = Value::Array(records);
}

fn s3_put(event: &mut Value, o: &EventOptions, region: Option<&str>) {
    let r = &mut event["Records"][0];
    if let Some(region) = region {
        r["awsRegion"] = json!(region);
    }
    if let Some(bucket) = &o.bucket {
        r["s3"]["bucket"]["name"] = json!(bucket);
        r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    }
    if let Some(key) = &o.key {
        // S3 notifications carry the key URL-encoded, spaces as `+`.
        r["s3"]["object"]["key"] = json!(encode_s3_key(key));
    }
    if let Some(size) = o.size {
        r["s3"]["object"]["size"] = json!(size);
    }
}

/// What S3 leaves unescaped in notification keys: unreserved characters and `/`.
const S3_KEY_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/')
    .remove(b' ');

/// A key as S3 notifications carry it: URL-encoded, spaces as `+`.
fn encode_s3_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, S3_KEY_ESCAPES)
        .to_string()
        .replace(' ', "+")
}

fn split_path(o: &EventOptions) -> (String, String) {
    let path = o.path.clone().unwrap_or_else(|| "/".into());
    let (path, query_in_path) = match path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path, None),
    };
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    (path, o.query.clone().or(query_in_path).unwrap_or_default())
}

fn function_url(o: &EventOptions, region: &str) -> Value {
    let (path, query) = split_path(o);
    let mut headers = vec![
        ("accept".to_owned(), "*/*".to_owned()),
        ("user-agent".to_owned(), "curl/8.5.0".to_owned()),
        ("x-forwarded-proto".to_owned(), "https".to_owned()),
        ("x-forwarded-port".to_owned(), "443".to_owned()),
    ];
    if o.body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    for (name, value) in &o.headers {
        let name = name.to_ascii_lowercase();
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value.clone()));
    }
    request_event(
        &HttpRequest {
            method: o
                .method
                .clone()
                .unwrap_or_else(|| "GET".into())
                .to_uppercase(),
            path,
            query,
            headers,
            body: o.body.clone().map(Into::into).unwrap_or_default(),
            source_ip: "198.51.100.7".into(),
        },
        region,
    )
}

fn query_map(query: &str) -> Value {
    let map = query_parameters(query);
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

fn apigw_http(event: &mut Value, o: &EventOptions) {
    let (path, query) = split_path(o);
    let method = o
        .method
        .clone()
        .unwrap_or_else(|| "GET".into())
        .to_uppercase();
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["rawQueryString"] = json!(query);
    let q = query_map(&query);
    if !q.is_null() {
        event["queryStringParameters"] = q;
    }
    for (name, value) in &o.headers {
        event["headers"][name.to_ascii_lowercase()] = json!(value);
    }
    if let Some(body) = &o.body {
        event["body"] = json!(body);
        event["headers"]["content-length"] = json!(body.len().to_string());
        event["headers"]["content-type"] = json!("application/json");
        event["isBase64Encoded"] = json!(false);
    }
}

fn apigw_rest(event: &mut Value, o: &EventOptions) {
    if let Some(method) = &o.method {
        let method = method.to_uppercase();
        event["httpMethod"] = json!(method);
        event["requestContext"]["httpMethod"] = json!(method);
    }
    if o.path.is_some() || o.query.is_some() {
        let (path, query) = split_path(o);
        if o.path.is_some() {
            event["path"] = json!(path);
            event["requestContext"]["path"] = json!(format!("/prod{path}"));
            event["pathParameters"] = json!({ "proxy": path.trim_start_matches('/') });
        }
        // Payload 1.0 keeps every value of a repeated key apart, and the
        // last one alone in `queryStringParameters`.
        let mut single = serde_json::Map::new();
        let mut multi = serde_json::Map::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            single.insert(k.to_string(), json!(v));
            let values = multi.entry(k.into_owned()).or_insert_with(|| json!([]));
            values.as_array_mut().expect("an array").push(json!(v));
        }
        let or_null = |m: serde_json::Map<String, Value>| {
            if m.is_empty() {
                Value::Null
            } else {
                Value::Object(m)
            }
        };
        event["queryStringParameters"] = or_null(single);
        event["multiValueQueryStringParameters"] = or_null(multi);
    }
    for (name, value) in &o.headers {
        event["headers"][name] = json!(value);
        event["multiValueHeaders"][name] = json!([value]);
    }
    if let Some(body) = &o.body {
        event["body"] = json!(body);
        event["isBase64Encoded"] = json!(false);
    }
}

fn dynamodb(event: &mut Value, o: &EventOptions, region: Option<&str>) {
    let Some(records) = event["Records"].as_array_mut() else {
        return;
    };
    for r in records {
        if let Some(region) = region {
            r["awsRegion"] = json!(region);
        }
        if region.is_some() || o.table.is_some() {
            let table = o.table.as_deref().unwrap_or("ExampleTableWithStream");
            let region = region.unwrap_or("us-east-1");
            r["eventSourceARN"] = json!(format!(
                "arn:aws:dynamodb:{region}:123456789012:table/{table}/stream/2015-06-27T00:48:05.899"
            ));
        }
    }
}

fn sns(event: &mut Value, o: &EventOptions, region: Option<&str>) {
    let r = &mut event["Records"][0];
    if let Some(m) = &o.message {
        r["Sns"]["Message"] = json!(m);
    }
    if let Some(s) = &o.subject {
        r["Sns"]["Subject"] = json!(s);
    }
    if o.topic.is_some() || region.is_some() {
        let topic = o.topic.as_deref().unwrap_or("ExampleTopic");
        let region = region.unwrap_or("us-east-1");
        r["Sns"]["TopicArn"] = json!(format!("arn:aws:sns:{region}:123456789012:{topic}"));
        r["EventSubscriptionArn"] = json!(format!(
            "arn:aws:sns:{region}:123456789012:{topic}:{}",
            uuid::Uuid::new_v4()
        ));
    }
}

fn alexa(event: &mut Value, o: &EventOptions) {
    if let Some(app) = &o.application_id {
        event["session"]["application"]["applicationId"] = json!(app);
        event["context"]["System"]["application"]["applicationId"] = json!(app);
    }
    if let Some(intent) = &o.intent {
        event["request"]["intent"]["name"] = json!(intent);
    }
    if !o.slots.is_empty() {
        let slots: serde_json::Map<String, Value> = o
            .slots
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    json!({ "name": name, "value": value, "confirmationStatus": "NONE" }),
                )
            })
            .collect();
        event["request"]["intent"]["slots"] = Value::Object(slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_renders_without_options() {
        for (name, _) in kinds() {
            let e = sample(name, &EventOptions::default()).unwrap();
            assert!(e.is_object(), "{name}");
        }
    }

    #[test]
    fn sqs_body_updates_its_md5_and_count_repeats_records() {
        let e = sample(
            "sqs",
            &EventOptions {
                body: Some("Hello from SQS!".into()),
                count: Some(3),
                queue: Some("orders".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let records = e["Records"].as_array().unwrap();
        assert_eq!(records.len(), 3);
        // The template's own md5 for the same body: the option reproduces it.
        assert_eq!(
            records[0]["md5OfBody"],
            json!("7b270e59b47ff90a553787216d55d91d")
        );
        assert_eq!(
            records[1]["eventSourceARN"],
            json!("arn:aws:sqs:us-east-1:123456789012:orders")
        );
        assert_ne!(records[0]["messageId"], records[1]["messageId"]);
    }

    #[test]
    fn s3_keys_are_url_encoded_like_s3_does() {
        let e = sample(
            "s3-put",
            &EventOptions {
                bucket: Some("uploads".into()),
                key: Some("in/my photo+1.jpg".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            e["Records"][0]["s3"]["object"]["key"],
            json!("in/my+photo%2B1.jpg")
        );
        assert_eq!(
            e["Records"][0]["s3"]["bucket"]["arn"],
            json!("arn:aws:s3:::uploads")
        );
    }

    #[test]
    fn alexa_intent_takes_name_and_slots() {
        let e = sample(
            "alexa-intent",
            &EventOptions {
                intent: Some("OrderStatusIntent".into()),
                slots: vec![("orderId".into(), "42".into())],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(e["request"]["intent"]["name"], json!("OrderStatusIntent"));
        assert_eq!(
            e["request"]["intent"]["slots"]["orderId"]["value"],
            json!("42")
        );
    }

    #[test]
    fn options_that_do_not_apply_are_refused() {
        let err = sample(
            "sqs",
            &EventOptions {
                bucket: Some("b".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("--bucket"), "{err}");
        assert!(matches!(
            sample("kafka", &EventOptions::default()),
            Err(LocalError::UnknownEvent { .. })
        ));
    }

    #[test]
    fn function_url_event_matches_the_captured_shape() {
        let captured: Value =
            serde_json::from_str(include_str!("../events/function-url.json")).unwrap();
        let e = sample(
            "function-url",
            &EventOptions {
                method: Some("post".into()),
                path: Some("/orders?limit=5".into()),
                body: Some("{}".into()),
                ..Default::default()
            },
        )
        .unwrap();
        for key in captured.as_object().unwrap().keys() {
            if key != "cookies" {
                assert!(e.get(key).is_some(), "missing {key}");
            }
        }
        for key in captured["requestContext"].as_object().unwrap().keys() {
            assert!(
                e["requestContext"].get(key).is_some(),
                "missing requestContext.{key}"
            );
        }
        assert_eq!(e["requestContext"]["http"]["method"], json!("POST"));
        assert_eq!(e["rawQueryString"], json!("limit=5"));
        assert_eq!(e["queryStringParameters"], json!({"limit": "5"}));
    }

    #[test]
    fn repeated_query_keys_follow_each_payload_version() {
        let options = EventOptions {
            path: Some("/items?tag=a&tag=b,c&page=2".into()),
            ..Default::default()
        };
        let rest = sample("apigw-rest", &options).unwrap();
        assert_eq!(
            rest["queryStringParameters"],
            json!({"tag": "b,c", "page": "2"})
        );
        assert_eq!(
            rest["multiValueQueryStringParameters"],
            json!({"tag": ["a", "b,c"], "page": ["2"]})
        );
        let http = sample("apigw-http", &options).unwrap();
        assert_eq!(
            http["queryStringParameters"],
            json!({"tag": "a,b,c", "page": "2"})
        );
    }
}
