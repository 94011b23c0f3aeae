//! Reading a built zip back: every entry's digests, for verification and for
//! the SHA-1s SPDX requires.

use std::io::Read;
use std::path::Path;

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::AttestError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDigest {
    pub path: String,
    pub size: u64,
    /// Unix mode bits (permissions only) when the zip records them.
    pub mode: Option<u32>,
    /// Empty unless asked for (verification needs it).
    pub sha256: String,
    /// Empty unless asked for (SPDX needs it; the manifest has the SHA-256s).
    pub sha1: String,
}

/// The one digest to compute per entry: each caller needs one, and hashing
/// every entry twice on every build is what this avoids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryHash {
    Sha256,
    Sha1,
}

/// Decompresses every file entry of a zip in memory and hashes it, in zip
/// order; `path` names it in errors. Its callers also hash or sign the whole
/// zip, so they read it once and hand over the bytes.
pub fn entry_digests_of_bytes(
    bytes: &[u8],
    path: &Path,
    hash: EntryHash,
) -> Result<Vec<EntryDigest>, AttestError> {
    let reader = std::io::Cursor::new(bytes);
    let malformed = |reason: String| AttestError::ZipMalformed {
        path: path.to_path_buf(),
        reason,
    };
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| malformed(e.to_string()))?;
    let mut out = Vec::with_capacity(archive.len());
    let mut buf = vec![0u8; 1 << 16];
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| malformed(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_err(|e| malformed(format!("entry {index}: {e}")))?
            .to_string();
        let mode = entry.unix_mode().map(|m| m & 0o7777);
        let mut sha256 = Sha256::new();
        let mut sha1 = Sha1::new();
        let mut size = 0u64;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| malformed(format!("entry {name}: {e}")))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            match hash {
                EntryHash::Sha256 => sha256.update(&buf[..n]),
                EntryHash::Sha1 => sha1.update(&buf[..n]),
            }
        }
        out.push(EntryDigest {
            path: name,
            size,
            mode,
            sha256: match hash {
                EntryHash::Sha256 => hex::encode(sha256.finalize()),
                EntryHash::Sha1 => String::new(),
            },
            sha1: match hash {
                EntryHash::Sha1 => hex::encode(sha1.finalize()),
                EntryHash::Sha256 => String::new(),
            },
        });
    }
    Ok(out)
}
