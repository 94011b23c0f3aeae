//! Which registry each package comes from, as npm decides it: the
//! `npm_config_registry` variable, the project's `.npmrc`, the user's
//! `.npmrc`, then npm's own default as the machine's npm reports it.
//! Scoped registries (`@scope:registry=`) and `_authToken` lines come from
//! the same files. slipway names no registry host itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::NodeError;

/// The `.npmrc` values and variables that decide registries and credentials.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Later layers win: user `.npmrc`, project `.npmrc`, `npm_config_*` variables.
    pub layers: Vec<BTreeMap<String, String>>,
}

impl Environment {
    /// Reads the user's and the project's `.npmrc` and the variables (no
    /// subprocess: this feeds the build fingerprint and must be cheap).
    pub fn capture(project: &Path) -> Environment {
        let mut layers = Vec::new();
        let user = std::env::var_os("NPM_CONFIG_USERCONFIG")
            .or_else(|| std::env::var_os("npm_config_userconfig"))
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".npmrc")));
        for file in user.into_iter().chain([project.join(".npmrc")]) {
            if let Ok(text) = std::fs::read_to_string(&file) {
                layers.push(parse_npmrc(&text));
            }
        }
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter_map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let key = lower.strip_prefix("npm_config_")?;
                (!v.is_empty()).then(|| (key.replace('_', "-"), v))
            })
            .filter(|(k, _)| k == "registry")
            .collect();
        layers.push(vars);
        Environment { layers }
    }

    fn get(&self, key: &str) -> Option<&String> {
        self.layers.iter().rev().find_map(|l| l.get(key))
    }

    /// A digest-ready text of the values that decide where tarballs come from.
    /// Credentials are left out: they change who asks, not what comes back.
    pub fn fingerprint(&self) -> String {
        let mut s = String::new();
        for layer in &self.layers {
            for (k, v) in layer {
                if k == "registry" || k.ends_with(":registry") {
                    s.push_str(&format!("{k}={v}\n"));
                }
            }
            s.push_str("--\n");
        }
        s
    }

    /// Resolves the registries; `npm_default` is asked only when nothing names one.
    pub fn registries(
        &self,
        npm_default: impl FnOnce() -> Result<String, NodeError>,
    ) -> Result<Registries, NodeError> {
        let main = match self.get("registry") {
            Some(r) => r.clone(),
            None => npm_default()?,
        };
        let mut scoped = BTreeMap::new();
        for layer in &self.layers {
            for (k, v) in layer {
                if let Some(scope) = k.strip_suffix(":registry")
                    && scope.starts_with('@')
                {
                    scoped.insert(scope.to_string(), slash(v));
                }
            }
        }
        let mut tokens = Vec::new();
        for layer in &self.layers {
            for (k, v) in layer {
                if let Some(prefix) = k.strip_suffix(":_authToken")
                    && prefix.starts_with("//")
                {
                    tokens.push((prefix.to_string(), v.clone()));
                }
            }
        }
        Ok(Registries {
            main: slash(&main),
            scoped,
            tokens,
        })
    }
}

fn slash(url: &str) -> String {
    let url = url.trim();
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// `key=value` lines; `;`/`#` comments; `${VAR}` expanded as npm does.
fn parse_npmrc(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"');
            out.insert(k.trim().to_string(), expand(v));
        }
    }
    out
}

fn expand(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The registries a project's packages may come from.
#[derive(Debug, Clone)]
pub struct Registries {
    /// Ends in `/`.
    pub main: String,
    /// `@scope` → registry URL ending in `/`.
    pub scoped: BTreeMap<String, String>,
    /// `//host/path/` → token; never printed.
    tokens: Vec<(String, String)>,
}

impl Registries {
    pub fn new(main: &str) -> Registries {
        Registries {
            main: slash(main),
            scoped: BTreeMap::new(),
            tokens: Vec::new(),
        }
    }

    /// The registry for a package name (its scope's, else the main one).
    pub fn for_package(&self, name: &str) -> &str {
        name.split_once('/')
            .filter(|(scope, _)| scope.starts_with('@'))
            .and_then(|(scope, _)| self.scoped.get(scope))
            .unwrap_or(&self.main)
    }

    /// Every configured registry, for messages.
    pub fn all(&self) -> Vec<&str> {
        let mut v: Vec<&str> = std::iter::once(self.main.as_str())
            .chain(self.scoped.values().map(String::as_str))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether `url` lies under one of the configured registries.
    pub fn allows(&self, url: &str) -> bool {
        self.all().iter().any(|r| url.starts_with(r))
    }

    /// The tarball URL npm uses when the lockfile has no `resolved`.
    pub fn tarball_url(&self, name: &str, version: &str) -> String {
        let base = name.rsplit('/').next().unwrap_or(name);
        format!("{}{name}/-/{base}-{version}.tgz", self.for_package(name))
    }

    /// The bearer token configured for `url`, longest prefix first.
    pub fn token_for(&self, url: &str) -> Option<&str> {
        let without_scheme = url.split_once(':').map_or(url, |(_, rest)| rest);
        self.tokens
            .iter()
            .filter(|(prefix, _)| without_scheme.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, t)| t.as_str())
    }
}

/// Asks the machine's npm for its registry. slipway itself names no
/// registry host; npm knows its own default.
pub fn ask_npm_default_registry() -> Result<String, NodeError> {
    let out = std::process::Command::new("npm")
        .args(["config", "get", "registry"])
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if url.starts_with("http://") || url.starts_with("https://") {
                return Ok(url);
            }
            Err(no_default(format!("npm answered `{url}`")))
        }
        Ok(out) => Err(no_default(
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_string(),
        )),
        Err(e) => Err(no_default(format!("npm: {e}"))),
    }
}

fn no_default(message: String) -> NodeError {
    NodeError::Registry {
        package: "(all)".into(),
        message: format!(
            "no registry is configured and the local npm could not name its default ({message})"
        ),
        help: "set `registry=` in the project's .npmrc or npm_config_registry, or install npm"
            .into(),
    }
}

/// [`ask_npm_default_registry`], remembered for a day in the cache:
/// starting npm costs more than a warm build's whole install.
pub fn npm_default_registry_cached(cache_root: &Path) -> Result<String, NodeError> {
    let path = cache_root.join("v1").join("npm").join("default-registry");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < std::time::Duration::from_secs(24 * 3600));
    if fresh
        && let Ok(url) = std::fs::read_to_string(&path)
        && !url.trim().is_empty()
    {
        return Ok(url.trim().to_string());
    }
    let url = ask_npm_default_registry()?;
    let _ = crate::cache::store(&path, url.as_bytes());
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(layers: &[&str]) -> Environment {
        Environment {
            layers: layers.iter().map(|t| parse_npmrc(t)).collect(),
        }
    }

    #[test]
    fn later_layers_win_and_scopes_have_their_own_registry() {
        let e = env(&[
            "registry=http://127.0.0.1:1/user\n@corp:registry=http://127.0.0.1:2/corp/\n",
            "; project\nregistry = http://127.0.0.1:3/project\n//127.0.0.1:2/corp/:_authToken=${SLIPWAY_TEST_UNSET_TOKEN}abc\n",
        ]);
        let r = e.registries(|| panic!("npm must not be asked")).unwrap();
        assert_eq!(r.main, "http://127.0.0.1:3/project/");
        assert_eq!(r.for_package("@corp/x"), "http://127.0.0.1:2/corp/");
        assert_eq!(r.for_package("@other/x"), "http://127.0.0.1:3/project/");
        assert_eq!(
            r.tarball_url("@corp/x", "1.0.0"),
            "http://127.0.0.1:2/corp/@corp/x/-/x-1.0.0.tgz"
        );
        assert!(r.allows("http://127.0.0.1:2/corp/@corp/x/-/x-1.0.0.tgz"));
        assert!(!r.allows("http://127.0.0.1:9/x.tgz"));
        assert_eq!(r.token_for("http://127.0.0.1:2/corp/@corp/x"), Some("abc"));
        assert_eq!(r.token_for("http://127.0.0.1:3/project/x"), None);
        assert!(
            !e.fingerprint().contains("abc"),
            "no credentials in fingerprints"
        );
    }

    #[test]
    fn npm_default_is_asked_only_when_nothing_names_a_registry() {
        let r = env(&[])
            .registries(|| Ok("http://127.0.0.1:4".into()))
            .unwrap();
        assert_eq!(r.main, "http://127.0.0.1:4/");
    }
}
