//! An SQS event source mapping against a real SQS API (AWS, or an emulator
//! at an endpoint URL), with Lambda's semantics:
//!
//! - batches of up to `batch_size`, gathered for up to the batching window;
//! - a batch whose invocation succeeds is deleted; one that fails is left to
//!   reappear after the queue's visibility timeout (a whole-batch retry);
//! - with `ReportBatchItemFailures`, only the messages the function names in
//!   `batchItemFailures` stay; an invalid report fails the whole batch;
//! - the queue's redrive policy (`maxReceiveCount` → dead-letter queue) is
//!   the queue's own, so SQS applies it exactly as it does for Lambda.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::LocalError;
use crate::instance::InvokeRequest;
use crate::pool::Pool;

/// Longest a single ReceiveMessage call waits (SQS long polling).
const LONG_POLL_SECONDS: i32 = 2;
/// SQS returns at most ten messages per call.
const RECEIVE_MAX: i32 = 10;

/// What a mapping reports as it works.
#[derive(Debug, Clone)]
pub enum SqsReport {
    Batch {
        queue: String,
        received: usize,
        deleted: usize,
        retried: usize,
        function_error: bool,
    },
    PollFailed(String),
    Stopped(String),
}

impl fmt::Display for SqsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqsReport::Batch {
                queue,
                received,
                deleted,
                retried,
                function_error,
            } => {
                write!(f, "{queue}: {received} received, {deleted} deleted")?;
                if *retried > 0 {
                    write!(f, ", {retried} left for retry")?;
                }
                if *function_error {
                    write!(f, " (the function failed: the whole batch is retried)")?;
                }
                Ok(())
            }
            SqsReport::PollFailed(m) => write!(f, "polling failed: {m}"),
            SqsReport::Stopped(m) => write!(f, "stopped: {m}"),
        }
    }
}

/// One queue feeding one function.
pub struct SqsMapping {
    pool: Arc<Pool>,
    queue_url: String,
    pub batch_size: u32,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    pub pollers: u32,
}

impl SqsMapping {
    /// Takes batch size, window, partial failures and concurrency from the
    /// function's `[[functions.X.sqs]]` entry for this queue (matched by
    /// queue name), or Lambda's defaults when there is none.
    pub fn from_config(
        pool: Arc<Pool>,
        queue_url: &str,
        function: &slipway_config::Function,
    ) -> SqsMapping {
        let queue_name = queue_url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let trigger = function
            .triggers
            .sqs
            .iter()
            .find(|t| t.queue_arn.rsplit(':').next() == Some(queue_name));
        SqsMapping {
            pool,
            queue_url: queue_url.to_owned(),
            batch_size: trigger.map_or(10, |t| t.batch_size).max(1),
            batching_window: Duration::from_secs(
                trigger.map_or(0, |t| u64::from(t.batching_window_seconds)),
            ),
            report_batch_item_failures: trigger.is_some_and(|t| t.report_batch_item_failures),
            pollers: trigger
                .and_then(|t| t.maximum_concurrency)
                .unwrap_or(1)
                .max(1),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Polls until the process ends; returns early only when the queue
    /// cannot be reached at all.
    pub async fn run(
        self,
        endpoint_url: Option<String>,
        region: String,
        report: Arc<dyn Fn(SqsReport) + Send + Sync>,
    ) -> Result<(), LocalError> {
        let mut loader = aws_config::from_env().region(aws_config::Region::new(region.clone()));
        if let Some(url) = &endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let client = aws_sdk_sqs::Client::new(&loader.load().await);
        let arn = client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| LocalError::Sqs {
                message: format!(
                    "cannot read {}: {}",
                    self.queue_url,
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                ),
            })?
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap_or_default();
        let mapping = Arc::new(self);
        let mut tasks = Vec::new();
        for _ in 0..mapping.pollers {
            let (m, c, a, r, reg) = (
                mapping.clone(),
                client.clone(),
                arn.clone(),
                report.clone(),
                region.clone(),
            );
            tasks.push(tokio::spawn(
                async move { m.poll_forever(c, a, reg, r).await },
            ));
        }
        for t in tasks {
            let _ = t.await;
        }
        Ok(())
    }

    async fn poll_forever(
        &self,
        client: aws_sdk_sqs::Client,
        arn: String,
        region: String,
        report: Arc<dyn Fn(SqsReport) + Send + Sync>,
    ) {
        loop {
            match self.gather(&client).await {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) => {
                    let r = self.process(&client, batch, &arn, &region).await;
                    report(r);
                }
                Err(e) => {
                    report(SqsReport::PollFailed(e));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Receives up to `batch_size` messages, waiting up to the batching window.
    async fn gather(&self, client: &aws_sdk_sqs::Client) -> Result<Vec<Message>, String> {
        let started = Instant::now();
        let mut batch: Vec<Message> = Vec::new();
        loop {
            let wanted = (self.batch_size as usize - batch.len()).min(RECEIVE_MAX as usize) as i32;
            let window_left = self.batching_window.saturating_sub(started.elapsed());
            let wait = if batch.is_empty() {
                LONG_POLL_SECONDS
            } else {
                (window_left.as_secs() as i32).min(LONG_POLL_SECONDS)
            };
            let out = client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(wanted)
                .wait_time_seconds(wait)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())?;
            batch.extend(out.messages.unwrap_or_default());
            let full = batch.len() >= self.batch_size as usize;
            let window_over = started.elapsed() >= self.batching_window;
            if full || window_over || (batch.is_empty() && self.batching_window.is_zero()) {
                return Ok(batch);
            }
        }
    }

    async fn process(
        &self,
        client: &aws_sdk_sqs::Client,
        batch: Vec<Message>,
        arn: &str,
        region: &str,
    ) -> SqsReport {
        let event = json!({
            "Records": batch.iter().map(|m| record(m, arn, region)).collect::<Vec<_>>()
        });
        let outcome = self
            .pool
            .invoke(InvokeRequest {
                payload: Bytes::from(event.to_string()),
                ..Default::default()
            })
            .await;
        let received = batch.len();
        let report = |deleted: usize, function_error: bool| SqsReport::Batch {
            queue: self.queue_url.clone(),
            received,
            deleted,
            retried: received - deleted,
            function_error,
        };
        let outcome = match outcome {
            Ok(o) if o.function_error.is_none() => o,
            _ => return report(0, true),
        };
        let keep: Vec<String> = if self.report_batch_item_failures {
            match failed_items(&outcome.payload, &batch) {
                Some(ids) => ids,
                // An invalid report fails the whole batch, as Lambda treats it.
                None => return report(0, true),
            }
        } else {
            Vec::new()
        };
        let done: Vec<&Message> = batch
            .iter()
            .filter(|m| !keep.iter().any(|k| Some(k.as_str()) == m.message_id()))
            .collect();
        let mut deleted = 0;
        for chunk in done.chunks(RECEIVE_MAX as usize) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle()?)
                        .build()
                        .ok()
                })
                .collect();
            if let Ok(out) = client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                deleted += out.successful.len();
            }
        }
        report(deleted, false)
    }
}

/// The message ids in `batchItemFailures`, or None when the report is invalid.
fn failed_items(payload: &[u8], batch: &[Message]) -> Option<Vec<String>> {
    let value: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        // A result that is not JSON reports nothing: everything succeeded.
        Err(_) => return Some(Vec::new()),
    };
    let failures = match value.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return None,
    };
    failures
        .iter()
        .map(|f| {
            let id = f.get("itemIdentifier")?.as_str()?;
            batch
                .iter()
                .any(|m| m.message_id() == Some(id))
                .then(|| id.to_owned())
        })
        .collect()
}

/// One message as the SQS event source mapping hands it to the function.
fn record(m: &Message, arn: &str, region: &str) -> Value {
    let mut attributes = Map::new();
    if let Some(attrs) = m.attributes() {
        for (k, v) in attrs {
            attributes.insert(k.as_str().to_owned(), json!(v));
        }
    }
    let mut message_attributes = Map::new();
    if let Some(attrs) = m.message_attributes() {
        for (k, v) in attrs {
            let binary = v.binary_value().map(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(b.as_ref())
            });
            message_attributes.insert(
                k.clone(),
                json!({
                    "stringValue": v.string_value(),
                    "binaryValue": binary,
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": v.data_type(),
                }),
            );
        }
    }
    json!({
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body().unwrap_or(""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str) -> Message {
        Message::builder()
            .message_id(id)
            .receipt_handle(format!("rh-{id}"))
            .body("b")
            .build()
    }

    #[test]
    fn batch_item_failures_are_read_by_lambdas_rules() {
        let batch = vec![msg("a"), msg("b")];
        assert_eq!(
            failed_items(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &batch),
            Some(vec!["b".into()])
        );
        assert_eq!(
            failed_items(br#"{"batchItemFailures":[]}"#, &batch),
            Some(vec![])
        );
        assert_eq!(failed_items(b"null", &batch), Some(vec![]));
        assert_eq!(
            failed_items(
                br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
                &batch
            ),
            None
        );
        assert_eq!(
            failed_items(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &batch),
            None
        );
        assert_eq!(
            failed_items(br#"{"batchItemFailures":"nope"}"#, &batch),
            None
        );
    }
}
