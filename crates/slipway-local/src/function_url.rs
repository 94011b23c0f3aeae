//! The Function URL front: an HTTP request becomes a payload 2.0 event, and
//! the function's result becomes an HTTP response, by Lambda's rules.
//!
//! Request: lowercase header names (repeated ones joined by commas), the
//! `cookie` header also split into `cookies`, `queryStringParameters` with
//! repeated keys joined by commas, text bodies as they are and other bodies
//! base64-encoded. Response: an object with `statusCode` is read as status,
//! headers, cookies and a body (base64-decoded when `isBase64Encoded`); any
//! other JSON result is the body of a 200 `application/json` response.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::instance::LOCAL_ACCOUNT_ID;

/// An HTTP request as the front received it.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// The path under the function's URL, starting with `/`.
    pub path: String,
    /// Without the `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub source_ip: String,
}

/// The HTTP response to send back.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The URL id in the event's `requestContext` (`<id>.lambda-url.<region>.on.aws`).
const URL_ID: &str = "slipwaylocal";

fn is_text(content_type: Option<&str>, body: &[u8]) -> bool {
    let Some(ct) = content_type else {
        return std::str::from_utf8(body).is_ok();
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/yaml"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

/// `queryStringParameters` as Lambda builds them: decoded, a repeated key's
/// values joined by commas.
pub(crate) fn query_parameters(query: &str) -> Map<String, Value> {
    let mut map: Map<String, Value> = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match map.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                map.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    map
}

/// The payload 2.0 event for `request`.
pub fn request_event(request: &HttpRequest, region: &str) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::String(value.clone()));
            }
        }
    }
    let header = |n: &str| headers.get(n).and_then(Value::as_str).map(str::to_owned);
    let cookies: Vec<Value> = header("cookie")
        .map(|c| {
            c.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let query = query_parameters(&request.query);
    let now = time::OffsetDateTime::now_utc();
    let clf = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    let user_agent = header("user-agent").unwrap_or_default();
    let domain = format!("{URL_ID}.lambda-url.{region}.on.aws");
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query,
    });
    let e = event.as_object_mut().expect("an object");
    if !cookies.is_empty() {
        e.insert("cookies".into(), Value::Array(cookies));
    }
    e.insert("headers".into(), Value::Object(headers.clone()));
    if !query.is_empty() {
        e.insert("queryStringParameters".into(), Value::Object(query));
    }
    e.insert(
        "requestContext".into(),
        json!({
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": URL_ID,
            "domainName": domain,
            "domainPrefix": URL_ID,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": user_agent,
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format(&clf).unwrap_or_default(),
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        }),
    );
    if !request.body.is_empty() {
        let text = is_text(header("content-type").as_deref(), &request.body);
        let body = if text {
            String::from_utf8_lossy(&request.body).into_owned()
        } else {
            base64::engine::general_purpose::STANDARD.encode(&request.body)
        };
        e.insert("body".into(), Value::String(body));
        e.insert("isBase64Encoded".into(), Value::Bool(!text));
    } else {
        e.insert("isBase64Encoded".into(), Value::Bool(false));
    }
    event
}

/// The HTTP response for a function's result (`function_error` set when it failed).
pub fn response_from_result(payload: &[u8], function_error: bool) -> HttpResponse {
    if function_error {
        return HttpResponse {
            status: 502,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from_static(br#"{"Message":"Internal Server Error"}"#),
        };
    }
    let value: Option<Value> = serde_json::from_slice(payload).ok();
    let structured = value
        .as_ref()
        .and_then(Value::as_object)
        .filter(|o| o.contains_key("statusCode"));
    let Some(object) = structured else {
        // Any other result is the body itself, sent as JSON.
        return HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::copy_from_slice(payload),
        };
    };
    let status = object
        .get("statusCode")
        .and_then(|s| s.as_u64().or_else(|| s.as_str()?.parse().ok()))
        .filter(|s| (100..=599).contains(s))
        .unwrap_or(500) as u16;
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(h)) = object.get("headers") {
        for (name, value) in h {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.push((name.to_ascii_lowercase(), value));
        }
    }
    if !headers.iter().any(|(n, _)| n == "content-type") {
        headers.push(("content-type".into(), "application/json".into()));
    }
    if let Some(Value::Array(cookies)) = object.get("cookies") {
        for c in cookies.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".into(), c.to_owned()));
        }
    }
    let base64 = object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = match object.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if base64 => {
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => Bytes::from(b),
                Err(_) => {
                    return HttpResponse {
                        status: 502,
                        headers: vec![("content-type".into(), "application/json".into())],
                        body: Bytes::from_static(
                            br#"{"Message":"the function's body is not valid base64"}"#,
                        ),
                    };
                }
            }
        }
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(other) => Bytes::from(other.to_string()),
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            body: Bytes::copy_from_slice(body),
            source_ip: "127.0.0.1".into(),
        }
    }

    #[test]
    fn request_maps_to_payload_2_0() {
        let e = request_event(
            &request(
                "POST",
                "/orders/7",
                "a=1&a=2&b=x%20y&c",
                &[
                    ("Content-Type", "application/json"),
                    ("Cookie", "s=1; t=2"),
                    ("X-Multi", "1"),
                    ("x-multi", "2"),
                ],
                br#"{"qty":3}"#,
            ),
            "eu-west-1",
        );
        assert_eq!(e["version"], json!("2.0"));
        assert_eq!(e["rawPath"], json!("/orders/7"));
        assert_eq!(e["rawQueryString"], json!("a=1&a=2&b=x%20y&c"));
        assert_eq!(
            e["queryStringParameters"],
            json!({"a": "1,2", "b": "x y", "c": ""})
        );
        assert_eq!(e["cookies"], json!(["s=1", "t=2"]));
        assert_eq!(e["headers"]["x-multi"], json!("1,2"));
        assert_eq!(e["headers"]["content-type"], json!("application/json"));
        assert_eq!(e["requestContext"]["http"]["method"], json!("POST"));
        assert_eq!(
            e["requestContext"]["domainName"],
            json!("slipwaylocal.lambda-url.eu-west-1.on.aws")
        );
        assert_eq!(e["body"], json!(r#"{"qty":3}"#));
        assert_eq!(e["isBase64Encoded"], json!(false));
    }

    #[test]
    fn binary_bodies_are_base64_and_absent_parts_are_left_out() {
        let e = request_event(
            &request(
                "PUT",
                "/",
                "",
                &[("content-type", "application/octet-stream")],
                &[0, 159, 146, 150],
            ),
            "us-east-1",
        );
        assert_eq!(e["isBase64Encoded"], json!(true));
        assert_eq!(e["body"], json!("AJ+Slg=="));
        assert!(e.get("queryStringParameters").is_none());
        assert!(e.get("cookies").is_none());
        let e = request_event(&request("GET", "/", "", &[], b""), "us-east-1");
        assert!(e.get("body").is_none());
    }

    #[test]
    fn results_map_to_responses_by_lambdas_rules() {
        let plain = response_from_result(br#"{"hello":"world"}"#, false);
        assert_eq!(plain.status, 200);
        assert_eq!(plain.body, Bytes::from_static(br#"{"hello":"world"}"#));
        assert_eq!(
            plain.headers,
            vec![("content-type".to_owned(), "application/json".to_owned())]
        );

        let structured = response_from_result(
            br#"{"statusCode":201,"headers":{"Content-Type":"text/plain","X-A":"b"},"cookies":["a=1; Secure","b=2"],"body":"made"}"#,
            false,
        );
        assert_eq!(structured.status, 201);
        assert_eq!(structured.body, Bytes::from_static(b"made"));
        assert!(
            structured
                .headers
                .contains(&("content-type".into(), "text/plain".into()))
        );
        assert!(structured.headers.contains(&("x-a".into(), "b".into())));
        assert!(
            structured
                .headers
                .contains(&("set-cookie".into(), "a=1; Secure".into()))
        );
        assert!(
            structured
                .headers
                .contains(&("set-cookie".into(), "b=2".into()))
        );

        let binary = response_from_result(
            br#"{"statusCode":200,"body":"AJ+Slg==","isBase64Encoded":true}"#,
            false,
        );
        assert_eq!(binary.body, Bytes::from_static(&[0, 159, 146, 150]));

        assert_eq!(response_from_result(b"{}", true).status, 502);
    }
}

/// CORS for a Function URL, as `[functions.X.url.cors]` configures it.
/// Lambda answers preflight requests itself and adds the CORS headers to
/// the function's responses; slipway does the same.
pub mod cors {
    use super::HttpResponse;
    use bytes::Bytes;
    use slipway_config::Cors;

    fn allowed_origin(cors: &Cors, origin: &str) -> Option<String> {
        if cors.allow_origins.iter().any(|o| o == "*") {
            // With credentials the header must name the origin, not `*`.
            return Some(if cors.allow_credentials {
                origin.to_owned()
            } else {
                "*".to_owned()
            });
        }
        cors.allow_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_owned())
    }

    /// The answer to a preflight request (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or None when it is not one.
    pub fn preflight(
        cors: &Cors,
        method: &str,
        origin: Option<&str>,
        requested_method: Option<&str>,
    ) -> Option<HttpResponse> {
        if !method.eq_ignore_ascii_case("OPTIONS") {
            return None;
        }
        let (origin, _) = (origin?, requested_method?);
        let mut headers = Vec::new();
        if let Some(allowed) = allowed_origin(cors, origin) {
            headers.push(("access-control-allow-origin".to_owned(), allowed));
            if !cors.allow_methods.is_empty() {
                headers.push((
                    "access-control-allow-methods".to_owned(),
                    cors.allow_methods.join(","),
                ));
            }
            if !cors.allow_headers.is_empty() {
                headers.push((
                    "access-control-allow-headers".to_owned(),
                    cors.allow_headers.join(","),
                ));
            }
            if let Some(age) = cors.max_age {
                headers.push(("access-control-max-age".to_owned(), age.to_string()));
            }
            if cors.allow_credentials {
                headers.push((
                    "access-control-allow-credentials".to_owned(),
                    "true".to_owned(),
                ));
            }
            headers.push(("vary".to_owned(), "Origin".to_owned()));
        }
        Some(HttpResponse {
            status: 200,
            headers,
            body: Bytes::new(),
        })
    }

    /// Adds the CORS headers a response to `origin` carries, replacing the
    /// function's own.
    pub fn decorate(cors: &Cors, origin: Option<&str>, response: &mut HttpResponse) {
        let Some(allowed) = origin.and_then(|o| allowed_origin(cors, o)) else {
            return;
        };
        response
            .headers
            .retain(|(n, _)| !n.starts_with("access-control-"));
        response
            .headers
            .push(("access-control-allow-origin".to_owned(), allowed));
        if !cors.expose_headers.is_empty() {
            response.headers.push((
                "access-control-expose-headers".to_owned(),
                cors.expose_headers.join(","),
            ));
        }
        if cors.allow_credentials {
            response.headers.push((
                "access-control-allow-credentials".to_owned(),
                "true".to_owned(),
            ));
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn config() -> Cors {
            Cors {
                allow_origins: vec!["https://app.example".into()],
                allow_methods: vec!["GET".into(), "POST".into()],
                allow_headers: vec!["content-type".into()],
                expose_headers: vec!["x-request-id".into()],
                allow_credentials: true,
                max_age: Some(600),
            }
        }

        #[test]
        fn preflights_are_answered_for_allowed_origins_only() {
            let ok = preflight(
                &config(),
                "OPTIONS",
                Some("https://app.example"),
                Some("POST"),
            )
            .unwrap();
            assert!(ok.headers.contains(&(
                "access-control-allow-origin".into(),
                "https://app.example".into()
            )));
            assert!(
                ok.headers
                    .contains(&("access-control-allow-methods".into(), "GET,POST".into()))
            );
            assert!(
                ok.headers
                    .contains(&("access-control-max-age".into(), "600".into()))
            );
            let other = preflight(
                &config(),
                "OPTIONS",
                Some("https://evil.example"),
                Some("POST"),
            )
            .unwrap();
            assert!(other.headers.is_empty());
            assert!(
                preflight(&config(), "GET", Some("https://app.example"), Some("GET")).is_none()
            );
            assert!(preflight(&config(), "OPTIONS", None, Some("GET")).is_none());
        }

        #[test]
        fn responses_carry_the_configured_headers() {
            let mut r = HttpResponse {
                status: 200,
                headers: vec![("access-control-allow-origin".into(), "*".into())],
                body: Bytes::new(),
            };
            decorate(&config(), Some("https://app.example"), &mut r);
            assert_eq!(
                r.headers,
                vec![
                    (
                        "access-control-allow-origin".to_owned(),
                        "https://app.example".to_owned()
                    ),
                    (
                        "access-control-expose-headers".to_owned(),
                        "x-request-id".to_owned()
                    ),
                    (
                        "access-control-allow-credentials".to_owned(),
                        "true".to_owned()
                    ),
                ]
            );
        }
    }
}
