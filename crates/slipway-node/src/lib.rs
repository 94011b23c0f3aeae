//! Node.js dependencies for an exact Lambda platform, installed from the
//! npm lockfile without running npm: each tarball from the configured
//! registry, checked against the lockfile's SRI `integrity`, unpacked into
//! zip entries under `node_modules/`. Production packages only; optional
//! platform packages chosen for linux + the target CPU + glibc; install
//! scripts never run.
//!
//! The build calls exactly [`fingerprint`] and [`install`], which return the
//! same records the Python installer returns.

mod cache;
mod error;
pub mod handler;
pub mod lockfile;
pub mod registry;
pub mod tarball;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::Digest;
use slipway_artifact::{Distribution, Ecosystem, EntryOrigin};
use slipway_package::{EntryData, ZipEntry};

pub use cache::Cache;
pub use error::NodeError;
pub use lockfile::{Cpu, Lockfile};
pub use registry::{Environment, Registries};
use tarball::Integrity;

/// How many tarballs download at once.
const PARALLEL_DOWNLOADS: usize = 16;

/// Everything that decides a Node.js function's installed dependencies.
#[derive(Debug, Clone)]
pub struct Request {
    /// The folder holding package.json and the lockfile.
    pub source: PathBuf,
    pub cpu: Cpu,
    pub environment: Environment,
    /// Registries decided by the caller (tests); `None` decides them from
    /// `environment`, asking the machine's npm only when nothing names one.
    pub registries: Option<Registries>,
    pub offline: bool,
    pub cache: Cache,
    /// `exclude_packages`: npm names, or `@scope/*`.
    pub exclude_packages: Vec<String>,
    /// Native addons accepted without a prebuilt binary.
    pub accept_native: Vec<String>,
}

/// What [`install`] produced: the shape of the Python installer's outcome.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Files under `node_modules/`, sorted by path.
    pub entries: Vec<ZipEntry>,
    /// Every installed package, sorted by name then tree path.
    pub distributions: Vec<Distribution>,
    /// Optional packages left out because they are for another platform.
    pub skipped_platform: Vec<String>,
    /// Installed packages whose install scripts npm would run and slipway
    /// never does (as `npm ci --ignore-scripts`).
    pub scripts_not_run: Vec<String>,
    pub files_downloaded: usize,
    pub bytes_downloaded: u64,
}

/// Whether `source` declares npm dependencies: a package.json with any
/// (non-dev) dependencies, or an npm lockfile.
pub fn has_dependencies(source: &Path) -> bool {
    if lockfile::NPM_LOCKFILES
        .iter()
        .any(|f| source.join(f).is_file())
    {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(source.join("package.json")) else {
        return false;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        // A broken package.json is install's to report.
        return true;
    };
    ["dependencies", "optionalDependencies"].iter().any(|k| {
        v.get(k)
            .and_then(|d| d.as_object())
            .is_some_and(|d| !d.is_empty())
    })
}

fn read(path: &Path) -> Result<String, NodeError> {
    std::fs::read_to_string(path).map_err(|source| NodeError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// The lockfile, or the error that a package.json with dependencies has none.
fn locate(source: &Path) -> Result<PathBuf, NodeError> {
    match lockfile::find(source)? {
        Some(p) => Ok(p),
        None => Err(NodeError::Lockfile {
            file: source.join("package.json"),
            message: "declares dependencies but there is no package-lock.json or npm-shrinkwrap.json next to it".into(),
            help: "run `npm install --package-lock-only` in the function's folder and commit package-lock.json; slipway installs exactly what the lockfile pins".into(),
        }),
    }
}

/// A digest of everything that decides the install: lockfile, package.json,
/// registry settings, CPU, exclusions. Never touches the network.
pub fn fingerprint(request: &Request) -> Result<String, NodeError> {
    let lock = locate(&request.source)?;
    let mut h = sha2::Sha256::new();
    for part in [
        read(&lock)?,
        read(&request.source.join("package.json")).unwrap_or_default(),
        request.environment.fingerprint(),
        request.cpu.npm_name().to_string(),
        request.exclude_packages.join("\u{1f}"),
        request.accept_native.join("\u{1f}"),
        request
            .registries
            .as_ref()
            .map(|r| r.all().join(" "))
            .unwrap_or_default(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    Ok(format!("npm:{}", hex::encode(h.finalize())))
}

/// One package to fetch.
struct Planned {
    path: String,
    name: String,
    version: String,
    url: String,
    integrity: Integrity,
    integrity_text: String,
}

/// Installs the lockfile's production tree for the request's platform.
pub fn install(request: &Request) -> Result<Outcome, NodeError> {
    let lock_path = locate(&request.source)?;
    let lock = Lockfile::parse(&lock_path, &read(&lock_path)?)?;
    let package_json = request.source.join("package.json");
    lock.check_in_sync(&package_json, &read(&package_json)?)?;
    let selection = lockfile::select(&lock, request.cpu, &request.exclude_packages)?;

    let registries = match &request.registries {
        Some(r) => r.clone(),
        None => request
            .environment
            .registries(|| registry::npm_default_registry_cached(request.cache.root()))?,
    };

    let mut planned = Vec::new();
    for path in &selection.installed {
        let e = &lock.packages[path];
        if e.in_bundle {
            continue;
        }
        let name = e
            .name
            .clone()
            .unwrap_or_else(|| lockfile::name_at(path).to_string());
        let version = e.version.clone().ok_or_else(|| NodeError::Lockfile {
            file: lock.file.clone(),
            message: format!("`packages.\"{path}\"` has no version"),
            help: "regenerate the lockfile with `npm install --package-lock-only`".into(),
        })?;
        let url = match &e.resolved {
            Some(r) => r.clone(),
            None => registries.tarball_url(&name, &version),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) || !registries.allows(&url)
        {
            return Err(NodeError::OutsideRegistry {
                package: format!("{name}@{version}"),
                url: strip_credentials(&url),
                registries: registries.all().join(", "),
            });
        }
        let integrity_text = e.integrity.clone().unwrap_or_default();
        let integrity = Integrity::parse(&integrity_text).ok_or_else(|| NodeError::Lockfile {
            file: lock.file.clone(),
            message: format!("`packages.\"{path}\"` ({name}) has no usable `integrity`"),
            help: "slipway checks every tarball against the lockfile; regenerate it with `npm install --package-lock-only`".into(),
        })?;
        planned.push(Planned {
            path: path.clone(),
            name,
            version,
            url,
            integrity,
            integrity_text,
        });
    }

    let fetched = fetch_all(&planned, &registries, &request.cache, request.offline)?;

    let mut files: BTreeMap<String, ZipEntry> = BTreeMap::new();
    let mut tarball_facts: BTreeMap<&str, (&Planned, String)> = BTreeMap::new();
    let mut outcome = Outcome::default();
    for (plan, (bytes, downloaded)) in planned.iter().zip(&fetched) {
        if *downloaded {
            outcome.files_downloaded += 1;
            outcome.bytes_downloaded += bytes.len() as u64;
        }
        let contents = tarball::read(&plan.name, bytes)?;
        let addon = contents.iter().any(|f| f.path == "binding.gyp");
        let prebuilt = contents.iter().any(|f| f.path.ends_with(".node"));
        if addon && !prebuilt && !request.accept_native.iter().any(|a| a == &plan.name) {
            return Err(NodeError::NativeAddon {
                package: plan.name.clone(),
                path: plan.path.clone(),
            });
        }
        for f in contents {
            let path = format!("{}/{}", plan.path, f.path);
            files.insert(
                path.clone(),
                ZipEntry {
                    path,
                    executable: f.executable,
                    data: EntryData::Bytes(f.content),
                    origin: EntryOrigin::Dependency {
                        distribution: plan.name.clone(),
                    },
                },
            );
        }
        tarball_facts.insert(&plan.path, (plan, hex::encode(sha2::Sha256::digest(bytes))));
    }

    let installed: BTreeSet<&str> = selection.installed.iter().map(String::as_str).collect();
    let direct: BTreeSet<&String> = lock
        .root
        .dependencies
        .keys()
        .chain(lock.root.optional_dependencies.keys())
        .chain(lock.root.peer_dependencies.keys())
        .collect();
    for path in &selection.installed {
        let e = &lock.packages[path];
        let name = e
            .name
            .clone()
            .unwrap_or_else(|| lockfile::name_at(path).to_string());
        let manifest = files
            .get(&format!("{path}/package.json"))
            .and_then(|z| match &z.data {
                EntryData::Bytes(b) => serde_json::from_slice::<serde_json::Value>(b).ok(),
                _ => None,
            });
        let license = manifest.as_ref().and_then(license_of).or_else(|| {
            e.license
                .as_ref()
                .and_then(|l| l.as_str().map(String::from))
        });
        let mut requires: Vec<String> = e
            .dependencies
            .keys()
            .chain(e.optional_dependencies.keys())
            .chain(e.peer_dependencies.keys())
            .filter(|d| {
                lockfile::resolve(&lock.packages, path, d).is_some_and(|p| installed.contains(p))
            })
            .cloned()
            .collect();
        requires.sort();
        requires.dedup();
        let facts = tarball_facts.get(path.as_str());
        outcome.distributions.push(Distribution {
            ecosystem: Ecosystem::Npm,
            version: e.version.clone().unwrap_or_default(),
            wheel: facts
                .map(|(p, _)| p.url.rsplit('/').next().unwrap_or("").to_string())
                .unwrap_or_default(),
            wheel_sha256: facts.map(|(_, sha)| sha.clone()).unwrap_or_default(),
            integrity: facts
                .map(|(p, _)| p.integrity_text.clone())
                .filter(|s| !s.is_empty()),
            install_path: Some(path.clone()),
            wheel_url: facts.map(|(p, _)| strip_credentials(&p.url)),
            license_expression: None,
            license,
            license_classifiers: Vec::new(),
            direct: direct.contains(&name)
                && lockfile::resolve(&lock.packages, "", &name) == Some(path.as_str()),
            requires,
            installed_in: slipway_artifact::InstalledIn::Function,
            name,
        });
    }
    outcome
        .distributions
        .sort_by(|a, b| (&a.name, &a.install_path).cmp(&(&b.name, &b.install_path)));
    outcome.scripts_not_run = selection
        .installed
        .iter()
        .filter(|p| lock.packages[p.as_str()].has_install_script)
        .cloned()
        .collect();
    outcome.entries = files.into_values().collect();
    outcome.skipped_platform = selection.skipped_platform.into_keys().collect();
    Ok(outcome)
}

/// `license` as a string or `{type}`, else the old `licenses` array joined with OR.
fn license_of(m: &serde_json::Value) -> Option<String> {
    match m.get("license") {
        Some(serde_json::Value::String(s)) => return Some(s.clone()),
        Some(serde_json::Value::Object(o)) => {
            if let Some(t) = o.get("type").and_then(|t| t.as_str()) {
                return Some(t.to_string());
            }
        }
        _ => {}
    }
    let list: Vec<&str> = m
        .get("licenses")?
        .as_array()?
        .iter()
        .filter_map(|l| l.get("type").and_then(|t| t.as_str()).or(l.as_str()))
        .collect();
    (!list.is_empty()).then(|| list.join(" OR "))
}

fn strip_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}/{path}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Every planned tarball's bytes (cache first), each checked against its
/// integrity; `true` where it was downloaded in this run.
fn fetch_all(
    planned: &[Planned],
    registries: &Registries,
    cache: &Cache,
    offline: bool,
) -> Result<Vec<(Vec<u8>, bool)>, NodeError> {
    let mut out: Vec<Option<(Vec<u8>, bool)>> = vec![None; planned.len()];
    let mut missing = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        let path = cache.tarball_path(&p.integrity);
        match std::fs::read(&path) {
            Ok(bytes) if p.integrity.matches(&bytes) => out[i] = Some((bytes, false)),
            // A damaged cache file is replaced, never used.
            _ => missing.push(i),
        }
    }
    if !missing.is_empty() {
        if offline {
            return Err(NodeError::Offline {
                package: planned[missing[0]].name.clone(),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| NodeError::Registry {
                package: "(all)".into(),
                message: e.to_string(),
                help: String::new(),
            })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("slipway/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .read_timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| NodeError::Registry {
                package: "(all)".into(),
                message: e.to_string(),
                help: String::new(),
            })?;
        let registries = Arc::new(registries.clone());
        let results: Vec<(usize, Result<Vec<u8>, NodeError>)> = runtime.block_on(async {
            use futures::StreamExt;
            futures::stream::iter(missing.iter().copied())
                .map(|i| {
                    let http = http.clone();
                    let registries = registries.clone();
                    let p = &planned[i];
                    async move { (i, download(&http, &registries, p).await) }
                })
                .buffer_unordered(PARALLEL_DOWNLOADS)
                .collect()
                .await
        });
        let mut results = results;
        results.sort_by_key(|(i, _)| *i);
        for (i, r) in results {
            let bytes = r?;
            let p = &planned[i];
            cache::store(&cache.tarball_path(&p.integrity), &bytes).map_err(|source| {
                NodeError::Io {
                    action: "write",
                    path: cache.tarball_path(&p.integrity),
                    source,
                }
            })?;
            out[i] = Some((bytes, true));
        }
    }
    Ok(out
        .into_iter()
        .map(|o| o.expect("every tarball fetched"))
        .collect())
}

async fn download(
    http: &reqwest::Client,
    registries: &Registries,
    p: &Planned,
) -> Result<Vec<u8>, NodeError> {
    let fail = |message: String| {
        NodeError::Registry {
        package: p.name.clone(),
        message,
        help: "check the registry (.npmrc `registry=`, npm_config_registry) and the network; tokens go in .npmrc as `//host/:_authToken=`".into(),
    }
    };
    let shown = strip_credentials(&p.url);
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(250 * attempt)).await;
        }
        let mut req = http.get(&p.url);
        if let Some(token) = registries.token_for(&p.url) {
            req = req.bearer_auth(token);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                Ok(b) => {
                    let bytes = b.to_vec();
                    if !p.integrity.matches(&bytes) {
                        return Err(NodeError::Integrity {
                            package: format!("{}@{}", p.name, p.version),
                            url: shown,
                            expected: p.integrity.to_sri(),
                            actual: p.integrity.sri_of(&bytes),
                        });
                    }
                    return Ok(bytes);
                }
                Err(e) => last = e.to_string(),
            },
            Ok(resp) if resp.status().is_server_error() => {
                last = format!("{shown}: HTTP {}", resp.status())
            }
            Ok(resp) => return Err(fail(format!("{shown}: HTTP {}", resp.status()))),
            Err(e) => last = format!("{shown}: {e}"),
        }
    }
    Err(fail(last))
}
