//! Tarballs kept in slipway's cache root under their integrity digest, so a
//! warm build never touches the network and a changed file is never reused.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::tarball::Integrity;

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `SLIPWAY_CACHE_DIR`, else the user's cache folder.
    pub fn from_env() -> Cache {
        Cache::at(
            slipway_artifact::fs::cache_root()
                .unwrap_or_else(|| std::env::temp_dir().join("slipway-cache")),
        )
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tarball_path(&self, integrity: &Integrity) -> PathBuf {
        let hex = integrity.hex();
        self.root
            .join("v1")
            .join("npm")
            .join("tarballs")
            .join(&hex[..2])
            .join(format!("{hex}.tgz"))
    }
}

/// Writes through a temporary file and a rename: readers see all or nothing.
pub fn store(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
