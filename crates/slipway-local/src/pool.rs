//! Warm execution environments for one function, as Lambda keeps them:
//! an environment that answered is reused, at most `concurrency` run at
//! once, and a rebuilt function replaces every idle environment.

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::LocalError;
use crate::instance::{FunctionSpec, Instance, InvokeOutcome, InvokeRequest, LogSink};
use crate::task::{BuiltFunction, TaskRoot};

struct Generation {
    number: u64,
    task: Arc<TaskRoot>,
    built: BuiltFunction,
    idle: Vec<Instance>,
}

/// The environments of one function.
pub struct Pool {
    spec: Arc<FunctionSpec>,
    current: Mutex<Generation>,
    permits: Semaphore,
    sink: LogSink,
}

impl Pool {
    /// Unpacks `built`; environments start on the first invocations.
    pub fn new(
        built: BuiltFunction,
        spec: FunctionSpec,
        concurrency: usize,
        sink: LogSink,
    ) -> Result<Pool, LocalError> {
        let task = Arc::new(TaskRoot::prepare(&built)?);
        Ok(Pool {
            spec: Arc::new(spec),
            current: Mutex::new(Generation {
                number: 0,
                task,
                built,
                idle: Vec::new(),
            }),
            permits: Semaphore::new(concurrency.max(1)),
            sink,
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// The artifact environments are started from now.
    pub fn built(&self) -> BuiltFunction {
        self.current.lock().unwrap().built.clone()
    }

    /// Runs one invocation in an idle environment, or a new one when none
    /// is idle and the concurrency limit allows; otherwise waits.
    pub async fn invoke(&self, request: InvokeRequest) -> Result<InvokeOutcome, LocalError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let (reused, task, generation) = {
            let mut g = self.current.lock().unwrap();
            (g.idle.pop(), g.task.clone(), g.number)
        };
        let mut instance = match reused {
            Some(i) => i,
            None => Instance::start(self.spec.clone(), task, self.sink.clone()).await?,
        };
        let outcome = instance.invoke(request).await;
        if instance.is_alive() {
            let mut g = self.current.lock().unwrap();
            if g.number == generation {
                g.idle.push(instance);
            }
        }
        Ok(outcome)
    }

    /// Switches to a rebuilt artifact: idle environments stop now, busy ones
    /// when they finish. A build whose zips are the ones already running
    /// (the watcher also sees files the build leaves out) changes nothing
    /// and keeps the warm environments. True when it switched.
    pub fn reload(&self, built: BuiltFunction) -> Result<bool, LocalError> {
        let zips = |b: &BuiltFunction| {
            let m = &b.manifest;
            (
                m.artifact.sha256.clone(),
                m.layer.as_ref().map(|l| l.sha256.clone()),
            )
        };
        if zips(&self.built()) == zips(&built) {
            return Ok(false);
        }
        // The interpreter was chosen for the runtime `serve` started with.
        if let (Some(interpreter), Some(minor)) = (&self.spec.interpreter, built.python_minor())
            && minor != interpreter.minor
        {
            return Err(LocalError::PythonVersion {
                path: interpreter.path.clone(),
                found: format!("3.{}", interpreter.minor),
                wanted: format!("3.{minor}"),
            });
        }
        let task = Arc::new(TaskRoot::prepare(&built)?);
        let old_idle = {
            let mut g = self.current.lock().unwrap();
            g.number += 1;
            g.task = task;
            g.built = built;
            std::mem::take(&mut g.idle)
        };
        drop(old_idle);
        Ok(true)
    }

    /// How many environments are idle (warm).
    pub fn idle(&self) -> usize {
        self.current.lock().unwrap().idle.len()
    }
}
