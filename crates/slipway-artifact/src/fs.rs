//! Writing files so that an interrupted command never leaves a half-written
//! file that looks whole: write beside the target, flush, then rename.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], with the content produced by `fill`.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_atomic_as(path, fill, Sharing::Readable)
}

/// Like [`write_atomic`] for secrets (private keys): the file is readable by
/// its owner only, from the moment it exists.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_as(path, |w| w.write_all(bytes), Sharing::OwnerOnly)
}

#[derive(PartialEq)]
enum Sharing {
    Readable,
    OwnerOnly,
}

fn write_atomic_as(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<()>,
    sharing: Sharing,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    // The temporary file is created 0600, which is what a secret keeps.
    if sharing == Sharing::Readable {
        set_readable_mode(tmp.as_file())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// slipway's cache folder, shared by every project on the machine:
/// `SLIPWAY_CACHE_DIR`, else the user's cache folder (`~/.cache/slipway` on Linux).
pub fn cache_root() -> Option<std::path::PathBuf> {
    match std::env::var_os("SLIPWAY_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => Some(std::path::PathBuf::from(dir)),
        _ => dirs::cache_dir().map(|d| d.join("slipway")),
    }
}

/// Temporary files are created 0600; artifacts are meant to be shared like any other build output.
#[cfg(unix)]
fn set_readable_mode(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable_mode(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn artifacts_are_readable_and_private_files_are_not() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |name: &str| {
            std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        write_atomic(&dir.path().join("a"), b"x").unwrap();
        write_atomic_private(&dir.path().join("k"), b"secret").unwrap();
        assert_eq!(mode("a"), 0o644);
        assert_eq!(mode("k"), 0o600);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        write_atomic(&target, b"old").unwrap();
        let err = write_atomic_with(&target, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "temporary left behind: {names:?}");
    }
}
