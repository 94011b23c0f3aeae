//! The input hash and the build state that make nothing-changed rebuilds free.
//!
//! The input hash covers normalised inputs only: package paths, contents,
//! executable bits, the resolved configuration, the dependency fingerprint,
//! the timestamp and slipway's version. Never absolute paths or mtimes, so
//! two checkouts of the same commit hash alike.
//!
//! File stamps (mtime, ctime, inode, size) are kept beside the artifacts only
//! to avoid re-reading files whose stamps did not change, the way git's index
//! does; a file modified within the same clock tick as the last build is
//! re-read regardless.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use slipway_artifact::EntryOrigin;

use crate::select::{FileStamp, SelectedFile, Selector};
use crate::{EntryData, PackageError, ZipEntry};

/// The state file written beside each function's artifacts.
pub use slipway_artifact::layout::BUILD_STATE_FILE_NAME;
const BUILD_STATE_VERSION: u32 = 2;

/// What the previous build saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BuildState {
    pub version: u32,
    pub input_hash: String,
    /// When the state was taken (ns since the epoch), to spot racily-clean files.
    pub taken_at_ns: i128,
    /// Package path → (stamp, content SHA-256 hex).
    #[serde(with = "compact_files")]
    pub files: BTreeMap<String, (FileStamp, String)>,
    /// Stamps of each output written, by file name, to notice a changed or missing output.
    pub outputs: BTreeMap<String, FileStamp>,
    /// What the caller wants to report about the build when it is skipped,
    /// so an up-to-date run need not parse the (large) manifest.
    #[serde(default)]
    pub summary: serde_json::Value,
}

impl BuildState {
    /// Reads the state, treating anything unreadable as "no previous build".
    pub fn read(dir: &Path) -> BuildState {
        std::fs::read(dir.join(BUILD_STATE_FILE_NAME))
            .ok()
            .and_then(|b| serde_json::from_slice::<BuildState>(&b).ok())
            .filter(|s| s.version == BUILD_STATE_VERSION)
            .unwrap_or_default()
    }

    pub fn write(&self, dir: &Path) -> Result<(), PackageError> {
        let path = dir.join(BUILD_STATE_FILE_NAME);
        let bytes = serde_json::to_vec(self).expect("state serialises");
        slipway_artifact::fs::write_atomic(&path, &bytes).map_err(PackageError::io("write", path))
    }

    /// Whether every output recorded is still there, unchanged.
    pub fn outputs_intact(&self, dir: &Path) -> bool {
        !self.outputs.is_empty()
            && self.outputs.iter().all(|(name, recorded)| {
                std::fs::metadata(dir.join(name))
                    .is_ok_and(|m| crate::select::stamp_of(&m) == *recorded)
            })
    }

    /// Records the current stamps of `names` in `dir`.
    pub fn record_outputs(&mut self, dir: &Path, names: &[String]) -> Result<(), PackageError> {
        self.outputs.clear();
        for name in names {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).map_err(PackageError::io("read", &path))?;
            self.outputs
                .insert(name.clone(), crate::select::stamp_of(&meta));
        }
        Ok(())
    }
}

/// The file table as one tab-separated string per file: parsing thousands of
/// short strings is several times faster than as many JSON objects, and the
/// no-op build reads this table on every run.
mod compact_files {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::select::FileStamp;

    pub fn serialize<S: Serializer>(
        files: &BTreeMap<String, (FileStamp, String)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        files
            .iter()
            .map(|(path, (st, sha))| {
                format!(
                    "{}\t{}\t{}\t{}\t{sha}\t{path}",
                    st.mtime_ns, st.ctime_ns, st.inode, st.size
                )
            })
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, (FileStamp, String)>, D::Error> {
        let lines = Vec::<String>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for line in lines {
            let mut parts = line.splitn(6, '\t');
            let mut next = || {
                parts
                    .next()
                    .ok_or_else(|| serde::de::Error::custom("short build-state line"))
            };
            let num = |v: &str| v.parse::<i128>().map_err(serde::de::Error::custom);
            let stamp = FileStamp {
                mtime_ns: num(next()?)?,
                ctime_ns: num(next()?)?,
                inode: num(next()?)? as u64,
                size: num(next()?)? as u64,
            };
            let sha = next()?.to_string();
            out.insert(next()?.to_string(), (stamp, sha));
        }
        Ok(out)
    }
}

/// A selected file with its content hash.
#[derive(Debug, Clone)]
pub struct HashedFile {
    pub file: SelectedFile,
    pub sha256: String,
    /// The content, when this run read the file (its stamps could not vouch
    /// for it); `None` when the hash came from the previous build's state.
    pub content: Option<Vec<u8>>,
}

impl HashedFile {
    pub fn was_read(&self) -> bool {
        self.content.is_some()
    }

    /// The zip entry for this source file. Content this run already read is
    /// handed over with its hash, so a cold build reads and hashes each file once.
    pub fn take_zip_entry(&mut self) -> ZipEntry {
        let data = match self.content.take() {
            Some(content) => EntryData::Hashed {
                content,
                sha256: hex::decode(&self.sha256)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .expect("hash_sources writes 32-byte hex digests"),
            },
            None => EntryData::File(self.file.disk_path.clone()),
        };
        ZipEntry {
            path: self.file.zip_path.clone(),
            executable: self.file.executable,
            data,
            origin: EntryOrigin::Source,
        }
    }
}

/// Hashes the selected files, reusing the previous state's hashes for files
/// whose stamps did not change, and refusing files whose content is a secret.
pub fn hash_sources(
    selector: &Selector,
    files: Vec<SelectedFile>,
    previous: &BuildState,
) -> Result<Vec<HashedFile>, PackageError> {
    // Files whose stamps vouch for them are settled without a thread pool:
    // on a nothing-changed build that is every file, and the pool would cost
    // more than the lookups.
    let trusted = |file: &SelectedFile| {
        previous.files.get(&file.zip_path).and_then(|(stamp, sha)| {
            (*stamp == file.stamp && stamp.mtime_ns < previous.taken_at_ns - 1_000_000_000)
                .then_some(sha)
        })
    };
    if files.iter().all(|f| trusted(f).is_some()) {
        return Ok(files
            .into_iter()
            .map(|file| HashedFile {
                sha256: trusted(&file).expect("checked above").clone(),
                file,
                content: None,
            })
            .collect());
    }
    files
        .into_par_iter()
        .map(|file| {
            if let Some(sha) = trusted(&file) {
                return Ok(HashedFile {
                    sha256: sha.clone(),
                    file,
                    content: None,
                });
            }
            let content = std::fs::read(&file.disk_path)
                .map_err(PackageError::io("read", &file.disk_path))?;
            if let Some(reason) = selector.secret_content(&file, &content) {
                return Err(PackageError::Secret {
                    path: file.zip_path.clone(),
                    reason: reason.to_string(),
                });
            }
            Ok(HashedFile {
                sha256: hex::encode(Sha256::digest(&content)),
                file,
                content: Some(content),
            })
        })
        .collect()
}

/// Builds the input hash from labelled fields; each value is length-prefixed
/// so no two different inputs can run together into the same bytes.
#[derive(Default)]
pub struct InputHasher {
    hash: Sha256,
}

impl InputHasher {
    pub fn new() -> InputHasher {
        let mut h = InputHasher::default();
        h.field("slipway-input-hash", "v1");
        h
    }

    pub fn field(&mut self, label: &str, value: &str) -> &mut Self {
        for part in [label.as_bytes(), value.as_bytes()] {
            self.hash.update((part.len() as u64).to_le_bytes());
            self.hash.update(part);
        }
        self
    }

    pub fn files(&mut self, files: &[HashedFile]) -> &mut Self {
        for f in files {
            let mode = if f.file.executable { "755" } else { "644" };
            self.field("file", &f.file.zip_path)
                .field("mode", mode)
                .field("sha256", &f.sha256);
        }
        self
    }

    pub fn finish(&self) -> String {
        hex::encode(self.hash.clone().finalize())
    }
}

/// The state to record after a successful build.
pub fn new_state(input_hash: &str, files: &[HashedFile], taken_at_ns: i128) -> BuildState {
    BuildState {
        version: BUILD_STATE_VERSION,
        input_hash: input_hash.to_string(),
        taken_at_ns,
        files: files
            .iter()
            .map(|f| (f.file.zip_path.clone(), (f.file.stamp, f.sha256.clone())))
            .collect(),
        outputs: BTreeMap::new(),
        summary: serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_run_together() {
        let a = InputHasher::new().field("x", "ab").field("y", "c").finish();
        let b = InputHasher::new().field("x", "a").field("y", "bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn unchanged_files_are_not_read_again_and_changed_ones_are() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "1").unwrap();
        std::fs::write(dir.path().join("b.py"), "2").unwrap();
        let sel = Selector::new(dir.path(), &[], &[], &[]).unwrap();
        let first = hash_sources(&sel, sel.select().unwrap(), &BuildState::default()).unwrap();
        assert!(first.iter().all(|f| f.was_read()));
        // Pretend the state was taken well after the files were written.
        let state = new_state("h", &first, i128::MAX / 2);
        let second = hash_sources(&sel, sel.select().unwrap(), &state).unwrap();
        assert!(second.iter().all(|f| !f.was_read()));
        std::fs::write(dir.path().join("b.py"), "22").unwrap();
        let third = hash_sources(&sel, sel.select().unwrap(), &state).unwrap();
        let b = third.iter().find(|f| f.file.zip_path == "b.py").unwrap();
        assert!(b.was_read());
        assert_ne!(b.sha256, first[1].sha256);
    }
}
