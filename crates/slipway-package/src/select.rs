//! Which source files go into the package.
//!
//! A file is selected when it is under the source folder, matches an
//! `include` glob (or there are none), matches no `exclude` glob, is not
//! ignored by a `.gitignore` in the source folder, and is not caught by the
//! default excludes (VCS folders, caches, virtualenvs, editor files, the build
//! output). Secrets are refused, not skipped, unless an `include` glob names
//! them explicitly: silently dropping a file the user expected is as bad as
//! shipping a key.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::PackageError;

/// An entry found by the parallel walk, before links are followed.
enum Found {
    File {
        zip_path: String,
        path: PathBuf,
        meta: std::fs::Metadata,
    },
    Link {
        zip_path: String,
        path: PathBuf,
    },
    Error {
        key: String,
        error: PackageError,
    },
}

impl Found {
    fn key(&self) -> &str {
        match self {
            Found::File { zip_path, .. } | Found::Link { zip_path, .. } => zip_path,
            Found::Error { key, .. } => key,
        }
    }
}

/// A selected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFile {
    /// `/`-separated path inside the package.
    pub zip_path: String,
    /// Where the content is read from (a symlink's target for links inside the source).
    pub disk_path: PathBuf,
    pub executable: bool,
    pub size: u64,
    /// File identity for the build-state cache: (mtime ns, ctime ns, inode).
    pub stamp: FileStamp,
}

/// What changes when a file's content may have changed. Used only to skip
/// re-hashing unchanged files; never part of any hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FileStamp {
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub inode: u64,
    pub size: u64,
}

/// Folders never packaged unless an `include` names them.
const DEFAULT_EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".idea",
    ".vscode",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".aws-sam",
    ".serverless",
    ".terraform",
    ".slipway",
];

/// File name globs never packaged unless an `include` names them.
const DEFAULT_EXCLUDED_FILES: &[&str] = &[
    "*.pyc",
    "*.pyo",
    "*.swp",
    "*.swo",
    "*~",
    ".#*",
    ".DS_Store",
    "Thumbs.db",
    "slipway.toml",
    ".gitignore",
];

/// File name globs that hold secrets, with the reason shown to the user.
/// One table: the glob set built from it matches by index into it. Names
/// match in any case (`.ENV`, `ID_RSA`, `server.PEM`).
const SECRET_FILES: &[(&str, &str)] = &[
    (".env", "environment file"),
    (".env.*", "environment file"),
    (".envrc", "environment file"),
    ("*.pem", "PEM key or certificate"),
    ("*.key", "private key"),
    ("*.p12", "PKCS#12 key store"),
    ("*.pfx", "PKCS#12 key store"),
    ("id_rsa*", "SSH private key"),
    ("id_dsa*", "SSH private key"),
    ("id_ecdsa*", "SSH private key"),
    ("id_ed25519*", "SSH private key"),
    (".netrc", "credentials file"),
    (".pypirc", "credentials file"),
    (".npmrc", "credentials file"),
];

/// Only this much of a file's start is scanned for secrets: keys and
/// credential files are small, and large files are data. A larger file is
/// named in a warning, so nobody takes the scan for more than it was.
const SECRET_SCAN_MAX_BYTES: u64 = 8 * 1024 * 1024;

pub struct Selector {
    source: PathBuf,
    canonical_source: PathBuf,
    include: Option<GlobSet>,
    /// Include globs that name files literally enough to override defaults and secret checks.
    explicit_include: GlobSet,
    exclude: GlobSet,
    default_files: GlobSet,
    secret_files: GlobSet,
    /// Paths (absolute) never selected: the output folder, for one.
    skip: Vec<PathBuf>,
    /// Files only partly scanned for secrets, said after hashing.
    warnings: std::sync::Mutex<Vec<String>>,
}

impl Selector {
    /// `skip` holds folders to leave out whatever the globs say (the build output).
    pub fn new(
        source: &Path,
        include: &[String],
        exclude: &[String],
        skip: &[PathBuf],
    ) -> Result<Selector, PackageError> {
        let canonical_source = source
            .canonicalize()
            .map_err(PackageError::io("open the source folder", source))?;
        let include_set = (!include.is_empty())
            .then(|| build_set("include", include.iter().map(String::as_str)))
            .transpose()?;
        let explicit: Vec<&str> = include
            .iter()
            .map(String::as_str)
            .filter(|g| is_explicit(g))
            .collect();
        Ok(Selector {
            source: source.to_path_buf(),
            canonical_source,
            include: include_set,
            explicit_include: build_set("include", explicit.into_iter())?,
            exclude: build_set("exclude", exclude.iter().map(String::as_str))?,
            default_files: build_set("defaults", DEFAULT_EXCLUDED_FILES.iter().copied())?,
            secret_files: secret_set(),
            skip: skip
                .iter()
                .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
                .collect(),
            warnings: Default::default(),
        })
    }

    /// What the selection and the secret scan found worth saying (files too
    /// large to scan fully), sorted; each said once.
    pub fn take_warnings(&self) -> Vec<String> {
        let mut w =
            std::mem::take(&mut *self.warnings.lock().expect("no thread panics holding it"));
        w.sort();
        w.dedup();
        w
    }

    /// Walks the source folder and returns the selected files sorted by package path.
    pub fn select(&self) -> Result<Vec<SelectedFile>, PackageError> {
        let mut out = BTreeMap::new();
        // Walk the canonical path so skipped folders compare by prefix, with
        // no system call per entry.
        self.walk_into(&self.canonical_source, "", &mut out, &[])?;
        Ok(out.into_values().collect())
    }

    fn walk_into(
        &self,
        dir: &Path,
        prefix: &str,
        out: &mut BTreeMap<String, SelectedFile>,
        // The folders holding each folder link followed to get here.
        links_from: &[PathBuf],
    ) -> Result<(), PackageError> {
        // Folders are read in parallel (two threads halve the wall time of a
        // nothing-changed build, where stat calls are nearly all the work);
        // entries are sorted afterwards, so the result and the first error
        // never depend on thread timing.
        let found = std::sync::Mutex::new(Vec::new());
        rayon::scope(|scope| {
            self.collect_dir(
                scope,
                dir,
                prefix,
                dir.to_path_buf(),
                std::sync::Arc::new(Vec::new()),
                &found,
            );
        });
        let mut found = found.into_inner().expect("no thread panics holding it");
        found.sort_by(|a, b| a.key().cmp(b.key()));
        for item in found {
            let (zip_path, path, meta) = match item {
                Found::Error { error, .. } => return Err(error),
                Found::File {
                    zip_path,
                    path,
                    meta,
                } => (zip_path, path, meta),
                Found::Link { zip_path, path } => {
                    let target = std::fs::canonicalize(&path)
                        .map_err(PackageError::io("follow the symlink", &path))?;
                    if !target.starts_with(&self.canonical_source) {
                        return Err(PackageError::SymlinkOutside {
                            link: path,
                            target,
                            source_dir: self.source.clone(),
                        });
                    }
                    if target.is_dir() {
                        // The walk reads canonical folders only, so the link's
                        // folder is canonical too. A link to a folder that holds
                        // it, or holds any link followed to get here, would be
                        // walked again and again.
                        let mut chain = links_from.to_vec();
                        chain.push(path.parent().unwrap_or(&path).to_path_buf());
                        if chain.iter().any(|p| p.starts_with(&target)) {
                            return Err(PackageError::SymlinkLoop { link: path, target });
                        }
                        self.walk_into(&target, &zip_path, out, &chain)?;
                        continue;
                    }
                    let meta =
                        std::fs::metadata(&target).map_err(PackageError::io("read", &target))?;
                    (zip_path, target, meta)
                }
            };
            if !meta.is_file() {
                continue; // sockets, fifos, devices
            }
            if let Some(reason) = self.secret_name(&zip_path) {
                return Err(PackageError::Secret {
                    path: zip_path,
                    reason: reason.to_string(),
                });
            }
            out.insert(
                zip_path.clone(),
                SelectedFile {
                    zip_path,
                    disk_path: path,
                    executable: is_executable(&meta),
                    size: meta.len(),
                    stamp: stamp(&meta),
                },
            );
        }
        Ok(())
    }

    /// Reads one folder: files are classified here (their metadata comes from
    /// `fstatat` on the open folder, cheaper than a stat by full path), and
    /// each subfolder is read as its own task. `.gitignore` files found on the
    /// way apply to their folder and below, the deepest deciding first, as git does.
    ///
    /// Why not the `ignore` crate's walker: it stats every entry by its full
    /// path and probes every folder for ignore files with extra system calls,
    /// which made it most of a nothing-changed build's time. Its `Gitignore`
    /// matcher is still what decides what a `.gitignore` means.
    fn collect_dir<'scope>(
        &'scope self,
        scope: &rayon::Scope<'scope>,
        root: &'scope Path,
        prefix: &'scope str,
        dir: PathBuf,
        ignores: std::sync::Arc<Vec<ignore::gitignore::Gitignore>>,
        found: &'scope std::sync::Mutex<Vec<Found>>,
    ) {
        let push = |item: Found| {
            found
                .lock()
                .expect("no thread panics holding it")
                .push(item)
        };
        let io_error = |path: &Path, action: &'static str, e: std::io::Error| Found::Error {
            key: relative_slash_path(path.strip_prefix(root).unwrap_or(path)),
            error: PackageError::Io {
                action,
                path: path.to_path_buf(),
                source: e,
            },
        };
        let entries = match std::fs::read_dir(&dir).and_then(|r| r.collect::<Result<Vec<_>, _>>()) {
            Ok(e) => e,
            Err(e) => return push(io_error(&dir, "read the folder", e)),
        };
        let mut ignores = ignores;
        if entries.iter().any(|e| e.file_name() == ".gitignore") {
            let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
            if let Some(e) = builder.add(dir.join(".gitignore")) {
                return push(io_error(
                    &dir.join(".gitignore"),
                    "read",
                    std::io::Error::other(e.to_string()),
                ));
            }
            match builder.build() {
                Ok(gi) => {
                    let mut stack = (*ignores).clone();
                    stack.push(gi);
                    ignores = std::sync::Arc::new(stack);
                }
                Err(e) => {
                    return push(io_error(
                        &dir.join(".gitignore"),
                        "read",
                        std::io::Error::other(e.to_string()),
                    ));
                }
            }
        }
        let ignored = |path: &Path, is_dir: bool| {
            for gi in ignores.iter().rev() {
                let m = gi.matched(path, is_dir);
                if m.is_ignore() {
                    return true;
                }
                if m.is_whitelist() {
                    return false;
                }
            }
            false
        };
        for entry in entries {
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if self.skip.iter().any(|s| path.starts_with(s)) {
                continue;
            }
            if file_type.is_dir() {
                let name = entry.file_name();
                if DEFAULT_EXCLUDED_DIRS.contains(&name.to_string_lossy().as_ref())
                    || ignored(&path, true)
                {
                    continue;
                }
                let ignores = ignores.clone();
                scope.spawn(move |scope| {
                    self.collect_dir(scope, root, prefix, path, ignores, found)
                });
                continue;
            }
            if ignored(&path, false) {
                continue;
            }
            let rel_path = path.strip_prefix(root).expect("walk stays under its root");
            let rel = relative_slash_path(rel_path);
            let zip_path = if prefix.is_empty() {
                rel
            } else {
                format!("{prefix}/{rel}")
            };
            if !self.wanted(&zip_path) {
                continue;
            }
            // A lossy name would let two files collapse into one entry.
            if rel_path.to_str().is_none() {
                push(Found::Error {
                    key: zip_path,
                    error: PackageError::NonUtf8Name {
                        name: escape_non_utf8(rel_path.as_os_str().as_encoded_bytes()),
                        dir: root.to_path_buf(),
                    },
                });
                continue;
            }
            if file_type.is_symlink() {
                push(Found::Link { zip_path, path });
                continue;
            }
            match entry.metadata() {
                Ok(meta) => push(Found::File {
                    zip_path,
                    path,
                    meta,
                }),
                Err(e) => push(Found::Error {
                    key: zip_path,
                    error: PackageError::Io {
                        action: "read",
                        path,
                        source: e,
                    },
                }),
            }
        }
    }

    fn wanted(&self, zip_path: &str) -> bool {
        if self.exclude.is_match(zip_path) {
            return false;
        }
        let explicit = self.explicit_include.is_match(zip_path);
        if let Some(include) = &self.include
            && !include.is_match(zip_path)
        {
            return false;
        }
        let name = zip_path.rsplit('/').next().unwrap_or(zip_path);
        explicit || !self.default_files.is_match(name)
    }

    fn secret_name(&self, zip_path: &str) -> Option<&'static str> {
        if self.explicit_include.is_match(zip_path) {
            return None;
        }
        let name = zip_path.rsplit('/').next().unwrap_or(zip_path);
        self.secret_files
            .matches(name)
            .first()
            .map(|&i| SECRET_FILES[i].1)
    }

    /// Whether a file's content holds a secret (a private key block or an AWS
    /// secret access key), unless an `include` names it. Called on content the
    /// build reads anyway.
    pub fn secret_content(&self, file: &SelectedFile, content: &[u8]) -> Option<&'static str> {
        if self.explicit_include.is_match(&file.zip_path) {
            return None;
        }
        let start = match content.get(..SECRET_SCAN_MAX_BYTES as usize) {
            Some(start) if start.len() < content.len() => {
                self.warnings
                    .lock()
                    .expect("no thread panics holding it")
                    .push(format!(
                        "{} is too large to scan fully for secrets: only its first {} MiB were checked",
                        file.zip_path,
                        SECRET_SCAN_MAX_BYTES >> 20
                    ));
                start
            }
            _ => content,
        };
        secret_in_content(start)
    }
}

/// An include glob overrides defaults and the secret check when its last
/// component names something beyond wildcards: `.env`, `certs/*.pem` do;
/// `**`, `**/*` do not.
fn is_explicit(glob: &str) -> bool {
    let last = glob.rsplit('/').next().unwrap_or(glob);
    last.chars()
        .any(|c| !matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | ','))
}

fn secret_set() -> GlobSet {
    let mut b = GlobSetBuilder::new();
    // One glob per table row, nothing added: match index i is SECRET_FILES[i].
    for (glob, _) in SECRET_FILES {
        b.add(
            globset::GlobBuilder::new(glob)
                .case_insensitive(true)
                .build()
                .expect("static globs are valid"),
        );
    }
    b.build().expect("static globs are valid")
}

/// `bytes` as text, each byte that is not UTF-8 written as `\xNN`.
fn escape_non_utf8(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn build_set<'a>(
    key: &'static str,
    globs: impl Iterator<Item = &'a str>,
) -> Result<GlobSet, PackageError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| PackageError::Glob {
                key,
                glob: g.to_string(),
                message: e.kind().to_string(),
            })?;
        b.add(glob);
        // `dir/` or `dir` should also select everything below it.
        if !g.contains('*') {
            let below = format!("{}/**", g.trim_end_matches('/'));
            b.add(Glob::new(&below).expect("a valid glob stays valid with /** appended"));
        }
    }
    b.build().map_err(|e| PackageError::Glob {
        key,
        glob: String::new(),
        message: e.to_string(),
    })
}

fn relative_slash_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

/// The stamp of a file's metadata.
pub fn stamp_of(meta: &std::fs::Metadata) -> FileStamp {
    stamp(meta)
}

#[cfg(unix)]
fn stamp(meta: &std::fs::Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    FileStamp {
        mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        inode: meta.ino(),
        size: meta.len(),
    }
}

#[cfg(not(unix))]
fn stamp(meta: &std::fs::Metadata) -> FileStamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    FileStamp {
        mtime_ns,
        ctime_ns: 0,
        inode: 0,
        size: meta.len(),
    }
}

/// Looks for a PEM private key block or an AWS secret access key assignment.
fn secret_in_content(content: &[u8]) -> Option<&'static str> {
    use std::sync::LazyLock;

    use aho_corasick::AhoCorasick;

    // One pass over the content for every marker, in any case. The key's
    // names: `aws_secret_access_key` / `secret_access_key` in credentials and
    // config files, `SecretAccessKey` in what `aws iam create-access-key`
    // and STS print. PGP's armour ends its private block `PRIVATE KEY BLOCK-----`.
    static MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "-----BEGIN ",
                "PRIVATE KEY-----",
                "PRIVATE KEY BLOCK-----",
                "secret_access_key",
                "SecretAccessKey",
            ])
            .expect("static patterns")
    });
    let (mut pem_begin, mut pem_private) = (false, false);
    for m in MARKERS.find_iter(content) {
        match m.pattern().as_usize() {
            0 => pem_begin = true,
            1 | 2 => pem_private = true,
            _ if assigns_aws_secret_key(&content[m.end()..]) => {
                return Some("holds an AWS secret access key");
            }
            _ => {}
        }
        if pem_begin && pem_private {
            return Some("holds a private key");
        }
    }
    None
}

/// Whether the text after `aws_secret_access_key` assigns it a 40-character key.
fn assigns_aws_secret_key(rest: &[u8]) -> bool {
    let quote_or_space = |b: u8| matches!(b, b' ' | b'\t' | b'"' | b'\'');
    let rest = skip_while(rest, quote_or_space);
    let Some((&sep, rest)) = rest.split_first() else {
        return false;
    };
    if sep != b'=' && sep != b':' {
        return false;
    }
    let rest = skip_while(rest, quote_or_space);
    let token_len = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'/' || **b == b'+')
        .count();
    token_len == 40
}

fn skip_while(s: &[u8], f: impl Fn(u8) -> bool) -> &[u8] {
    let n = s.iter().take_while(|b| f(**b)).count();
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, c).unwrap();
        }
        dir
    }

    fn paths(dir: &Path, include: &[&str], exclude: &[&str]) -> Result<Vec<String>, PackageError> {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let sel = Selector::new(dir, &s(include), &s(exclude), &[])?;
        Ok(sel.select()?.into_iter().map(|f| f.zip_path).collect())
    }

    #[test]
    fn default_excludes_and_gitignore_apply() {
        let d = tree(&[
            ("app.py", ""),
            ("pkg/mod.py", ""),
            ("pkg/__pycache__/mod.cpython-312.pyc", ""),
            ("pkg/old.pyc", ""),
            (".git/HEAD", ""),
            (".venv/bin/python", ""),
            ("node_modules/x/index.js", ""),
            ("notes.txt~", ""),
            (".gitignore", "build/\n*.log\n"),
            ("build/out.txt", ""),
            ("debug.log", ""),
        ]);
        assert_eq!(paths(d.path(), &[], &[]).unwrap(), ["app.py", "pkg/mod.py"]);
    }

    #[test]
    fn nested_gitignores_apply_below_their_folder_and_the_deepest_decides() {
        let d = tree(&[
            (".gitignore", "*.log\nbuild/\n"),
            ("app.py", ""),
            ("a.log", ""),
            ("build/x.py", ""),
            ("pkg/.gitignore", "!keep.log\n/local.py\n"),
            ("pkg/keep.log", ""),
            ("pkg/drop.log", ""),
            ("pkg/local.py", ""),
            ("pkg/sub/local.py", ""),
            ("other/keep.log", ""),
        ]);
        assert_eq!(
            paths(d.path(), &[], &[]).unwrap(),
            ["app.py", "pkg/keep.log", "pkg/sub/local.py"],
            "root rules reach pkg/, pkg's own rules override them and are anchored to pkg/"
        );
    }

    #[test]
    fn include_and_exclude_globs() {
        let d = tree(&[
            ("app.py", ""),
            ("tests/test_app.py", ""),
            ("data/a.json", ""),
            ("README.md", ""),
        ]);
        assert_eq!(
            paths(d.path(), &[], &["tests", "*.md"]).unwrap(),
            ["app.py", "data/a.json"]
        );
        assert_eq!(
            paths(d.path(), &["*.py", "data/**"], &[]).unwrap(),
            ["app.py", "data/a.json"]
        );
    }

    #[test]
    fn secrets_are_refused_unless_included_explicitly() {
        let d = tree(&[("app.py", ""), (".env", "TOKEN=x")]);
        let err = paths(d.path(), &[], &[]).unwrap_err();
        assert!(err.to_string().contains(".env"), "{err}");
        assert!(
            paths(d.path(), &["**"], &[]).is_err(),
            "a catch-all is not explicit"
        );
        assert_eq!(
            paths(d.path(), &["app.py", ".env"], &[]).unwrap(),
            [".env", "app.py"]
        );
        assert_eq!(paths(d.path(), &[], &[".env"]).unwrap(), ["app.py"]);
    }

    #[test]
    fn every_secret_name_is_refused_with_its_own_reason() {
        for (name, reason) in [
            (".npmrc", "credentials file"),
            (".pypirc", "credentials file"),
            (".netrc", "credentials file"),
            ("id_ed25519", "SSH private key"),
            (".envrc", "environment file"),
        ] {
            let d = tree(&[("app.py", ""), (name, "x")]);
            let err = paths(d.path(), &[], &[]).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn secret_content_is_recognised() {
        assert!(secret_in_content(b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc").is_some());
        assert!(
            secret_in_content(
                b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
            )
            .is_some()
        );
        assert!(
            secret_in_content(
                b"AWS_SECRET_ACCESS_KEY: \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\""
            )
            .is_some()
        );
        assert!(secret_in_content(b"os.environ['AWS_SECRET_ACCESS_KEY']").is_none());
        assert!(secret_in_content(b"-----BEGIN CERTIFICATE-----").is_none());
    }

    fn secret_reason(files: &[(&str, &str)]) -> String {
        let d = tree(files);
        match paths(d.path(), &[], &[]) {
            Err(PackageError::Secret { reason, .. }) => reason,
            other => panic!("{files:?}: expected a secret refusal, got {other:?}"),
        }
    }

    #[test]
    fn every_secret_name_gets_its_own_reason_in_any_case() {
        for (name, reason) in [
            (".pypirc", "credentials file"),
            (".npmrc", "credentials file"),
            (".netrc", "credentials file"),
            ("server.pem", "PEM key or certificate"),
            ("server.PEM", "PEM key or certificate"),
            ("id_ed25519", "SSH private key"),
            ("ID_RSA", "SSH private key"),
            (".ENV", "environment file"),
            (".env.production", "environment file"),
            ("store.p12", "PKCS#12 key store"),
            ("tls.key", "private key"),
        ] {
            assert_eq!(
                secret_reason(&[("app.py", ""), (&format!("conf/{name}"), "x")]),
                reason,
                "{name}"
            );
        }
        let fine = tree(&[("environment.py", ""), ("keys.py", ""), ("pem.txt", "")]);
        assert_eq!(
            paths(fine.path(), &[], &[]).unwrap(),
            ["environment.py", "keys.py", "pem.txt"],
            "names that merely resemble secrets are fine"
        );
    }

    #[test]
    fn secret_content_covers_pgp_and_aws_cli_output() {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert!(secret_in_content(b"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBF...").is_some());
        assert!(secret_in_content(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n").is_none());
        let cli = format!(
            "{{\n    \"AccessKey\": {{\n        \"UserName\": \"ci\",\n        \"AccessKeyId\": \"AKIAIOSFODNN7EXAMPLE\",\n        \"Status\": \"Active\",\n        \"SecretAccessKey\": \"{key}\"\n    }}\n}}\n"
        );
        assert!(secret_in_content(cli.as_bytes()).is_some(), "{cli}");
        assert!(secret_in_content(format!("secret_access_key = {key}\n").as_bytes()).is_some());
        assert!(secret_in_content(b"SecretAccessKey = os.environ['X']").is_none());
    }

    #[test]
    fn large_files_are_scanned_from_the_start_and_named_in_a_warning() {
        let mut big = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n".to_vec();
        big.resize(SECRET_SCAN_MAX_BYTES as usize + 10, b'a');
        let d = tree(&[("app.py", "")]);
        std::fs::write(d.path().join("blob.bin"), &big).unwrap();
        let sel = Selector::new(d.path(), &[], &[], &[]).unwrap();
        let files = sel.select().unwrap();
        let Err(err) = crate::input_hash::hash_sources(&sel, files.clone(), &Default::default())
        else {
            panic!("a key at the start of a large file is found");
        };
        assert!(err.to_string().contains("blob.bin"), "{err}");

        std::fs::write(d.path().join("blob.bin"), vec![b'a'; big.len()]).unwrap();
        let files = sel.select().unwrap();
        crate::input_hash::hash_sources(&sel, files, &Default::default()).unwrap();
        let warnings = sel.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("blob.bin") && warnings[0].contains("too large to scan fully"),
            "{warnings:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_refused_naming_the_link() {
        let d = tree(&[("app.py", "")]);
        std::os::unix::fs::symlink(".", d.path().join("a")).unwrap();
        std::os::unix::fs::symlink(".", d.path().join("b")).unwrap();
        let err = paths(d.path(), &[], &[]).unwrap_err();
        assert!(matches!(err, PackageError::SymlinkLoop { .. }), "{err}");
        assert!(err.to_string().contains("/a"), "{err}");

        // A loop through two folders.
        let d = tree(&[("x/one.py", ""), ("y/two.py", "")]);
        std::os::unix::fs::symlink("../y", d.path().join("x/to_y")).unwrap();
        std::os::unix::fs::symlink("../x", d.path().join("y/to_x")).unwrap();
        let err = paths(d.path(), &[], &[]).unwrap_err();
        assert!(matches!(err, PackageError::SymlinkLoop { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_are_refused_by_name() {
        use std::os::unix::ffi::OsStrExt;
        let d = tree(&[("app.py", "")]);
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
        std::fs::write(d.path().join(name), "a").unwrap();
        std::fs::write(
            d.path().join(std::ffi::OsStr::from_bytes(b"caf\xff.py")),
            "b",
        )
        .unwrap();
        let err = paths(d.path(), &[], &[]).unwrap_err();
        assert!(matches!(err, PackageError::NonUtf8Name { .. }), "{err}");
        assert!(err.to_string().contains("caf\\xe9.py"), "{err}");
        assert_eq!(
            paths(d.path(), &[], &["caf*"]).unwrap(),
            ["app.py"],
            "an exclude glob can leave them out"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_inside_are_followed_and_outside_refused() {
        let outside = tree(&[("secret.txt", "x")]);
        let d = tree(&[("app.py", ""), ("lib/real.py", "y")]);
        std::os::unix::fs::symlink(d.path().join("lib/real.py"), d.path().join("alias.py"))
            .unwrap();
        std::os::unix::fs::symlink(d.path().join("lib"), d.path().join("lib2")).unwrap();
        assert_eq!(
            paths(d.path(), &[], &[]).unwrap(),
            ["alias.py", "app.py", "lib/real.py", "lib2/real.py"]
        );
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), d.path().join("leak.txt"))
            .unwrap();
        let err = paths(d.path(), &[], &[]).unwrap_err();
        assert!(matches!(err, PackageError::SymlinkOutside { .. }), "{err}");
        assert_eq!(
            paths(d.path(), &[], &["leak.txt"]).unwrap().len(),
            4,
            "an excluded link is fine"
        );
    }
}
