//! A function's configuration as slipway compares it: what slipway.toml asks
//! for, what Lambda reports, and the differences between the two.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_lambda::types::FunctionConfiguration;
use serde::{Serialize, Serializer};
use slipway_config::{Architecture, Function, Runtime};

/// A value as Lambda reports it: one slipway knows, typed, or one it does
/// not (a function made outside slipway may run `java21`), kept as Lambda
/// spells it so the difference can still be shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Reported<T> {
    Known(T),
    Other(String),
}

impl<T> Reported<T> {
    /// Reads Lambda's spelling once, at the edge, with the known values' parser.
    fn read(spelled: &str, parse: impl FnOnce(&str) -> Option<T>) -> Reported<T> {
        parse(spelled).map_or_else(|| Reported::Other(spelled.to_owned()), Reported::Known)
    }
}

impl<T: fmt::Display> fmt::Display for Reported<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reported::Known(value) => value.fmt(f),
            Reported::Other(spelled) => f.write_str(spelled),
        }
    }
}

impl<T: fmt::Display> Serialize for Reported<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The configuration fields slipway owns on a function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub runtime: Reported<&'static Runtime>,
    pub handler: String,
    pub architecture: Reported<Architecture>,
    pub memory: i32,
    pub timeout: i32,
    /// `None` in the desired state: slipway.toml does not name a role, so any role will do.
    pub role: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub layers: Vec<String>,
    pub description: String,
}

/// One field that differs between the desired and the live state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl Difference {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Difference {
        Difference {
            field: field.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

impl Settings {
    pub fn desired(function: &Function) -> Settings {
        Settings {
            runtime: Reported::Known(function.runtime),
            handler: function.handler.clone(),
            architecture: Reported::Known(function.architecture),
            memory: function.memory as i32,
            timeout: function.timeout as i32,
            role: function.role.clone(),
            environment: function.environment.clone(),
            layers: function.layers.clone(),
            description: function.description.clone().unwrap_or_default(),
        }
    }

    pub fn live(config: &FunctionConfiguration) -> Settings {
        Settings {
            runtime: Reported::read(config.runtime().map_or("", |r| r.as_str()), Runtime::find),
            handler: config.handler().unwrap_or_default().to_string(),
            // Lambda leaves the list empty for functions made before arm64 existed.
            architecture: config
                .architectures()
                .first()
                .map_or(Reported::Known(Architecture::X86_64), |a| {
                    Reported::read(a.as_str(), Architecture::parse)
                }),
            memory: config.memory_size().unwrap_or(128),
            timeout: config.timeout().unwrap_or(3),
            role: config.role().map(str::to_string),
            environment: config
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            layers: config
                .layers()
                .iter()
                .filter_map(|l| l.arn().map(str::to_string))
                .collect(),
            description: config.description().unwrap_or_default().to_string(),
        }
    }

    /// The fields of `self` (desired) that `live` does not match. Environment
    /// values are compared but never shown: they may hold secrets.
    pub fn differences(&self, live: &Settings) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut field = |name: &str, want: String, have: String| {
            if want != have {
                out.push(Difference::new(name, want, have));
            }
        };
        field(
            "runtime",
            self.runtime.to_string(),
            live.runtime.to_string(),
        );
        field("handler", self.handler.clone(), live.handler.clone());
        field(
            "architecture",
            self.architecture.to_string(),
            live.architecture.to_string(),
        );
        field("memory", self.memory.to_string(), live.memory.to_string());
        field(
            "timeout",
            self.timeout.to_string(),
            live.timeout.to_string(),
        );
        if let Some(role) = &self.role {
            field("role", role.clone(), live.role.clone().unwrap_or_default());
        }
        field("layers", self.layers.join(", "), live.layers.join(", "));
        field(
            "description",
            self.description.clone(),
            live.description.clone(),
        );
        if self.environment != live.environment {
            out.push(Difference::new(
                "environment",
                describe_keys(&self.environment),
                describe_env_change(&self.environment, &live.environment),
            ));
        }
        out
    }
}

fn describe_keys(env: &BTreeMap<String, String>) -> String {
    if env.is_empty() {
        "(none)".into()
    } else {
        env.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Names the variables that differ without printing any value.
fn describe_env_change(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> String {
    let mut parts = Vec::new();
    for (k, v) in want {
        match have.get(k) {
            None => parts.push(format!("{k} missing")),
            Some(h) if h != v => parts.push(format!("{k} has another value")),
            _ => {}
        }
    }
    for k in have.keys().filter(|k| !want.contains_key(*k)) {
        parts.push(format!("{k} not in slipway.toml"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            runtime: Reported::Known(Runtime::find("python3.12").unwrap()),
            handler: "app.handler".into(),
            architecture: Reported::Known(Architecture::X86_64),
            memory: 128,
            timeout: 3,
            role: None,
            environment: BTreeMap::from([("TABLE".into(), "secret-value".into())]),
            layers: vec![],
            description: String::new(),
        }
    }

    #[test]
    fn environment_differences_never_show_values() {
        let want = settings();
        let mut have = settings();
        have.environment
            .insert("TABLE".into(), "other-secret".into());
        have.environment.insert("EXTRA".into(), "x".into());
        let diff = want.differences(&have);
        assert_eq!(diff.len(), 1);
        let text = format!("{diff:?}");
        assert!(text.contains("TABLE has another value"), "{text}");
        assert!(text.contains("EXTRA not in slipway.toml"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn an_unnamed_role_accepts_any_role() {
        let want = settings();
        let mut have = settings();
        have.role = Some("arn:aws:iam::123456789012:role/x".into());
        assert!(want.differences(&have).is_empty());
        have.memory = 256;
        assert_eq!(want.differences(&have)[0].field, "memory");
    }
}
