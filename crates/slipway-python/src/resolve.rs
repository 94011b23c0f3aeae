//! Choosing versions: pubgrub over the versions that have a wheel usable on
//! the target, with extras as virtual packages and markers evaluated for the
//! target. Index pages and metadata are fetched concurrently ahead of the
//! solver, which asks for them one at a time.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, VersionOrUrl};
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, PackageResolutionStatistics,
    PubGrubError, Ranges, Reporter,
};

use crate::PythonError;
use crate::index::{Client, DistFile};
use crate::metadata::CoreMetadata;
use crate::requirements::{DependencySpec, Requirement};
use crate::target::Target;

/// Builds a pure-Python wheel from an sdist, or says why not.
pub type SdistBuilder<'a> = dyn Fn(&PackageName, &DistFile) -> Result<DistFile, PythonError> + 'a;

/// A node of the resolution graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// The function itself: its requirements are the root's dependencies.
    Root,
    Dist(PackageName),
    /// `name[extra]`: depends on `name` at the same version plus the extra's requirements.
    Extra(PackageName, ExtraName),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root => f.write_str("the function's requirements"),
            Node::Dist(n) => write!(f, "{n}"),
            Node::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}

/// The usable files of one project, per version.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The best wheel of each version that has one usable on the target.
    pub versions: BTreeMap<Version, Candidate>,
    /// Files that cannot be used, with the reason (for `-v` and errors).
    pub rejected: Vec<(String, String)>,
    /// Versions with a source distribution but no usable wheel.
    pub sdist_only: BTreeMap<Version, DistFile>,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub file: DistFile,
    /// Rank of the wheel's best tag; lower is better.
    pub rank: usize,
    /// The tag that made it usable, for explanations.
    pub tag: String,
}

/// Sorts a project's files into usable wheels and rejections.
pub fn candidates(project: &PackageName, files: &[DistFile], target: &Target) -> Candidates {
    let python = target.python_full_version();
    let mut out = Candidates::default();
    for file in files {
        if file.yanked {
            out.rejected
                .push((file.filename.clone(), "yanked by its maintainers".into()));
            continue;
        }
        if let Some(spec) = file.requires_python_specifiers()
            && !spec.contains(&python)
        {
            out.rejected
                .push((file.filename.clone(), format!("requires Python {spec}")));
            continue;
        }
        if let Some(wheel) = file.wheel() {
            if &wheel.name != project {
                continue;
            }
            match target.wheel_rank(&wheel) {
                Ok(rank) => {
                    let better = out
                        .versions
                        .get(&wheel.version)
                        .is_none_or(|c| rank < c.rank);
                    if better {
                        let tag = target.tags().get(rank).cloned().unwrap_or_default();
                        out.versions.insert(
                            wheel.version.clone(),
                            Candidate {
                                file: file.clone(),
                                rank,
                                tag,
                            },
                        );
                    }
                }
                Err(reason) => out
                    .rejected
                    .push((file.filename.clone(), reason.to_string())),
            }
        } else if let Some(sdist) = crate::wheel_name::SdistName::parse(&file.filename)
            && &sdist.name == project
        {
            out.sdist_only.insert(sdist.version, file.clone());
        }
    }
    out.sdist_only.retain(|v, _| !out.versions.contains_key(v));
    out
}

/// One chosen distribution.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: PackageName,
    pub version: Version,
    pub file: DistFile,
    pub tag: String,
    pub metadata: Arc<CoreMetadata>,
    /// Named in the function's requirements.
    pub direct: bool,
    /// The distributions it requires (after markers), normalised names.
    pub requires: BTreeSet<PackageName>,
    /// Who asked for it (for the lock's `# via` comments).
    pub required_by: BTreeSet<String>,
    /// Hashes the file must match (from `--hash`), empty when unhashed.
    pub allowed_hashes: Vec<String>,
    /// Rejected files of the same project, for `-v`.
    pub rejected: Vec<(String, String)>,
}

struct Provider<'a> {
    client: &'a Client,
    runtime: &'a tokio::runtime::Runtime,
    target: &'a Target,
    env: MarkerEnvironment,
    root: Vec<&'a Requirement>,
    constraints: HashMap<PackageName, Vec<VersionSpecifiers>>,
    allow_pre: bool,
    candidates: RefCell<HashMap<PackageName, Arc<Candidates>>>,
    /// Sdist-only ranges that left a package without versions, for the error.
    no_wheel: RefCell<BTreeMap<PackageName, Arc<Candidates>>>,
    sdist_builder: Option<&'a SdistBuilder<'a>>,
}

impl Provider<'_> {
    fn candidates(&self, name: &PackageName) -> Result<Arc<Candidates>, PythonError> {
        if let Some(c) = self.candidates.borrow().get(name) {
            return Ok(c.clone());
        }
        let files = self.runtime.block_on(self.client.project_files(name))?;
        if files.is_empty() {
            return Err(PythonError::NotFound {
                package: name.to_string(),
                indexes: self.client.sources().describe_indexes(),
                origin: self
                    .root
                    .iter()
                    .find(|r| &r.requirement.name == name)
                    .map(|r| r.origin.to_string())
                    .unwrap_or_else(|| "the requirements of the packages that need it".into()),
            });
        }
        let c = Arc::new(candidates(name, &files, self.target));
        self.candidates.borrow_mut().insert(name.clone(), c.clone());
        Ok(c)
    }

    fn allowed_by_constraints(&self, name: &PackageName, v: &Version) -> bool {
        self.constraints
            .get(name)
            .is_none_or(|specs| specs.iter().all(|s| s.contains(v)))
    }

    /// Fetches the pages of `wanted` and the metadata of the version the
    /// solver will most likely pick (the newest stable one in range) in the
    /// background, so the network works while the solver thinks.
    fn prefetch(&self, wanted: impl IntoIterator<Item = (PackageName, Ranges<Version>)>) {
        for (name, range) in wanted {
            if self.candidates.borrow().contains_key(&name) {
                continue;
            }
            let client = self.client.clone();
            let target = self.target.clone();
            self.runtime.spawn(async move {
                if let Ok(files) = client.project_files(&name).await {
                    let c = candidates(&name, &files, &target);
                    let best = c
                        .versions
                        .iter()
                        .rev()
                        .find(|(v, _)| range.contains(v) && !v.any_prerelease());
                    if let Some((_, best)) = best {
                        let _ = client.metadata(&best.file).await;
                    }
                }
            });
        }
    }

    fn requirement_range(r: &pep508_rs::Requirement) -> Ranges<Version> {
        match &r.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) => Ranges::from(specs.clone()),
            _ => Ranges::full(),
        }
    }

    fn edges(
        &self,
        reqs: impl Iterator<Item = pep508_rs::Requirement>,
    ) -> Vec<(Node, Ranges<Version>)> {
        let mut out: Vec<(Node, Ranges<Version>)> = Vec::new();
        let mut add = |node: Node, range: Ranges<Version>| {
            if let Some((_, existing)) = out.iter_mut().find(|(n, _)| n == &node) {
                *existing = existing.intersection(&range);
            } else {
                out.push((node, range));
            }
        };
        for r in reqs {
            let range = Self::requirement_range(&r);
            add(Node::Dist(r.name.clone()), range.clone());
            for extra in &r.extras {
                add(Node::Extra(r.name.clone(), extra.clone()), range.clone());
            }
        }
        out
    }
}

impl DependencyProvider for Provider<'_> {
    type P = Node;
    type V = Version;
    type VS = Ranges<Version>;
    type M = String;
    type Priority = (u8, u32, Reverse<usize>);
    type Err = PythonError;

    fn prioritize(
        &self,
        package: &Node,
        range: &Ranges<Version>,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let class = match package {
            Node::Root => 3,
            _ if range.as_singleton().is_some() => 2,
            _ => 1,
        };
        let versions = match package {
            Node::Dist(n) | Node::Extra(n, _) => self
                .candidates
                .borrow()
                .get(n)
                .map(|c| c.versions.len())
                .unwrap_or(usize::MAX / 2),
            Node::Root => 0,
        };
        (class, stats.conflict_count(), Reverse(versions))
    }

    fn choose_version(
        &self,
        package: &Node,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, PythonError> {
        let name = match package {
            Node::Root => return Ok(Some(Version::new([0]))),
            Node::Dist(n) | Node::Extra(n, _) => n,
        };
        let c = self.candidates(name)?;
        let usable = |v: &&Version| range.contains(v) && self.allowed_by_constraints(name, v);
        let stable = c
            .versions
            .keys()
            .rev()
            .filter(usable)
            .find(|v| self.allow_pre || !v.any_prerelease());
        // PEP 440: pre-releases are taken when nothing else satisfies the requirement.
        let chosen = stable
            .or_else(|| c.versions.keys().rev().find(usable))
            .cloned();
        if chosen.is_none() {
            if let Some(builder) = self.sdist_builder
                && let Some((v, sdist)) = c.sdist_only.iter().rev().find(|(v, _)| usable(v))
            {
                let wheel = builder(name, sdist).map_err(|e| match e {
                    PythonError::Sdist { message, help } => PythonError::Sdist {
                        message: format!("{message}\n{}", describe_unusable(name, &c, self.target)),
                        help,
                    },
                    other => other,
                })?;
                let mut updated = (*c).clone();
                updated.versions.insert(
                    v.clone(),
                    Candidate {
                        file: wheel,
                        rank: usize::MAX,
                        tag: "py3-none-any (built from the sdist)".into(),
                    },
                );
                updated.sdist_only.remove(v);
                self.candidates
                    .borrow_mut()
                    .insert(name.clone(), Arc::new(updated));
                return Ok(Some(v.clone()));
            }
            // Worth explaining only when files in the range exist but cannot run here.
            let unusable_in_range = c.sdist_only.keys().any(|v| range.contains(v))
                || c.rejected.iter().any(|(f, _)| {
                    crate::WheelName::parse(f).is_some_and(|w| range.contains(&w.version))
                });
            if unusable_in_range {
                self.no_wheel.borrow_mut().insert(name.clone(), c.clone());
            }
        }
        Ok(chosen)
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, Ranges<Version>, String>, PythonError> {
        let edges = match package {
            Node::Root => self.edges(self.root.iter().map(|r| r.requirement.clone())),
            Node::Dist(name) | Node::Extra(name, _) => {
                let c = self.candidates(name)?;
                let Some(candidate) = c.versions.get(version) else {
                    return Ok(Dependencies::Unavailable("no usable wheel".into()));
                };
                let metadata = self
                    .runtime
                    .block_on(self.client.metadata(&candidate.file))?;
                let extras: Vec<ExtraName> = match package {
                    Node::Extra(_, e) => vec![e.clone()],
                    _ => Vec::new(),
                };
                if let Node::Extra(_, e) = package
                    && !metadata.provides_extras.contains(e)
                    && !metadata.provides_extras.is_empty()
                {
                    tracing::warn!("{name} {version} has no extra `{e}`");
                }
                let reqs: Vec<_> = metadata
                    .requires_dist
                    .iter()
                    .filter(|r| r.evaluate_markers(&self.env, &extras))
                    .cloned()
                    .collect();
                let mut edges = self.edges(reqs.into_iter());
                // A distribution never depends on itself; an extra depends on its distribution at exactly this version.
                edges.retain(|(n, _)| n != &Node::Dist(name.clone()));
                if let Node::Extra(..) = package {
                    edges.push((Node::Dist(name.clone()), Ranges::singleton(version.clone())));
                }
                edges
            }
        };
        self.prefetch(edges.iter().filter_map(|(n, range)| match n {
            Node::Dist(n) => Some((n.clone(), range.clone())),
            _ => None,
        }));
        Ok(Dependencies::Available(edges.into_iter().collect()))
    }
}

/// Resolves `spec` for `target`.
pub fn resolve(
    client: &Client,
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    spec: &DependencySpec,
    sdist_builder: Option<&SdistBuilder<'_>>,
) -> Result<Vec<Resolved>, PythonError> {
    let env = target.marker_environment();
    let root: Vec<&Requirement> = spec.applicable(&env);
    let mut constraints: HashMap<PackageName, Vec<VersionSpecifiers>> = HashMap::new();
    for c in &spec.constraints {
        if !c.requirement.evaluate_markers(&env, &[]) {
            continue;
        }
        if let Some(VersionOrUrl::VersionSpecifier(s)) = &c.requirement.version_or_url {
            constraints
                .entry(c.requirement.name.clone())
                .or_default()
                .push(s.clone());
        }
    }
    let provider = Provider {
        client,
        runtime,
        target,
        env: env.clone(),
        root: root.clone(),
        constraints,
        allow_pre: spec.pre,
        candidates: RefCell::new(HashMap::new()),
        no_wheel: RefCell::new(BTreeMap::new()),
        sdist_builder,
    };
    provider.prefetch(root.iter().map(|r| {
        (
            r.requirement.name.clone(),
            Provider::requirement_range(&r.requirement),
        )
    }));
    let solution = match pubgrub::resolve(&provider, Node::Root, Version::new([0])) {
        Ok(s) => s,
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let mut explanation = DefaultStringReporter::report(&tree);
            explanation = explanation.replace(
                "the function's requirements 0 depends on",
                "the requirements ask for",
            );
            explanation = explanation.replace("the function's requirements 0", "the requirements");
            explanation = explanation.replace(
                "the requirements is forbidden",
                "the requirements cannot be met",
            );
            let no_wheel = provider.no_wheel.borrow();
            for (name, c) in no_wheel.iter() {
                explanation.push_str(&format!("\n\n{}", describe_unusable(name, c, target)));
            }
            return Err(PythonError::Conflict {
                explanation: indent(&explanation),
            });
        }
        Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorRetrievingDependencies { source, .. }) => return Err(source),
        Err(e) => {
            return Err(PythonError::Conflict {
                explanation: e.to_string(),
            });
        }
    };

    // Fold extras into their distributions and record edges.
    let mut resolved: BTreeMap<PackageName, Resolved> = BTreeMap::new();
    let direct: BTreeSet<&PackageName> = root.iter().map(|r| &r.requirement.name).collect();
    for (node, version) in solution.iter() {
        let Node::Dist(name) = node else { continue };
        let c = provider.candidates(name)?;
        let candidate = c
            .versions
            .get(version)
            .expect("chosen versions have candidates")
            .clone();
        let metadata = runtime.block_on(client.metadata(&candidate.file))?;
        let allowed_hashes = root
            .iter()
            .filter(|r| &r.requirement.name == name)
            .flat_map(|r| r.hashes.iter().cloned())
            .collect();
        resolved.insert(
            name.clone(),
            Resolved {
                name: name.clone(),
                version: version.clone(),
                file: candidate.file,
                tag: candidate.tag,
                metadata,
                direct: direct.contains(name),
                requires: BTreeSet::new(),
                required_by: BTreeSet::new(),
                allowed_hashes,
                // Files of this version and of newer ones: they say why nothing newer was taken.
                rejected: c
                    .rejected
                    .iter()
                    .filter(|(f, _)| file_version_at_least(f, version))
                    .cloned()
                    .collect(),
            },
        );
    }
    // Edges: each node's dependencies as the solver saw them, restricted to chosen dists.
    for (node, version) in solution.iter() {
        let (from_name, from_label) = match node {
            Node::Root => (None, "-r requirements".to_string()),
            Node::Dist(n) => (Some(n.clone()), n.to_string()),
            Node::Extra(n, e) => (Some(n.clone()), format!("{n}[{e}]")),
        };
        let Ok(Dependencies::Available(deps)) = provider.get_dependencies(node, version) else {
            continue;
        };
        for (dep, _) in deps.iter() {
            let Node::Dist(dep_name) = dep else { continue };
            if Some(dep_name) == from_name.as_ref() {
                continue;
            }
            if let Some(from) = &from_name
                && let Some(r) = resolved.get_mut(from)
            {
                r.requires.insert(dep_name.clone());
            }
            if let Some(r) = resolved.get_mut(dep_name) {
                r.required_by.insert(from_label.clone());
            }
        }
    }
    Ok(resolved.into_values().collect())
}

fn file_version_at_least(filename: &str, version: &Version) -> bool {
    crate::WheelName::parse(filename).is_some_and(|w| &w.version >= version)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Says why a project has no usable version: per recent version, what the
/// files were built for.
pub fn describe_unusable(name: &PackageName, c: &Candidates, target: &Target) -> String {
    let mut by_version: BTreeMap<Version, Vec<&str>> = BTreeMap::new();
    for (file, reason) in &c.rejected {
        let v = crate::WheelName::parse(file)
            .map(|w| w.version)
            .or_else(|| crate::wheel_name::SdistName::parse(file).map(|s| s.version));
        if let Some(v) = v {
            let list = by_version.entry(v).or_default();
            if !list.contains(&reason.as_str()) {
                list.push(reason);
            }
        }
    }
    for v in c.sdist_only.keys() {
        by_version
            .entry(v.clone())
            .or_default()
            .push("only a source distribution that needs building");
    }
    let mut lines = vec![format!(
        "{name} has no wheel usable on {}:",
        target.platform_summary()
    )];
    for (v, reasons) in by_version.iter().rev().take(5) {
        lines.push(format!("  {name} {v}: {}", reasons.join("; ")));
    }
    if !c.versions.is_empty() {
        let usable: Vec<String> = c
            .versions
            .keys()
            .rev()
            .take(5)
            .map(|v| v.to_string())
            .collect();
        lines.push(format!(
            "  versions that do have a usable wheel: {}",
            usable.join(", ")
        ));
    }
    lines.join("\n")
}
