//! The content-addressed cache shared by every project on the machine:
//! wheels stored under their SHA-256, their metadata, and index pages (kept
//! for a short time, and for `--offline`).

use std::path::{Path, PathBuf};

use crate::PythonError;

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// Bumped when the layout changes, so an old slipway and a new one never misread each other.
const LAYOUT: &str = "v1";

impl Cache {
    /// `SLIPWAY_CACHE_DIR`, else the user's cache folder (`~/.cache/slipway` on Linux).
    pub fn from_env() -> Cache {
        let root = slipway_artifact::fs::cache_root()
            .unwrap_or_else(|| std::env::temp_dir().join("slipway-cache"));
        Cache::at(root)
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `wheels/ab/abcdef…/<file name>`: the file name is kept so a cached file
    /// can be recognised (and its tags read) from its hash alone.
    pub fn wheel_dir(&self, sha256: &str) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join("wheels")
            .join(&sha256[..2])
            .join(sha256)
    }

    pub fn wheel_path(&self, sha256: &str, filename: &str) -> PathBuf {
        self.wheel_dir(sha256).join(filename)
    }

    /// The cached file with this hash, whatever its name.
    pub fn find_wheel(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.wheel_dir(sha256);
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
    }

    pub fn metadata_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join("metadata")
            .join(format!("{sha256}.METADATA"))
    }

    /// Facts learnt once per wheel (RECORD verified, ELF findings).
    pub fn wheel_facts_path(&self, sha256: &str) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join("facts")
            .join(format!("{sha256}.json"))
    }

    /// The resolution last made from inputs with this fingerprint.
    pub fn resolution_path(&self, fingerprint: &str) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join("resolutions")
            .join(format!("{fingerprint}.json"))
    }

    pub fn page_path(&self, index_key: &str, project: &str) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join("simple")
            .join(index_key)
            .join(format!("{project}.json"))
    }

    /// The index the local pip uses by default, as it last said.
    pub fn pip_default_index_path(&self) -> PathBuf {
        self.root.join(LAYOUT).join("pip-default-index")
    }

    pub fn temp_dir(&self) -> Result<PathBuf, PythonError> {
        let dir = self.root.join(LAYOUT).join("tmp");
        std::fs::create_dir_all(&dir).map_err(PythonError::io("create", &dir))?;
        Ok(dir)
    }

    /// Writes `bytes` so readers never see a partial file.
    pub fn store(&self, path: &Path, bytes: &[u8]) -> Result<(), PythonError> {
        slipway_artifact::fs::write_atomic(path, bytes).map_err(PythonError::io("write", path))
    }
}
