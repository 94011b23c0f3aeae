//! The build engine behind `build`, `plan` and `serve`: one input hash for
//! all three, the examples' bytes pinned, exit codes by kind of failure, and
//! no garbage left by interrupted, killed or concurrent builds.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Project, assert_ok, build_json, command_json, json_stdout, process};

fn plan_json(p: &Project, args: &[&str]) -> Value {
    command_json(p, "plan", args)
}

fn two_functions() -> Project {
    let p = Project::hello();
    p.write(
        "slipway.toml",
        "[defaults]\nruntime = \"python3.12\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n\n[functions.other]\nsource = \"other\"\nhandler = \"app.handler\"\narchitecture = \"arm64\"\nruntime = \"python3.13\"\n",
    );
    p.write(
        "other/app.py",
        "def handler(event, context):\n    return 2\n",
    );
    p
}

#[test]
fn plan_reports_the_input_hash_build_uses_and_whether_dist_is_up_to_date() {
    let p = two_functions();
    let before = plan_json(&p, &[]);
    assert!(!p.join("dist").exists(), "plan writes nothing");
    let functions = before["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 2);
    // The exact contract CI generators code against.
    let other = &functions[1];
    let keys: Vec<&str> = other
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "input_hash",
            "runtime",
            "architecture",
            "source",
            "dist_dir",
            "up_to_date"
        ]
    );
    assert_eq!(other["name"], "other");
    assert_eq!(other["runtime"], "python3.13");
    assert_eq!(other["architecture"], "arm64");
    assert_eq!(other["source"], "other");
    assert_eq!(
        Path::new(other["dist_dir"].as_str().unwrap()),
        p.join("dist/other")
    );
    assert!(functions.iter().all(|f| f["up_to_date"] == false));

    let built = build_json(&p, &["hello"]);
    assert_eq!(
        built["functions"][0]["input_hash"],
        functions[0]["input_hash"]
    );
    let after = plan_json(&p, &[]);
    assert_eq!(after["functions"][0]["up_to_date"], true);
    assert_eq!(after["functions"][1]["up_to_date"], false);
    assert_eq!(
        after["functions"][0]["input_hash"],
        functions[0]["input_hash"]
    );

    p.write("src/app.py", "def handler(event, context):\n    return 3\n");
    let changed = plan_json(&p, &["hello"]);
    assert_eq!(changed["functions"].as_array().unwrap().len(), 1);
    assert_eq!(changed["functions"][0]["up_to_date"], false);
    assert_ne!(
        changed["functions"][0]["input_hash"],
        functions[0]["input_hash"]
    );

    let human = p.slipway().arg("plan").output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("to build hello") && text.contains("python3.13 arm64, source other"),
        "{text}"
    );
}

/// The examples' artifacts, built from a copy outside any git repository
/// (so no commit enters them): `example file sha256` lines. Recorded with
/// the build as it was before it moved into slipway-build.
const GOLDEN: &str = include_str!("engine_golden.txt");

#[test]
fn the_examples_build_to_the_recorded_bytes() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut lines = Vec::new();
    for example in [
        "alexa-skill",
        "function-url-api",
        "s3-trigger",
        "sqs-to-dynamodb",
    ] {
        let p = Project::new();
        copy_tree(&examples.join(example), p.path());
        let report = build_json(&p, &["--out", "dist"]);
        let dist = PathBuf::from(report["functions"][0]["dist_dir"].as_str().unwrap());
        let zip = format!("{}.zip", report["functions"][0]["name"].as_str().unwrap());
        for file in [
            zip.as_str(),
            "manifest.json",
            "SHA256SUMS",
            "sbom.cdx.json",
            "sbom.spdx.json",
        ] {
            let bytes = std::fs::read(dist.join(file)).unwrap();
            lines.push(format!(
                "{example} {file} {}",
                slipway_artifact::digest::sha256_hex(&bytes)
            ));
        }
    }
    lines.sort();
    let expected: Vec<&str> = GOLDEN.lines().collect();
    assert_eq!(lines, expected);
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "dist" || name == "__pycache__" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// How each kind of failure ends: its exit code, its diagnostic code (never
/// null in JSON) and, for the machine's failures, the cause named.
#[test]
fn every_kind_of_failure_has_its_exit_code() {
    struct Case {
        what: &'static str,
        exit: i32,
        kind: &'static str,
        environment: Option<&'static str>,
    }
    let run = |p: &Project, args: &[&str], limit: Option<u64>| {
        let mut cmd = process(p.path());
        cmd.args(["--format", "json"]).args(args);
        if let Some(bytes) = limit {
            // SAFETY: setrlimit is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: bytes,
                        rlim_max: bytes,
                    };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.output().unwrap()
    };
    let mut outcomes = Vec::new();

    // The user's input: a bad key in slipway.toml, a flag, a file they named.
    let p = Project::hello();
    p.write(
        "slipway.toml",
        "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\nmemory = 99999\n",
    );
    outcomes.push((
        Case {
            what: "bad config",
            exit: 2,
            kind: "input",
            environment: None,
        },
        run(&p, &["build"], None),
    ));
    let p = Project::hello();
    outcomes.push((
        Case {
            what: "unknown function",
            exit: 2,
            kind: "input",
            environment: None,
        },
        run(&p, &["build", "nope"], None),
    ));
    outcomes.push((
        Case {
            what: "missing key file",
            exit: 2,
            kind: "input",
            environment: None,
        },
        run(&p, &["build", "--key", "no-such-key"], None),
    ));

    // A check that failed: a tampered package does not verify.
    let p = Project::hello();
    build_json(&p, &[]);
    let zip = p.join("dist/hello/hello.zip");
    let mut bytes = std::fs::read(&zip).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&zip, bytes).unwrap();
    outcomes.push((
        Case {
            what: "tampered zip",
            exit: 1,
            kind: "check_failed",
            environment: None,
        },
        run(&p, &["verify"], None),
    ));

    // The machine: a file-size limit reached while writing the zip (as a
    // full disk would), and a dist/ nobody may write into.
    let p = Project::hello();
    p.write("src/blob.bin", incompressible(4 << 20, 7));
    outcomes.push((
        Case {
            what: "file size limit",
            exit: 3,
            kind: "environment",
            environment: Some("the file size limit was reached"),
        },
        run(&p, &["build"], Some(1 << 20)),
    ));
    let p = Project::hello();
    let unwritable = unwritable_dir(&p);
    outcomes.push((
        Case {
            what: "unwritable dist",
            exit: 3,
            kind: "environment",
            environment: None,
        },
        run(&p, &["build", "--out", unwritable.to_str().unwrap()], None),
    ));

    for (case, out) in outcomes {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{}: {stderr}",
            case.what
        );
        let json = json_stdout(&out);
        if case.exit == 1 && json.get("error").is_none() {
            // verify reports its failed checks as a result, not an error.
            assert_eq!(json["ok"], false, "{}", case.what);
            continue;
        }
        assert_eq!(json["exit_code"], case.exit, "{}", case.what);
        assert_eq!(json["error"]["kind"], case.kind, "{}: {json}", case.what);
        assert!(
            json["error"]["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("slipway::")),
            "{}: {json}",
            case.what
        );
        if case.kind == "environment" {
            let cause = json["error"]["environment"].as_str().unwrap_or_default();
            assert!(!cause.is_empty(), "{}: {json}", case.what);
            if let Some(expected) = case.environment {
                assert_eq!(cause, expected, "{}", case.what);
            }
            assert!(
                stderr.contains("the environment, not the input"),
                "{stderr}"
            );
        }
    }
}

/// Bytes that do not compress (a xorshift stream).
fn incompressible(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A folder this process may not create files in: read-only by its mode,
/// or, for root (whom modes do not stop), a folder of sysfs.
fn unwritable_dir(p: &Project) -> PathBuf {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        PathBuf::from("/sys/kernel")
    } else {
        use std::os::unix::fs::PermissionsExt;
        let dir = p.join("dist");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        dir
    }
}

/// A project whose build takes a while: `mb` MB of generated files, half
/// of them incompressible.
fn large_project(mb: usize) -> Project {
    let p = Project::hello();
    for i in 0..mb {
        let bytes = if i % 2 == 0 {
            incompressible(1 << 20, i as u64 + 1)
        } else {
            format!("line {i}\n").repeat((1 << 20) / 8).into_bytes()
        };
        p.write(&format!("src/data/{:03}/file.bin", i), bytes);
    }
    p
}

fn dist_entries(p: &Project) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.join("dist"))
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn verify_ok(p: &Project) {
    let out = p.slipway().arg("verify").output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for_staging(p: &Project, child: &mut std::process::Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if dist_entries(p).iter().any(|n| n.contains(".staging-")) {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn sigint_and_sigterm_remove_the_staging_folder() {
    let p = large_project(60);
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut child = process(p.path());
        let mut child = child
            .args(["build", "--force", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_for_staging(&p, &mut child), "no staging folder seen");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(signal), "ends with the signal");
        let left = dist_entries(&p);
        assert!(
            left.iter().all(|n| !n.contains(".staging-")),
            "after signal {signal}: {left:?}"
        );
    }
}

/// `kill -9` at 15 moments spread over a build of a large tree, then a
/// normal build: one complete, verifiable build and nothing else.
#[test]
fn killed_builds_leave_nothing_a_later_build_does_not_sweep() {
    // 120 MB rather than 200 MB: a debug build of 200 MB fifteen times
    // over takes minutes on a small CI machine; the moments are spread the same.
    let p = large_project(120);
    let started = Instant::now();
    build_json(&p, &["--force"]);
    let full = started.elapsed();
    for i in 0..15u32 {
        p.write(
            "src/app.py",
            format!("def handler(event, context):\n    return {i}\n"),
        );
        let mut cmd = process(p.path());
        let mut child = cmd
            .args(["build", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * (i + 1) / 16);
        let _ = child.kill();
        let _ = child.wait();
    }
    let before = dist_entries(&p);
    p.write(
        "src/app.py",
        "def handler(event, context):\n    return 'final'\n",
    );
    let report = build_json(&p, &[]);
    assert_eq!(report["functions"][0]["status"], "built");
    assert_eq!(
        dist_entries(&p),
        ["hello"],
        "left before the last build: {before:?}"
    );
    verify_ok(&p);
}

#[test]
fn concurrent_builds_do_the_work_once_and_leave_one_build() {
    let p = large_project(40);
    let spawn = || {
        let mut cmd = process(p.path());
        cmd.args(["--format", "json", "build"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let statuses: Vec<String> = [a, b]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            json_stdout(&out)["functions"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, ["built", "up_to_date"]);
    assert_eq!(dist_entries(&p), ["hello"]);
    verify_ok(&p);
}

/// `serve` rebuilds with the engine in its own process: run from a binary
/// whose file is gone, it could not start another slipway, yet it rebuilds,
/// and to the same bytes as `slipway build`.
#[test]
fn serve_rebuilds_in_process_to_the_bytes_build_writes() {
    let p = Project::new();
    p.write(
        "slipway.toml",
        "[functions.live]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.11\"\n",
    );
    p.write(
        "src/app.py",
        "def handler(event, context):\n    return 'first'\n",
    );
    build_json(&p, &[]);
    let first_hash = manifest_hash(&p.join("dist/live"));

    #[allow(deprecated)]
    let exe = assert_cmd::cargo::cargo_bin("slipway");
    let bin = tempfile::tempdir_in(exe.parent().unwrap()).unwrap();
    let gone = bin.path().join("slipway");
    if std::fs::hard_link(&exe, &gone).is_err() {
        std::fs::copy(&exe, &gone).unwrap();
    }
    let mut child = Process::new(&gone)
        .current_dir(p.path())
        .env_remove("SLIPWAY_CONFIG")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("SLIPWAY_CACHE_DIR", p.join(".test-cache"))
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _server = Kill(child);
    assert!(line.starts_with("listening on "), "{line}");
    std::fs::remove_file(&gone).unwrap();

    // The watcher takes its first look at the sources after the first line;
    // the change is written again (same bytes, new mtime) until it is seen.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut written: Option<Instant> = None;
    while manifest_hash(&p.join("dist/live")) == first_hash {
        assert!(Instant::now() < deadline, "serve did not rebuild");
        if written.is_none_or(|w| w.elapsed() > Duration::from_secs(3)) {
            p.write(
                "src/app.py",
                "def handler(event, context):\n    return 'second'\n",
            );
            written = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the swap finish before reading.
    std::thread::sleep(Duration::from_millis(300));
    build_json(&p, &["--out", "again", "--force"]);
    for file in ["live.zip", "manifest.json", "SHA256SUMS", "sbom.spdx.json"] {
        assert_eq!(
            std::fs::read(p.join("dist/live").join(file)).unwrap(),
            std::fs::read(p.join("again/live").join(file)).unwrap(),
            "{file}"
        );
    }
}

fn manifest_hash(dir: &Path) -> Option<String> {
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).ok()?).ok()?;
    m["input_hash"].as_str().map(str::to_owned)
}

/// `kill -9` of `serve`: its runtime process dies with it (it cannot stop
/// it itself), and the next `serve` removes the task folder it left.
#[test]
fn a_killed_serve_leaves_no_runtime_process_and_its_task_folder_is_swept() {
    let p = Project::new();
    p.write(
        "slipway.toml",
        "[functions.pid]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.11\"\n",
    );
    p.write(
        "src/app.py",
        "import os\ndef handler(event, context):\n    return os.getpid()\n",
    );
    build_json(&p, &[]);
    let start = || {
        let mut child = process(p.path())
            .args(["serve", "--port", "0", "--no-watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        (child, url)
    };
    let invoke = |url: &str| -> i32 {
        let out = Process::new("curl")
            .args(["-sS", "-X", "POST", "-d", "{}"])
            .arg(format!("{url}/2015-03-31/functions/pid/invocations"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let (mut first, url) = start();
    let runtime_pid = invoke(&url);
    let serve_pid = first.id();
    let task_roots = |pid: u32| -> Vec<PathBuf> {
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("slipway-task-{pid}-"))
            })
            .map(|e| e.path())
            .collect()
    };
    assert!(
        !task_roots(serve_pid).is_empty(),
        "serve names its task folders"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // Running, not a zombie waiting for a container's init to reap it.
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
            .unwrap_or(false)
    };
    while alive(runtime_pid) {
        assert!(
            Instant::now() < deadline,
            "runtime {runtime_pid} outlived serve"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!task_roots(serve_pid).is_empty(), "left by the kill");

    let (mut second, url) = start();
    invoke(&url);
    let _ = second.kill();
    let _ = second.wait();
    assert!(task_roots(serve_pid).is_empty(), "swept by the next serve");
}

#[test]
fn a_nothing_changed_build_writes_nothing() {
    use std::os::unix::fs::MetadataExt;
    let p = Project::hello();
    let build = || {
        let out = p.slipway().arg("build").output().unwrap();
        assert_ok(&out);
    };
    let dist = p.path().join("dist/hello");
    let written = || -> Vec<(String, u64, i64, i64)> {
        let mut files: Vec<_> = std::fs::read_dir(&dist)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, m.ino(), m.mtime(), m.mtime_nsec())
            })
            .collect();
        files.sort();
        files
    };
    let without_state = |files: &[(String, u64, i64, i64)]| {
        files
            .iter()
            .filter(|(name, ..)| name != ".build-state.json")
            .cloned()
            .collect::<Vec<_>>()
    };
    build();
    let first = written();
    assert!(
        first.iter().any(|(name, ..)| name == "function.json"),
        "{first:?}"
    );
    // Files changed within the last second cannot be trusted by their stamps
    // yet: the build after they settle records them again, and only that.
    std::thread::sleep(Duration::from_millis(1100));
    build();
    let settled = written();
    assert_eq!(without_state(&settled), without_state(&first));
    build();
    assert_eq!(
        written(),
        settled,
        "an up-to-date build replaced or touched a file"
    );
}
