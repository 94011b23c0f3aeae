//! Running built Lambda functions on this machine, without Docker.
//!
//! - [`runtime_api`]: the Lambda Runtime API (`/2018-06-01`) a runtime
//!   process talks to, one endpoint per execution environment.
//! - [`instance`]: a supervised runtime process (environment, timeout,
//!   memory, START / END / REPORT logs).
//! - [`task`] and [`python`]: the unpacked artifact and the interpreter.
//! - [`pool`]: warm environments reused between invocations, with a
//!   concurrency limit and a restart when the function is rebuilt.
//! - [`serve`]: the Invoke API and the Function URL front over a pool.
//! - [`sqs`]: an SQS event source mapping against a real SQS API.
//! - [`events`]: sample events for `slipway event`.
//!
//! Nothing here prints: log lines go to a [`LogSink`] the caller provides.

mod error;
pub mod events;
pub mod function_url;
pub mod instance;
pub mod native;
pub mod node;
pub mod pool;
/// Interpreter discovery is slipway-python's: the dependency stage needs it too.
pub use slipway_python::interpreter as python;
pub mod runtime_api;
pub mod serve;
pub mod sqs;
pub mod task;

pub use error::LocalError;
pub use instance::{FunctionSpec, InvokeOutcome, InvokeRequest, LogSink, RuntimeClient};
pub use task::{BuiltFunction, TaskRoot};

use std::sync::Arc;

/// Unpacks `built`, starts one environment, runs one event, and stops it:
/// what `slipway invoke` does.
pub async fn invoke_once(
    built: &BuiltFunction,
    spec: FunctionSpec,
    request: InvokeRequest,
    sink: LogSink,
) -> Result<InvokeOutcome, LocalError> {
    let task = Arc::new(TaskRoot::prepare(built)?);
    let mut instance = instance::Instance::start(Arc::new(spec), task, sink).await?;
    Ok(instance.invoke(request).await)
}
