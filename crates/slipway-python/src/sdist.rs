//! Source distributions: used only when they build to a pure-Python wheel.
//! The build runs the sdist's own PEP 517 backend through pip, in pip's
//! isolated build environment, with a local interpreter of the target's
//! Python version; a result with native code is refused, because a `.so`
//! built on the build host is exactly what slipway exists to keep out.

use std::path::Path;
use std::process::{Command, Stdio};

use pep508_rs::PackageName;

use crate::cache::Cache;
use crate::index::DistFile;
use crate::sources::Sources;
use crate::target::Target;
use crate::{PythonError, WheelName};

/// The error for an sdist slipway will not build.
pub fn refuse(name: &PackageName, sdist: &DistFile, target: &Target) -> PythonError {
    PythonError::Sdist {
        message: format!(
            "{name}: only a source distribution ({}) fits the requirements, and building sdists is turned off",
            sdist.filename
        ),
        help: format!(
            "pin a version of {name} that has a wheel for {}, or allow pure-Python sdist builds",
            target.platform_summary()
        ),
    }
}

/// Builds `sdist` (at `path`) into a wheel and accepts it only if it is pure
/// Python; the wheel is stored in the cache and returned as a local file.
pub fn build_pure_wheel(
    name: &PackageName,
    sdist: &DistFile,
    path: &Path,
    target: &Target,
    python: Option<&Path>,
    sources: &Sources,
    cache: &Cache,
) -> Result<DistFile, PythonError> {
    let python = python
        .map(Path::to_path_buf)
        .or_else(|| {
            crate::interpreter::discover(target.python_minor, None)
                .ok()
                .map(|i| i.path)
        })
        .unwrap_or_else(|| "python3".into());
    let out =
        tempfile::tempdir_in(cache.temp_dir()?).map_err(PythonError::io("create", cache.root()))?;
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--wheel-dir",
    ])
    .arg(out.path())
    .arg(path)
    .stdin(Stdio::null())
    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    // The build backend's own requirements come from the same index (credentials
    // travel in the environment, never on a command line others can read).
    if let Some(index) = sources.indexes.first() {
        cmd.env("PIP_INDEX_URL", index.with_credentials().as_str());
    }
    let output = cmd.output().map_err(|e| PythonError::Sdist {
        message: format!(
            "{name}: cannot run {} to build {}: {e}",
            python.display(),
            sdist.filename
        ),
        help: "install Python 3 with pip, or pass --python".into(),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(PythonError::Sdist {
            message: format!(
                "{name}: building {} failed:\n{}",
                sdist.filename,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ),
            help: format!(
                "pin a version of {name} that publishes a wheel for {}",
                target.platform_summary()
            ),
        });
    }
    let built = std::fs::read_dir(out.path())
        .map_err(PythonError::io("read", out.path()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| PythonError::Sdist {
            message: format!("{name}: building {} produced no wheel", sdist.filename),
            help: format!("pin a version of {name} that publishes a wheel"),
        })?;
    let filename = built
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let wheel = WheelName::parse(&filename).ok_or_else(|| PythonError::Sdist {
        message: format!("{name}: the build produced `{filename}`, which is not a wheel name"),
        help: format!("pin a version of {name} that publishes a wheel"),
    })?;
    if !wheel.is_pure() || target.wheel_rank(&wheel).is_err() {
        return Err(PythonError::Sdist {
            message: format!(
                "{name}: {} builds native code ({filename}); a wheel built on this machine would not match {}",
                sdist.filename,
                target.platform_summary()
            ),
            help: format!(
                "pin a version of {name} that publishes a manylinux wheel for {}, or choose a pure-Python alternative",
                target.machine()
            ),
        });
    }
    let bytes = std::fs::read(&built).map_err(PythonError::io("read", &built))?;
    let sha = slipway_artifact::digest::sha256_hex(&bytes);
    let dest = cache.wheel_path(&sha, &filename);
    cache.store(&dest, &bytes)?;
    Ok(DistFile {
        filename,
        url: dest.to_string_lossy().into_owned(),
        local: true,
        sha256: Some(sha),
        requires_python: None,
        yanked: false,
        core_metadata: None,
        index: None,
        size: Some(bytes.len() as u64),
    })
}
