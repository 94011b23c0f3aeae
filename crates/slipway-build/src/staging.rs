//! How a build changes `dist/` without ever leaving garbage or a mix:
//! one lock per `dist/` held while a build changes it, a staging folder per
//! function that replaces `dist/<function>/` only once complete, stale
//! staging folders (of killed builds) swept by the next lock holder, and
//! staging folders removed when the process is interrupted.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use slipway_artifact::layout;

use crate::error::{Failure, Kind};

/// Staging folders of builds in progress in this process, removed on SIGINT
/// or SIGTERM by [`remove_in_progress`].
static IN_PROGRESS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// An exclusive lock (`flock`) on one `dist/` folder, released when dropped (or when
/// the process dies, however it dies: the kernel drops `flock` locks).
pub(crate) struct DistLock {
    _file: File,
}

impl DistLock {
    /// Waits for the lock on `out`; `waiting` is called once if another
    /// build holds it.
    pub(crate) fn acquire(out: &Path, waiting: impl FnOnce()) -> Result<DistLock, Failure> {
        std::fs::create_dir_all(out).map_err(|e| Failure::io("create", out, e, Kind::Input))?;
        // The folder itself is the lock: no lock file to leave behind or race on.
        let path = out;
        let file = File::open(out).map_err(|e| Failure::io("open", out, e, Kind::Input))?;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is open for the lifetime of `file`.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(Failure::io("lock", path, e, Kind::CheckFailed));
            }
            waiting();
            loop {
                // SAFETY: as above.
                if unsafe { libc::flock(fd, libc::LOCK_EX) } == 0 {
                    break;
                }
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Failure::io("lock", path, e, Kind::CheckFailed));
                }
            }
        }
        Ok(DistLock { _file: file })
    }

    /// Removes what killed builds left in `out`: staging folders and replaced
    /// builds. Only the lock holder creates them, so while it holds the lock
    /// none of them belongs to a live build.
    pub(crate) fn sweep(&self, out: &Path) -> usize {
        let Ok(read) = std::fs::read_dir(out) else {
            return 0;
        };
        let mut removed = 0;
        for entry in read.filter_map(Result::ok) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let stale = name.starts_with(layout::OLD_PREFIX)
                || (name.starts_with('.') && name.contains(".staging-"));
            if stale
                && entry.file_type().is_ok_and(|t| t.is_dir())
                && std::fs::remove_dir_all(entry.path()).is_ok()
            {
                tracing::info!(
                    "removed {} left by an interrupted build",
                    entry.path().display()
                );
                removed += 1;
            }
        }
        removed
    }
}

/// A staging folder for one function's build; removed when dropped unless
/// committed.
pub(crate) struct Staging {
    path: PathBuf,
}

impl Staging {
    /// A fresh folder beside `dist/<function>/` on the same file system, so
    /// the final step is a rename.
    pub(crate) fn create(out: &Path, function: &str) -> Result<Staging, Failure> {
        let mut registry = IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
        let path = tempfile::Builder::new()
            .prefix(&layout::staging_prefix(function))
            .tempdir_in(out)
            .map_err(|e| Failure::io("create a staging folder in", out, e, Kind::CheckFailed))?
            .keep();
        registry.insert(path.clone());
        Ok(Staging { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Swaps the finished staging folder into place. The old folder is moved
    /// aside first, so at every instant `dist/<function>/` is either the old
    /// complete build or the new one (or briefly absent), never a mix.
    pub(crate) fn commit(self, dist_dir: &Path) -> Result<(), Failure> {
        let fail =
            |e: std::io::Error| Failure::io("move the build into", dist_dir, e, Kind::CheckFailed);
        if dist_dir.exists() {
            let parent = dist_dir.parent().unwrap_or(Path::new("."));
            let aside = tempfile::Builder::new()
                .prefix(layout::OLD_PREFIX)
                .tempdir_in(parent)
                .map_err(fail)?
                .keep();
            std::fs::rename(dist_dir, aside.join("build")).map_err(fail)?;
            std::fs::rename(&self.path, dist_dir).map_err(fail)?;
            let _ = std::fs::remove_dir_all(&aside);
        } else {
            std::fs::rename(&self.path, dist_dir).map_err(fail)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // After a commit the folder is gone and this is a no-op.
        let _ = std::fs::remove_dir_all(&self.path);
        IN_PROGRESS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.path);
    }
}

/// Removes the staging folders of builds in progress in this process: for a
/// front end's SIGINT/SIGTERM handling, just before the process ends.
pub fn remove_in_progress() {
    let registry = IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
    for path in registry.iter() {
        let _ = std::fs::remove_dir_all(path);
    }
}

/// Makes SIGINT and SIGTERM remove this process's staging folders before
/// it ends with the signal (as it would have without the handler). For
/// front ends that have no signal handling of their own; call once.
pub fn remove_staging_on_interrupt() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        WAKE_FD.store(fds[1], std::sync::atomic::Ordering::SeqCst);
        let read_fd = fds[0];
        let spawned = std::thread::Builder::new()
            .name("slipway-interrupt".into())
            .spawn(move || {
                let mut sig = 0u8;
                loop {
                    // SAFETY: reads one byte into `sig` from our own pipe.
                    let n = unsafe { libc::read(read_fd, (&raw mut sig).cast(), 1) };
                    if n == 1 {
                        break;
                    }
                    if n == 0 {
                        return;
                    }
                }
                remove_in_progress();
                let sig = i32::from(sig);
                // SAFETY: restoring the default action and re-raising ends
                // the process with the signal, as the parent expects.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                    libc::raise(sig);
                }
            });
        if spawned.is_err() {
            return;
        }
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: the handler only writes one byte to a pipe, which is
            // async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    });
}

static WAKE_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once SIGINT or SIGTERM arrived (with [`remove_staging_on_interrupt`]):
/// the process is about to end with the signal, and a front end should not
/// end it first with an exit code of its own.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

extern "C" fn on_signal(sig: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let fd = WAKE_FD.load(std::sync::atomic::Ordering::SeqCst);
    let byte = sig as u8;
    // SAFETY: write(2) is async-signal-safe; the byte lives on this stack.
    unsafe {
        libc::write(fd, (&raw const byte).cast(), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_removes_stale_staging_and_replaced_builds_only() {
        let out = tempfile::tempdir().unwrap();
        for d in [".api.staging-abc", ".old-xyz", "api", ".hidden"] {
            std::fs::create_dir(out.path().join(d)).unwrap();
        }
        std::fs::write(out.path().join(".x.staging-file"), b"").unwrap();
        let lock = DistLock::acquire(out.path(), || {}).unwrap();
        assert_eq!(lock.sweep(out.path()), 2);
        let mut left: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".hidden", ".x.staging-file", "api"]);
    }

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let out = tempfile::tempdir().unwrap();
        let first = DistLock::acquire(out.path(), || panic!("free lock")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = out.path().to_path_buf();
        let second = std::thread::spawn(move || {
            let _lock = DistLock::acquire(&dir, || tx.send("waiting").unwrap()).unwrap();
        });
        assert_eq!(rx.recv().unwrap(), "waiting");
        drop(first);
        second.join().unwrap();
    }

    #[test]
    fn a_dropped_staging_folder_is_removed() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::create(out.path(), "api").unwrap();
        let path = staging.path().to_path_buf();
        std::fs::write(path.join("api.zip"), b"half").unwrap();
        assert!(IN_PROGRESS.lock().unwrap().contains(&path));
        drop(staging);
        assert!(!path.exists());
        assert!(!IN_PROGRESS.lock().unwrap().contains(&path));
    }
}
