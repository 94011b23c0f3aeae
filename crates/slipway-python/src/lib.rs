//! Python dependencies for an exact Lambda runtime and architecture, with no
//! Docker: the dependency file is read ([`requirements`]), versions are
//! chosen among wheels usable on the target ([`target`], [`resolve`]) from the
//! configured indexes ([`sources`], [`index`]), and the wheels are installed
//! straight into zip entries ([`install`]) and checked for the runtime's glibc
//! ([`elf`]). The library never prints: progress and explanations go through
//! a [`Reporter`], results come back as values.

pub mod cache;
/// The ELF check lives in slipway-package (custom runtimes' `bootstrap`
/// binaries need it too); this keeps its wheel-facing form.
pub mod elf {
    pub use slipway_package::elf::{
        ElfFacts, ElfTarget, GlibcNeed, inspect, looks_like_shared_object,
    };

    use crate::target::Target;

    /// Violations of a wheel's shared object on `target`, naming the wheel.
    pub fn violations(facts: &ElfFacts, wheel: &str, target: &Target) -> Vec<String> {
        slipway_package::elf::violations(
            facts,
            wheel,
            &ElfTarget {
                runtime: &target.runtime,
                machine: target.machine(),
                glibc: target.glibc,
            },
        )
    }
}
mod error;
#[cfg(test)]
mod fuzz;
pub mod handler;
pub mod index;
pub mod install;
pub mod interpreter;
pub mod metadata;
pub mod requirements;
pub mod resolve;
mod reuse;
pub mod sdist;
pub mod sources;
pub mod target;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wheel_name;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::Ordering;

use pep508_rs::PackageName;
use rayon::prelude::*;
use slipway_artifact::Distribution;
use slipway_package::ZipEntry;

pub use cache::Cache;
pub use error::PythonError;
pub use sources::{SourceSettings, Sources};
pub use target::Target;
pub use wheel_name::WheelName;

use crate::index::{Client, DistFile};
use crate::metadata::CoreMetadata;
use crate::requirements::DependencySpec;
use crate::resolve::Resolved;

/// Where progress and `-v` explanations go; the binary renders them.
pub trait Reporter: Sync {
    /// A new stage of work (`resolving`, `downloading 12 files`…).
    fn stage(&self, message: &str, total: Option<u64>);
    fn advance(&self, _n: u64) {}
    /// A line for `-v`: which wheel was chosen and why others were not.
    fn explain(&self, _line: &str) {}
}

/// A reporter that drops everything.
pub struct Silent;
impl Reporter for Silent {
    fn stage(&self, _: &str, _: Option<u64>) {}
}

/// What to install, for which target, from where.
#[derive(Debug, Clone)]
pub struct Request {
    pub dependency_file: PathBuf,
    pub target: Target,
    pub settings: SourceSettings,
    /// Index settings from the environment and pip's config files, as
    /// [`sources::Environment::capture`] reads them; tests pass their own.
    pub environment: sources::Environment,
    pub offline: bool,
    pub cache: Cache,
    /// Distributions the runtime provides (e.g. boto3); they and whatever only
    /// they need are left out.
    pub exclude_packages: Vec<String>,
    /// The interpreter that builds pure-Python sdists; `None` finds one.
    pub python: Option<PathBuf>,
    /// Allow building sdists (pure-Python only) when a version has no wheel.
    pub build_sdists: bool,
    /// Resolve again against the indexes even when the inputs did not change
    /// (otherwise the last resolution of the same inputs is reused).
    pub refresh: bool,
}

/// The installed dependencies.
#[derive(Debug)]
pub struct Outcome {
    /// Package entries, paths relative to the package root.
    pub entries: Vec<ZipEntry>,
    /// Sorted by normalised name; `installed_in` is `function`.
    pub distributions: Vec<Distribution>,
    /// Hashed requirements.txt of exactly what was installed.
    pub lock: String,
    /// The sources used, for the record.
    pub indexes: Vec<String>,
    pub files_downloaded: u64,
    pub bytes_downloaded: u64,
}

/// Cheap digest input of everything that decides the installed dependencies
/// without touching the network: dependency files (and includes), index
/// settings from every place, the target.
pub fn fingerprint(request: &Request) -> Result<String, PythonError> {
    let (files, find_links) = requirements::inputs(&request.dependency_file)?;
    let mut text = format!(
        "target={}|{}|{}.{}\nexclude={}\nbuild_sdists={}\n",
        request.target.runtime,
        request.target.machine(),
        request.target.glibc.0,
        request.target.glibc.1,
        request.exclude_packages.join(","),
        request.build_sdists
    );
    for f in &files {
        let bytes = std::fs::read(f).map_err(PythonError::io("read", f))?;
        text.push_str(&format!(
            "file={}\n",
            slipway_artifact::digest::sha256_hex(&bytes)
        ));
    }
    // Index settings as written; no absolute paths, so the same project in
    // another folder gets the same input hash.
    let settings = &request.settings;
    text.push_str(&format!(
        "index={:?}|{:?}\nextra={:?}|{:?}\n",
        settings.cli_index_url,
        settings.config_index_url,
        settings.cli_extra_index_urls,
        settings.config_extra_index_urls
    ));
    text.push_str(&request.environment.fingerprint());
    // find-links folders, wherever they are named: their listing decides what can be installed.
    for dir in find_links
        .iter()
        .chain(&request.settings.cli_find_links)
        .chain(&request.settings.config_find_links)
        .chain(&request.environment.find_links())
    {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut names: Vec<String> = entries
                .flatten()
                .map(|e| {
                    let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                    format!("{}:{size}", e.file_name().to_string_lossy())
                })
                .collect();
            names.sort();
            text.push_str(&format!("find_links={}\n", names.join(",")));
        }
    }
    Ok(slipway_artifact::digest::sha256_hex(text.as_bytes()))
}

/// Resolves, downloads and installs the dependencies of `request`.
pub fn install(request: &Request, reporter: &dyn Reporter) -> Result<Outcome, PythonError> {
    let target = &request.target;
    let env = target.marker_environment();
    let spec = requirements::read(&request.dependency_file, &env)?;
    let mut settings = request.settings.clone();
    settings.file_index_url = spec.index_url.clone();
    settings.file_extra_index_urls = spec.extra_index_urls.clone();
    settings.file_find_links = spec.find_links.clone();
    settings.file_no_index = spec.no_index;
    let sources = sources::decide(&settings, &request.environment, || {
        sources::pip_default_index_cached(&request.cache)
    })?;
    reporter.explain(&format!(
        "target: {}; index: {} (from {})",
        target.platform_summary(),
        sources.describe_indexes(),
        sources.index_origin
    ));
    let client = Client::new(
        sources,
        request.cache.clone(),
        request.offline,
        request.refresh,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| PythonError::Io {
            action: "start",
            path: "the async runtime".into(),
            source: e,
        })?;

    let started = std::time::Instant::now();
    // Unchanged inputs reuse their last resolution: no index is asked.
    let fingerprint = fingerprint(request)?;
    let reused = (!request.refresh)
        .then(|| reuse::load(&request.cache, &fingerprint))
        .flatten();
    let resolved = if let Some(resolved) = reused {
        reporter.stage("inputs unchanged: reusing the last resolution", None);
        reporter.explain(
            "dependency inputs unchanged since the last resolution: reusing it (--refresh resolves again)",
        );
        resolved
    } else {
        let resolved = resolve_fresh(request, &spec, &client, &runtime, reporter)?;
        reuse::save(&request.cache, &fingerprint, &resolved);
        resolved
    };
    tracing::debug!(elapsed = ?started.elapsed(), "resolved");
    for r in &resolved {
        reporter.explain(&format!(
            "{} {}: {} (tag {})",
            r.name, r.version, r.file.filename, r.tag
        ));
        // The files people ask about first: the right Python on the wrong glibc or libc.
        let mut rejected: Vec<&(String, String)> = r.rejected.iter().collect();
        rejected.sort_by_key(|(_, reason)| !(reason.contains("glibc") || reason.contains("musl")));
        for (file, reason) in rejected.iter().take(6) {
            reporter.explain(&format!("    not {file}: {reason}"));
        }
        if r.rejected.len() > 6 {
            reporter.explain(&format!(
                "    ({} more files rejected)",
                r.rejected.len() - 6
            ));
        }
    }

    let to_fetch: Vec<(DistFile, Vec<String>)> = resolved
        .iter()
        .map(|r| (r.file.clone(), r.allowed_hashes.clone()))
        .collect();
    let missing: Vec<&DistFile> = to_fetch
        .iter()
        .map(|(f, _)| f)
        .filter(|f| {
            !f.local
                && f.sha256
                    .as_ref()
                    .is_none_or(|s| !request.cache.wheel_path(s, &f.filename).is_file())
        })
        .collect();
    let missing_bytes: u64 = missing.iter().filter_map(|f| f.size).sum();
    let missing = missing.len();
    let message = if missing == 0 {
        format!("all {} wheels are in the cache", to_fetch.len())
    } else {
        format!(
            "downloading {missing} of {} wheels ({:.1} MiB)",
            to_fetch.len(),
            missing_bytes as f64 / (1024.0 * 1024.0)
        )
    };
    reporter.stage(&message, Some(to_fetch.len() as u64));
    let paths = runtime.block_on(client.download_all(&to_fetch, &|| reporter.advance(1)));
    let paths: Vec<PathBuf> = paths.into_iter().collect::<Result<_, _>>()?;

    tracing::debug!(elapsed = ?started.elapsed(), "downloaded");
    reporter.stage("installing wheels", Some(resolved.len() as u64));
    let installed: Vec<install::InstalledWheel> = resolved
        .par_iter()
        .zip(paths.par_iter())
        .map(|(r, path)| {
            let wheel = install::install_wheel(
                path,
                &r.file.filename,
                r.file.sha256.as_deref(),
                r.name.as_ref(),
                &request.cache,
            )?;
            reporter.advance(1);
            Ok(wheel)
        })
        .collect::<Result<_, PythonError>>()?;

    tracing::debug!(elapsed = ?started.elapsed(), "installed");
    // Two wheels writing one path would make the package depend on install order.
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (wheel, r) in installed.iter().zip(&resolved) {
        for e in &wheel.entries {
            if let Some(first) = owner.insert(e.path.as_str(), r.file.filename.as_str()) {
                return Err(PythonError::PathConflict {
                    path: e.path.clone(),
                    first: first.to_string(),
                    second: r.file.filename.clone(),
                });
            }
        }
    }

    let mut violations = Vec::new();
    for (wheel, r) in installed.iter().zip(&resolved) {
        for so in &wheel.shared_objects {
            violations.extend(elf::violations(so, &r.file.filename, target));
        }
    }
    if !violations.is_empty() {
        return Err(PythonError::Elf {
            target: target.platform_summary(),
            violations: violations
                .iter()
                .map(|v| format!("  {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        });
    }

    let names: BTreeSet<&PackageName> = resolved.iter().map(|r| &r.name).collect();
    let mut distributions = Vec::new();
    let mut entries = Vec::new();
    for (wheel, r) in installed.into_iter().zip(&resolved) {
        distributions.push(distribution(r, &wheel.sha256, &names));
        entries.extend(wheel.entries);
    }
    let lock = lock_text(&resolved, &distributions, target, &request.dependency_file);
    let stats = client.stats();
    Ok(Outcome {
        entries,
        distributions,
        lock,
        indexes: client
            .sources()
            .indexes
            .iter()
            .map(|i| i.url.to_string())
            .collect(),
        files_downloaded: stats.files_downloaded.load(Ordering::Relaxed),
        bytes_downloaded: stats.bytes_downloaded.load(Ordering::Relaxed),
    })
}

/// Resolves `spec` against the indexes (or collects exactly the pinned,
/// hashed files), less the distributions the runtime provides.
fn resolve_fresh(
    request: &Request,
    spec: &DependencySpec,
    client: &Client,
    runtime: &tokio::runtime::Runtime,
    reporter: &dyn Reporter,
) -> Result<Vec<Resolved>, PythonError> {
    let target = &request.target;
    let resolved = if spec.fully_pinned_and_hashed() {
        reporter.stage("collecting pinned, hashed requirements", None);
        exact(client, runtime, target, spec)?
    } else {
        reporter.stage("resolving", None);
        let build = |name: &PackageName, sdist: &DistFile| {
            if !request.build_sdists {
                return Err(sdist::refuse(name, sdist, target));
            }
            let path = runtime.block_on(client.download(sdist, &[]))?;
            sdist::build_pure_wheel(
                name,
                sdist,
                &path,
                target,
                request.python.as_deref(),
                client.sources(),
                &request.cache,
            )
        };
        resolve::resolve(client, runtime, target, spec, Some(&build))?
    };
    Ok(apply_exclusions(
        resolved,
        &request.exclude_packages,
        reporter,
    ))
}

fn distribution(r: &Resolved, sha: &str, installed: &BTreeSet<&PackageName>) -> Distribution {
    let m: &CoreMetadata = &r.metadata;
    Distribution {
        ecosystem: slipway_artifact::Ecosystem::PyPI,
        integrity: None,
        install_path: None,
        name: if m.name.is_empty() {
            r.name.to_string()
        } else {
            m.name.clone()
        },
        version: r.version.to_string(),
        wheel: r.file.filename.clone(),
        wheel_sha256: sha.to_string(),
        wheel_url: (!r.file.local).then(|| sources::redact(&r.file.url)),
        license_expression: m.license_expression.clone(),
        license: m.license.clone(),
        license_classifiers: m.license_classifiers.clone(),
        direct: r.direct,
        requires: r
            .requires
            .iter()
            .filter(|n| installed.contains(n))
            .map(|n| n.to_string())
            .collect(),
        installed_in: slipway_artifact::InstalledIn::Function,
    }
}

/// The lock: hashed requirements.txt, one wheel hash per distribution, so it
/// says exactly which file shipped. Deterministic: no dates, sorted.
fn lock_text(
    resolved: &[Resolved],
    distributions: &[Distribution],
    target: &Target,
    file: &Path,
) -> String {
    let mut out = format!(
        "# Generated by slipway for {} from {}.\n# Exactly what ships: one wheel per distribution, pinned by its SHA-256.\n# Install it again with `slipway build` (requirements = this file) or\n# `pip install --no-deps --require-hashes -r` on the same runtime.\n",
        target.platform_summary(),
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    for (r, d) in resolved.iter().zip(distributions) {
        out.push_str(&format!(
            "{}=={} \\\n    --hash=sha256:{}\n",
            r.name, r.version, d.wheel_sha256
        ));
        let via: Vec<&str> = r.required_by.iter().map(String::as_str).collect();
        if !via.is_empty() {
            out.push_str(&format!("    # via {}\n", via.join(", ")));
        }
    }
    out
}

/// Leaves out `exclude` and every distribution only they need.
fn apply_exclusions(
    resolved: Vec<Resolved>,
    exclude: &[String],
    reporter: &dyn Reporter,
) -> Vec<Resolved> {
    let excluded: BTreeSet<PackageName> = exclude
        .iter()
        .filter_map(|n| PackageName::from_str(n).ok())
        .collect();
    if excluded.is_empty() {
        return resolved;
    }
    let by_name: BTreeMap<&PackageName, &Resolved> =
        resolved.iter().map(|r| (&r.name, r)).collect();
    let mut keep: BTreeSet<PackageName> = BTreeSet::new();
    let mut stack: Vec<&PackageName> = resolved
        .iter()
        .filter(|r| r.direct && !excluded.contains(&r.name))
        .map(|r| &r.name)
        .collect();
    while let Some(n) = stack.pop() {
        if excluded.contains(n) || !keep.insert(n.clone()) {
            continue;
        }
        if let Some(r) = by_name.get(n) {
            stack.extend(r.requires.iter());
        }
    }
    let (kept, dropped): (Vec<Resolved>, Vec<Resolved>) =
        resolved.into_iter().partition(|r| keep.contains(&r.name));
    if !dropped.is_empty() {
        let names: Vec<String> = dropped
            .iter()
            .map(|r| format!("{} {}", r.name, r.version))
            .collect();
        reporter.explain(&format!(
            "left out (provided by the runtime): {}",
            names.join(", ")
        ));
    }
    kept
}

/// The file [`exact`] picked for one pinned requirement, before its download.
struct Chosen {
    /// The requirement's index among the applicable ones.
    requirement: usize,
    file: DistFile,
    tag: String,
    /// Files of the pinned version this target cannot use: (file name, why).
    rejected: Vec<(String, String)>,
}

/// Fully pinned, hashed input: no resolution, exactly the listed files.
fn exact(
    client: &Client,
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    spec: &DependencySpec,
) -> Result<Vec<Resolved>, PythonError> {
    let env = target.marker_environment();
    let reqs = spec.applicable(&env);
    let pages = runtime.block_on(futures::future::join_all(
        reqs.iter()
            .map(|r| client.project_files(&r.requirement.name)),
    ));
    let mut chosen: Vec<Chosen> = Vec::new();
    for (i, (req, page)) in reqs.iter().zip(pages).enumerate() {
        let page = page?;
        let name = &req.requirement.name;
        let version = req.pinned_version().expect("pinned");
        let c = resolve::candidates(name, &page, target);
        let same_version: Vec<&DistFile> = page
            .iter()
            .filter(|f| f.wheel().is_some_and(|w| w.version == version))
            .collect();
        // Among usable wheels of the version, one whose hash the requirement allows.
        let mut best: Option<(usize, &DistFile)> = None;
        for f in &same_version {
            let Some(w) = f.wheel() else { continue };
            let Ok(rank) = target.wheel_rank(&w) else {
                continue;
            };
            // Yanked files stay installable when pinned by version and hash (PEP 592).
            if f.sha256.as_ref().is_some_and(|s| !req.hashes.contains(s)) {
                continue;
            }
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, f));
            }
        }
        let Some((rank, file)) = best else {
            let hashed_elsewhere = same_version
                .iter()
                .any(|f| f.sha256.as_ref().is_some_and(|s| req.hashes.contains(s)));
            let message = if hashed_elsewhere {
                format!(
                    "{} ({}) pins {name}=={version} to files that cannot run on {}",
                    req.origin,
                    req.requirement,
                    target.platform_summary()
                )
            } else {
                format!(
                    "{}: no file of {name}=={version} both matches its --hash values and runs on {}",
                    req.origin,
                    target.platform_summary()
                )
            };
            return Err(PythonError::NoUsableWheel {
                message: format!("{message}\n{}", resolve::describe_unusable(name, &c, target)),
                help: "regenerate the hashes for this runtime and architecture (slipway writes them to dist/<function>/requirements.lock.txt), or pin a version that has a matching wheel".into(),
            });
        };
        let tag = target.tag(rank).to_string();
        let rejected = c
            .rejected
            .iter()
            .filter(|(f, _)| WheelName::parse(f).is_some_and(|w| w.version == version))
            .cloned()
            .collect();
        chosen.push(Chosen {
            requirement: i,
            file: file.clone(),
            tag,
            rejected,
        });
    }
    let metas = runtime.block_on(futures::future::join_all(chosen.iter().map(|c| {
        let allowed = &reqs[c.requirement].hashes;
        async move {
            client.download(&c.file, allowed).await?;
            client.metadata(&c.file).await
        }
    })));
    let mut out: Vec<Resolved> = Vec::new();
    for (c, meta) in chosen.into_iter().zip(metas) {
        let req = reqs[c.requirement];
        out.push(Resolved {
            name: req.requirement.name.clone(),
            version: req.pinned_version().expect("pinned"),
            file: c.file,
            tag: c.tag,
            metadata: meta?,
            direct: true,
            requires: BTreeSet::new(),
            required_by: BTreeSet::new(),
            allowed_hashes: req.hashes.clone(),
            rejected: c.rejected,
        });
    }
    // Edges, and a check that the list is complete: pip's --require-hashes
    // refuses an incomplete list too, since the missing one would fail at import.
    let names: BTreeSet<PackageName> = out.iter().map(|r| r.name.clone()).collect();
    let mut edges: Vec<(usize, PackageName)> = Vec::new();
    for (i, r) in out.iter().enumerate() {
        let extras = &reqs
            .iter()
            .find(|q| q.requirement.name == r.name)
            .expect("listed")
            .requirement
            .extras;
        for dep in r
            .metadata
            .requires_dist
            .iter()
            .filter(|d| d.evaluate_markers(&env, extras))
        {
            if dep.name == r.name {
                continue;
            }
            if !names.contains(&dep.name) {
                let origin = &reqs
                    .iter()
                    .find(|q| q.requirement.name == r.name)
                    .expect("listed")
                    .origin;
                return Err(PythonError::Requirements {
                    file: origin.file.clone(),
                    line: origin.line,
                    message: format!("{} {} requires `{dep}`, which the pinned, hashed list does not include", r.name, r.version),
                    help: "add it with its --hash, or drop the hashes and let slipway resolve (it writes the complete lock to dist/<function>/requirements.lock.txt)".into(),
                });
            }
            edges.push((i, dep.name.clone()));
        }
    }
    for (i, dep) in edges {
        let from = out[i].name.to_string();
        out[i].requires.insert(dep.clone());
        if let Some(t) = out.iter_mut().find(|r| r.name == dep) {
            t.required_by.insert(from);
            t.direct = false;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
