//! Retrying the errors the SDK does not: `ResourceConflictException` (an update
//! still in progress) and throttling that outlasted the SDK's own attempts.

use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

use crate::error::code_of;

/// Codes worth another try after a pause: the function is busy or AWS is shedding load.
pub(crate) const BUSY: &[&str] = &[
    // First, so BUSY_BUT_NOT_CONFLICT can leave it out.
    "ResourceConflictException",
    "ResourceNotReadyException",
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ServiceException",
];

/// [`BUSY`] but for `ResourceConflictException`, for creates: there a
/// conflict means the thing already exists, which the caller handles.
pub(crate) const BUSY_BUT_NOT_CONFLICT: &[&str] = match BUSY.split_first() {
    Some((_, rest)) => rest,
    None => &[],
};

const ATTEMPTS: u32 = 8;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(8);

/// How long slipway polls for something AWS does in the background (an
/// update settling, a signing job) before giving up.
pub(crate) const POLL_LIMIT: Duration = Duration::from_secs(600);
/// The longest pause between two polls.
pub(crate) const LONGEST_POLL_PAUSE: Duration = Duration::from_secs(5);

/// Pauses that double after each wait, up to a ceiling: for retries and polls alike.
pub(crate) struct Backoff {
    next: Duration,
    longest: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, longest: Duration) -> Backoff {
        Backoff {
            next: first,
            longest,
        }
    }

    /// The pause the next [`Backoff::wait`] takes.
    pub(crate) fn next(&self) -> Duration {
        self.next
    }

    pub(crate) async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.longest);
    }
}

/// Runs `call` until it succeeds, fails with a code not in `retry_on`, or
/// runs out of attempts; pauses grow exponentially between attempts.
pub(crate) async fn retrying<T, E, R, F, Fut>(
    operation: &str,
    retry_on: &[&str],
    mut call: F,
) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut backoff = Backoff::new(FIRST_PAUSE, LONGEST_PAUSE);
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let code = code_of(&e).unwrap_or_default().to_string();
                if attempt >= ATTEMPTS || !retry_on.contains(&code.as_str()) {
                    return Err(e);
                }
                tracing::debug!(
                    "{operation}: {code}; attempt {attempt} of {ATTEMPTS}, retrying in {:?}",
                    backoff.next()
                );
                backoff.wait().await;
                attempt += 1;
            }
        }
    }
}
