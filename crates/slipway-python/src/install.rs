//! Installing a wheel into the package: its entries become zip entries
//! (copied still compressed), laid out the way a Lambda package needs them,
//! every file checked against the wheel's RECORD, nothing unsafe let through.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use slipway_artifact::EntryOrigin;
use slipway_package::select::{FileStamp, stamp_of};
use slipway_package::zip_writer::{Bytes, Precompressed};
use slipway_package::{EntryData, ZipEntry};

use crate::PythonError;
use crate::cache::Cache;
use crate::elf::{self, ElfFacts};

/// What installing one wheel produced.
#[derive(Debug)]
pub struct InstalledWheel {
    /// SHA-256 (hex) of the wheel file, computed from the bytes installed.
    pub sha256: String,
    pub entries: Vec<ZipEntry>,
    /// Facts about each shared object, for the ELF check.
    pub shared_objects: Vec<ElfFacts>,
}

/// Facts about a wheel file learnt the first time it is installed; the
/// wheel's SHA-256 pins them, so later installs neither re-verify, inflate
/// nor hash its entries: they copy each entry's compressed bytes from the
/// recorded offset with the recorded CRC, sizes and digests.
#[derive(Debug, Serialize, Deserialize)]
struct WheelFacts {
    record_verified: bool,
    shared_objects: Vec<ElfFacts>,
    /// Every file the wheel installs, in wheel order. Absent in facts an
    /// older slipway wrote: the wheel is then verified again once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<KnownEntry>>,
    /// The wheel file as it was when its SHA-256 was last computed: while the
    /// file still has these stamps its hash need not be computed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<KnownFile>,
}

/// One installed entry of a wheel, as learnt by inflating it once.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownEntry {
    path: String,
    executable: bool,
    deflated: bool,
    crc32: u32,
    /// Where the entry's compressed bytes start in the wheel file.
    offset: u64,
    compressed_size: u64,
    size: u64,
    /// Hex, like every digest slipway writes.
    sha256: String,
    sha1: String,
}

/// Where a hashed wheel file was and the stamps it had (the way git's index
/// trusts a file whose stamps did not change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KnownFile {
    path: PathBuf,
    stamp: FileStamp,
}

/// Installs the wheel at `path` for distribution `distribution`. When
/// `expected_sha256` is given (the index's or the cache's hash) the bytes must
/// match it; the hash is computed unless the file is the one hashed before,
/// unchanged since. The first install of a wheel verifies every entry against
/// RECORD and records its digests; later installs copy entries raw.
pub fn install_wheel(
    path: &Path,
    filename: &str,
    expected_sha256: Option<&str>,
    distribution: &str,
    cache: &Cache,
) -> Result<InstalledWheel, PythonError> {
    let origin = EntryOrigin::Dependency {
        distribution: distribution.to_string(),
    };
    let read_facts = |sha256: &str| -> Option<WheelFacts> {
        std::fs::read(cache.wheel_facts_path(sha256))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    };
    let (bytes, stamp) = read_stamped(path)?;
    let bytes = Bytes::from(bytes);

    // The file hashed before, unchanged since: its hash is known.
    let here = stamp.map(|stamp| KnownFile {
        path: path.to_path_buf(),
        stamp,
    });
    if let Some(expected) = expected_sha256
        && let Some(facts) = read_facts(expected)
        && here.is_some()
        && facts.file == here
        && let Some(known) = &facts.entries
        && let Some(entries) = entries_from_known(&bytes, known, &origin)
    {
        return Ok(InstalledWheel {
            sha256: expected.to_string(),
            entries,
            shared_objects: facts.shared_objects,
        });
    }

    let sha256 = slipway_artifact::digest::sha256_hex(&bytes);
    if let Some(expected) = expected_sha256
        && expected != sha256
    {
        return Err(PythonError::HashMismatch {
            file: filename.to_string(),
            expected: expected.to_string(),
            actual: sha256,
        });
    }
    let facts_path = cache.wheel_facts_path(&sha256);
    let known = read_facts(&sha256);
    let remember = |facts: &WheelFacts| {
        if let Ok(b) = serde_json::to_vec(facts) {
            let _ = cache.store(&facts_path, &b);
        }
    };

    // Verified before (perhaps as another file with the same bytes).
    if let Some(mut facts) = known
        && facts.record_verified
        && let Some(entries) = facts
            .entries
            .as_deref()
            .and_then(|k| entries_from_known(&bytes, k, &origin))
    {
        if here.is_some() && facts.file != here {
            facts.file = here;
            remember(&facts);
        }
        return Ok(InstalledWheel {
            sha256,
            entries,
            shared_objects: facts.shared_objects,
        });
    }

    let (entries, known_entries, shared_objects) = verify_and_install(&bytes, filename, &origin)?;
    remember(&WheelFacts {
        record_verified: true,
        shared_objects: shared_objects.clone(),
        entries: known_entries,
        file: here,
    });
    Ok(InstalledWheel {
        sha256,
        entries,
        shared_objects,
    })
}

/// Reads a file with the stamps it had throughout the read; `None` stamps
/// when it changed while being read, or when it is too fresh to be trusted
/// by its stamps later (a change within the same clock tick would keep them).
fn read_stamped(path: &Path) -> Result<(Vec<u8>, Option<FileStamp>), PythonError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(PythonError::io("read", path))?;
    let before = file.metadata().map_err(PythonError::io("read", path))?;
    let mut bytes = Vec::with_capacity(before.len() as usize);
    file.read_to_end(&mut bytes)
        .map_err(PythonError::io("read", path))?;
    let after = file.metadata().map_err(PythonError::io("read", path))?;
    let (before, after) = (stamp_of(&before), stamp_of(&after));
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let settled = before.mtime_ns.max(before.ctime_ns) < now_ns - 1_000_000_000;
    let trusted = before == after && before.size == bytes.len() as u64 && settled;
    Ok((bytes, trusted.then_some(before)))
}

/// The zip entries of a wheel from its known entry table: the compressed
/// bytes are sliced out of the file, nothing is inflated or hashed. `None`
/// when the table does not fit the file.
fn entries_from_known(
    bytes: &Bytes,
    known: &[KnownEntry],
    origin: &EntryOrigin,
) -> Option<Vec<ZipEntry>> {
    known
        .iter()
        .map(|k| {
            let start = usize::try_from(k.offset).ok()?;
            let end = start.checked_add(usize::try_from(k.compressed_size).ok()?)?;
            Some(ZipEntry {
                path: k.path.clone(),
                executable: k.executable,
                data: EntryData::Precompressed(Precompressed {
                    deflated: k.deflated,
                    crc32: k.crc32,
                    compressed: (end <= bytes.len()).then(|| bytes.slice(start..end))?,
                    uncompressed_size: k.size,
                    sha256: hex::decode(&k.sha256).ok()?.try_into().ok()?,
                    sha1: hex::decode(&k.sha1).ok()?.try_into().ok()?,
                }),
                origin: origin.clone(),
            })
        })
        .collect()
}

type Verified = (Vec<ZipEntry>, Option<Vec<KnownEntry>>, Vec<ElfFacts>);

/// The first install of a wheel: every entry inflated once, checked against
/// its CRC and RECORD hash, its SHA-1 taken, shared objects inspected.
fn verify_and_install(
    bytes: &[u8],
    filename: &str,
    origin: &EntryOrigin,
) -> Result<Verified, PythonError> {
    let bad = |message: String| PythonError::BadWheel {
        wheel: filename.to_string(),
        message,
    };
    let unsafe_entry = |path: &str, reason: &'static str| PythonError::UnsafeWheel {
        wheel: filename.to_string(),
        path: path.to_string(),
        reason,
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a zip file: {e}")))?;

    // The zip reader keeps one entry per name, so a duplicate shows only as
    // a central directory holding more entries than the reader lists.
    // Readers disagree on which of two same-named entries wins: the RECORD
    // check would vouch for one while another ships.
    if let Some(count) = central_directory_count(bytes)
        && count != zip.len() as u64
    {
        return Err(bad(format!(
            "its central directory lists {count} entries but only {} distinct names: an entry appears twice",
            zip.len()
        )));
    }
    let dist_info = find_dist_info(&zip)
        .ok_or_else(|| bad("no .dist-info folder with WHEEL and RECORD".into()))?;
    let data_dir = format!("{}.data/", dist_info.trim_end_matches(".dist-info"));
    let record_name = format!("{dist_info}/RECORD");
    let record = {
        let mut f = zip
            .by_name(&record_name)
            .map_err(|e| bad(format!("{record_name}: {e}")))?;
        let mut text = String::new();
        f.read_to_string(&mut text)
            .map_err(|e| bad(format!("{record_name}: {e}")))?;
        parse_record(&text).map_err(|m| bad(format!("{record_name}: {m}")))?
    };

    let distribution = match origin {
        EntryOrigin::Dependency { distribution } => distribution.as_str(),
        EntryOrigin::Source => "",
    };
    check_identity(&mut zip, filename, &dist_info, distribution).map_err(bad)?;

    let mut seen = std::collections::HashSet::with_capacity(zip.len());
    let mut entries = Vec::with_capacity(zip.len());
    // Offsets are known for every entry unless the zip reader could not say.
    let mut known = Some(Vec::with_capacity(zip.len()));
    let mut shared_objects = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index_raw(i).map_err(|e| bad(e.to_string()))?;
        let name = String::from_utf8(file.name_raw().to_vec())
            .map_err(|_| bad("an entry name is not UTF-8".into()))?;
        check_wheel_path(&name).map_err(|reason| unsafe_entry(&name, reason))?;
        if !seen.insert(name.clone()) {
            return Err(bad(format!("{name} appears twice in the zip")));
        }
        if file.is_symlink() {
            return Err(unsafe_entry(&name, "symbolic link"));
        }
        if file.is_dir() || name.ends_with('/') {
            continue;
        }
        let Some(dest) = destination(&name, &dist_info, &data_dir) else {
            continue;
        };
        let deflated = match file.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => {
                return Err(bad(format!(
                    "{name} uses compression {other}; wheels use deflate"
                )));
            }
        };
        let crc32 = file.crc32();
        let size = file.size();
        let offset = file.data_start();
        let mut compressed = Vec::with_capacity(file.compressed_size() as usize);
        file.read_to_end(&mut compressed)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let executable = file.unix_mode().is_some_and(|m| m & 0o111 != 0);
        drop(file);

        let recorded = record.get(name.as_str());
        let is_record_itself = name == record_name || name.starts_with(&format!("{record_name}."));
        let content =
            decompress(&compressed, deflated, size).map_err(|e| bad(format!("{name}: {e}")))?;
        if crc32fast::hash(&content) != crc32 {
            return Err(bad(format!("{name}: CRC-32 does not match the zip header")));
        }
        if let Some(recorded_size) = recorded.and_then(|r| r.size)
            && recorded_size != content.len() as u64
        {
            return Err(bad(format!(
                "{name} is {} bytes, RECORD says {recorded_size}",
                content.len()
            )));
        }
        let sha256 = slipway_artifact::digest::sha256(&content);
        match recorded.and_then(|r| r.sha256) {
            Some(expected) if expected != sha256 => {
                return Err(bad(format!("{name} does not match its RECORD hash")));
            }
            None if !is_record_itself => {
                return Err(bad(format!("{name} is not listed in RECORD with a hash")));
            }
            _ => {}
        }
        let sha1: [u8; 20] = Sha1::digest(&content).into();
        if elf::looks_like_shared_object(&dest) {
            match elf::inspect(&dest, &content) {
                Ok(Some(f)) => shared_objects.push(f),
                Ok(None) => {}
                Err(e) => return Err(bad(format!("{name} is not a readable ELF file: {e}"))),
            }
        }
        // The table is only worth keeping if slicing the file reproduces
        // exactly the bytes read here.
        known = known.zip(offset).and_then(|(mut k, offset)| {
            let start = usize::try_from(offset).ok()?;
            (bytes.get(start..start.checked_add(compressed.len())?)? == compressed.as_slice()).then(
                || {
                    k.push(KnownEntry {
                        path: dest.clone(),
                        executable,
                        deflated,
                        crc32,
                        offset,
                        compressed_size: compressed.len() as u64,
                        size,
                        sha256: hex::encode(sha256),
                        sha1: hex::encode(sha1),
                    });
                    k
                },
            )
        });
        entries.push(ZipEntry {
            path: dest,
            executable,
            data: EntryData::Precompressed(Precompressed {
                deflated,
                crc32,
                compressed: Bytes::from(compressed),
                uncompressed_size: size,
                sha256,
                sha1,
            }),
            origin: origin.clone(),
        });
    }
    Ok((entries, known, shared_objects))
}

/// The wheel's file name, its `METADATA` and the distribution it was
/// resolved as must name one distribution (names compared after PEP 503
/// normalisation, versions by PEP 440 equality): otherwise the lock, the
/// SBOM and a vulnerability scan would each speak of a different package.
fn check_identity<R: Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    filename: &str,
    dist_info: &str,
    distribution: &str,
) -> Result<(), String> {
    use std::str::FromStr;
    let from_name = crate::WheelName::parse(filename)
        .ok_or_else(|| format!("`{filename}` is not a valid wheel file name"))?;
    let metadata_path = format!("{dist_info}/METADATA");
    let mut text = String::new();
    zip.by_name(&metadata_path)
        .map_err(|e| format!("{metadata_path}: {e}"))?
        .read_to_string(&mut text)
        .map_err(|e| format!("{metadata_path}: {e}"))?;
    let metadata =
        crate::metadata::CoreMetadata::parse(&text).map_err(|e| format!("{metadata_path}: {e}"))?;
    let name = pep508_rs::PackageName::from_str(metadata.name.trim()).map_err(|_| {
        format!(
            "{metadata_path}: `Name: {}` is not a valid name",
            metadata.name
        )
    })?;
    let version =
        pep508_rs::pep440_rs::Version::from_str(metadata.version.trim()).map_err(|_| {
            format!(
                "{metadata_path}: `Version: {}` is not a PEP 440 version",
                metadata.version
            )
        })?;
    if name != from_name.name {
        return Err(format!(
            "the file name says distribution `{}` but {metadata_path} says `{name}`",
            from_name.name
        ));
    }
    if version != from_name.version {
        return Err(format!(
            "the file name says version {} but {metadata_path} says {version}",
            from_name.version
        ));
    }
    if pep508_rs::PackageName::from_str(distribution).ok().as_ref() != Some(&from_name.name) {
        return Err(format!(
            "it was resolved as `{distribution}` but is a wheel of `{}`",
            from_name.name
        ));
    }
    Ok(())
}

/// The entry count of the End of Central Directory record, when the zip
/// has one that is not ZIP64's placeholder.
fn central_directory_count(bytes: &[u8]) -> Option<u64> {
    const EOCD: &[u8] = b"PK\x05\x06";
    // The record is 22 bytes plus a comment of at most 65,535.
    let start = bytes.len().saturating_sub(22 + 0xFFFF);
    let at = bytes[start..]
        .windows(4)
        .rposition(|w| w == EOCD)
        .map(|i| start + i)?;
    let total = bytes.get(at + 10..at + 12)?;
    let total = u16::from_le_bytes([total[0], total[1]]);
    (total != 0xFFFF).then_some(u64::from(total))
}

fn decompress(compressed: &[u8], deflated: bool, size: u64) -> std::io::Result<Vec<u8>> {
    if !deflated {
        return Ok(compressed.to_vec());
    }
    let mut out = Vec::with_capacity(size as usize);
    flate2::read::DeflateDecoder::new(compressed).read_to_end(&mut out)?;
    if out.len() as u64 != size {
        return Err(std::io::Error::other("size does not match the zip header"));
    }
    Ok(out)
}

/// Where a wheel entry goes in the package, or `None` when it is left out.
fn destination(name: &str, dist_info: &str, data_dir: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix(data_dir) {
        let (scheme, path) = rest.split_once('/')?;
        // purelib and platlib are import paths; scripts point at the build
        // host's interpreter; headers and data belong outside site-packages.
        return match scheme {
            "purelib" | "platlib" => Some(path.to_string()),
            _ => None,
        };
    }
    if let Some(file) = name
        .strip_prefix(dist_info)
        .and_then(|r| r.strip_prefix('/'))
        && matches!(file, "INSTALLER" | "REQUESTED" | "direct_url.json")
    {
        return None;
    }
    if name.starts_with("bin/")
        || name.ends_with(".pyc")
        || name.contains("/__pycache__/")
        || name.starts_with("__pycache__/")
    {
        return None;
    }
    Some(name.to_string())
}

/// Refuses names that could land outside the package (zip-slip) or that
/// readers interpret differently.
fn check_wheel_path(name: &str) -> Result<(), &'static str> {
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return Err("absolute path");
    }
    if name.contains('\\') {
        return Err("backslash in path");
    }
    if name.contains('\0') {
        return Err("NUL byte in path");
    }
    if name.split('/').any(|c| c == "..") {
        return Err("`..` leaves the package");
    }
    Ok(())
}

fn find_dist_info<R: Read + std::io::Seek>(zip: &zip::ZipArchive<R>) -> Option<String> {
    let mut found = None;
    for n in zip.file_names().filter_map(|n| n.ok()) {
        if let Some(dir) = n.strip_suffix("/WHEEL")
            && dir.ends_with(".dist-info")
            && !dir.contains('/')
        {
            found = Some(dir.to_string());
        }
    }
    found
}

pub(crate) struct RecordLine {
    sha256: Option<[u8; 32]>,
    size: Option<u64>,
}

/// RECORD is CSV (path,hash,size); paths with commas are quoted.
pub(crate) fn parse_record(text: &str) -> Result<HashMap<String, RecordLine>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line);
        let path = fields.first().cloned().unwrap_or_default();
        let hash = fields.get(1).map(String::as_str).unwrap_or("");
        let sha256 = if hash.is_empty() {
            None
        } else {
            let (algo, value) = hash
                .split_once('=')
                .ok_or_else(|| format!("line {}: malformed hash `{hash}`", i + 1))?;
            if algo != "sha256" {
                return Err(format!(
                    "line {}: hash algorithm {algo}; wheels use sha256",
                    i + 1
                ));
            }
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value.trim_end_matches('='))
                .map_err(|_| format!("line {}: hash is not base64", i + 1))?;
            Some(
                raw.try_into()
                    .map_err(|_| format!("line {}: hash is not 32 bytes", i + 1))?,
            )
        };
        let size = match fields.get(2).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse()
                    .map_err(|_| format!("line {}: size `{s}` is not a number", i + 1))?,
            ),
        };
        out.insert(path, RecordLine { sha256, size });
    }
    Ok(out)
}

fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_entries_for_lambda() {
        let di = "demo-1.0.dist-info";
        let dd = "demo-1.0.data/";
        assert_eq!(
            destination("demo/__init__.py", di, dd).as_deref(),
            Some("demo/__init__.py")
        );
        assert_eq!(
            destination("demo-1.0.data/platlib/_demo.so", di, dd).as_deref(),
            Some("_demo.so")
        );
        assert_eq!(
            destination("demo-1.0.data/purelib/x/y.py", di, dd).as_deref(),
            Some("x/y.py")
        );
        assert_eq!(destination("demo-1.0.data/scripts/demo", di, dd), None);
        assert_eq!(destination("bin/demo", di, dd), None);
        assert_eq!(destination("demo-1.0.dist-info/INSTALLER", di, dd), None);
        assert_eq!(
            destination("demo-1.0.dist-info/METADATA", di, dd).as_deref(),
            Some("demo-1.0.dist-info/METADATA")
        );
        assert_eq!(
            destination("demo/__pycache__/x.cpython-312.pyc", di, dd),
            None
        );
    }

    #[test]
    fn refuses_paths_that_escape() {
        assert!(check_wheel_path("../evil.py").is_err());
        assert!(check_wheel_path("demo/../../evil.py").is_err());
        assert!(check_wheel_path("/etc/passwd").is_err());
        assert!(check_wheel_path("C:/x").is_err());
        assert!(check_wheel_path("demo\\x").is_err());
        assert!(check_wheel_path("demo/ok.py").is_ok());
    }

    #[test]
    fn reads_record_csv() {
        let r = parse_record(
            "a.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\"b,c.py\",,\nd/RECORD,,\n",
        )
        .unwrap();
        assert!(r["a.py"].sha256.is_some());
        assert!(r["b,c.py"].sha256.is_none());
        assert!(parse_record("a.py,md5=abc,1\n").is_err());
    }

    fn install(
        spec_bytes: &[u8],
        filename: &str,
        distribution: &str,
    ) -> Result<InstalledWheel, PythonError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(filename);
        std::fs::write(&path, spec_bytes).unwrap();
        install_wheel(
            &path,
            filename,
            None,
            distribution,
            &Cache::at(dir.path().join("cache")),
        )
    }

    #[test]
    fn name_and_version_must_agree_between_file_name_and_metadata() {
        use crate::testing::WheelSpec;
        let spec = WheelSpec::new("Demo.Pkg", "1.0", "py3-none-any");
        let bytes = spec.build();
        install(&bytes, "demo_pkg-1.0-py3-none-any.whl", "demo-pkg").unwrap();
        install(&bytes, "Demo_Pkg-1.0.0-py3-none-any.whl", "demo_pkg").unwrap();
        for (filename, distribution, needle) in [
            (
                "other-1.0-py3-none-any.whl",
                "other",
                "says distribution `other`",
            ),
            (
                "demo_pkg-2.0-py3-none-any.whl",
                "demo-pkg",
                "says version 2.0",
            ),
            (
                "demo_pkg-1.0-py3-none-any.whl",
                "requests",
                "resolved as `requests`",
            ),
        ] {
            let err = install(&bytes, filename, distribution).unwrap_err();
            assert!(
                err.to_string().contains(filename) && err.to_string().contains(needle),
                "{filename}: {err}"
            );
        }
    }

    #[test]
    fn duplicate_entries_and_record_size_mismatches_are_refused() {
        use crate::testing::WheelSpec;
        let spec = WheelSpec::new("demo", "1.0", "py3-none-any")
            .file("demo/a.py", "x = 1\n")
            .file("demo/b.py", "x = 1\n");
        let mut bytes = spec.build();
        install(&bytes, &spec.filename(), "demo").unwrap();
        // Rename b.py to a.py in the local and central headers alike.
        let (from, to) = (b"demo/b.py", b"demo/a.py");
        let mut i = 0;
        while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
            bytes[i + at..i + at + to.len()].copy_from_slice(to);
            i += at + to.len();
        }
        let err = install(&bytes, &spec.filename(), "demo").unwrap_err();
        assert!(
            err.to_string().contains(&spec.filename()) && err.to_string().contains("appears twice"),
            "{err}"
        );

        let mut spec = WheelSpec::new("demo", "1.0", "py3-none-any");
        spec.tamper_record_size = true;
        let err = install(&spec.build(), &spec.filename(), "demo").unwrap_err();
        assert!(
            err.to_string().contains(&spec.filename()) && err.to_string().contains("RECORD says"),
            "{err}"
        );
    }
}
