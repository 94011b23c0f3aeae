//! `package-lock.json` / `npm-shrinkwrap.json` (lockfile v2 and v3): the
//! exact `node_modules` tree, and which of it Lambda gets — production
//! packages, platform packages for linux + the target CPU + glibc — decided
//! as `npm ci --omit=dev --os=linux --cpu=<arch>` decides it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::NodeError;

/// The Lambda CPU in npm's spelling (`process.arch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpu {
    X64,
    Arm64,
}

impl Cpu {
    pub fn npm_name(self) -> &'static str {
        match self {
            Cpu::X64 => "x64",
            Cpu::Arm64 => "arm64",
        }
    }
}

/// One `packages` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub name: Option<String>,
    pub version: Option<String>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    #[serde(default)]
    pub dev: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub dev_optional: bool,
    #[serde(default)]
    pub link: bool,
    #[serde(default)]
    pub in_bundle: bool,
    #[serde(default)]
    pub has_install_script: bool,
    #[serde(default)]
    pub dependencies: BTreeMap<String, String>,
    #[serde(default)]
    pub optional_dependencies: BTreeMap<String, String>,
    #[serde(default)]
    pub peer_dependencies: BTreeMap<String, String>,
    #[serde(default)]
    pub dev_dependencies: BTreeMap<String, String>,
    #[serde(default)]
    pub os: StringOrList,
    #[serde(default)]
    pub cpu: StringOrList,
    #[serde(default)]
    pub libc: StringOrList,
    pub license: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn list(&self) -> Vec<&str> {
        match self {
            StringOrList::None => Vec::new(),
            StringOrList::One(s) => vec![s.as_str()],
            StringOrList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    lockfile_version: Option<u64>,
    #[serde(default)]
    packages: BTreeMap<String, Entry>,
}

/// A read lockfile.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub file: PathBuf,
    pub version: u64,
    /// `packages[""]`: the project itself.
    pub root: Entry,
    /// Every other entry, by its `node_modules/…` path.
    pub packages: BTreeMap<String, Entry>,
}

/// The lockfiles npm reads, in npm's order of preference.
pub const NPM_LOCKFILES: &[&str] = &["npm-shrinkwrap.json", "package-lock.json"];
/// Lockfiles of other package managers, refused with a message.
const FOREIGN_LOCKFILES: &[(&str, &str)] = &[
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
];

/// The npm lockfile in `source`; an error for another manager's lockfile,
/// `Ok(None)` when there is none.
pub fn find(source: &Path) -> Result<Option<PathBuf>, NodeError> {
    for name in NPM_LOCKFILES {
        let p = source.join(name);
        if p.is_file() {
            return Ok(Some(p));
        }
    }
    for (name, tool) in FOREIGN_LOCKFILES {
        let p = source.join(name);
        if p.is_file() {
            return Err(NodeError::Lockfile {
                file: p,
                message: format!(
                    "{tool} lockfiles are not read; slipway installs from npm's package-lock.json"
                ),
                help: format!(
                    "run `npm install --package-lock-only` next to package.json to write a package-lock.json from the same ranges, and commit it (the {name} can stay for {tool})"
                ),
            });
        }
    }
    Ok(None)
}

impl Lockfile {
    pub fn parse(file: &Path, text: &str) -> Result<Lockfile, NodeError> {
        let err = |message: String, help: &str| NodeError::Lockfile {
            file: file.to_path_buf(),
            message,
            help: help.to_string(),
        };
        let raw: Raw = serde_json::from_str(text).map_err(|e| {
            err(
                format!("line {}: {e}", e.line()),
                "the file is not a valid npm lockfile; regenerate it with `npm install --package-lock-only`",
            )
        })?;
        let version = raw.lockfile_version.unwrap_or(1);
        if version < 2 {
            return Err(err(
                format!(
                    "lockfileVersion {version} has no `packages` tree (npm 6 and older wrote it)"
                ),
                "upgrade it with npm 7 or newer: `npm install --package-lock-only --lockfile-version 3`, and commit the result",
            ));
        }
        if version > 3 {
            return Err(err(
                format!("lockfileVersion {version} is newer than slipway knows (2 and 3)"),
                "write it with `--lockfile-version 3`",
            ));
        }
        let mut packages = raw.packages;
        let root = packages.remove("").unwrap_or_default();
        for (path, entry) in &packages {
            check_path(path).map_err(|m| {
                err(
                    format!("`packages.\"{path}\"`: {m}"),
                    "a lockfile entry must name a folder inside node_modules; regenerate the lockfile and review where this entry came from",
                )
            })?;
            if entry.link {
                return Err(err(
                    format!(
                        "`packages.\"{path}\"` links to `{}` (a workspace or `file:` dependency)",
                        entry.resolved.as_deref().unwrap_or("?")
                    ),
                    "slipway installs registry packages only: publish the linked package, or bundle it into the function's source",
                ));
            }
        }
        Ok(Lockfile {
            file: file.to_path_buf(),
            version,
            root,
            packages,
        })
    }

    /// `npm ci`'s first check: the lockfile's root entry carries the same
    /// dependency ranges as package.json.
    pub fn check_in_sync(&self, package_json: &Path, text: &str) -> Result<(), NodeError> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Manifest {
            #[serde(default)]
            dependencies: BTreeMap<String, String>,
            #[serde(default)]
            dev_dependencies: BTreeMap<String, String>,
            #[serde(default)]
            optional_dependencies: BTreeMap<String, String>,
            #[serde(default)]
            peer_dependencies: BTreeMap<String, String>,
        }
        let m: Manifest = serde_json::from_str(text).map_err(|e| NodeError::Lockfile {
            file: package_json.to_path_buf(),
            message: format!("line {}: {e}", e.line()),
            help: "package.json must be valid JSON with string dependency ranges".into(),
        })?;
        // npm moves optionalDependencies into dependencies in the lockfile's root.
        let mut want = m.dependencies.clone();
        want.extend(m.optional_dependencies.clone());
        let mut have = self.root.dependencies.clone();
        have.extend(self.root.optional_dependencies.clone());
        for (kind, want, have) in [
            ("dependencies", &want, &have),
            (
                "devDependencies",
                &m.dev_dependencies,
                &self.root.dev_dependencies,
            ),
            (
                "peerDependencies",
                &m.peer_dependencies,
                &self.root.peer_dependencies,
            ),
        ] {
            if let Some(message) = diff(kind, want, have) {
                return Err(NodeError::OutOfSync {
                    file: self.file.clone(),
                    message,
                });
            }
        }
        for name in want.keys() {
            if resolve(&self.packages, "", name).is_none() {
                return Err(NodeError::OutOfSync {
                    file: self.file.clone(),
                    message: format!(
                        "`{name}` is a dependency in package.json but not installed by the lockfile"
                    ),
                });
            }
        }
        Ok(())
    }
}

fn diff(
    kind: &str,
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
) -> Option<String> {
    for (name, range) in want {
        match have.get(name) {
            None => {
                return Some(format!(
                    "package.json {kind} has `{name}@{range}`, the lockfile does not"
                ));
            }
            Some(h) if h != range => {
                return Some(format!(
                    "package.json {kind} has `{name}@{range}`, the lockfile `{name}@{h}`"
                ));
            }
            _ => {}
        }
    }
    have.keys()
        .find(|n| !want.contains_key(*n))
        .map(|name| format!("the lockfile's {kind} has `{name}`, package.json does not"))
}

/// Lockfile paths are `node_modules/<name>(/node_modules/<name>)*`, names
/// plain or `@scope/name`: anything else could write outside the tree.
fn check_path(path: &str) -> Result<(), String> {
    let Some(mut rest) = path.strip_prefix("node_modules/") else {
        return Err("does not start with `node_modules/`".into());
    };
    loop {
        let (name, next) = match rest.split_once("/node_modules/") {
            Some((n, r)) => (n, Some(r)),
            None => (rest, None),
        };
        let parts: Vec<&str> = name.split('/').collect();
        let ok_part = |p: &str| {
            !p.is_empty() && p != "." && p != ".." && !p.contains('\\') && !p.contains('\0')
        };
        let ok = match parts.as_slice() {
            [one] => ok_part(one) && !one.starts_with('@'),
            [scope, one] => scope.starts_with('@') && ok_part(scope) && ok_part(one),
            _ => false,
        };
        if !ok {
            return Err(format!(
                "`{name}` is not a package name; the path escapes node_modules"
            ));
        }
        match next {
            Some(r) => rest = r,
            None => return Ok(()),
        }
    }
}

/// The package name a tree path installs.
pub fn name_at(path: &str) -> &str {
    path.rsplit_once("node_modules/").map_or(path, |(_, n)| n)
}

/// Node's module resolution over the lockfile tree: `name` as required from
/// the package at `from` (`""` for the project).
pub fn resolve<'a>(
    packages: &'a BTreeMap<String, Entry>,
    from: &str,
    name: &str,
) -> Option<&'a str> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some((k, _)) = packages.get_key_value(&candidate) {
            return Some(k.as_str());
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(i) => base[..i].to_string(),
            None => String::new(),
        };
    }
}

/// npm-install-checks' list test: `!x` entries exclude, plain ones include.
fn platform_ok(value: &str, list: &[&str]) -> bool {
    if list.is_empty() || list == ["any"] {
        return true;
    }
    let mut negated = 0;
    let mut matched = false;
    for entry in list {
        if let Some(test) = entry.strip_prefix('!') {
            negated += 1;
            if value == test {
                return false;
            }
        } else {
            matched |= value == *entry;
        }
    }
    matched || negated == list.len()
}

/// What goes into the function, with why the rest stays out.
#[derive(Debug, Default)]
pub struct Selection {
    /// Tree paths installed, parents before children.
    pub installed: Vec<String>,
    /// Optional packages left out for the platform: path → what they are for.
    pub skipped_platform: BTreeMap<String, String>,
    /// Paths left out by `exclude_packages`.
    pub excluded: BTreeSet<String>,
}

/// Decides the installed tree for linux + `cpu` + glibc.
pub fn select(lock: &Lockfile, cpu: Cpu, exclude: &[String]) -> Result<Selection, NodeError> {
    let mut sel = Selection::default();
    let mut blocked: BTreeSet<&str> = BTreeSet::new();
    for (path, e) in &lock.packages {
        if e.dev {
            blocked.insert(path);
            continue;
        }
        let name = e.name.as_deref().unwrap_or(name_at(path));
        if exclude.iter().any(|x| excluded(x, name)) {
            sel.excluded.insert(path.clone());
            blocked.insert(path);
            continue;
        }
        let (os, cpus, libc) = (e.os.list(), e.cpu.list(), e.libc.list());
        let fits = platform_ok("linux", &os)
            && platform_ok(cpu.npm_name(), &cpus)
            && platform_ok("glibc", &libc);
        if !fits {
            let wanted = format!(
                "os {:?} cpu {:?}{}",
                os,
                cpus,
                if libc.is_empty() {
                    String::new()
                } else {
                    format!(" libc {libc:?}")
                }
            );
            if e.optional || e.dev_optional {
                sel.skipped_platform.insert(path.clone(), wanted);
                blocked.insert(path);
            } else {
                return Err(NodeError::Platform {
                    package: name.to_string(),
                    path: path.clone(),
                    wanted,
                    target: format!("linux {} glibc", cpu.npm_name()),
                });
            }
        }
    }
    // What a left-out package alone required goes with it, as npm removes an
    // optional dependency that fails together with what only it needed.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut queue: Vec<(&str, &Entry)> = vec![("", &lock.root)];
    while let Some((from, entry)) = queue.pop() {
        let names = entry
            .dependencies
            .keys()
            .chain(entry.optional_dependencies.keys())
            .chain(entry.peer_dependencies.keys());
        for name in names {
            if let Some(path) = resolve(&lock.packages, from, name)
                && !blocked.contains(path)
                && reached.insert(path)
            {
                queue.push((path, &lock.packages[path]));
            }
        }
    }
    let mut installed: Vec<String> = reached.into_iter().map(str::to_string).collect();
    installed.sort_by_key(|p| (p.matches("node_modules/").count(), p.clone()));
    sel.installed = installed;
    Ok(sel)
}

/// `exclude_packages` entries: a name, or `@scope/*` for a whole scope.
fn excluded(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix("/*") {
        Some(scope) => name.split_once('/').is_some_and(|(s, _)| s == scope),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(json: &str) -> Result<Lockfile, NodeError> {
        Lockfile::parse(Path::new("package-lock.json"), json)
    }

    #[test]
    fn v1_is_refused_with_the_upgrade_command() {
        let e = lock(r#"{"lockfileVersion":1,"dependencies":{}}"#).unwrap_err();
        let help = miette::Diagnostic::help(&e).unwrap().to_string();
        assert!(help.contains("--lockfile-version 3"), "{help}");
    }

    #[test]
    fn paths_escaping_node_modules_are_refused() {
        for bad in [
            "node_modules/../../etc",
            "lib/x",
            "node_modules/@s",
            "node_modules/a/node_modules/..",
            "node_modules/a/b",
        ] {
            let json =
                format!(r#"{{"lockfileVersion":3,"packages":{{"{bad}":{{"version":"1.0.0"}}}}}}"#);
            let e = lock(&json).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
        assert!(check_path("node_modules/@s/a/node_modules/b").is_ok());
    }

    #[test]
    fn platform_lists_follow_npm_install_checks() {
        assert!(platform_ok("linux", &[]));
        assert!(platform_ok("linux", &["linux", "darwin"]));
        assert!(!platform_ok("linux", &["darwin"]));
        assert!(platform_ok("linux", &["!win32"]));
        assert!(!platform_ok("linux", &["!linux"]));
        assert!(!platform_ok("x64", &["!arm64", "ia32"]));
    }

    #[test]
    fn selection_drops_dev_foreign_platforms_and_what_only_they_need() {
        let l = lock(
            r#"{"lockfileVersion":3,"packages":{
            "":{"dependencies":{"a":"^1"},"optionalDependencies":{"mac":"1","lin":"1"},"devDependencies":{"t":"1"}},
            "node_modules/a":{"version":"1.0.0","dependencies":{"b":"1"}},
            "node_modules/b":{"version":"1.0.0"},
            "node_modules/a/node_modules/b":{"version":"2.0.0"},
            "node_modules/mac":{"version":"1.0.0","optional":true,"os":["darwin"],"dependencies":{"only-mac":"1"}},
            "node_modules/only-mac":{"version":"1.0.0","optional":true},
            "node_modules/lin":{"version":"1.0.0","optional":true,"os":["linux"],"cpu":["arm64"],"libc":["glibc"]},
            "node_modules/t":{"version":"1.0.0","dev":true}
            }}"#,
        )
        .unwrap();
        let x64 = select(&l, Cpu::X64, &[]).unwrap();
        assert_eq!(
            x64.installed,
            ["node_modules/a", "node_modules/a/node_modules/b"]
        );
        let arm = select(&l, Cpu::Arm64, &[]).unwrap();
        assert_eq!(
            arm.installed,
            [
                "node_modules/a",
                "node_modules/lin",
                "node_modules/a/node_modules/b"
            ]
        );
        let none = select(&l, Cpu::Arm64, &["a".into()]).unwrap();
        assert_eq!(none.installed, ["node_modules/lin"]);
    }

    #[test]
    fn a_required_package_for_another_platform_is_an_error() {
        let l = lock(r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"fse":"1"}},"node_modules/fse":{"version":"1.0.0","os":["darwin"]}}}"#).unwrap();
        let e = select(&l, Cpu::X64, &[]).unwrap_err().to_string();
        assert!(e.contains("fse"), "{e}");
    }

    #[test]
    fn package_json_out_of_sync_is_refused() {
        let l = lock(r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"a":"^1.0.0"}},"node_modules/a":{"version":"1.0.0"}}}"#).unwrap();
        let pj = Path::new("package.json");
        l.check_in_sync(pj, r#"{"dependencies":{"a":"^1.0.0"}}"#)
            .unwrap();
        let e = l
            .check_in_sync(pj, r#"{"dependencies":{"a":"^2.0.0"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a@^2.0.0"), "{e}");
        let e = l
            .check_in_sync(pj, r#"{"dependencies":{"a":"^1.0.0","b":"1"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`b@1`"), "{e}");
        assert!(l.check_in_sync(pj, r#"{}"#).is_err());
    }
}
