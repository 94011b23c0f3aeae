//! Retrying the errors the SDK does not: `ResourceConflictException` (an update
//! still in progress) and throttling that outlasted the SDK's own attempts.

use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

use crate::error::code_of;

/// Codes worth another try after a pause: the function is busy or AWS is shedding load.
pub(crate) const BUSY: &[&str] = &[
    "ResourceConflictException",
    "ResourceNotReadyException",
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ServiceException",
];

const ATTEMPTS: u32 = 8;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(8);

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
    let mut pause = FIRST_PAUSE;
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
                    "{operation}: {code}; attempt {attempt} of {ATTEMPTS}, retrying in {pause:?}"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
                attempt += 1;
            }
        }
    }
}
