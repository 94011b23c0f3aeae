//! The dependency stage against a package index these tests serve themselves
//! on 127.0.0.1, with wheels they write.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use slipway_config::{Architecture, Runtime};
use slipway_package::EntryData;
use slipway_python::testing::{IndexFile, LocalIndex, WheelSpec, uv_lock, write_wheel};
use slipway_python::{Cache, Outcome, PythonError, Request, SourceSettings, Target};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn requirements(&self, text: &str) -> PathBuf {
        let p = self.dir.path().join("requirements.txt");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn request(
        &self,
        index: &LocalIndex,
        text: &str,
        runtime: &str,
        arch: Architecture,
    ) -> Request {
        Request {
            dependency_file: self.requirements(text),
            target: Target::for_runtime(Runtime::find(runtime).unwrap(), arch).unwrap(),
            settings: SourceSettings {
                cli_index_url: Some(index.url()),
                ..Default::default()
            },
            // The machine's PIP_* / UV_* variables and pip.conf stay out.
            environment: Default::default(),
            offline: false,
            cache: Cache::at(self.dir.path().join("cache")),
            exclude_packages: Vec::new(),
            python: None,
            build_sdists: false,
            refresh: false,
        }
    }

    fn install(
        &self,
        index: &LocalIndex,
        text: &str,
        runtime: &str,
        arch: Architecture,
    ) -> Result<Outcome, PythonError> {
        slipway_python::install(
            &self.request(index, text, runtime, arch),
            &slipway_python::Silent,
        )
    }
}

fn versions(o: &Outcome) -> BTreeMap<String, String> {
    o.distributions
        .iter()
        .map(|d| (d.name.clone(), d.version.clone()))
        .collect()
}

fn wheels(o: &Outcome) -> Vec<String> {
    o.distributions.iter().map(|d| d.wheel.clone()).collect()
}

fn paths(o: &Outcome) -> Vec<String> {
    let mut p: Vec<String> = o.entries.iter().map(|e| e.path.clone()).collect();
    p.sort();
    p
}

fn content(o: &Outcome, path: &str) -> String {
    let e = o
        .entries
        .iter()
        .find(|e| e.path == path)
        .unwrap_or_else(|| panic!("{path} not installed"));
    match &e.data {
        EntryData::Precompressed(p) if p.deflated => {
            let mut s = String::new();
            flate2::read::DeflateDecoder::new(&p.compressed[..])
                .read_to_string(&mut s)
                .unwrap();
            s
        }
        EntryData::Precompressed(p) => String::from_utf8(p.compressed.to_vec()).unwrap(),
        other => panic!("unexpected entry data {other:?}"),
    }
}

const X86: Architecture = Architecture::X86_64;

#[test]
fn glibc_ceiling_decides_between_manylinux_2_28_and_2014() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new(
        "fastcrypt",
        "2.0",
        "cp39-abi3-manylinux_2_28_x86_64",
    ));
    index.add_wheel(&WheelSpec::new(
        "fastcrypt",
        "1.0",
        "cp39-abi3-manylinux2014_x86_64",
    ));
    let f = Fixture::new();
    let on_311 = f.install(&index, "fastcrypt\n", "python3.11", X86).unwrap();
    assert_eq!(
        wheels(&on_311),
        ["fastcrypt-1.0-cp39-abi3-manylinux2014_x86_64.whl"]
    );
    let on_312 = f.install(&index, "fastcrypt\n", "python3.12", X86).unwrap();
    assert_eq!(
        wheels(&on_312),
        ["fastcrypt-2.0-cp39-abi3-manylinux_2_28_x86_64.whl"]
    );

    // Pinning the 2.28-only version on python3.11 is refused with the reason.
    let err = f
        .install(&index, "fastcrypt==2.0\n", "python3.11", X86)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs glibc 2.28; python3.11 has glibc 2.26"),
        "{err}"
    );
    assert!(
        err.contains("versions that do have a usable wheel: 1.0"),
        "{err}"
    );
}

#[test]
fn architecture_picks_the_matching_wheel_and_foreign_platforms_are_refused() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new(
        "native",
        "1.0",
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    ));
    index.add_wheel(&WheelSpec::new(
        "native",
        "1.0",
        "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
    ));
    index.add_wheel(&WheelSpec::new(
        "native",
        "1.1",
        "cp312-cp312-musllinux_1_2_x86_64",
    ));
    index.add_wheel(&WheelSpec::new(
        "native",
        "1.1",
        "cp312-cp312-macosx_11_0_arm64",
    ));
    index.add_wheel(&WheelSpec::new("native", "1.1", "cp312-cp312-win_amd64"));
    index.add_wheel(&WheelSpec::new("native", "1.1", "cp312-cp312-linux_x86_64"));
    let f = Fixture::new();
    let x = f.install(&index, "native\n", "python3.12", X86).unwrap();
    assert_eq!(
        wheels(&x),
        ["native-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]
    );
    let a = f
        .install(&index, "native\n", "python3.12", Architecture::Arm64)
        .unwrap();
    assert_eq!(
        wheels(&a),
        ["native-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"]
    );
    let err = f
        .install(&index, "native==1.1\n", "python3.12", X86)
        .unwrap_err()
        .to_string();
    // Linux files are explained; macOS and Windows files are dropped from the
    // page at once (the target module's tests cover their wording).
    for word in ["native 1.1", "musl", "linux_"] {
        assert!(err.contains(word), "{word} missing from: {err}");
    }
    assert!(
        !err.contains("macosx") && !err.contains("win_amd64"),
        "{err}"
    );
    // The wrong CPython ABI is refused too.
    let err = f
        .install(&index, "native\n", "python3.13", X86)
        .unwrap_err()
        .to_string();
    assert!(err.contains("CPython 3.13"), "{err}");
}

#[test]
fn abi3_wheels_serve_newer_pythons() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new(
        "stable",
        "1.0",
        "cp38-abi3-manylinux_2_17_x86_64",
    ));
    let f = Fixture::new();
    for runtime in ["python3.9", "python3.12", "python3.13"] {
        assert_eq!(
            versions(&f.install(&index, "stable\n", runtime, X86).unwrap())["stable"],
            "1.0"
        );
    }
}

#[test]
fn markers_are_evaluated_for_the_target_not_the_host() {
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("app-lib", "1.0", "py3-none-any")
            .requires("armonly ; platform_machine == 'aarch64'")
            .requires("winonly ; sys_platform == 'win32'")
            .requires("backport ; python_version < '3.12'"),
    );
    for n in ["armonly", "winonly", "backport"] {
        index.add_wheel(&WheelSpec::new(n, "1.0", "py3-none-any"));
    }
    let f = Fixture::new();
    let names = |o: &Outcome| versions(o).into_keys().collect::<Vec<_>>();
    assert_eq!(
        names(&f.install(&index, "app-lib\n", "python3.12", X86).unwrap()),
        ["app-lib"]
    );
    assert_eq!(
        names(
            &f.install(&index, "app-lib\n", "python3.11", Architecture::Arm64)
                .unwrap()
        ),
        ["app-lib", "armonly", "backport"]
    );
}

#[test]
fn resolves_ranges_extras_and_transitive_dependencies_and_writes_a_lock() {
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("web", "2.1", "py3-none-any")
            .requires("core>=1.2,<2")
            .requires("socks-lib ; extra == 'socks'")
            .extra("socks"),
    );
    index.add_wheel(&WheelSpec::new("web", "3.0", "py3-none-any").requires("core>=2"));
    index.add_wheel(&WheelSpec::new("core", "1.1", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("core", "1.5", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("core", "2.0", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("socks-lib", "0.3", "py3-none-any"));
    let f = Fixture::new();
    let o = f
        .install(&index, "web[socks]>=2,<3\n", "python3.12", X86)
        .unwrap();
    assert_eq!(
        versions(&o),
        BTreeMap::from([
            ("core".into(), "1.5".into()),
            ("socks-lib".into(), "0.3".into()),
            ("web".into(), "2.1".into())
        ])
    );
    let web = o.distributions.iter().find(|d| d.name == "web").unwrap();
    assert!(web.direct);
    assert_eq!(web.requires, ["core", "socks-lib"]);
    assert_eq!(web.license.as_deref(), Some("MIT"));
    assert!(
        web.wheel_url
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(
        !o.distributions
            .iter()
            .find(|d| d.name == "core")
            .unwrap()
            .direct
    );

    // Layout: dist-info kept, module at the root, no installer metadata.
    let p = paths(&o);
    assert!(p.contains(&"web/__init__.py".to_string()), "{p:?}");
    assert!(p.contains(&"web-2.1.dist-info/METADATA".to_string()));
    assert!(p.contains(&"web-2.1.dist-info/RECORD".to_string()));
    assert_eq!(
        content(&o, "core/__init__.py"),
        "__version__ = \"1.5\"\nNAME = \"core\"\n"
    );

    // The lock pins each wheel by hash and installs the same set again, exactly.
    assert!(
        o.lock.contains("core==1.5 \\\n    --hash=sha256:"),
        "{}",
        o.lock
    );
    assert!(o.lock.contains("# via web"), "{}", o.lock);
    assert!(o.lock.contains("# via -r requirements.txt"), "{}", o.lock);
    let again = f.install(&index, &o.lock, "python3.12", X86).unwrap();
    assert_eq!(versions(&again), versions(&o));
    assert_eq!(
        again
            .lock
            .lines()
            .filter(|l| l.contains("--hash"))
            .collect::<Vec<_>>(),
        o.lock
            .lines()
            .filter(|l| l.contains("--hash"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn conflicts_are_explained_in_plain_words() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("alpha", "1.0", "py3-none-any").requires("shared<2"));
    index.add_wheel(&WheelSpec::new("beta", "1.0", "py3-none-any").requires("shared>=2"));
    index.add_wheel(&WheelSpec::new("shared", "1.0", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("shared", "2.0", "py3-none-any"));
    let f = Fixture::new();
    let err = f
        .install(&index, "alpha\nbeta\n", "python3.12", X86)
        .unwrap_err();
    assert!(matches!(err, PythonError::Conflict { .. }));
    let text = err.to_string();
    assert!(
        text.contains("alpha depends on shared <2") && text.contains("depends on shared >=2"),
        "{text}"
    );
    assert!(
        !text.contains("no wheel usable"),
        "every file is usable here: {text}"
    );
}

#[test]
fn yanked_files_and_wrong_requires_python_are_skipped() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any"));
    let mut new = WheelSpec::new("lib", "2.0", "py3-none-any");
    index.add_wheel(&new);
    index.edit(&new.filename(), |f| f.yanked = true);
    new.version = "3.0".into();
    new.requires_python = Some(">=3.13".into());
    index.add_wheel(&new);
    let f = Fixture::new();
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.12", X86).unwrap())["lib"],
        "1.0"
    );
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.13", X86).unwrap())["lib"],
        "3.0"
    );
    // An exact pin may still take a yanked release (PEP 592).
    assert_eq!(
        versions(&f.install(&index, "lib==2.0\n", "python3.12", X86).unwrap())["lib"],
        "2.0"
    );
}

#[test]
fn a_file_whose_hash_does_not_match_is_refused() {
    let index = LocalIndex::start();
    let spec = WheelSpec::new("lib", "1.0", "py3-none-any");
    index.add_wheel(&spec);
    index.edit(&spec.filename(), |f| {
        f.advertised_sha256 = Some("0".repeat(64));
        f.metadata = None;
    });
    let f = Fixture::new();
    let err = f.install(&index, "lib\n", "python3.12", X86).unwrap_err();
    assert!(matches!(err, PythonError::HashMismatch { .. }), "{err}");

    // So is PEP 658 metadata that does not match the hash the index gives for it.
    let index = LocalIndex::start();
    index.add_wheel(&spec);
    index.edit(&spec.filename(), |f| {
        f.advertised_metadata_sha256 = Some("2".repeat(64))
    });
    let err = f.install(&index, "lib\n", "python3.12", X86).unwrap_err();
    assert!(
        matches!(&err, PythonError::HashMismatch { file, .. } if file == "lib-1.0-py3-none-any.whl.metadata"),
        "{err}"
    );

    // A --hash in the requirements that matches no file is refused as well.
    let index = LocalIndex::start();
    index.add_wheel(&spec);
    let err = f
        .install(
            &index,
            &format!("lib==1.0 --hash=sha256:{}\n", "1".repeat(64)),
            "python3.12",
            X86,
        )
        .unwrap_err();
    assert!(err.to_string().contains("--hash"), "{err}");
}

#[test]
fn malicious_wheels_are_refused_naming_the_wheel() {
    let f = Fixture::new();
    let cases: Vec<(WheelSpec, &str)> = vec![
        (
            WheelSpec::new("slip", "1.0", "py3-none-any").file("../evil.py", "x"),
            "`..`",
        ),
        (
            WheelSpec::new("slip", "1.0", "py3-none-any").file("/etc/cron.d/evil", "x"),
            "absolute",
        ),
        (
            {
                let mut s = WheelSpec::new("slip", "1.0", "py3-none-any");
                s.symlink = true;
                s
            },
            "symbolic link",
        ),
        (
            {
                let mut s = WheelSpec::new("slip", "1.0", "py3-none-any");
                s.tamper_record = true;
                s
            },
            "RECORD",
        ),
    ];
    for (spec, word) in cases {
        let index = LocalIndex::start();
        index.add_wheel(&spec);
        let err = f
            .install(&index, "slip\n", "python3.12", X86)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(word) && err.contains("slip-1.0-py3-none-any.whl"),
            "{word}: {err}"
        );
    }

    // Two wheels writing one file.
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("one", "1.0", "py3-none-any").file("common/util.py", "a"));
    index.add_wheel(&WheelSpec::new("two", "1.0", "py3-none-any").file("common/util.py", "b"));
    let err = f
        .install(&index, "one\ntwo\n", "python3.12", X86)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("common/util.py") && err.contains("one-1.0") && err.contains("two-1.0"),
        "{err}"
    );
}

#[test]
fn data_scripts_and_bytecode_are_laid_out_for_lambda() {
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("tool", "1.0", "py3-none-any")
            .file("tool/__init__.py", "")
            .file("tool-1.0.data/purelib/tool_extra.py", "X = 1\n")
            .file("tool-1.0.data/scripts/tool", "#!/usr/bin/python\n")
            .file("tool/__pycache__/__init__.cpython-312.pyc", "bytecode")
            .file("tool-1.0.dist-info/INSTALLER", "pip\n"),
    );
    let f = Fixture::new();
    let o = f.install(&index, "tool\n", "python3.12", X86).unwrap();
    assert_eq!(
        paths(&o),
        [
            "tool-1.0.dist-info/METADATA",
            "tool-1.0.dist-info/RECORD",
            "tool-1.0.dist-info/WHEEL",
            "tool/__init__.py",
            "tool_extra.py"
        ]
    );
}

#[test]
fn html_only_indexes_json_indexes_and_find_links_folders_all_work() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any"));
    index.html_only(true);
    let f = Fixture::new();
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.12", X86).unwrap())["lib"],
        "1.0"
    );

    let folder = f.dir.path().join("wheels");
    let local = write_wheel(
        &folder,
        &WheelSpec::new("local-only", "0.1", "py3-none-any"),
    );
    let mut req = f.request(
        &index,
        &format!("--find-links {}\nlocal-only\nlib\n", folder.display()),
        "python3.12",
        X86,
    );
    req.cache = Cache::at(f.dir.path().join("cache2"));
    let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert_eq!(versions(&o).len(), 2);
    let local_only = o
        .distributions
        .iter()
        .find(|d| d.name == "local-only")
        .unwrap();
    assert!(local_only.wheel_url.is_none());
    // A folder gives no hash; the one recorded is that of the file installed.
    assert_eq!(
        local_only.wheel_sha256,
        slipway_artifact::digest::file_sha256_hex(&local).unwrap()
    );
    assert!(
        o.lock.contains(&format!(
            "local-only==0.1 \\\n    --hash=sha256:{}",
            local_only.wheel_sha256
        )),
        "{}",
        o.lock
    );
}

#[test]
fn offline_uses_only_the_cache() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any").requires("dep"));
    index.add_wheel(&WheelSpec::new("dep", "1.0", "py3-none-any"));
    let f = Fixture::new();
    let mut req = f.request(&index, "lib\n", "python3.12", X86);
    req.offline = true;
    let err = slipway_python::install(&req, &slipway_python::Silent).unwrap_err();
    // Not "no package named `lib`": the index may well have it.
    assert!(matches!(err, PythonError::Offline { .. }), "{err}");
    assert!(err.to_string().contains("the index page of `lib`"), "{err}");
    assert_eq!(index.requests(), 0, "offline must not touch the network");

    req.offline = false;
    let online = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    let before = index.requests();
    req.offline = true;
    let offline = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert_eq!(
        index.requests(),
        before,
        "offline must not touch the network"
    );
    assert_eq!(versions(&offline), versions(&online));
    assert_eq!(offline.files_downloaded, 0);
}

#[test]
fn credentials_from_the_url_reach_a_private_index() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("private-lib", "1.0", "py3-none-any"));
    index.require_credentials("ci", "s3cret");
    let f = Fixture::new();
    let err = f
        .install(&index, "private-lib\n", "python3.12", X86)
        .unwrap_err()
        .to_string();
    assert!(err.contains("401"), "{err}");
    let mut req = f.request(&index, "private-lib\n", "python3.12", X86);
    req.settings.cli_index_url = Some(index.url_with_credentials("ci", "s3cret"));
    let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    let d = &o.distributions[0];
    assert!(!d.wheel_url.as_deref().unwrap().contains("s3cret"));
    assert!(!o.lock.contains("s3cret"));
}

#[test]
fn excluded_packages_and_what_only_they_need_are_left_out() {
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("boto-ish", "1.0", "py3-none-any")
            .requires("boto-core")
            .requires("shared"),
    );
    index.add_wheel(&WheelSpec::new("boto-core", "1.0", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("shared", "1.0", "py3-none-any"));
    index.add_wheel(&WheelSpec::new("app", "1.0", "py3-none-any").requires("shared"));
    let f = Fixture::new();
    let mut req = f.request(&index, "boto-ish\napp\n", "python3.12", X86);
    req.exclude_packages = vec!["Boto_Ish".into()];
    let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert_eq!(
        versions(&o).into_keys().collect::<Vec<_>>(),
        ["app", "shared"]
    );
}

#[test]
fn pinned_hashed_input_installs_exactly_and_must_be_complete() {
    let index = LocalIndex::start();
    let a = index.add_wheel(&WheelSpec::new("a", "1.0", "py3-none-any").requires("b"));
    index.add_wheel(&WheelSpec::new("a", "2.0", "py3-none-any").requires("b"));
    let b = index.add_wheel(&WheelSpec::new("b", "1.0", "py3-none-any"));
    let f = Fixture::new();
    let o = f
        .install(
            &index,
            &format!("a==1.0 --hash=sha256:{a}\nb==1.0 --hash=sha256:{b}\n"),
            "python3.12",
            X86,
        )
        .unwrap();
    assert_eq!(versions(&o)["a"], "1.0");
    assert!(
        o.distributions
            .iter()
            .find(|d| d.name == "a")
            .unwrap()
            .direct
    );
    assert!(
        !o.distributions
            .iter()
            .find(|d| d.name == "b")
            .unwrap()
            .direct
    );
    let err = f
        .install(
            &index,
            &format!("a==1.0 --hash=sha256:{a}\n"),
            "python3.12",
            X86,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("requires `b`") && err.contains("requirements.txt:1"),
        "{err}"
    );
}

#[test]
fn the_elf_check_catches_a_wheel_that_lies_about_its_glibc() {
    let Some((lib, needs)) = slipway_python::testing::host_library_needing_glibc((2, 26), (2, 34))
    else {
        panic!("no shared object on this machine needs a glibc between 2.27 and 2.34");
    };
    let host = Architecture::host().unwrap();
    let tag = format!("cp311-cp311-manylinux2014_{}", host.machine());
    let index = LocalIndex::start();
    index.add_wheel(
        &WheelSpec::new("liar", "1.0", &tag).file("liar/_native.so", std::fs::read(&lib).unwrap()),
    );
    let f = Fixture::new();
    let err = f.install(&index, "liar\n", "python3.11", host).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PythonError::Elf { .. }), "{text}");
    assert!(
        text.contains(&format!(
            "liar/_native.so (from liar-1.0-{tag}.whl) needs GLIBC_{}.{}",
            needs.0, needs.1
        )),
        "{text}"
    );
    assert!(text.contains('`'), "the symbol is named: {text}");

    // The same bytes are fine where the glibc is new enough (a second run uses the cached facts).
    let index = LocalIndex::start();
    let tag = format!("py3-none-manylinux2014_{}", host.machine());
    index.add_wheel(
        &WheelSpec::new("honest", "1.0", &tag)
            .file("honest/_native.so", std::fs::read(&lib).unwrap()),
    );
    for _ in 0..2 {
        assert!(f.install(&index, "honest\n", "python3.12", host).is_ok());
        assert!(f.install(&index, "honest\n", "python3.11", host).is_err());
    }
}

#[test]
fn a_package_missing_from_the_index_is_named() {
    let index = LocalIndex::start();
    index.add(IndexFile {
        filename: "other-1.0-py3-none-any.whl".into(),
        bytes: WheelSpec::new("other", "1.0", "py3-none-any").build(),
        yanked: false,
        requires_python: None,
        advertised_sha256: None,
        metadata: None,
        advertised_metadata_sha256: None,
    });
    let f = Fixture::new();
    let err = f
        .install(&index, "requestz\n", "python3.12", X86)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no package named `requestz`"), "{err}");
}

/// An sdist whose PEP 517 backend lives in the sdist itself (no build
/// requirements, so the isolated build needs no index) and writes a wheel
/// with the given tag.
fn sdist_with_in_tree_backend(dir: &std::path::Path, name: &str, tag: &str) -> IndexFile {
    let root = dir.join(format!("{name}-1.0"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("PKG-INFO"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("backend.py"),
        format!(
            r#"import base64, hashlib, zipfile

NAME, VERSION, TAG = "{name}", "1.0", "{tag}"

def _digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    di = f"{{NAME}}-{{VERSION}}.dist-info"
    files = {{
        f"{{NAME}}/__init__.py": b"VALUE = 42\n",
        f"{{di}}/METADATA": f"Metadata-Version: 2.1\nName: {{NAME}}\nVersion: {{VERSION}}\n".encode(),
        f"{{di}}/WHEEL": f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {{TAG}}\n".encode(),
    }}
    record = "".join(f"{{p}},sha256={{_digest(d)}},{{len(d)}}\n" for p, d in files.items()) + f"{{di}}/RECORD,,\n"
    files[f"{{di}}/RECORD"] = record.encode()
    filename = f"{{NAME}}-{{VERSION}}-{{TAG}}.whl"
    with zipfile.ZipFile(f"{{wheel_directory}}/{{filename}}", "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            z.writestr(p, d)
    return filename
"#
        ),
    )
    .unwrap();
    let tarball = dir.join(format!("{name}-1.0.tar.gz"));
    let status = std::process::Command::new("python3")
        .args(["-c", "import sys, tarfile; t = tarfile.open(sys.argv[1], 'w:gz'); t.add(sys.argv[2], arcname=sys.argv[3]); t.close()"])
        .arg(&tarball)
        .arg(&root)
        .arg(format!("{name}-1.0"))
        .status()
        .unwrap();
    assert!(status.success());
    IndexFile {
        filename: format!("{name}-1.0.tar.gz"),
        bytes: std::fs::read(&tarball).unwrap(),
        yanked: false,
        requires_python: None,
        advertised_sha256: None,
        metadata: None,
        advertised_metadata_sha256: None,
    }
}

#[test]
fn a_pure_python_sdist_is_built_and_a_native_one_refused() {
    let f = Fixture::new();
    let index = LocalIndex::start();
    index.add(sdist_with_in_tree_backend(
        f.dir.path(),
        "puresdist",
        "py3-none-any",
    ));
    index.add(sdist_with_in_tree_backend(
        f.dir.path(),
        "nativesdist",
        "cp312-cp312-linux_x86_64",
    ));
    index.add_wheel(&WheelSpec::new(
        "nativesdist",
        "0.9",
        "cp312-cp312-manylinux_2_17_x86_64",
    ));

    let mut req = f.request(&index, "puresdist\n", "python3.12", X86);
    req.build_sdists = true;
    let o = slipway_python::install(&req, &slipway_python::Silent)
        .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)));
    assert_eq!(wheels(&o), ["puresdist-1.0-py3-none-any.whl"]);
    assert_eq!(content(&o, "puresdist/__init__.py"), "VALUE = 42\n");

    let mut req = f.request(&index, "nativesdist>=1\n", "python3.12", X86);
    req.build_sdists = true;
    let err = slipway_python::install(&req, &slipway_python::Silent)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nativesdist") && err.contains("builds native code"),
        "{err}"
    );
    assert!(
        err.contains("versions that do have a usable wheel: 0.9"),
        "{err}"
    );

    // With building turned off, the sdist is refused without running anything.
    let req = f.request(&index, "puresdist\n", "python3.12", X86);
    let err = slipway_python::install(&req, &slipway_python::Silent)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("puresdist") && err.contains("source distribution"),
        "{err}"
    );
}

#[test]
fn uv_lock_installs_the_locked_files_the_target_needs() {
    let index = LocalIndex::start();
    let lib = index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any").requires("dep"));
    index.add_wheel(&WheelSpec::new("lib", "2.0", "py3-none-any").requires("dep"));
    let dep = index.add_wheel(&WheelSpec::new("dep", "1.0", "py3-none-any"));
    let win = index.add_wheel(&WheelSpec::new("winonly", "1.0", "py3-none-any"));
    let lock = uv_lock(&index.url(), &lib, &dep, &win);
    let f = Fixture::new();
    let path = f.dir.path().join("uv.lock");
    std::fs::write(&path, lock).unwrap();
    let mut req = f.request(&index, "", "python3.12", X86);
    req.dependency_file = path;
    req.settings.cli_index_url = None;
    let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert_eq!(
        versions(&o),
        BTreeMap::from([("dep".into(), "1.0".into()), ("lib".into(), "1.0".into())])
    );
    assert!(o.lock.contains(&format!("--hash=sha256:{lib}")));
}

#[test]
fn transient_index_failures_are_retried_and_persistent_ones_reported() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any"));
    let f = Fixture::new();
    index.fail_next(2);
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.12", X86).unwrap())["lib"],
        "1.0"
    );
    let mut req = f.request(&index, "lib\n", "python3.12", X86);
    req.cache = Cache::at(f.dir.path().join("other-cache"));
    // More failures than any retrying can absorb.
    index.fail_next(100);
    let err = slipway_python::install(&req, &slipway_python::Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("503"), "{err}");
}

#[test]
fn requires_python_in_the_metadata_counts_when_the_index_does_not_say() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any"));
    let mut newer = WheelSpec::new("lib", "2.0", "py3-none-any");
    newer.requires_python = Some(">=3.13".into());
    index.add_wheel(&newer);
    // The page leaves requires-python out; only METADATA carries it.
    index.edit(&newer.filename(), |f| f.requires_python = None);
    let f = Fixture::new();
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.12", X86).unwrap())["lib"],
        "1.0"
    );
    assert_eq!(
        versions(&f.install(&index, "lib\n", "python3.13", X86).unwrap())["lib"],
        "2.0"
    );
}

#[test]
fn an_unreachable_index_is_reported_with_its_url_and_without_credentials() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let index = LocalIndex::start();
    let f = Fixture::new();
    let mut req = f.request(&index, "lib\n", "python3.12", X86);
    req.settings.cli_index_url = Some(format!("http://ci:s3cret@127.0.0.1:{port}/simple/"));
    let err = slipway_python::install(&req, &slipway_python::Silent).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PythonError::Index { .. }), "{text}");
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/simple/lib/")),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(index.requests(), 0);
}

#[test]
fn malformed_wheel_metadata_is_refused_naming_the_wheel() {
    let f = Fixture::new();

    // A Requires-Dist that does not parse would silently drop a dependency.
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any").requires("not valid!!"));
    let err = f.install(&index, "lib\n", "python3.12", X86).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PythonError::BadWheel { .. }), "{text}");
    assert!(
        text.contains("lib-1.0-py3-none-any.whl") && text.contains("bad Requires-Dist"),
        "{text}"
    );

    // PEP 658 metadata without Name and Version.
    let index = LocalIndex::start();
    let spec = WheelSpec::new("lib", "1.0", "py3-none-any");
    index.add_wheel(&spec);
    index.edit(&spec.filename(), |file| {
        file.metadata = Some("Metadata-Version: 2.1\nSummary: nameless\n".into())
    });
    let err = f.install(&index, "lib\n", "python3.12", X86).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("lib-1.0-py3-none-any.whl") && text.contains("no Name or Version"),
        "{text}"
    );

    // No PEP 658 file and a "wheel" that is not a zip: the metadata is read from the file.
    let index = LocalIndex::start();
    index.add(IndexFile {
        filename: "lib-1.0-py3-none-any.whl".into(),
        bytes: b"not a zip archive".to_vec(),
        yanked: false,
        requires_python: None,
        advertised_sha256: None,
        metadata: None,
        advertised_metadata_sha256: None,
    });
    let err = f.install(&index, "lib\n", "python3.12", X86).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PythonError::BadWheel { .. }), "{text}");
    assert!(
        text.contains("lib-1.0-py3-none-any.whl") && text.contains("not a zip file"),
        "{text}"
    );
}

#[test]
fn the_fingerprint_follows_every_input_and_never_asks_the_index() {
    let index = LocalIndex::start();
    let f = Fixture::new();
    let folder = f.dir.path().join("wheels");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(f.dir.path().join("base.txt"), "core>=1\n").unwrap();
    let text = "-r base.txt\n--find-links wheels\nweb\n";
    let req = f.request(&index, text, "python3.12", X86);
    let fp = |r: &Request| slipway_python::fingerprint(r).unwrap();
    let first = fp(&req);
    assert_eq!(fp(&req), first, "the same inputs give the same fingerprint");

    let mut seen = vec![first.clone()];
    let mut differs = |what: &str, value: String| {
        assert!(
            !seen.contains(&value),
            "{what} did not change the fingerprint"
        );
        seen.push(value);
    };
    std::fs::write(f.dir.path().join("base.txt"), "core>=2\n").unwrap();
    differs("an included file", fp(&req));
    write_wheel(&folder, &WheelSpec::new("web", "1.0", "py3-none-any"));
    differs("a new file in a --find-links folder", fp(&req));
    let mut other = req.clone();
    other.exclude_packages = vec!["core".into()];
    differs("exclude_packages", fp(&other));
    let mut other = req.clone();
    other.build_sdists = true;
    differs("building sdists", fp(&other));
    let mut other = req.clone();
    other.settings.config_extra_index_urls = vec![index.url()];
    differs("an extra index", fp(&other));
    let mut other = req.clone();
    other
        .environment
        .vars
        .insert("PIP_EXTRA_INDEX_URL".into(), index.url());
    differs("an index in the environment", fp(&other));
    let mut other = req.clone();
    other
        .environment
        .pip_config
        .insert("index-url".into(), index.url());
    differs("an index in pip's config", fp(&other));
    let env_folder = f.dir.path().join("env-wheels");
    std::fs::create_dir_all(&env_folder).unwrap();
    let mut other = req.clone();
    other.environment.vars.insert(
        "PIP_FIND_LINKS".into(),
        env_folder.to_string_lossy().into_owned(),
    );
    differs("a --find-links folder in the environment", fp(&other));
    write_wheel(&env_folder, &WheelSpec::new("core", "2.0", "py3-none-any"));
    differs("a new file in that folder", fp(&other));
    differs(
        "the runtime",
        fp(&f.request(&index, text, "python3.11", X86)),
    );
    differs(
        "the architecture",
        fp(&f.request(&index, text, "python3.11", Architecture::Arm64)),
    );
    differs(
        "the main file",
        fp(&f.request(&index, "-r base.txt\nweb\n", "python3.11", X86)),
    );

    // uv.lock and pyproject.toml: the file's bytes are the input.
    let lock = f.dir.path().join("uv.lock");
    let mut other = req.clone();
    other.dependency_file = lock.clone();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    std::fs::write(&lock, uv_lock(&index.url(), &a, &a, &a)).unwrap();
    differs("a uv.lock", fp(&other));
    std::fs::write(&lock, uv_lock(&index.url(), &b, &a, &a)).unwrap();
    differs("a changed uv.lock", fp(&other));

    // --offline and --python change where files come from, not which.
    let mut other = req.clone();
    other.offline = true;
    other.python = Some("/usr/bin/python3".into());
    assert_eq!(fp(&other), fp(&req));
    assert_eq!(index.requests(), 0, "the fingerprint never asks the index");
}

#[test]
fn a_file_the_index_gives_no_hash_for_is_downloaded_once_and_checked_against_the_pin() {
    let f = Fixture::new();
    for html in [false, true] {
        let index = LocalIndex::start();
        index.html_only(html);
        let spec = WheelSpec::new("lib", "1.0", "py3-none-any");
        let sha = index.add_wheel(&spec);
        index.edit(&spec.filename(), |file| {
            file.advertised_sha256 = Some(String::new());
            file.metadata = None;
        });
        let fresh_cache = |name: &str| Cache::at(f.dir.path().join(format!("{name}-{html}")));

        // Resolved: the wheel is needed for its metadata and for the install.
        let mut req = f.request(&index, "lib\n", "python3.12", X86);
        req.cache = fresh_cache("resolved");
        let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
        assert_eq!(o.files_downloaded, 1, "html={html}");
        assert_eq!(o.distributions[0].wheel_sha256, sha);

        // Pinned and hashed: also to check the --hash first.
        let mut req = f.request(
            &index,
            &format!("lib==1.0 --hash=sha256:{sha}\n"),
            "python3.12",
            X86,
        );
        req.cache = fresh_cache("pinned");
        let o = slipway_python::install(&req, &slipway_python::Silent).unwrap();
        assert_eq!(o.files_downloaded, 1, "html={html}");
        assert_eq!(o.distributions[0].wheel_sha256, sha);

        // A --hash the downloaded file does not match is refused.
        let mut req = f.request(
            &index,
            &format!("lib==1.0 --hash=sha256:{}\n", "1".repeat(64)),
            "python3.12",
            X86,
        );
        req.cache = fresh_cache("wrong-pin");
        let err = slipway_python::install(&req, &slipway_python::Silent).unwrap_err();
        assert!(
            matches!(&err, PythonError::HashMismatch { actual, .. } if actual == &sha),
            "html={html}: {err}"
        );
    }
}

#[test]
fn unchanged_inputs_reuse_the_last_resolution_without_asking_the_index() {
    let index = LocalIndex::start();
    index.add_wheel(&WheelSpec::new("lib", "1.0", "py3-none-any").requires("dep"));
    index.add_wheel(&WheelSpec::new("dep", "1.0", "py3-none-any"));
    let f = Fixture::new();
    let mut req = f.request(&index, "lib\n", "python3.12", X86);
    let first = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert!(index.requests() > 0);

    // A newer release appears; the inputs did not change, so nothing is asked.
    index.add_wheel(&WheelSpec::new("lib", "2.0", "py3-none-any").requires("dep"));
    let before = index.requests();
    let again = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert_eq!(
        index.requests(),
        before,
        "unchanged inputs must not ask the index"
    );
    assert_eq!(again.lock, first.lock);
    assert_eq!(again.distributions, first.distributions);
    assert_eq!(paths(&again), paths(&first));

    // --refresh asks again and sees the new release.
    req.refresh = true;
    let refreshed = slipway_python::install(&req, &slipway_python::Silent).unwrap();
    assert!(index.requests() > before, "--refresh must ask the index");
    assert_eq!(versions(&refreshed)["lib"], "2.0");

    // A changed dependency file is a new resolution (from the pages just fetched).
    let changed = f.request(&index, "lib==1.0\n", "python3.12", X86);
    let pinned = slipway_python::install(&changed, &slipway_python::Silent).unwrap();
    assert_eq!(versions(&pinned)["lib"], "1.0");
}

/// A wheel with what the digest cache must reproduce: a stored entry, an
/// incompressible deflated one, an executable, a data-folder file.
fn mixed_wheel() -> (String, Vec<u8>) {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let name = "mixed-1.0-py3-none-any.whl";
    let di = "mixed-1.0.dist-info";
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let files: Vec<(String, Vec<u8>, zip::CompressionMethod, u32)> = vec![
        (
            "mixed/__init__.py".into(),
            b"X = 1\n".repeat(200),
            zip::CompressionMethod::Deflated,
            0o644,
        ),
        (
            "mixed/stored.txt".into(),
            b"stored as is\n".to_vec(),
            zip::CompressionMethod::Stored,
            0o644,
        ),
        (
            "mixed/noise.bin".into(),
            noise,
            zip::CompressionMethod::Deflated,
            0o644,
        ),
        (
            "mixed/run.sh".into(),
            b"#!/bin/sh\necho hi\n".to_vec(),
            zip::CompressionMethod::Deflated,
            0o755,
        ),
        (
            "mixed-1.0.data/purelib/extra.py".into(),
            b"Y = 2\n".to_vec(),
            zip::CompressionMethod::Deflated,
            0o644,
        ),
        (
            format!("{di}/METADATA"),
            b"Metadata-Version: 2.1\nName: mixed\nVersion: 1.0\n".to_vec(),
            zip::CompressionMethod::Deflated,
            0o644,
        ),
        (
            format!("{di}/WHEEL"),
            b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
            zip::CompressionMethod::Deflated,
            0o644,
        ),
    ];
    let mut record = String::new();
    for (path, content, _, _) in &files {
        use base64::Engine;
        use sha2::Digest;
        let b64 =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(content));
        record.push_str(&format!("{path},sha256={b64},{}\n", content.len()));
    }
    record.push_str(&format!("{di}/RECORD,,\n"));
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for (path, content, method, mode) in &files {
        let options = SimpleFileOptions::default()
            .compression_method(*method)
            .unix_permissions(*mode);
        zip.start_file(path.as_str(), options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.start_file(format!("{di}/RECORD"), SimpleFileOptions::default())
        .unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
    (name.to_string(), buf.into_inner())
}

/// Installs the wheel and writes its entries as a zip: the bytes, and the
/// entry SHA-1s the evidence would use.
fn install_and_zip(
    wheel: &std::path::Path,
    name: &str,
    sha: &str,
    cache: &Cache,
    out: &std::path::Path,
) -> (Vec<u8>, BTreeMap<String, String>) {
    let installed =
        slipway_python::install::install_wheel(wheel, name, Some(sha), "mixed", cache).unwrap();
    assert_eq!(installed.sha256, sha);
    let written = slipway_package::write_zip_with_digests(
        installed.entries,
        out,
        &slipway_package::ZipOptions::default(),
    )
    .unwrap();
    (std::fs::read(out).unwrap(), written.entry_sha1)
}

#[test]
fn the_wheel_digest_cache_writes_the_same_zip_bytes_as_a_cold_install() {
    let f = Fixture::new();
    let cache = Cache::at(f.dir.path().join("cache"));
    let (name, bytes) = mixed_wheel();
    let sha = slipway_artifact::digest::sha256_hex(&bytes);
    let wheel = f.dir.path().join(&name);
    std::fs::write(&wheel, &bytes).unwrap();
    let out = f.dir.path().join("out.zip");

    // Cold: every entry inflated, checked and hashed; the facts are written.
    let (cold, cold_sha1) = install_and_zip(&wheel, &name, &sha, &cache, &out);
    // The file is too fresh to be trusted by its stamps yet.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // Facts known: entries copied raw; the file is hashed once more and its stamps kept.
    let (known, known_sha1) = install_and_zip(&wheel, &name, &sha, &cache, &out);
    // Stamps known too: nothing hashed at all.
    let (trusted, trusted_sha1) = install_and_zip(&wheel, &name, &sha, &cache, &out);
    assert_eq!(
        known, cold,
        "cached digests must give the cold path's bytes"
    );
    assert_eq!(
        trusted, cold,
        "trusted stamps must give the cold path's bytes"
    );
    assert_eq!(known_sha1, cold_sha1);
    assert_eq!(trusted_sha1, cold_sha1);

    // The SHA-1s are those of the contents, and the stored entry stayed stored.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&cold)).unwrap();
    for i in 0..archive.len() {
        let mut e = archive.by_index(i).unwrap();
        let path = e.name().unwrap().to_string();
        let mut content = Vec::new();
        e.read_to_end(&mut content).unwrap();
        use sha1::Digest;
        assert_eq!(
            cold_sha1[&path],
            hex::encode(sha1::Sha1::digest(&content)),
            "{path}"
        );
        if path == "mixed/stored.txt" {
            assert_eq!(e.compression(), zip::CompressionMethod::Stored);
        }
        if path == "mixed/run.sh" {
            assert_eq!(e.unix_mode().unwrap() & 0o777, 0o755);
        }
    }
    assert!(cold_sha1.contains_key("extra.py"), "{cold_sha1:?}");

    // The trusted path really reads digests from the cache: a digest changed
    // there shows up in the output…
    let facts_path = cache.wheel_facts_path(&sha);
    let facts = std::fs::read_to_string(&facts_path).unwrap();
    let real = &cold_sha1["mixed/stored.txt"];
    std::fs::write(&facts_path, facts.replace(real.as_str(), &"0".repeat(40))).unwrap();
    let (_, from_cache) = install_and_zip(&wheel, &name, &sha, &cache, &out);
    assert_eq!(from_cache["mixed/stored.txt"], "0".repeat(40));
    std::fs::write(&facts_path, facts).unwrap();

    // …and a wheel file changed in place is hashed again, never trusted.
    let mut tampered = bytes.clone();
    let at = tampered
        .windows(12)
        .position(|w| w == b"stored as is")
        .unwrap();
    tampered[at] = b'S';
    std::fs::write(&wheel, &tampered).unwrap();
    let err = slipway_python::install::install_wheel(&wheel, &name, Some(&sha), "mixed", &cache)
        .unwrap_err();
    assert!(matches!(err, PythonError::HashMismatch { .. }), "{err}");
}
