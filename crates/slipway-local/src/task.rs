//! The execution environment's folders: the built zip unpacked as Lambda
//! unpacks it (`/var/task`), layers under an `/opt`-like folder, and the
//! runtime folder holding slipway's launcher (`/var/runtime`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use slipway_artifact::{MANIFEST_FILE_NAME, Manifest, Runtime};
use slipway_config::Architecture;

use crate::LocalError;

/// The launcher every Python runtime process starts with.
pub const BOOTSTRAP_PY: &str = include_str!("slipway_lambda_bootstrap.py");
/// Its module name; unusual so no function's module shadows it.
pub const BOOTSTRAP_MODULE: &str = "slipway_lambda_bootstrap";
/// The launcher every Node.js runtime process starts with.
pub const BOOTSTRAP_NODE: &str = include_str!("slipway_lambda_bootstrap.mjs");
/// Its file name in the runtime folder.
pub const BOOTSTRAP_NODE_FILE: &str = "slipway_lambda_bootstrap.mjs";

/// A built function, read from `dist/<function>/`.
#[derive(Debug, Clone)]
pub struct BuiltFunction {
    pub dist_dir: PathBuf,
    pub manifest: Manifest,
}

impl BuiltFunction {
    /// Reads `dist_dir/manifest.json` and refuses a function this machine
    /// cannot run (another architecture, a runtime slipway cannot start).
    pub fn open(dist_dir: &Path) -> Result<BuiltFunction, LocalError> {
        let manifest = Manifest::read(&dist_dir.join(MANIFEST_FILE_NAME))?;
        let host = Architecture::host();
        if host != Some(manifest.architecture) {
            return Err(LocalError::Architecture {
                function: manifest.function.clone(),
                built: manifest.architecture.lambda_name().to_owned(),
                host: host
                    .map(|h| h.lambda_name().to_owned())
                    .unwrap_or_else(|| std::env::consts::ARCH.to_owned()),
            });
        }
        Ok(BuiltFunction {
            dist_dir: dist_dir.to_path_buf(),
            manifest,
        })
    }

    /// The Python minor version of the runtime (`12` for `python3.12`);
    /// `None` for .NET and custom runtimes.
    pub fn python_minor(&self) -> Option<u32> {
        match self.launch() {
            crate::native::Launch::Python { minor } => Some(minor),
            _ => None,
        }
    }

    /// The Node.js major version for a `nodejsNN.x` function, `None` otherwise.
    pub fn node_major(&self) -> Option<u32> {
        match self.launch() {
            crate::native::Launch::Node { major } => Some(major),
            _ => None,
        }
    }

    /// How the runtime's process starts.
    pub fn launch(&self) -> crate::native::Launch {
        crate::native::Launch::of(self.manifest.runtime)
    }
}

/// Task roots are named `slipway-task-<pid>-…` after the process that owns them.
const TASK_ROOT_PREFIX: &str = "slipway-task-";

/// Removes the task roots of slipway processes that no longer run (killed
/// with SIGKILL, they could not remove their own). Once per process.
fn sweep_stale_task_roots() {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| {
        let Ok(read) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in read.filter_map(Result::ok) {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(TASK_ROOT_PREFIX))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            // SAFETY: signal 0 only asks whether the process exists.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone && entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// An unpacked execution environment; removed when dropped.
#[derive(Debug)]
pub struct TaskRoot {
    _dir: tempfile::TempDir,
    /// `_HANDLER`, as the build recorded it.
    pub handler: String,
    /// The runtime the build recorded.
    pub runtime: &'static Runtime,
    /// `LAMBDA_TASK_ROOT`: the function zip's content.
    pub task: PathBuf,
    /// Where layers are unpacked (Lambda's `/opt`).
    pub opt: PathBuf,
    /// `LAMBDA_RUNTIME_DIR`: holds the launcher module.
    pub runtime_dir: PathBuf,
}

impl TaskRoot {
    /// Unpacks the function zip and its layer into a new temporary folder.
    pub fn prepare(built: &BuiltFunction) -> Result<TaskRoot, LocalError> {
        sweep_stale_task_roots();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{TASK_ROOT_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| LocalError::io("cannot create a temporary task root", e))?;
        let task = dir.path().join("task");
        let opt = dir.path().join("opt");
        for d in [&task, &opt] {
            std::fs::create_dir_all(d)
                .map_err(|e| LocalError::io(format!("cannot create {}", d.display()), e))?;
        }
        unzip(&built.dist_dir.join(&built.manifest.artifact.file), &task)?;
        if let Some(layer) = &built.manifest.layer {
            // Lambda extracts layers into /opt; Python layers hold `python/…`.
            unzip(&built.dist_dir.join(&layer.file), &opt)?;
        }
        let runtime_dir = match shared_runtime_dir() {
            Some(d) => d,
            None => {
                let d = dir.path().join("runtime");
                write_bootstrap(&d)
                    .map_err(|e| LocalError::io(format!("cannot write {}", d.display()), e))?;
                d
            }
        };
        Ok(TaskRoot {
            _dir: dir,
            handler: built.manifest.handler.clone(),
            runtime: built.manifest.runtime,
            task,
            opt,
            runtime_dir,
        })
    }
}

fn write_bootstrap(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    slipway_artifact::fs::write_atomic(
        &dir.join(format!("{BOOTSTRAP_MODULE}.py")),
        BOOTSTRAP_PY.as_bytes(),
    )?;
    slipway_artifact::fs::write_atomic(&dir.join(BOOTSTRAP_NODE_FILE), BOOTSTRAP_NODE.as_bytes())
}

/// A runtime folder kept between runs (in slipway's cache, named by the
/// launcher's content) so Python compiles the launcher once, not at every
/// cold start. None when the cache cannot be written.
fn shared_runtime_dir() -> Option<PathBuf> {
    let cache = slipway_artifact::fs::cache_root()?;
    let digest = slipway_artifact::digest::sha256_hex(
        [BOOTSTRAP_PY.as_bytes(), BOOTSTRAP_NODE.as_bytes()]
            .concat()
            .as_slice(),
    );
    let dir = cache.join("lambda-runtime").join(&digest[..16]);
    let file = dir.join(format!("{BOOTSTRAP_MODULE}.py"));
    if std::fs::read(&file).ok().as_deref() == Some(BOOTSTRAP_PY.as_bytes())
        && std::fs::read(dir.join(BOOTSTRAP_NODE_FILE)).ok().as_deref()
            == Some(BOOTSTRAP_NODE.as_bytes())
    {
        return Some(dir);
    }
    write_bootstrap(&dir).ok().map(|()| dir)
}

/// Extracts `zip_path` into `dest`, keeping executable bits; entries that
/// would land outside `dest` are refused.
///
/// Not `ZipArchive::extract`: its symlink-safe path resolution and second
/// permissions pass made unpacking a 4,000-file layer about three times
/// slower, on the path of every cold `slipway invoke`; slipway's own zips
/// hold no symlinks.
pub fn unzip(zip_path: &Path, dest: &Path) -> Result<(), LocalError> {
    let fail = |message: String| LocalError::Unpack {
        path: zip_path.to_path_buf(),
        message,
    };
    let file = File::open(zip_path).map_err(|e| fail(e.to_string()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| fail(e.to_string()))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| fail(e.to_string()))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let Some(relative) = entry.enclosed_name() else {
            return Err(fail(format!("entry `{name}` escapes the folder")));
        };
        let target = dest.join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| fail(e.to_string()))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        }
        let mut out = File::create(&target).map_err(|e| fail(e.to_string()))?;
        io::copy(&mut entry, &mut out).map_err(|e| fail(format!("{name}: {e}")))?;
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode & 0o777));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn zip_of(path: &Path, entries: &[(&str, u32)]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        for (name, mode) in entries {
            let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
            zip.start_file(*name, options).unwrap();
            zip.write_all(b"content").unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn unzip_keeps_executable_bits() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.zip");
        zip_of(&archive, &[("bin/tool", 0o755), ("pkg/mod.py", 0o644)]);
        let dest = dir.path().join("out");
        unzip(&archive, &dest).unwrap();
        let mode = |rel: &str| {
            std::fs::metadata(dest.join(rel))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("bin/tool"), 0o755);
        assert_eq!(mode("pkg/mod.py"), 0o644);
        assert_eq!(std::fs::read(dest.join("pkg/mod.py")).unwrap(), b"content");
    }

    #[test]
    fn unzip_refuses_entries_that_escape_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("evil.zip");
        zip_of(&archive, &[("../escaped.txt", 0o644)]);
        let dest = dir.path().join("out");
        std::fs::create_dir_all(&dest).unwrap();
        let err = unzip(&archive, &dest).unwrap_err();
        assert!(
            matches!(&err, LocalError::Unpack { message, .. } if message.contains("escapes the folder")),
            "{err}"
        );
        assert!(!dir.path().join("escaped.txt").exists());
    }
}
