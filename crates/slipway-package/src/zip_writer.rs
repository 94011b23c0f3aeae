//! The byte-reproducible ZIP writer.
//!
//! Same entries in, same bytes out, whatever the machine, checkout path, umask,
//! mtimes, creation order, time zone or thread count: entries are sorted by
//! path; every entry carries one timestamp (`SOURCE_DATE_EPOCH`); modes are
//! 0644 or 0755; there are no extra fields, comments, uid/gid or directory
//! entries; and every entry slipway compresses is deflated by libdeflate at
//! level 6 (stored instead when deflate would not make it smaller).
//!
//! Why not the `zip` crate's writer: it cannot take entries compressed
//! elsewhere (in parallel here, or bytes copied from a wheel whose hash pins
//! them) with their CRC and sizes, and reproducibility needs control of every
//! header byte. The `zip` crate is still how tests read the archives back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use bytes::Bytes;
use rayon::prelude::*;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use slipway_artifact::{ArtifactRecord, EntryOrigin, EntryRecord};

use crate::PackageError;

/// The deflate level every slipway archive uses. Changing it changes every hash.
const DEFLATE_LEVEL: i32 = 6;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
/// Entry counts past this need zip64 end records, which this writer emits.
const CLASSIC_MAX_ENTRIES: usize = 0xFFFF;
const MAX_ENTRY_SIZE: u64 = 0xFFFF_FFFE;

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum EntryData {
    /// A file on disk, read and compressed by the writer.
    File(PathBuf),
    /// Content made in memory.
    Bytes(Vec<u8>),
    /// Content already read and hashed (a source file the build read for its
    /// input hash): neither read nor hashed again.
    Hashed { content: Vec<u8>, sha256: [u8; 32] },
    /// Bytes already compressed (taken raw from a wheel), copied as they are.
    Precompressed(Precompressed),
}

/// An entry compressed elsewhere, with the facts the headers need.
#[derive(Debug, Clone)]
pub struct Precompressed {
    /// `true` for deflate, `false` for stored.
    pub deflated: bool,
    pub crc32: u32,
    /// Shared, not copied: a wheel's entries are slices of the one buffer
    /// the wheel was read into, so a warm build copies each byte once.
    pub compressed: Bytes,
    pub uncompressed_size: u64,
    /// SHA-256 of the uncompressed content (wheels' RECORD files carry it).
    pub sha256: [u8; 32],
    /// SHA-1 of the uncompressed content (SPDX asks for it), learnt once per
    /// wheel so evidence never inflates the entry again.
    pub sha1: [u8; 20],
}

/// One file to put in the package.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    /// `/`-separated, relative to the zip root.
    pub path: String,
    /// Stored as 0755 when true, 0644 otherwise.
    pub executable: bool,
    pub data: EntryData,
    pub origin: EntryOrigin,
}

#[derive(Debug, Clone)]
pub struct ZipOptions {
    /// The timestamp of every entry, seconds since the Unix epoch (UTC).
    pub source_date_epoch: i64,
    /// Compression threads; `None` uses every core. The output never depends on it.
    pub threads: Option<usize>,
}

impl Default for ZipOptions {
    fn default() -> Self {
        ZipOptions {
            source_date_epoch: DOS_EPOCH,
            threads: None,
        }
    }
}

/// 1980-01-01T00:00:00Z, the earliest time a ZIP header can hold.
pub const DOS_EPOCH: i64 = 315_532_800;

/// The last second a zip's MS-DOS date can hold: 2107-12-31 23:59:59 UTC.
pub const DOS_LAST: i64 = 4_354_819_199;

/// `SOURCE_DATE_EPOCH` as the reproducible-builds convention defines it,
/// checked against what the zip format can store: a time after 2107 would be
/// silently changed, so it is refused. A time before 1980 is stored as
/// 1980-01-01, the format's first day (0 is a common "no date" value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceDateEpoch(pub i64);

impl SourceDateEpoch {
    /// Parses the variable's value; `None` when it is unset or blank.
    pub fn parse(value: Option<&str>) -> Result<Option<SourceDateEpoch>, PackageError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let bad = |reason: &'static str| PackageError::SourceDateEpoch {
            value: value.to_string(),
            reason,
        };
        let seconds: i64 = value
            .parse()
            .map_err(|_| bad("is not a whole number of seconds"))?;
        if seconds < 0 {
            return Err(bad("is before 1970"));
        }
        if seconds > DOS_LAST {
            return Err(bad(
                "is after 2107-12-31 23:59:59 UTC, the last time a zip entry can hold",
            ));
        }
        Ok(Some(SourceDateEpoch(seconds)))
    }
}

/// An entry ready to be written: compressed, checksummed, hashed.
struct Prepared {
    path: String,
    mode: u32,
    method: u16,
    crc32: u32,
    compressed: Bytes,
    uncompressed_size: u64,
    sha256: [u8; 32],
    sha1: [u8; 20],
    origin: EntryOrigin,
}

/// A zip just written: its record, and the SHA-1 (hex) of each entry by
/// path, for the evidence that needs it (SPDX) without reading the zip back.
#[derive(Debug, Clone)]
pub struct WrittenZip {
    pub record: ArtifactRecord,
    pub entry_sha1: BTreeMap<String, String>,
}

/// Writes `entries` to `dest` (atomically) and describes what was written.
/// `file` in the returned record is `dest`'s file name.
pub fn write_zip(
    entries: Vec<ZipEntry>,
    dest: &Path,
    options: &ZipOptions,
) -> Result<ArtifactRecord, PackageError> {
    write_zip_with_digests(entries, dest, options).map(|w| w.record)
}

/// [`write_zip`], also returning every entry's SHA-1: taken from the entry
/// when it carries one (wheel entries), computed while the content is in
/// memory otherwise (sources are small; they are read here anyway).
pub fn write_zip_with_digests(
    mut entries: Vec<ZipEntry>,
    dest: &Path,
    options: &ZipOptions,
) -> Result<WrittenZip, PackageError> {
    for e in &entries {
        check_entry_path(&e.path, &e.origin)?;
    }
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    for pair in entries.windows(2) {
        if pair[0].path == pair[1].path {
            return Err(PackageError::DuplicatePath {
                path: pair[0].path.clone(),
                first: describe_origin(&pair[0].origin),
                second: describe_origin(&pair[1].origin),
            });
        }
    }

    let prepared = compress_all(entries, options.threads)?;
    let (dos_time, dos_date) = dos_timestamp(options.source_date_epoch);

    // The archive's bytes are laid out twice from the same prepared entries,
    // at once: once into the file, once into the hash. The SHA-256 of a
    // package (Lambda's CodeSha256) then costs no wall time beside the write.
    let (hashed, written) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| {
            let mut sink = HashSink::default();
            write_archive(&mut sink, &prepared, dos_time, dos_date).map(|()| sink)
        });
        let written = slipway_artifact::fs::write_atomic_with(dest, |w| {
            write_archive(w, &prepared, dos_time, dos_date)
        });
        (hashing.join(), written)
    });
    written.map_err(PackageError::io("write", dest))?;
    let hashed = hashed
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        .map_err(PackageError::io("write", dest))?;
    let (zip_hash, zipped_size) = (hashed.hash, hashed.written);

    let entry_sha1 = prepared
        .iter()
        .map(|p| (p.path.clone(), hex::encode(p.sha1)))
        .collect();
    let entries = prepared
        .into_iter()
        .map(|p| EntryRecord {
            path: p.path,
            size: p.uncompressed_size,
            mode: p.mode,
            sha256: hex::encode(p.sha256),
            origin: p.origin,
        })
        .collect::<Vec<_>>();
    let digest: [u8; 32] = zip_hash.finalize().into();
    let record = ArtifactRecord {
        file: dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: hex::encode(digest),
        code_sha256: slipway_artifact::digest::digest_to_code_sha256(&digest),
        zipped_size,
        unzipped_size: entries.iter().map(|e| e.size).sum(),
        entries,
    };
    Ok(WrittenZip { record, entry_sha1 })
}

pub(crate) fn describe_origin(origin: &EntryOrigin) -> String {
    match origin {
        EntryOrigin::Source => "the function's source".into(),
        EntryOrigin::Dependency { distribution } => format!("the wheel of `{distribution}`"),
    }
}

/// Refuses paths that could land outside the extraction folder or that readers
/// interpret differently (zip-slip, absolute paths, backslashes).
pub fn check_entry_path(path: &str, origin: &EntryOrigin) -> Result<(), PackageError> {
    let fail = |reason| PackageError::UnsafePath {
        path: path.to_string(),
        origin: describe_origin(origin),
        reason,
    };
    if path.is_empty() {
        return Err(fail("empty path"));
    }
    // `C:` and `C:/…` are absolute on Windows; `a:b.py` is an ordinary name on Lambda.
    let drive = matches!(path.as_bytes(), [l, b':', rest @ ..]
        if l.is_ascii_alphabetic() && matches!(rest.first(), None | Some(b'/')));
    if path.starts_with('/') || drive {
        return Err(fail("absolute path"));
    }
    if path.contains('\\') {
        return Err(fail("backslash in path"));
    }
    if path.contains('\0') {
        return Err(fail("NUL byte in path"));
    }
    if path.ends_with('/') {
        return Err(fail("directory entries are not files"));
    }
    if path
        .split('/')
        .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return Err(fail("`..`, `.` or empty path component"));
    }
    if path.len() > 0xFFFF {
        return Err(fail("path longer than a zip header can hold"));
    }
    Ok(())
}

fn compress_all(
    entries: Vec<ZipEntry>,
    threads: Option<usize>,
) -> Result<Vec<Prepared>, PackageError> {
    let work = || {
        entries
            .into_par_iter()
            .map_init(
                || {
                    libdeflater::Compressor::new(
                        libdeflater::CompressionLvl::new(DEFLATE_LEVEL).expect("valid level"),
                    )
                },
                prepare,
            )
            .collect::<Result<Vec<_>, _>>()
    };
    match threads {
        None => work(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .expect("thread pool")
            .install(work),
    }
}

fn prepare(
    compressor: &mut libdeflater::Compressor,
    entry: ZipEntry,
) -> Result<Prepared, PackageError> {
    let mode = if entry.executable { 0o755 } else { 0o644 };
    let raw = match entry.data {
        EntryData::Precompressed(p) => {
            if p.uncompressed_size > MAX_ENTRY_SIZE || p.compressed.len() as u64 > MAX_ENTRY_SIZE {
                return Err(PackageError::EntryTooLarge {
                    path: entry.path,
                    size: p.uncompressed_size,
                });
            }
            return Ok(Prepared {
                path: entry.path,
                mode,
                method: if p.deflated {
                    METHOD_DEFLATED
                } else {
                    METHOD_STORED
                },
                crc32: p.crc32,
                compressed: p.compressed,
                uncompressed_size: p.uncompressed_size,
                sha256: p.sha256,
                sha1: p.sha1,
                origin: entry.origin,
            });
        }
        EntryData::Bytes(b) => (b, None),
        EntryData::Hashed { content, sha256 } => (content, Some(sha256)),
        EntryData::File(path) => (
            std::fs::read(&path).map_err(PackageError::io("read", path))?,
            None,
        ),
    };
    let (raw, known_sha256) = raw;
    if raw.len() as u64 > MAX_ENTRY_SIZE {
        return Err(PackageError::EntryTooLarge {
            path: entry.path,
            size: raw.len() as u64,
        });
    }
    let crc32 = crc32fast::hash(&raw);
    let sha256: [u8; 32] = known_sha256.unwrap_or_else(|| Sha256::digest(&raw).into());
    let sha1: [u8; 20] = Sha1::digest(&raw).into();
    let uncompressed_size = raw.len() as u64;
    if looks_incompressible(compressor, &raw) {
        return Ok(Prepared {
            path: entry.path,
            mode,
            method: METHOD_STORED,
            crc32,
            compressed: Bytes::from(raw),
            uncompressed_size,
            sha256,
            sha1,
            origin: entry.origin,
        });
    }
    let mut deflated = vec![0u8; compressor.deflate_compress_bound(raw.len())];
    let n = compressor
        .deflate_compress(&raw, &mut deflated)
        .expect("the bound always fits");
    deflated.truncate(n);
    let (method, compressed) = if n < raw.len() {
        (METHOD_DEFLATED, Bytes::from(deflated))
    } else {
        (METHOD_STORED, Bytes::from(raw))
    };
    Ok(Prepared {
        path: entry.path,
        mode,
        method,
        crc32,
        compressed,
        uncompressed_size,
        sha256,
        sha1,
        origin: entry.origin,
    })
}

/// MS-DOS time and date fields for `epoch` (UTC), clamped to 1980–2107 and
/// rounded down to the format's two-second resolution.
fn dos_timestamp(epoch: i64) -> (u16, u16) {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .max(time::OffsetDateTime::from_unix_timestamp(DOS_EPOCH).expect("valid"));
    let year = t.year().min(2107);
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | ((t.second() as u16) / 2);
    let date = (((year - 1980) as u16) << 9) | ((u8::from(t.month()) as u16) << 5) | t.day() as u16;
    (time, date)
}

/// Large entries below this size are always deflated in full.
const PROBE_FROM: usize = 1 << 20;
const PROBE_WINDOW: usize = 64 << 10;

/// Whether a large entry is data deflate cannot shrink (media, archives,
/// model weights): three windows (start, middle, end) each deflate to more
/// than 97 % of their size. Deflating tens of megabytes only to store them
/// anyway is most of a cold build's time on such trees. The decision depends
/// on the bytes alone, so the package stays reproducible.
fn looks_incompressible(compressor: &mut libdeflater::Compressor, raw: &[u8]) -> bool {
    if raw.len() < PROBE_FROM {
        return false;
    }
    let middle = raw.len() / 2 - PROBE_WINDOW / 2;
    let mut out = vec![0u8; compressor.deflate_compress_bound(PROBE_WINDOW)];
    [0, middle, raw.len() - PROBE_WINDOW]
        .into_iter()
        .all(|start| {
            let window = &raw[start..start + PROBE_WINDOW];
            compressor
                .deflate_compress(window, &mut out)
                .is_ok_and(|n| n * 100 > window.len() * 97)
        })
}

/// A writer that keeps only the SHA-256 and the length of what it is given.
#[derive(Default)]
struct HashSink {
    hash: Sha256,
    written: u64,
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hash.update(buf);
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_archive(
    out: &mut impl Write,
    entries: &[Prepared],
    dos_time: u16,
    dos_date: u16,
) -> std::io::Result<()> {
    let mut offsets = Vec::with_capacity(entries.len());
    let mut offset = 0u64;
    for e in entries {
        if offset > u32::MAX as u64 {
            return Err(std::io::Error::other("archive over 4 GiB"));
        }
        offsets.push(offset as u32);
        let header = local_header(e, dos_time, dos_date);
        out.write_all(&header)?;
        out.write_all(&e.compressed)?;
        offset += (header.len() + e.compressed.len()) as u64;
    }
    let cd_start = offset;
    let mut cd_size = 0u64;
    for (e, off) in entries.iter().zip(offsets) {
        let header = central_header(e, dos_time, dos_date, off);
        out.write_all(&header)?;
        cd_size += header.len() as u64;
    }
    if entries.len() > CLASSIC_MAX_ENTRIES {
        write_zip64_end(out, entries.len() as u64, cd_size, cd_start)?;
    }
    let count16 = entries.len().min(CLASSIC_MAX_ENTRIES) as u16;
    let mut eocd = Vec::with_capacity(22);
    eocd.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    eocd.extend_from_slice(&0u16.to_le_bytes()); // this disk
    eocd.extend_from_slice(&0u16.to_le_bytes()); // disk with the central directory
    eocd.extend_from_slice(&count16.to_le_bytes());
    eocd.extend_from_slice(&count16.to_le_bytes());
    eocd.extend_from_slice(&(cd_size.min(u32::MAX as u64) as u32).to_le_bytes());
    eocd.extend_from_slice(&(cd_start.min(u32::MAX as u64) as u32).to_le_bytes());
    eocd.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.write_all(&eocd)
}

fn write_zip64_end(
    out: &mut impl Write,
    count: u64,
    cd_size: u64,
    cd_start: u64,
) -> std::io::Result<()> {
    let record_offset = cd_start + cd_size;
    let mut r = Vec::with_capacity(56 + 20);
    r.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
    r.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of the record
    r.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
    r.extend_from_slice(&45u16.to_le_bytes()); // version needed: zip64
    r.extend_from_slice(&0u32.to_le_bytes());
    r.extend_from_slice(&0u32.to_le_bytes());
    r.extend_from_slice(&count.to_le_bytes());
    r.extend_from_slice(&count.to_le_bytes());
    r.extend_from_slice(&cd_size.to_le_bytes());
    r.extend_from_slice(&cd_start.to_le_bytes());
    // locator
    r.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
    r.extend_from_slice(&0u32.to_le_bytes());
    r.extend_from_slice(&record_offset.to_le_bytes());
    r.extend_from_slice(&1u32.to_le_bytes());
    out.write_all(&r)
}

/// Made by: Unix (3), spec 2.0, so readers take the external attributes as Unix modes.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const FLAG_UTF8: u16 = 1 << 11;

fn version_needed(e: &Prepared) -> u16 {
    if e.method == METHOD_DEFLATED { 20 } else { 10 }
}

fn flags(e: &Prepared) -> u16 {
    if e.path.is_ascii() { 0 } else { FLAG_UTF8 }
}

fn local_header(e: &Prepared, dos_time: u16, dos_date: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(30 + e.path.len());
    h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    h.extend_from_slice(&version_needed(e).to_le_bytes());
    h.extend_from_slice(&flags(e).to_le_bytes());
    h.extend_from_slice(&e.method.to_le_bytes());
    h.extend_from_slice(&dos_time.to_le_bytes());
    h.extend_from_slice(&dos_date.to_le_bytes());
    h.extend_from_slice(&e.crc32.to_le_bytes());
    h.extend_from_slice(&(e.compressed.len() as u32).to_le_bytes());
    h.extend_from_slice(&(e.uncompressed_size as u32).to_le_bytes());
    h.extend_from_slice(&(e.path.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // no extra fields
    h.extend_from_slice(e.path.as_bytes());
    h
}

fn central_header(e: &Prepared, dos_time: u16, dos_date: u16, local_offset: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(46 + e.path.len());
    h.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    h.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
    h.extend_from_slice(&version_needed(e).to_le_bytes());
    h.extend_from_slice(&flags(e).to_le_bytes());
    h.extend_from_slice(&e.method.to_le_bytes());
    h.extend_from_slice(&dos_time.to_le_bytes());
    h.extend_from_slice(&dos_date.to_le_bytes());
    h.extend_from_slice(&e.crc32.to_le_bytes());
    h.extend_from_slice(&(e.compressed.len() as u32).to_le_bytes());
    h.extend_from_slice(&(e.uncompressed_size as u32).to_le_bytes());
    h.extend_from_slice(&(e.path.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // extra field length
    h.extend_from_slice(&0u16.to_le_bytes()); // comment length
    h.extend_from_slice(&0u16.to_le_bytes()); // disk number
    h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    h.extend_from_slice(&((0o100_000 | e.mode) << 16).to_le_bytes()); // regular file + mode
    h.extend_from_slice(&local_offset.to_le_bytes());
    h.extend_from_slice(e.path.as_bytes());
    h
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn entry(path: &str, content: &[u8], executable: bool) -> ZipEntry {
        ZipEntry {
            path: path.into(),
            executable,
            data: EntryData::Bytes(content.to_vec()),
            origin: EntryOrigin::Source,
        }
    }

    fn sample() -> Vec<ZipEntry> {
        vec![
            entry("b/run.sh", b"#!/bin/sh\necho hi\n", true),
            entry(
                "app.py",
                "def handler(e, c):\n    return 'héllo'\n"
                    .repeat(50)
                    .as_bytes(),
                false,
            ),
            entry(
                "data/random.bin",
                &(0..5000u32)
                    .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
                    .collect::<Vec<_>>(),
                false,
            ),
            entry("ünïcode.txt", b"x", false),
        ]
    }

    #[test]
    fn the_zip_crate_reads_back_every_entry_with_mode_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("f.zip");
        let record = write_zip(sample(), &dest, &ZipOptions::default()).unwrap();
        assert_eq!(
            record
                .entries
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>(),
            ["app.py", "b/run.sh", "data/random.bin", "ünïcode.txt"]
        );
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&dest).unwrap()).unwrap();
        for (i, e) in record.entries.iter().enumerate() {
            let mut f = archive.by_index(i).unwrap();
            assert_eq!(f.name().unwrap(), e.path.as_str());
            assert_eq!(f.unix_mode().unwrap() & 0o777, e.mode);
            assert!(f.extra_data().is_none_or(|d| d.is_empty()));
            let mut content = Vec::new();
            f.read_to_end(&mut content).unwrap();
            assert_eq!(hex::encode(Sha256::digest(&content)), e.sha256);
        }
        let bytes = std::fs::read(&dest).unwrap();
        assert_eq!(record.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(record.zipped_size, bytes.len() as u64);
    }

    #[test]
    fn output_does_not_depend_on_order_or_threads() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.zip");
        let b = dir.path().join("b.zip");
        let mut reversed = sample();
        reversed.reverse();
        write_zip(
            sample(),
            &a,
            &ZipOptions {
                threads: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        write_zip(
            reversed,
            &b,
            &ZipOptions {
                threads: Some(4),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    }

    #[test]
    fn unsafe_and_duplicate_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../evil",
            "/etc/passwd",
            "a/../../b",
            "a\\b",
            "C:/x",
            "dir/",
            "a//b",
        ] {
            let err = write_zip(
                vec![entry(bad, b"x", false)],
                &dir.path().join("x.zip"),
                &ZipOptions::default(),
            )
            .unwrap_err();
            assert!(
                matches!(err, PackageError::UnsafePath { .. }),
                "{bad}: {err}"
            );
        }
        let err = write_zip(
            vec![entry("a", b"1", false), entry("a", b"2", false)],
            &dir.path().join("x.zip"),
            &ZipOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("written twice"), "{err}");
        assert!(!dir.path().join("x.zip").exists(), "no artifact on failure");
    }

    #[test]
    fn source_date_epoch_is_refused_outside_the_zip_range() {
        assert_eq!(SourceDateEpoch::parse(None).unwrap(), None);
        assert_eq!(SourceDateEpoch::parse(Some(" ")).unwrap(), None);
        assert_eq!(
            SourceDateEpoch::parse(Some("1700000000")).unwrap(),
            Some(SourceDateEpoch(1_700_000_000))
        );
        assert_eq!(
            SourceDateEpoch::parse(Some("4354819199")).unwrap(),
            Some(SourceDateEpoch(DOS_LAST))
        );
        for bad in ["4354819200", "99999999999", "-1", "yesterday", "1.5"] {
            let err = SourceDateEpoch::parse(Some(bad)).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        // The last second survives as itself, not as another date.
        let (_, date) = dos_timestamp(DOS_LAST);
        assert_eq!(date, (127 << 9) | (12 << 5) | 31);
    }

    #[test]
    fn a_colon_in_a_name_is_not_a_drive() {
        for ok in ["a:b.py", "pkg/a:b.py", "ab:c"] {
            check_entry_path(ok, &EntryOrigin::Source).unwrap();
        }
        for bad in ["C:/x", "c:", "Z:"] {
            assert!(
                check_entry_path(bad, &EntryOrigin::Source).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn dos_timestamps() {
        assert_eq!(dos_timestamp(DOS_EPOCH), (0, (1 << 5) | 1));
        assert_eq!(dos_timestamp(0), (0, (1 << 5) | 1), "before 1980 clamps");
        // 2024-02-29 13:45:31 UTC
        let (t, d) = dos_timestamp(1_709_214_331);
        assert_eq!(d, ((2024 - 1980) << 9) | (2 << 5) | 29);
        assert_eq!(t, (13 << 11) | (45 << 5) | 15);
    }

    #[test]
    fn precompressed_entries_are_copied_verbatim() {
        let content = b"hello hello hello hello hello".repeat(10);
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap());
        let mut buf = vec![0; c.deflate_compress_bound(content.len())];
        let n = c.deflate_compress(&content, &mut buf).unwrap();
        buf.truncate(n);
        let e = ZipEntry {
            path: "pkg/x.txt".into(),
            executable: false,
            data: EntryData::Precompressed(Precompressed {
                deflated: true,
                crc32: crc32fast::hash(&content),
                compressed: Bytes::from(buf.clone()),
                uncompressed_size: content.len() as u64,
                sha256: Sha256::digest(&content).into(),
                sha1: Sha1::digest(&content).into(),
            }),
            origin: EntryOrigin::Dependency {
                distribution: "pkg".into(),
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.zip");
        write_zip(vec![e], &dest, &ZipOptions::default()).unwrap();
        let bytes = std::fs::read(&dest).unwrap();
        assert!(bytes.windows(buf.len()).any(|w| w == buf.as_slice()));
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&dest).unwrap()).unwrap();
        let mut out = Vec::new();
        archive.by_index(0).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, content);
    }

    #[test]
    fn large_incompressible_entries_are_stored_and_the_rest_deflated() {
        // xorshift: incompressible, and the same bytes on every run.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..2 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let text = b"def handler(event, context):\n    return event\n".repeat(50_000);
        // Noise with a compressible middle: a probe window finds it, so the
        // entry is deflated in full.
        let mut mixed = noise.clone();
        mixed[1 << 20..(1 << 20) + (256 << 10)].fill(b'a');
        let entry = |path: &str, bytes: &[u8]| ZipEntry {
            path: path.into(),
            executable: false,
            data: EntryData::Bytes(bytes.to_vec()),
            origin: EntryOrigin::Source,
        };
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("p.zip");
        write_zip(
            vec![
                entry("models/weights.bin", &noise),
                entry("src/app.py", &text),
                entry("models/mixed.bin", &mixed),
            ],
            &dest,
            &ZipOptions::default(),
        )
        .unwrap();
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(6).unwrap());
        assert!(looks_incompressible(&mut c, &noise));
        assert!(!looks_incompressible(&mut c, &mixed));
        assert!(!looks_incompressible(&mut c, &text));
        assert!(!looks_incompressible(&mut c, &noise[..PROBE_FROM - 1]));
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&dest).unwrap()).unwrap();
        for (path, method, content) in [
            ("models/weights.bin", zip::CompressionMethod::Stored, &noise),
            ("src/app.py", zip::CompressionMethod::Deflated, &text),
            ("models/mixed.bin", zip::CompressionMethod::Deflated, &mixed),
        ] {
            let mut file = archive.by_name(path).unwrap();
            assert_eq!(file.compression(), method, "{path}");
            let mut out = Vec::new();
            file.read_to_end(&mut out).unwrap();
            assert_eq!(&out, content, "{path}");
        }
    }
}
