//! Reading a function's dependency file: `requirements.txt` (with includes,
//! constraints, hashes and index options), `pyproject.toml` (`[project]
//! dependencies`) or `uv.lock`. Every error names the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version};
use pep508_rs::{MarkerEnvironment, PackageName, VersionOrUrl};

use crate::PythonError;

/// Where a requirement was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One requirement line.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub requirement: pep508_rs::Requirement,
    /// `sha256` digests (lowercase hex) the file must match; empty when unhashed.
    pub hashes: Vec<String>,
    pub origin: Origin,
}

impl Requirement {
    /// The exact version when the requirement is `==X` (no wildcard), else `None`.
    pub fn pinned_version(&self) -> Option<Version> {
        match &self.requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specs)) if specs.len() == 1 => {
                let s = specs.iter().next()?;
                matches!(s.operator(), Operator::Equal | Operator::ExactEqual)
                    .then(|| s.version().clone())
            }
            _ => None,
        }
    }
}

/// Everything the dependency file says.
#[derive(Debug, Clone, Default)]
pub struct DependencySpec {
    pub requirements: Vec<Requirement>,
    /// `-c` constraints: they limit versions but install nothing themselves.
    pub constraints: Vec<Requirement>,
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    /// `--find-links` folders, absolute.
    pub find_links: Vec<PathBuf>,
    pub no_index: bool,
    /// `--pre`: pre-releases are candidates.
    pub pre: bool,
    /// Every file read, the dependency file first (for the build's fingerprint).
    pub files: Vec<PathBuf>,
}

impl DependencySpec {
    /// True when every requirement names one exact version and carries hashes:
    /// such input is installed exactly as written, with no resolution.
    pub fn fully_pinned_and_hashed(&self) -> bool {
        !self.requirements.is_empty()
            && self
                .requirements
                .iter()
                .all(|r| r.pinned_version().is_some() && !r.hashes.is_empty())
    }

    /// Keeps the requirements whose markers hold on the target.
    pub fn applicable(&self, env: &MarkerEnvironment) -> Vec<&Requirement> {
        self.requirements
            .iter()
            .filter(|r| r.requirement.evaluate_markers(env, &[]))
            .collect()
    }
}

/// Reads the dependency file, choosing the format by its name.
pub fn read(path: &Path, env: &MarkerEnvironment) -> Result<DependencySpec, PythonError> {
    match file_name(path) {
        "pyproject.toml" => read_pyproject(path),
        "uv.lock" => read_uv_lock(path, env),
        _ => read_requirements(path),
    }
}

/// The files whose bytes decide what [`read`] returns (the dependency file
/// first) and the `--find-links` folders they name: the inputs of the build's
/// fingerprint. `pyproject.toml` and `uv.lock` include nothing, so they are
/// not parsed: a large lock would cost a nothing-changed build more than
/// everything else it does.
pub fn inputs(path: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), PythonError> {
    match file_name(path) {
        "pyproject.toml" | "uv.lock" => Ok((vec![path.to_path_buf()], Vec::new())),
        _ => read_requirements(path).map(|spec| (spec.files, spec.find_links)),
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn read_requirements(path: &Path) -> Result<DependencySpec, PythonError> {
    let mut spec = DependencySpec::default();
    let mut reader = RequirementsReader {
        spec: &mut spec,
        stack: Vec::new(),
    };
    reader.read(path, Kind::Requirement)?;
    check_hash_mode(&spec)?;
    Ok(spec)
}

/// pip's rule: once one requirement is hashed, all must be, or an unhashed
/// download could slip in beside the checked ones.
fn check_hash_mode(spec: &DependencySpec) -> Result<(), PythonError> {
    if spec.requirements.iter().any(|r| !r.hashes.is_empty())
        && let Some(r) = spec.requirements.iter().find(|r| r.hashes.is_empty())
    {
        return Err(PythonError::Requirements {
                file: r.origin.file.clone(),
                line: r.origin.line,
                message: format!("`{}` has no --hash while other requirements do", r.requirement.name),
                help: "hash every requirement (for example with the lock slipway writes to dist/<function>/requirements.lock.txt) or none".into(),
            });
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requirement,
    Constraint,
}

struct RequirementsReader<'a> {
    spec: &'a mut DependencySpec,
    stack: Vec<PathBuf>,
}

impl RequirementsReader<'_> {
    fn read(&mut self, path: &Path, kind: Kind) -> Result<(), PythonError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.stack.contains(&canonical) {
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(PythonError::io("read", path))?;
        self.spec.files.push(path.to_path_buf());
        self.stack.push(canonical);
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (line_no, line) in logical_lines(&text) {
            let err = |message: String, help: &str| PythonError::Requirements {
                file: path.to_path_buf(),
                line: line_no,
                message,
                help: help.to_string(),
            };
            let line = expand_env(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                let (option, value) = split_option(line);
                let need = |v: Option<String>| {
                    v.filter(|v| !v.is_empty()).ok_or_else(|| {
                        err(
                            format!("`{option}` needs a value"),
                            "write it as `--option value`",
                        )
                    })
                };
                match option.as_str() {
                    "-r" | "--requirement" => {
                        let file = dir.join(need(value)?);
                        self.read(&file, kind).map_err(|e| match e {
                            PythonError::Io { source, .. } => err(
                                format!(
                                    "cannot read the included file {}: {source}",
                                    file.display()
                                ),
                                "paths in -r lines are relative to the file that includes them",
                            ),
                            other => other,
                        })?;
                    }
                    "-c" | "--constraint" => {
                        let file = dir.join(need(value)?);
                        self.read(&file, Kind::Constraint).map_err(|e| match e {
                            PythonError::Io { source, .. } => err(
                                format!(
                                    "cannot read the constraints file {}: {source}",
                                    file.display()
                                ),
                                "paths in -c lines are relative to the file that includes them",
                            ),
                            other => other,
                        })?;
                    }
                    "-i" | "--index-url" => self.spec.index_url = Some(need(value)?),
                    "--extra-index-url" => self.spec.extra_index_urls.push(need(value)?),
                    "-f" | "--find-links" => {
                        let v = need(value)?;
                        if v.contains("://") && !v.starts_with("file://") {
                            return Err(err(
                                format!("--find-links `{v}`: only local folders are supported"),
                                "download the files into a folder and point --find-links at it, or serve them as an index (--extra-index-url)",
                            ));
                        }
                        self.spec
                            .find_links
                            .push(dir.join(v.trim_start_matches("file://")));
                    }
                    "--no-index" => self.spec.no_index = true,
                    "--pre" => self.spec.pre = true,
                    // Binary-only is always in force for a Lambda target; these change nothing.
                    "--only-binary" | "--prefer-binary" | "--require-hashes" | "--trusted-host"
                    | "--use-feature" | "--no-binary" => {}
                    "-e" | "--editable" => {
                        return Err(err(
                            "editable requirements cannot go into a Lambda package".into(),
                            "put the package's code in the function's source folder, or build a wheel of it and list it by name",
                        ));
                    }
                    other => {
                        return Err(err(
                            format!("unknown option `{other}`"),
                            "slipway reads -r, -c, -i/--index-url, --extra-index-url, -f/--find-links, --no-index, --pre and --hash",
                        ));
                    }
                }
                continue;
            }
            let requirement = parse_requirement_line(line, &err)?;
            let requirement = Requirement {
                requirement: requirement.0,
                hashes: requirement.1,
                origin: Origin {
                    file: path.to_path_buf(),
                    line: line_no,
                },
            };
            match kind {
                Kind::Requirement => self.spec.requirements.push(requirement),
                Kind::Constraint => self.spec.constraints.push(requirement),
            }
        }
        self.stack.pop();
        Ok(())
    }
}

/// A requirement and its per-line options (`--hash=sha256:…`).
fn parse_requirement_line(
    line: &str,
    err: &dyn Fn(String, &str) -> PythonError,
) -> Result<(pep508_rs::Requirement, Vec<String>), PythonError> {
    // Options start at the first whitespace-separated token beginning with `-`;
    // a PEP 508 requirement never has one (markers and versions do not start with `-`).
    let mut requirement_part = line;
    let mut options = "";
    let bytes = line.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i] == b'-' && bytes[i - 1].is_ascii_whitespace() {
            requirement_part = line[..i].trim_end();
            options = &line[i..];
            break;
        }
    }
    let mut hashes = Vec::new();
    let mut tokens = options.split_whitespace();
    while let Some(token) = tokens.next() {
        let value = if token == "--hash" {
            tokens.next().map(str::to_string)
        } else if let Some(v) = token.strip_prefix("--hash=") {
            Some(v.to_string())
        } else {
            return Err(err(
                format!("unsupported per-requirement option `{token}`"),
                "only --hash=sha256:<hex> may follow a requirement",
            ));
        };
        let value = value.unwrap_or_default();
        match value.split_once(':') {
            Some(("sha256", hex))
                if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                hashes.push(hex.to_ascii_lowercase())
            }
            // Other algorithms are legal for pip but cannot be checked against the SHA-256 the index gives.
            Some((algo, _)) if algo != "sha256" => {
                return Err(err(
                    format!("--hash uses {algo}; slipway checks sha256"),
                    "write the hash as --hash=sha256:<64 hex digits>",
                ));
            }
            _ => {
                return Err(err(
                    format!("malformed --hash `{value}`"),
                    "write the hash as --hash=sha256:<64 hex digits>",
                ));
            }
        }
    }
    if requirement_part.contains("://")
        || requirement_part.starts_with('.')
        || requirement_part.starts_with('/')
    {
        return Err(err(
            format!("`{requirement_part}`: requirements by URL or path are not supported"),
            "publish the package to an index or put its wheel in a --find-links folder, then require it by name and version",
        ));
    }
    let requirement = parse_pep508(requirement_part).map_err(|e| {
        err(
            format!(
                "`{requirement_part}` is not a valid requirement: {}",
                first_line(&e)
            ),
            "write requirements as `name[extra]>=1.0 ; python_version >= \"3.9\"` (PEP 508)",
        )
    })?;
    if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
        return Err(err(
            format!("`{requirement_part}`: requirements by URL are not supported"),
            "publish the package to an index or put its wheel in a --find-links folder, then require it by name and version",
        ));
    }
    Ok((requirement, hashes))
}

/// A PEP 508 requirement, or why not. pep508_rs 0.9 panics instead of
/// failing on a name that ends in `-`, `_` or `.` right before a character
/// outside ASCII (`A-ዘ`, found by the property tests): such input is refused
/// here first, and any other panic of the parser is caught, so a hostile
/// `METADATA` or requirements file is an error, never a crash.
pub fn parse_pep508(text: &str) -> Result<pep508_rs::Requirement, String> {
    let name_end = text
        .trim_start()
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
    if let Some(end) = name_end {
        let trimmed = text.trim_start();
        if trimmed[..end].ends_with(['-', '_', '.'])
            && trimmed[end..].chars().next().is_some_and(|c| !c.is_ascii())
        {
            return Err(format!(
                "the name `{}` ends in `{}` before `{}`",
                &trimmed[..end],
                &trimmed[end - 1..end],
                trimmed[end..].chars().next().unwrap_or_default()
            ));
        }
    }
    // The parser, and the Display of its errors (which slices the input at
    // positions that need not be character boundaries), can panic on hostile
    // text: both run inside the guard.
    std::panic::catch_unwind(|| pep508_rs::Requirement::from_str(text).map_err(|e| e.to_string()))
        .map_err(|_| "the PEP 508 parser could not read it".to_string())?
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Joins `\`-continued lines and drops comments; yields each logical line with
/// the number of its first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        let without_comment = strip_comment(raw);
        if let Some(body) = without_comment.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(without_comment);
        out.push((start, std::mem::take(&mut current)));
    }
    if !current.trim().is_empty() {
        out.push((start, current));
    }
    out
}

/// pip treats `#` as a comment at the start of a line or after whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// `${NAME}` is replaced by the environment variable, as pip does (for
/// credentials in index URLs that must not be written into the file).
fn expand_env(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    out
}

/// `--opt=value`, `--opt value`, `-rfile` and `-r file` → (option, value).
fn split_option(line: &str) -> (String, Option<String>) {
    if let Some((opt, value)) = line
        .split_once('=')
        .filter(|(o, _)| o.starts_with("--") && !o.contains(' '))
    {
        return (opt.to_string(), Some(value.trim().to_string()));
    }
    let (opt, value) = match line.split_once(char::is_whitespace) {
        Some((o, v)) => (o, Some(v.trim().to_string())),
        None => (line, None),
    };
    // `-rrequirements.txt`: the option is `-` and one character, which need
    // not be ASCII in a hostile file, so split on a character boundary.
    if !opt.starts_with("--")
        && let Some((at, _)) = opt.char_indices().nth(2)
    {
        return (opt[..at].to_string(), Some(opt[at..].to_string()));
    }
    (opt.to_string(), value)
}

fn read_pyproject(path: &Path) -> Result<DependencySpec, PythonError> {
    let text = std::fs::read_to_string(path).map_err(PythonError::io("read", path))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| PythonError::DependencyFile {
        file: path.to_path_buf(),
        message: format!("not valid TOML: {}", first_line(&e.to_string())),
        help: "fix the syntax of pyproject.toml".into(),
    })?;
    let project = doc.get("project").and_then(|p| p.as_table());
    let deps = project.and_then(|p| p.get("dependencies"));
    let Some(deps) = deps else {
        let dynamic = project
            .and_then(|p| p.get("dynamic"))
            .and_then(|d| d.as_array())
            .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies")));
        return Err(PythonError::DependencyFile {
            file: path.to_path_buf(),
            message: if dynamic {
                "`[project] dependencies` is dynamic; slipway reads only static dependencies".into()
            } else {
                "no `[project] dependencies` list".into()
            },
            help: "list the dependencies in `[project] dependencies`, or point `requirements` at a requirements.txt or uv.lock".into(),
        });
    };
    let items = deps.as_array().ok_or_else(|| PythonError::DependencyFile {
        file: path.to_path_buf(),
        message: "`[project] dependencies` must be a list of strings".into(),
        help: "write dependencies = [\"requests>=2.31\"]".into(),
    })?;
    let mut spec = DependencySpec {
        files: vec![path.to_path_buf()],
        ..Default::default()
    };
    for item in items {
        let Some(s) = item.as_str() else {
            return Err(PythonError::DependencyFile {
                file: path.to_path_buf(),
                message: format!(
                    "`[project] dependencies` must be a list of strings, not `{item}`"
                ),
                help: "write dependencies = [\"requests>=2.31\"]".into(),
            });
        };
        // TOML values carry no line numbers here; find the string in the text.
        let line = text
            .find(s)
            .filter(|_| !s.is_empty())
            .map(|off| text[..off].matches('\n').count() + 1)
            .unwrap_or(0);
        let err = |message: String, help: &str| PythonError::Requirements {
            file: path.to_path_buf(),
            line,
            message,
            help: help.to_string(),
        };
        let (requirement, _) = parse_requirement_line(s, &err)?;
        spec.requirements.push(Requirement {
            requirement,
            hashes: Vec::new(),
            origin: Origin {
                file: path.to_path_buf(),
                line,
            },
        });
    }
    Ok(spec)
}

/// `uv.lock` is a universal lock: it holds packages for every platform. The
/// packages the target needs are found by walking the graph from the project,
/// keeping the edges whose markers hold for the target, and installed exactly.
fn read_uv_lock(path: &Path, env: &MarkerEnvironment) -> Result<DependencySpec, PythonError> {
    let text = std::fs::read_to_string(path).map_err(PythonError::io("read", path))?;
    let bad = |message: String| PythonError::DependencyFile {
        file: path.to_path_buf(),
        message,
        help: "regenerate it with `uv lock`".into(),
    };
    let doc: toml::Table = toml::from_str(&text)
        .map_err(|e| bad(format!("not valid TOML: {}", first_line(&e.to_string()))))?;
    let packages = doc
        .get("package")
        .and_then(|p| p.as_array())
        .ok_or_else(|| bad("no [[package]] entries".into()))?;

    struct Locked<'a> {
        version: Option<&'a str>,
        table: &'a toml::Table,
        is_project: bool,
    }
    let mut by_name: BTreeMap<String, Vec<Locked>> = BTreeMap::new();
    for p in packages {
        let Some(t) = p.as_table() else { continue };
        let name = t
            .get("name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("a [[package]] without a name".into()))?;
        let source = t.get("source").and_then(|s| s.as_table());
        let is_project =
            source.is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"));
        let norm = PackageName::from_str(name)
            .map_err(|e| bad(format!("bad package name `{name}`: {e}")))?;
        by_name.entry(norm.to_string()).or_default().push(Locked {
            version: t.get("version").and_then(|v| v.as_str()),
            table: t,
            is_project,
        });
    }

    let mut spec = DependencySpec {
        files: vec![path.to_path_buf()],
        ..Default::default()
    };
    let mut queue: Vec<(&toml::Table, Vec<String>)> = by_name
        .values()
        .flatten()
        .filter(|l| l.is_project)
        .map(|l| (l.table, Vec::new()))
        .collect();
    if queue.is_empty() {
        return Err(bad("no project package (source = { editable = \".\" } or { virtual = \".\" }) to start from".into()));
    }
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    while let Some((table, extras)) = queue.pop() {
        let mut edges: Vec<&toml::Value> = table
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for extra in &extras {
            if let Some(list) = table
                .get("optional-dependencies")
                .and_then(|o| o.get(extra.as_str()))
                .and_then(|d| d.as_array())
            {
                edges.extend(list.iter());
            }
        }
        for edge in edges {
            let Some(edge) = edge.as_table() else {
                continue;
            };
            let Some(name) = edge.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            if let Some(marker) = edge.get("marker").and_then(|m| m.as_str()) {
                let probe = format!("x ; {marker}");
                let holds = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(&probe)
                    .map(|r| r.evaluate_markers(env, &[]))
                    .map_err(|e| {
                        bad(format!(
                            "bad marker `{marker}`: {}",
                            first_line(&e.to_string())
                        ))
                    })?;
                if !holds {
                    continue;
                }
            }
            let norm = PackageName::from_str(name)
                .map_err(|e| bad(format!("bad package name `{name}`: {e}")))?
                .to_string();
            let candidates = by_name
                .get(&norm)
                .ok_or_else(|| bad(format!("`{name}` is required but not locked")))?;
            // Forked locks hold several versions; the edge names the one it means.
            let wanted = edge.get("version").and_then(|v| v.as_str());
            let Some(locked) = candidates
                .iter()
                .find(|c| wanted.is_none() || c.version == wanted)
            else {
                return Err(bad(format!(
                    "`{name}` {} is required but not locked",
                    wanted.unwrap_or("")
                )));
            };
            let edge_extras: Vec<String> = edge
                .get("extra")
                .and_then(|e| e.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let key = format!("{norm}[{}]", edge_extras.join(","));
            if seen.contains_key(&key) || locked.is_project {
                continue;
            }
            seen.insert(key, norm.clone());
            queue.push((locked.table, edge_extras));
            if spec
                .requirements
                .iter()
                .any(|r| r.requirement.name.as_ref() == norm)
            {
                continue;
            }
            let version = locked
                .version
                .ok_or_else(|| bad(format!("`{name}` has no version")))?;
            let hashes: Vec<String> = locked
                .table
                .get("wheels")
                .and_then(|w| w.as_array())
                .into_iter()
                .flatten()
                .chain(locked.table.get("sdist"))
                .filter_map(|w| w.get("hash").and_then(|h| h.as_str()))
                .filter_map(|h| h.strip_prefix("sha256:").map(str::to_string))
                .collect();
            let requirement = pep508_rs::Requirement::from_str(&format!("{norm}=={version}"))
                .map_err(|e| {
                    bad(format!(
                        "`{name}` {version}: {}",
                        first_line(&e.to_string())
                    ))
                })?;
            let line = text
                .find(&format!("name = \"{name}\"\nversion = \"{version}\""))
                .map(|off| text[..off].matches('\n').count() + 1)
                .unwrap_or(0);
            spec.requirements.push(Requirement {
                requirement,
                hashes,
                origin: Origin {
                    file: path.to_path_buf(),
                    line,
                },
            });
        }
    }
    if let Some(index) = packages
        .iter()
        .filter_map(|p| p.get("source")?.get("registry")?.as_str())
        .next()
    {
        spec.index_url = Some(index.to_string());
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Target;
    use slipway_config::Architecture;

    #[test]
    fn short_options_split_on_a_character_boundary() {
        assert_eq!(
            split_option("-rbase.txt"),
            ("-r".to_string(), Some("base.txt".to_string()))
        );
        // Found by the fuzz test: a multi-byte character after `-` used to
        // split inside it and panic.
        assert_eq!(
            split_option("-\u{e06}$x"),
            ("-\u{e06}".to_string(), Some("$x".to_string()))
        );
        assert_eq!(split_option("-\u{e06}"), ("-\u{e06}".to_string(), None));
    }

    fn env() -> MarkerEnvironment {
        Target::new("python3.12", 12, Architecture::X86_64, (2, 34)).marker_environment()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_pins_ranges_extras_markers_hashes_and_includes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "base.txt", "six==1.16.0  # pinned\n");
        write(dir.path(), "constraints.txt", "idna<3.8\n");
        let main = write(
            dir.path(),
            "requirements.txt",
            "# top comment\n--index-url https://example.invalid/simple\n--extra-index-url=https://extra.invalid/simple\n-r base.txt\n-c constraints.txt\nrequests[socks]>=2.31,<3 ; python_version >= \"3.8\"\ncolorama ; sys_platform == 'win32'\nattrs==23.2.0 \\\n    --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \\\n    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n",
        );
        // Hashed and unhashed lines may not mix.
        let err = read(&main, &env()).unwrap_err();
        assert!(err.to_string().contains("`six` has no --hash"), "{err}");
        assert!(err.to_string().contains("base.txt:1"), "{err}");

        write(dir.path(), "base.txt", "six==1.16.0  # pinned\n");
        let main = write(
            dir.path(),
            "requirements.txt",
            "--index-url https://example.invalid/simple\n-r base.txt\n-c constraints.txt\nrequests[socks]>=2.31,<3 ; python_version >= \"3.8\"\ncolorama ; sys_platform == 'win32'\n",
        );
        let spec = read(&main, &env()).unwrap();
        assert_eq!(
            spec.index_url.as_deref(),
            Some("https://example.invalid/simple")
        );
        let names: Vec<_> = spec
            .requirements
            .iter()
            .map(|r| r.requirement.name.to_string())
            .collect();
        assert_eq!(names, ["six", "requests", "colorama"]);
        assert_eq!(spec.constraints.len(), 1);
        assert_eq!(spec.requirements[1].requirement.extras.len(), 1);
        assert_eq!(spec.requirements[1].origin.line, 4);
        let applicable: Vec<_> = spec
            .applicable(&env())
            .iter()
            .map(|r| r.requirement.name.to_string())
            .collect();
        assert_eq!(
            applicable,
            ["six", "requests"],
            "colorama is for Windows only"
        );
        assert_eq!(spec.files.len(), 3);
        assert!(!spec.fully_pinned_and_hashed());
    }

    #[test]
    fn hashed_pins_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "requirements.txt",
            "attrs==23.2.0 \\\n    --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        );
        let spec = read(&main, &env()).unwrap();
        assert!(spec.fully_pinned_and_hashed());
        assert_eq!(spec.requirements[0].hashes, ["a".repeat(64)]);
        assert_eq!(spec.requirements[0].origin.line, 1);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let main = write(
            dir.path(),
            "requirements.txt",
            "requests\n\nnot a requirement!!\n",
        );
        let err = read(&main, &env()).unwrap_err();
        assert!(err.to_string().contains("requirements.txt:3"), "{err}");
        let main = write(dir.path(), "requirements.txt", "-r missing.txt\n");
        let err = read(&main, &env()).unwrap_err().to_string();
        assert!(
            err.contains("requirements.txt:1") && err.contains("missing.txt"),
            "{err}"
        );
        let main = write(dir.path(), "requirements.txt", "-e .\n");
        assert!(
            read(&main, &env())
                .unwrap_err()
                .to_string()
                .contains("editable")
        );
        let main = write(dir.path(), "requirements.txt", "x==1 --hash=md5:abc\n");
        assert!(read(&main, &env()).unwrap_err().to_string().contains("md5"));
    }

    #[test]
    fn malformed_lines_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let short = "a".repeat(63);
        let not_hex = "g".repeat(64);
        let cases = [
            (format!("x==1 --hash=sha256:{short}"), "malformed --hash"),
            (format!("x==1 --hash=sha256:{not_hex}"), "malformed --hash"),
            ("x==1 --hash".into(), "malformed --hash"),
            ("x==1 --hash=abc".into(), "malformed --hash"),
            (
                "x==1 --no-deps".into(),
                "unsupported per-requirement option `--no-deps`",
            ),
            ("--frobnicate".into(), "unknown option `--frobnicate`"),
            ("--index-url".into(), "`--index-url` needs a value"),
            ("-r".into(), "`-r` needs a value"),
            (
                "--find-links https://example.invalid/wheels/".into(),
                "only local folders",
            ),
            (
                "https://example.invalid/x-1.0-py3-none-any.whl".into(),
                "by URL or path",
            ),
            ("./vendored/x".into(), "by URL or path"),
            (
                "x @ https://example.invalid/x-1.0-py3-none-any.whl".into(),
                "by URL",
            ),
            ("x===".into(), "is not a valid requirement"),
        ];
        for (line, expected) in cases {
            let main = write(
                dir.path(),
                "requirements.txt",
                &format!("ok==1.0\n{line}\n"),
            );
            let err = read(&main, &env()).unwrap_err();
            assert!(
                matches!(err, PythonError::Requirements { line: 2, .. }),
                "{line}: {err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains("requirements.txt:2") && text.contains(expected),
                "{line}: expected `{expected}` in: {text}"
            );
        }
    }

    #[test]
    fn reads_pyproject_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"fn\"\nversion = \"0\"\ndependencies = [\n  \"requests>=2\",\n  \"orjson ; platform_machine == 'x86_64'\",\n]\n",
        );
        let spec = read(&p, &env()).unwrap();
        assert_eq!(spec.requirements.len(), 2);
        assert_eq!(spec.requirements[1].origin.line, 6);
        let p = write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"fn\"\ndynamic = [\"dependencies\"]\n",
        );
        assert!(
            read(&p, &env())
                .unwrap_err()
                .to_string()
                .contains("dynamic")
        );
    }

    #[test]
    fn malformed_pyproject_and_uv_lock_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("pyproject.toml", "[project\n", "not valid TOML"),
            (
                "pyproject.toml",
                "[project]\nname = \"fn\"\n",
                "no `[project] dependencies` list",
            ),
            (
                "pyproject.toml",
                "[project]\ndependencies = \"requests\"\n",
                "must be a list of strings",
            ),
            (
                "pyproject.toml",
                "[project]\ndependencies = [\"requests\", 3]\n",
                "must be a list of strings, not `3`",
            ),
            (
                "pyproject.toml",
                "[project]\ndependencies = [\n  \"requests>=2\",\n  \"not valid!!\",\n]\n",
                "pyproject.toml:4: `not valid!!` is not a valid requirement",
            ),
            ("uv.lock", "version = 1\n[[package]\n", "not valid TOML"),
            ("uv.lock", "version = 1\n", "no [[package]] entries"),
            (
                "uv.lock",
                "version = 1\n[[package]]\nname = \"lib\"\nversion = \"1.0\"\n",
                "no project package",
            ),
            (
                "uv.lock",
                "version = 1\n[[package]]\nname = \"app\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"lib\" }]\n",
                "`lib` is required but not locked",
            ),
            (
                "uv.lock",
                "version = 1\n[[package]]\nname = \"app\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"lib\", marker = \"python_version >>> '3'\" }]\n",
                "bad marker",
            ),
        ];
        for (name, text, expected) in cases {
            let p = write(dir.path(), name, text);
            let err = read(&p, &env()).unwrap_err().to_string();
            assert!(
                err.contains(expected),
                "{text}: expected `{expected}` in: {err}"
            );
        }
    }

    #[test]
    fn reads_uv_lock_for_the_target_only() {
        let dir = tempfile::tempdir().unwrap();
        let h = |c: char| c.to_string().repeat(64);
        let registry = "https://example.invalid/simple/";
        let lock = crate::testing::uv_lock(registry, &h('a'), &h('b'), &h('c'));
        let p = write(dir.path(), "uv.lock", &lock);
        let spec = read(&p, &env()).unwrap();
        let mut names: Vec<_> = spec
            .requirements
            .iter()
            .map(|r| r.requirement.to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["dep==1.0", "lib==1.0"],
            "winonly is for Windows only"
        );
        assert!(spec.fully_pinned_and_hashed());
        let lib = spec
            .requirements
            .iter()
            .find(|r| r.requirement.name.as_ref() == "lib")
            .unwrap();
        assert_eq!(lib.hashes, [h('a')]);
        assert_eq!(spec.index_url.as_deref(), Some(registry));
    }
}
