//! Property: the same source tree gives byte-identical zips whatever the
//! creation order, mtimes, permission bits (beyond "executable"), absolute
//! location and compression thread count.

use std::path::Path;

use proptest::prelude::*;
use slipway_artifact::EntryOrigin;
use slipway_package::input_hash::{BuildState, hash_sources};
use slipway_package::select::Selector;
use slipway_package::{EntryData, ZipEntry, ZipOptions, write_zip};

#[derive(Debug, Clone)]
struct FileSpec {
    path: String,
    content: Vec<u8>,
    executable: bool,
}

fn file_spec() -> impl Strategy<Value = FileSpec> {
    (
        prop::collection::vec("[a-z]{1,6}", 1..4),
        prop::collection::vec(any::<u8>(), 0..3000),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(parts, random, repetitive, executable)| {
            // Mix compressible and incompressible content.
            let content = if repetitive {
                random.iter().map(|b| b % 4 + b'a').collect()
            } else {
                random
            };
            FileSpec {
                path: format!("{}.txt", parts.join("/")),
                content,
                executable,
            }
        })
}

/// Files whose paths do not collide with each other's folders.
fn tree() -> impl Strategy<Value = Vec<FileSpec>> {
    prop::collection::vec(file_spec(), 1..25).prop_map(|files| {
        let mut out: Vec<FileSpec> = Vec::new();
        for f in files {
            let clashes = out.iter().any(|o| {
                o.path == f.path
                    || o.path
                        .starts_with(&format!("{}/", f.path.trim_end_matches(".txt")))
                    || f.path
                        .starts_with(&format!("{}/", o.path.trim_end_matches(".txt")))
            });
            if !clashes {
                out.push(f);
            }
        }
        out
    })
}

#[cfg(unix)]
fn materialise(
    root: &Path,
    files: &[FileSpec],
    order: &[usize],
    mtime_seed: i64,
    loose_modes: bool,
) {
    use std::os::unix::fs::PermissionsExt;
    for &i in order {
        let f = &files[i];
        let path = root.join(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &f.content).unwrap();
        let mode = match (f.executable, loose_modes) {
            (true, false) => 0o755,
            (true, true) => 0o700,
            (false, false) => 0o644,
            (false, true) => 0o600,
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let t = filetime::FileTime::from_unix_time(mtime_seed + i as i64 * 7919, 0);
        filetime::set_file_mtime(&path, t).unwrap();
    }
}

fn build(root: &Path, out: &Path, threads: usize) -> Vec<u8> {
    let selector = Selector::new(root, &[], &[], &[]).unwrap();
    let files = hash_sources(
        &selector,
        selector.select().unwrap(),
        &BuildState::default(),
    )
    .unwrap();
    let entries = files
        .into_iter()
        .map(|h| ZipEntry {
            path: h.file.zip_path,
            executable: h.file.executable,
            data: EntryData::File(h.file.disk_path),
            origin: EntryOrigin::Source,
        })
        .collect();
    write_zip(
        entries,
        out,
        &ZipOptions {
            source_date_epoch: 1_600_000_000,
            threads: Some(threads),
        },
    )
    .unwrap();
    std::fs::read(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[cfg(unix)]
    #[test]
    fn same_tree_same_bytes(files in tree(), seed in 0i64..2_000_000_000, shuffle in any::<u64>()) {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::Builder::new().prefix("elsewhere-with-a-longer-name").tempdir().unwrap();
        let forward: Vec<usize> = (0..files.len()).collect();
        let mut shuffled = forward.clone();
        // A deterministic shuffle from the seed proptest chose.
        let mut state = shuffle | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        materialise(&a.path().join("src"), &files, &forward, 1_000_000_000, false);
        materialise(&b.path().join("src"), &files, &shuffled, seed, true);
        let zip_a = build(&a.path().join("src"), &a.path().join("a.zip"), 1);
        let zip_b = build(&b.path().join("src"), &b.path().join("b.zip"), 4);
        prop_assert_eq!(zip_a, zip_b);
    }
}
