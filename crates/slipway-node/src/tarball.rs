//! npm tarballs: Subresource Integrity checks and a tar reader that only
//! ever yields regular files under the package's own folder.
//!
//! Why an own reader rather than the `tar` crate: nothing here is unpacked to
//! disk — files go straight into the zip — and every entry kind that could
//! reach outside the package (links, absolute paths, `..`, devices) must be
//! an error naming the package, not a silently skipped or followed entry.
//! The ustar + pax + GNU long-name subset npm's packers write is small.

use std::io::Read;

use base64::Engine;
use sha2::Digest;

use crate::NodeError;

/// Bound on a package's unpacked size: a gzip bomb stops here, not in memory.
const MAX_UNPACKED: u64 = 2 << 30;

/// One regular file of a package, its path relative to the package folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarFile {
    pub path: String,
    pub executable: bool,
    pub content: Vec<u8>,
}

/// A parsed SRI string's strongest hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrity {
    pub algorithm: Algorithm,
    pub digest: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Algorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl Integrity {
    /// The strongest hash of an SRI string (`sha512-… sha1-…`), as npm's
    /// `ssri` picks it. `None` when no hash is in a known algorithm.
    pub fn parse(sri: &str) -> Option<Integrity> {
        sri.split_whitespace()
            .filter_map(|item| {
                let (alg, rest) = item.split_once('-')?;
                let algorithm = match alg {
                    "sha1" => Algorithm::Sha1,
                    "sha256" => Algorithm::Sha256,
                    "sha384" => Algorithm::Sha384,
                    "sha512" => Algorithm::Sha512,
                    _ => return None,
                };
                // SRI allows `?options` after the digest.
                let b64 = rest.split('?').next().unwrap_or("");
                let digest = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
                Some(Integrity { algorithm, digest })
            })
            .max_by_key(|i| i.algorithm)
    }

    pub fn matches(&self, data: &[u8]) -> bool {
        self.algorithm.digest(data) == self.digest
    }

    /// The SRI form of `data`'s digest in this algorithm.
    pub fn sri_of(&self, data: &[u8]) -> String {
        sri(self.algorithm, &self.algorithm.digest(data))
    }

    pub fn hex(&self) -> String {
        hex::encode(&self.digest)
    }

    pub fn to_sri(&self) -> String {
        sri(self.algorithm, &self.digest)
    }
}

fn sri(algorithm: Algorithm, digest: &[u8]) -> String {
    format!(
        "{}-{}",
        algorithm.name(),
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The regular files of a gzip'd npm tarball, first path component
/// stripped (npm packs under `package/`, some registries under the name).
/// Later entries for the same path win, as when npm unpacks.
pub fn read(package: &str, tgz: &[u8]) -> Result<Vec<TarFile>, NodeError> {
    let bad = |message: String| NodeError::Tarball {
        package: package.to_string(),
        message,
    };
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(tgz)
        .take(MAX_UNPACKED)
        .read_to_end(&mut tar)
        .map_err(|e| bad(e.to_string()))?;
    let mut files: Vec<TarFile> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut pax_path: Option<String> = None;
    let mut pax_size: Option<u64> = None;
    let mut long_name: Option<String> = None;
    let mut at = 0usize;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|b| *b == 0) {
            break;
        }
        verify_checksum(header).map_err(bad)?;
        let size = pax_size
            .take()
            .map_or_else(|| octal(&header[124..136]), Ok)
            .map_err(bad)?;
        let kind = header[156];
        let data_start = at + 512;
        let data_end = data_start
            .checked_add(usize::try_from(size).map_err(|_| bad("entry too large".into()))?)
            .filter(|end| *end <= tar.len())
            .ok_or_else(|| bad("entry runs past the end of the archive".into()))?;
        let data = &tar[data_start..data_end];
        at = data_start + (size as usize).div_ceil(512) * 512;

        match kind {
            b'x' => {
                for (key, value) in pax_records(data) {
                    match key.as_str() {
                        "path" => pax_path = Some(value),
                        "size" => pax_size = value.parse().ok(),
                        _ => {}
                    }
                }
                continue;
            }
            b'g' => continue,
            b'L' => {
                long_name = Some(cstr(data));
                continue;
            }
            b'K' => continue,
            _ => {}
        }
        let name = match (pax_path.take(), long_name.take()) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                let name = cstr(&header[0..100]);
                let prefix = if &header[257..262] == b"ustar" {
                    cstr(&header[345..500])
                } else {
                    String::new()
                };
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            }
        };
        let unsafe_entry = |reason: &str| NodeError::UnsafeEntry {
            package: package.to_string(),
            entry: name.clone(),
            reason: reason.to_string(),
        };
        match kind {
            b'0' | 0 | b'7' => {}
            b'5' => continue,
            b'1' => return Err(unsafe_entry("hard links are refused")),
            b'2' => return Err(unsafe_entry("symbolic links are refused")),
            _ => {
                return Err(unsafe_entry(
                    "device, FIFO and other special files are refused",
                ));
            }
        }
        let relative = package_relative(&name).map_err(unsafe_entry)?;
        let Some(relative) = relative else { continue };
        let mode = octal(&header[100..108]).unwrap_or(0o644);
        let file = TarFile {
            path: relative,
            executable: mode & 0o111 != 0,
            content: data.to_vec(),
        };
        match index.get(&file.path) {
            Some(&i) => files[i] = file,
            None => {
                index.insert(file.path.clone(), files.len());
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// The entry's path below the first component; `None` for the top folder
/// itself. Absolute paths, `..`, backslashes and empty components are refused.
fn package_relative(name: &str) -> Result<Option<String>, &'static str> {
    if name.starts_with('/') {
        return Err("absolute paths are refused");
    }
    if name.contains('\\') || name.contains('\0') {
        return Err("backslashes and NUL bytes in paths are refused");
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err("`..` would leave the package's folder");
    }
    if parts.len() < 2 {
        return Ok(None);
    }
    Ok(Some(parts[1..].join("/")))
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// A numeric header field: octal text, or GNU base-256 when the high bit is set.
fn octal(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(*b)))
                .ok_or("numeric field overflows")?;
        }
        return Ok(v);
    }
    let text = cstr(field);
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| format!("bad numeric field `{text}`"))
}

fn verify_checksum(header: &[u8]) -> Result<(), String> {
    let stored = octal(&header[148..156])?;
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(*b)
            }
        })
        .sum();
    if sum == stored {
        Ok(())
    } else {
        Err("header checksum mismatch".into())
    }
}

/// `"<len> key=value\n"` records of a pax extended header.
fn pax_records(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Some(space) = rest.iter().position(|b| *b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        if len <= space || len > rest.len() {
            break;
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|b| *b == b'=') {
            out.push((
                String::from_utf8_lossy(&record[..eq]).into_owned(),
                String::from_utf8_lossy(&record[eq + 1..]).into_owned(),
            ));
        }
        rest = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TarEntry, tarball};

    #[test]
    fn sri_picks_the_strongest_hash() {
        let data = b"hello";
        let sha1 = sri(Algorithm::Sha1, &Algorithm::Sha1.digest(data));
        let sha512 = sri(Algorithm::Sha512, &Algorithm::Sha512.digest(data));
        let i = Integrity::parse(&format!("{sha1} {sha512}")).unwrap();
        assert_eq!(i.algorithm, Algorithm::Sha512);
        assert!(i.matches(data));
        assert!(!i.matches(b"hellO"));
        assert!(Integrity::parse("md5-abc").is_none());
    }

    #[test]
    fn reads_files_strips_the_top_folder_and_keeps_exec_bits() {
        let long = format!("package/{}/x.js", "d".repeat(120));
        let tgz = tarball(&[
            TarEntry::dir("package/"),
            TarEntry::file("package/package.json", b"{}"),
            TarEntry::exec("package/bin/cli.js", b"#!/usr/bin/env node\n"),
            TarEntry::file(&long, b"long"),
        ]);
        let files = read("p", &tgz).unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths[..2], ["package.json", "bin/cli.js"]);
        assert_eq!(files[2].path, long.strip_prefix("package/").unwrap());
        assert!(files[1].executable && !files[0].executable);
    }

    #[test]
    fn links_absolute_and_parent_paths_are_refused() {
        for (entry, reason) in [
            (TarEntry::symlink("package/a", "/etc/passwd"), "symbolic"),
            (TarEntry::hardlink("package/a", "package/b"), "hard"),
            (TarEntry::file("/etc/cron.d/x", b"x"), "absolute"),
            (TarEntry::file("package/../../x", b"x"), "`..`"),
        ] {
            let err = read("evil", &tarball(&[entry])).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("evil") && text.contains(reason), "{text}");
        }
    }

    #[test]
    fn a_later_entry_for_the_same_path_wins_as_when_npm_unpacks() {
        let tgz = tarball(&[
            TarEntry::file("package/a.js", b"first"),
            TarEntry::file("package/b.js", b"b"),
            TarEntry::file("package/a.js", b"second"),
        ]);
        let files = read("p", &tgz).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].content, b"second");
    }

    #[test]
    fn corrupt_archives_are_errors_not_panics() {
        let mut tgz = tarball(&[TarEntry::file("package/a", b"x")]);
        assert!(read("p", &tgz[..10]).is_err());
        let n = tgz.len();
        tgz[n / 2] ^= 0xff;
        assert!(read("p", &tgz).is_err());
    }
}
