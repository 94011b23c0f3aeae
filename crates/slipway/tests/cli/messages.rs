//! What the user reads: for every kind of bad input slipway can be given
//! cheaply, the exit code, the human diagnostic and the JSON error are
//! pinned as snapshots (`snapshots/`), and so are `build`'s and `plan`'s
//! reports on a fixed offline project. A changed message shows up as a diff
//! to review (`cargo insta review`, or `INSTA_UPDATE=always` and git diff).
//!
//! Paths of the temporary project, digests, key fingerprints and the
//! version are replaced by placeholders; everything else is compared as is.

use std::process::Command;

use crate::support::{Project, process, run, succeed};

/// One way to get slipway wrong.
struct Case {
    name: &'static str,
    /// Writes the project and returns the arguments and environment of the run.
    setup: fn(&Project) -> Run,
}

#[derive(Default)]
struct Run {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
}

fn args(args: &[&str]) -> Run {
    Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
    }
}

fn config(p: &Project, text: &str) {
    p.write("slipway.toml", text);
    p.write(
        "src/app.py",
        "def handler(event, context):\n    return {\"ok\": True}\n",
    );
}

/// `[functions.hello]` with `extra` lines added to it.
fn hello_with(p: &Project, extra: &str) {
    config(
        p,
        &format!(
            "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n{extra}"
        ),
    );
}

/// slipway run in `p` with `run`'s arguments, `NO_COLOR` so the human
/// diagnostic is the same on a terminal and off it.
fn slipway(p: &Project, run: &Run, json: bool) -> Command {
    let mut cmd = process(p.path());
    cmd.env("NO_COLOR", "1");
    for (k, v) in &run.env {
        cmd.env(k, v);
    }
    if json {
        cmd.args(["--format", "json"]);
    }
    cmd.args(&run.args);
    cmd
}

/// Runs a setup step, which must succeed. Only the arguments are shown on
/// failure: the environment may hold a signing key.
/// `slipway keygen` into `keys/<name>/key`; returns the private key's text.
fn keygen(p: &Project, name: &str) -> String {
    let key = p.join(&format!("keys/{name}/key"));
    let mut cmd = process(p.path());
    cmd.args(["keygen", "--type", "ed25519", "--identity"])
        .arg(format!("{name}@example"))
        .arg("--out")
        .arg(&key);
    succeed(&mut cmd);
    std::fs::read_to_string(key).unwrap()
}

fn build(p: &Project) {
    let mut cmd = process(p.path());
    cmd.arg("build");
    succeed(&mut cmd);
}

fn hello(p: &Project) {
    config(
        p,
        "[defaults]\nruntime = \"python3.12\"\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n",
    );
}

const CASES: &[Case] = &[
    Case {
        name: "no_config",
        setup: |_| args(&["build"]),
    },
    Case {
        name: "toml_syntax",
        setup: |p| {
            config(p, "[functions.hello\nsource = \"src\"\n");
            args(&["build"])
        },
    },
    Case {
        name: "unknown_key",
        setup: |p| {
            hello_with(p, "memroy = 256\n");
            args(&["build"])
        },
    },
    Case {
        name: "missing_source_folder",
        setup: |p| {
            config(
                p,
                "[functions.hello]\nsource = \"services/hello\"\nhandler = \"app.handler\"\nruntime = \"python3.12\"\n",
            );
            args(&["build"])
        },
    },
    Case {
        name: "unknown_runtime",
        setup: |p| {
            config(
                p,
                "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\nruntime = \"python2.7\"\n",
            );
            args(&["build"])
        },
    },
    Case {
        name: "missing_runtime",
        setup: |p| {
            config(
                p,
                "[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n",
            );
            args(&["build"])
        },
    },
    Case {
        name: "bad_handler",
        setup: |p| {
            config(
                p,
                "[functions.hello]\nsource = \"src\"\nhandler = \"app\"\nruntime = \"python3.12\"\n",
            );
            args(&["build"])
        },
    },
    Case {
        name: "handler_not_in_module",
        setup: |p| {
            hello(p);
            p.write("src/app.py", "def other(event, context):\n    pass\n");
            args(&["build"])
        },
    },
    Case {
        name: "bad_value_in_defaults",
        setup: |p| {
            config(
                p,
                "[defaults]\nruntime = \"python3.12\"\ntimeout = 0\n\n[functions.hello]\nsource = \"src\"\nhandler = \"app.handler\"\n",
            );
            args(&["build"])
        },
    },
    Case {
        name: "malformed_requirements_line",
        setup: |p| {
            hello_with(p, "requirements = \"requirements.txt\"\n");
            p.write("requirements.txt", "requests>=2.0\nflask=>=3\n");
            args(&["build", "--offline"])
        },
    },
    Case {
        name: "malformed_hash_in_lock_line",
        setup: |p| {
            hello_with(p, "requirements = \"requirements.txt\"\n");
            p.write(
                "requirements.txt",
                "requests==2.32.3 --hash=md5:0123456789abcdef\n",
            );
            args(&["build", "--offline"])
        },
    },
    Case {
        name: "unknown_function",
        setup: |p| {
            hello(p);
            args(&["build", "nope"])
        },
    },
    Case {
        name: "unwritable_dist",
        setup: |p| {
            hello(p);
            p.write(
                "blocker",
                "a file where the output folder's parent should be\n",
            );
            args(&["build", "--out", "blocker/dist"])
        },
    },
    Case {
        name: "bad_index_url",
        setup: |p| {
            hello(p);
            args(&["build", "--index-url", "not a url"])
        },
    },
    Case {
        name: "unknown_flag",
        setup: |p| {
            hello(p);
            args(&["build", "--sing"])
        },
    },
    Case {
        name: "file_index_url",
        setup: |p| {
            hello(p);
            args(&["build", "--index-url", "file:///srv/wheels"])
        },
    },
    Case {
        name: "verify_before_build",
        setup: |p| {
            hello(p);
            args(&["verify", "hello"])
        },
    },
    Case {
        name: "verify_tampered_zip",
        setup: |p| {
            hello(p);
            build(p);
            let zip = p.join("dist/hello/hello.zip");
            let mut bytes = std::fs::read(&zip).unwrap();
            // The end-of-central-directory record: the entries still read,
            // only the file's digest tells.
            *bytes.last_mut().unwrap() ^= 0xff;
            std::fs::write(&zip, bytes).unwrap();
            args(&["verify", "hello"])
        },
    },
    Case {
        name: "verify_wrong_key",
        setup: |p| {
            hello(p);
            let signer = keygen(p, "release");
            keygen(p, "stranger");
            build(p);
            let mut sign = process(p.path());
            sign.arg("sign").env("SLIPWAY_SIGNING_KEY", signer);
            succeed(&mut sign);
            args(&[
                "verify",
                "hello",
                "--trusted-keys",
                "keys/stranger/allowed_signers",
            ])
        },
    },
    Case {
        name: "unknown_profile",
        setup: |p| {
            hello(p);
            build(p);
            p.write("aws/config", "[profile deployer]\nregion = eu-west-1\n");
            p.write(
                "aws/credentials",
                "[deployer]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n",
            );
            Run {
                // Nothing listens there: the run must stop at the profile.
                env: vec![
                    (
                        "AWS_CONFIG_FILE",
                        p.join("aws/config").display().to_string(),
                    ),
                    (
                        "AWS_SHARED_CREDENTIALS_FILE",
                        p.join("aws/credentials").display().to_string(),
                    ),
                ],
                ..args(&[
                    "verify",
                    "hello",
                    "--deployed",
                    "--endpoint-url",
                    "http://127.0.0.1:9",
                    "--profile",
                    "deployr",
                ])
            }
        },
    },
];

/// Placeholders for what differs from run to run or release to release.
fn settings(p: &Project) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    for path in [p.path().to_path_buf(), p.path().canonicalize().unwrap()] {
        s.add_filter(&regex_escape(&path.display().to_string()), "[PROJECT]");
    }
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(r"\b[0-9a-f]{64}\b", "[SHA256]");
    s.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    s.add_filter(r"SHA256:[A-Za-z0-9+/]{43}", "[FINGERPRINT]");
    s.add_filter(r"AAAA[A-Za-z0-9+/]{20,}=*", "[PUBLIC KEY]");
    s.add_filter(r"[A-Za-z0-9+/]{43}=", "[CODE_SHA256]");
    s.add_filter(
        &regex_escape(&format!("slipway {}", env!("CARGO_PKG_VERSION"))),
        "slipway [VERSION]",
    );
    s.add_filter(
        &regex_escape(&format!("\"{}\"", env!("CARGO_PKG_VERSION"))),
        "\"[VERSION]\"",
    );
    s
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// The human run's exit code, stdout and stderr, then the JSON run's.
fn transcript(p: &Project, run: &Run) -> String {
    let (code, out, err) = crate::support::run(slipway(p, run, false));
    let (json_code, json_out, json_err) = crate::support::run(slipway(p, run, true));
    // Machines get JSON whatever went wrong, a refused command line included.
    let json = serde_json::from_str::<serde_json::Value>(&json_out)
        .map(|v| serde_json::to_string_pretty(&v).unwrap())
        .unwrap_or_else(|e| panic!("{:?} printed no JSON ({e}):\n{json_out}", run.args));
    assert_eq!(
        code, json_code,
        "--format json changes the exit code of {:?}:\n{err}\n{json_err}",
        run.args
    );
    format!(
        "$ slipway {}\nexit code: {code}\n--- stdout ---\n{out}--- stderr ---\n{err}--- stdout with --format json ---\n{json}\n",
        run.args.join(" ")
    )
}

#[test]
fn every_kind_of_bad_input_reads_as_pinned() {
    for case in CASES {
        let p = Project::new();
        let run = (case.setup)(&p);
        let text = transcript(&p, &run);
        let code: i32 = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("exit code: "))
            .and_then(|c| c.parse().ok())
            .unwrap();
        assert!(
            code == 1 || code == 2,
            "{}: bad input must fail with 1 or 2, not {code}:\n{text}",
            case.name
        );
        settings(&p).bind(|| insta::assert_snapshot!(case.name, text));
    }
}

/// `plan`, `build`, `build --force` and `plan` again on a project without
/// dependencies (no index, no network), each in JSON and then for humans:
/// every state a function is reported in (to build, built, up to date).
#[test]
fn build_and_plan_reports_read_as_pinned() {
    let p = Project::new();
    hello(&p);
    p.write("src/lib/util.py", "X = 1\n");
    let mut text = String::new();
    for command in [&["plan"][..], &["build"], &["build", "--force"], &["plan"]] {
        let r = args(command);
        let (code, json, err) = run(slipway(&p, &r, true));
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run(slipway(&p, &r, false));
        assert_eq!(code, 0, "{err}");
        let command = command.join(" ");
        text.push_str(&format!(
            "$ slipway --format json {command}\n{json}\n$ slipway {command}\n{out}\n"
        ));
    }
    settings(&p).bind(|| insta::assert_snapshot!("build_and_plan", text));
}
