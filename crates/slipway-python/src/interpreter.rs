//! Finding the Python interpreter that matches a function's runtime.
//!
//! Interpreters named `python3.X` carry their version in their name, so the
//! common case costs no extra process: that matters because a cold
//! `slipway invoke` should stay close to starting Python by hand. Only a
//! generic name (`--python /usr/bin/python3`) is asked for its version.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why no interpreter could be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InterpreterError {
    #[error("no Python {version} interpreter found (looked on PATH, in {searched})")]
    #[diagnostic(
        code(slipway::python::no_interpreter),
        help(
            "install it (`pyenv install {version}` or `uv python install {version}`), or name one with `--python PATH`"
        )
    )]
    NoPython { version: String, searched: String },

    #[error("{} is Python {found}, but the function runs on python{wanted}", path.display())]
    #[diagnostic(
        code(slipway::python::interpreter_version),
        help("give `--python` an interpreter of version {wanted}")
    )]
    PythonVersion {
        path: PathBuf,
        found: String,
        wanted: String,
    },

    #[error("cannot run {}: {source}", path.display())]
    #[diagnostic(code(slipway::python::interpreter_run))]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The interpreter a function will run under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub path: PathBuf,
    pub minor: u32,
}

/// Finds `python3.{minor}`: `explicit` when given (checked), else on `PATH`
/// (pyenv's shims skipped: they resolve through pyenv's folder, searched
/// next), in pyenv's versions, in uv's managed interpreters, and finally a
/// `python3` on `PATH` whose version matches.
pub fn discover(minor: u32, explicit: Option<&Path>) -> Result<Interpreter, InterpreterError> {
    let wanted = format!("3.{minor}");
    if let Some(path) = explicit {
        let found = probe_version(path)?;
        if found != wanted {
            return Err(InterpreterError::PythonVersion {
                path: path.to_path_buf(),
                found,
                wanted,
            });
        }
        return Ok(Interpreter {
            path: path.to_path_buf(),
            minor,
        });
    }
    let name = format!("python3.{minor}");
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for dir in &path_dirs {
        if is_pyenv_shims(dir) {
            if let Some(candidate) =
                pyenv_selected(dir.parent().expect("shims has a parent"), &name)
            {
                return Ok(Interpreter {
                    path: candidate,
                    minor,
                });
            }
            continue;
        }
        let candidate = dir.join(&name);
        if is_executable(&candidate) {
            return Ok(Interpreter {
                path: candidate,
                minor,
            });
        }
    }
    let pyenv = pyenv_root();
    let uv = uv_python_dir();
    for (root, prefix) in [
        (pyenv.join("versions"), wanted.clone()),
        (uv.clone(), format!("cpython-{wanted}.")),
    ] {
        if let Some(candidate) = newest_in(&root, &prefix, &name) {
            return Ok(Interpreter {
                path: candidate,
                minor,
            });
        }
    }
    for dir in &path_dirs {
        let candidate = dir.join("python3");
        if is_executable(&candidate) && probe_version(&candidate).is_ok_and(|v| v == wanted) {
            return Ok(Interpreter {
                path: candidate,
                minor,
            });
        }
    }
    Err(InterpreterError::NoPython {
        version: wanted,
        searched: format!("{} and {}", pyenv.join("versions").display(), uv.display()),
    })
}

fn is_pyenv_shims(dir: &Path) -> bool {
    dir.ends_with("shims") && dir.parent().is_some_and(|p| p.join("versions").is_dir())
}

/// What pyenv's shim for `name` would run, found the way pyenv finds it
/// (`PYENV_VERSION`, then `.python-version` here or above, then the global
/// `version` file) without paying for pyenv's shell scripts.
fn pyenv_selected(root: &Path, name: &str) -> Option<PathBuf> {
    let names = std::env::var("PYENV_VERSION").ok().or_else(|| {
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors()
            .map(|d| d.join(".python-version"))
            .chain(std::iter::once(root.join("version")))
            .find_map(|f| std::fs::read_to_string(f).ok())
    })?;
    names
        .split([':', '\n', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#') && *n != "system")
        .map(|n| root.join("versions").join(n).join("bin").join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn pyenv_root() -> PathBuf {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".pyenv")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent/.pyenv"))
}

fn uv_python_dir() -> PathBuf {
    std::env::var_os("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("uv").join("python")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent/uv/python"))
}

/// The newest `root/<prefix>*/bin/<name>`, by the version in the folder name.
fn newest_in(root: &Path, prefix: &str, name: &str) -> Option<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let folder = e.file_name().to_string_lossy().into_owned();
            let rest = folder.strip_prefix(prefix)?;
            // `3.12` must not match `3.1`: the prefix ends at a dot or the name's end.
            if !(prefix.ends_with('.') || rest.is_empty() || rest.starts_with('.')) {
                return None;
            }
            let bin = e.path().join("bin").join(name);
            is_executable(&bin).then(|| (version_key(rest), bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn version_key(s: &str) -> Vec<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn probe_version(path: &Path) -> Result<String, InterpreterError> {
    let out = Command::new(path)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .map_err(|source| InterpreterError::Spawn {
            path: path.to_path_buf(),
            source,
        })?;
    if !out.status.success() {
        return Err(InterpreterError::Spawn {
            path: path.to_path_buf(),
            source: std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_folder_wins_and_prefixes_do_not_overlap() {
        let root = tempfile::tempdir().unwrap();
        for v in ["3.12.1", "3.12.10", "3.1.5", "3.12.9"] {
            let bin = root.path().join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            let exe = bin.join(if v.starts_with("3.12") {
                "python3.12"
            } else {
                "python3.1"
            });
            std::fs::write(&exe, "").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let got = newest_in(root.path(), "3.12", "python3.12").unwrap();
        assert!(got.ends_with("3.12.10/bin/python3.12"), "{got:?}");
        assert_eq!(newest_in(root.path(), "3.1", "python3.12"), None);
    }

    #[test]
    fn an_explicit_interpreter_of_the_wrong_version_is_refused() {
        // Not skipped when python3 is missing: every other test here needs
        // a real interpreter too, and a silent pass would hide the check.
        let python = which("python3").expect("python3 on PATH");
        let actual = probe_version(&python).unwrap();
        let minor: u32 = actual.split('.').nth(1).unwrap().parse().unwrap();
        let err = discover(minor + 1, Some(&python)).unwrap_err();
        assert!(
            matches!(err, InterpreterError::PythonVersion { .. }),
            "{err}"
        );
        assert_eq!(discover(minor, Some(&python)).unwrap().minor, minor);
    }

    fn which(name: &str) -> Result<PathBuf, ()> {
        std::env::split_paths(&std::env::var_os("PATH").ok_or(())?)
            .map(|d| d.join(name))
            .find(|p| is_executable(p))
            .ok_or(())
    }
}
