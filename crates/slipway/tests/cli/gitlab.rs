//! `slipway ci gitlab` and the GitLab CI/CD component in `templates/`: every
//! template and generated pipeline validated against GitLab's own CI schema,
//! and the pipeline run for real with gitlab-ci-local against a moto server
//! and a package index served on 127.0.0.1.
//!
//! gitlab-ci-local runs the jobs with the shell executor (`--force-shell-executor`,
//! `--shell-isolation`: each job in its own copy of the repository, with only the
//! artifacts of the jobs it needs). It lacks two GitLab features the component
//! uses, covered here as GitLab would provide them: `id_tokens` (the test sets
//! `SLIPWAY_ID_TOKEN`, the variable GitLab would inject, and the jobs exchange it
//! at moto's STS for credentials: no access key is given to any job) and
//! `include: component:` (the tests include the same template with `local:`).
//! The gitlab-ci-local tests skip, saying so, only when it is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use slipway_ci::testing::{assert_valid, interpolate};
use slipway_python::testing::{LocalIndex, WheelSpec};

use crate::support::{Project, assert_ok, json_stdout};
use crate::support_aws::{Moto, Proxy, REGION, ROLE, SECRET_KEY};

const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates");
/// What GitLab would put in the job's `SLIPWAY_ID_TOKEN` (moto does not check it).
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6c2xpcHdheSJ9.c2lnbmF0dXJl";

fn gitlab_ci_local() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("gitlab-ci-local"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "skipping: gitlab-ci-local is not on PATH (`.ci/run` installs the pinned one: `cd .ci/npm && npm ci`, then .ci/npm/node_modules/.bin on PATH; and Debian's rsync)"
        );
    }
    found
}

fn slipway_bin_dir() -> PathBuf {
    #[allow(deprecated)]
    let bin = assert_cmd::cargo::cargo_bin("slipway");
    bin.parent().unwrap().to_path_buf()
}

/// A git repository holding a slipway project and the component templates.
struct Repo {
    p: Project,
    glci: PathBuf,
}

impl Repo {
    fn new(glci: PathBuf) -> Repo {
        let p = Project::new();
        for t in ["slipway.yml", "monorepo.yml"] {
            p.write(
                &format!("templates/{t}"),
                std::fs::read(Path::new(TEMPLATES).join(t)).unwrap(),
            );
        }
        p.write(
            ".gitignore",
            "dist/\n.test-cache/\n.gitlab-ci-local/\n.slipway-cache/\nhome/\n",
        );
        git(p.path(), &["init", "-q", "-b", "main"]);
        Repo { p, glci }
    }

    fn commit(&self) {
        git(self.p.path(), &["add", "-A"]);
        git(
            self.p.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@127.0.0.1",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "change",
            ],
        );
    }

    /// Runs gitlab-ci-local with `variables` (and `extra` arguments: job
    /// names, `--needs`); its whole output and whether it passed.
    fn pipeline(&self, variables: &[(&str, &str)], extra: &[&str]) -> (bool, String) {
        let path = format!(
            "{}:{}",
            slipway_bin_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(&self.glci);
        cmd.current_dir(self.p.path())
            .args([
                "--force-shell-executor",
                "--shell-isolation",
                "--no-artifacts-to-source",
                "--home",
            ])
            .arg(self.p.join("home"))
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        // Jobs inherit this environment: nothing of the developer's AWS or
        // slipway settings may reach them.
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_")
                || k.starts_with("SLIPWAY_")
                || k.starts_with("PIP_")
                || k.starts_with("UV_")
            {
                cmd.env_remove(k);
            }
        }
        for (k, v) in variables {
            cmd.arg("--variable").arg(format!("{k}={v}"));
        }
        cmd.args(extra);
        let out = cmd.output().expect("gitlab-ci-local runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn artifact(&self, job: &str, rel: &str) -> PathBuf {
        self.p
            .join(&format!(".gitlab-ci-local/artifacts/{job}/{rel}"))
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two functions: `api` with a dependency from the local index, `worker`
/// without; a unit test, a smoke event, a signing key.
fn sample(repo: &Repo, index: &LocalIndex, extra_requirements: &str) {
    let p = &repo.p;
    p.write(
        "slipway.toml",
        format!(
            "[python]\nindex_url = \"{}\"\n\n[aws]\nregion = \"{REGION}\"\n\n[defaults]\nruntime = \"python3.12\"\nrole = \"{ROLE}\"\n\n[functions.api]\nsource = \"src/api\"\nhandler = \"app.handler\"\nrequirements = \"src/api/requirements.txt\"\npublish = true\nalias = \"live\"\n\n[functions.worker]\nsource = \"src/worker\"\nhandler = \"worker.handler\"\n",
            index.url()
        ),
    );
    p.write(
        "src/api/app.py",
        "from greeting import greet\n\ndef handler(event, context):\n    return {\"statusCode\": 200, \"body\": greet(event.get(\"name\", \"you\"))}\n",
    );
    p.write(
        "src/api/requirements.txt",
        format!("greeting==1.0\n{extra_requirements}"),
    );
    p.write(
        "src/worker/worker.py",
        "def handler(event, context):\n    return {\"done\": len(event.get(\"Records\", []))}\n",
    );
    p.write(
        "tests/test_worker.py",
        "import sys, unittest\nsys.path.insert(0, 'src/worker')\nimport worker\n\nclass T(unittest.TestCase):\n    def test_counts(self):\n        self.assertEqual(worker.handler({'Records': [1, 2]}, None), {'done': 2})\n",
    );
    p.write("tests/events/api.json", "{\"name\": \"gitlab\"}\n");
    index.add_wheel(&WheelSpec::new("greeting", "1.0", "py3-none-any").file(
        "greeting/__init__.py",
        "def greet(name):\n    return f'hello, {name}'\n",
    ));
}

/// The sample's .gitlab-ci.yml, written by slipway with the local template.
fn generate(repo: &Repo, inputs: &[&str]) -> String {
    let mut cmd = repo.p.slipway();
    cmd.args(["ci", "gitlab", "--component", "templates/slipway.yml"]);
    for i in inputs {
        cmd.args(["--input", i]);
    }
    let out = cmd.output().unwrap();
    assert_ok(&out);
    std::fs::read_to_string(repo.p.join(".gitlab-ci.yml")).unwrap()
}

fn signing_key(repo: &Repo) -> String {
    let keys = repo.p.join("home/keys");
    std::fs::create_dir_all(&keys).unwrap();
    let out = repo
        .p
        .slipway()
        .args(["keygen", "--out"])
        .arg(keys.join("key"))
        .args(["--allowed-signers"])
        .arg(repo.p.join("allowed_signers"))
        .output()
        .unwrap();
    assert_ok(&out);
    let key = std::fs::read(keys.join("key")).unwrap();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// GitLab's variables for a protected branch, the OIDC token and role, and
/// the AWS endpoint; no access keys.
fn gitlab_variables<'a>(endpoint: &'a str, signing: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CI_COMMIT_REF_PROTECTED", "true"),
        ("SLIPWAY_ID_TOKEN", ID_TOKEN),
        ("SLIPWAY_AWS_ROLE_ARN", ROLE),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("SLIPWAY_SIGNING_KEY", signing),
    ]
}

fn assert_no_secrets(log: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!log.contains(s), "a job log shows a secret ({}…)", &s[..8]);
    }
}

#[test]
fn templates_and_generated_pipelines_validate_and_check_reports_staleness() {
    let glci = gitlab_ci_local();
    let repo = Repo::new(glci.clone().unwrap_or_default());
    let index = LocalIndex::start();
    sample(&repo, &index, "");
    for t in ["slipway.yml", "monorepo.yml"] {
        let text = std::fs::read_to_string(Path::new(TEMPLATES).join(t)).unwrap();
        let header = text.split("\n---\n").next().unwrap();
        assert_valid(header, &format!("templates/{t} spec"));
        assert_valid(
            &interpolate(
                &text,
                &[
                    ("functions", "api worker"),
                    ("component", "templates/slipway.yml"),
                ],
            ),
            &format!("templates/{t}"),
        );
    }
    for inputs in [
        &[][..],
        &[
            "deploy_with=terraform",
            "environment=staging",
            "deployment_tier=staging",
            "canary=10",
        ][..],
    ] {
        let text = generate(&repo, inputs);
        assert_valid(&text, &format!(".gitlab-ci.yml with {inputs:?}"));
        assert!(text.contains("functions: api worker"), "{text}");
    }
    let check = |args: &[&str]| {
        let out = repo
            .p
            .slipway()
            .args([
                "--format",
                "json",
                "ci",
                "gitlab",
                "--component",
                "templates/slipway.yml",
                "--check",
            ])
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), json_stdout(&out))
    };
    // Written with the terraform inputs: the default flags see it as stale.
    let (code, report) = check(&[]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["ok"], false);
    generate(&repo, &[]);
    assert_eq!(check(&[]).0, Some(0));
    // A new function in slipway.toml makes the file stale.
    let toml = std::fs::read_to_string(repo.p.join("slipway.toml")).unwrap();
    repo.p.write(
        "slipway.toml",
        format!(
            "{toml}\n[functions.extra]\nsource = \"src/worker\"\nhandler = \"worker.handler\"\n"
        ),
    );
    let (code, report) = check(&[]);
    assert_eq!(code, Some(1));
    assert!(report["first_difference"].as_u64().is_some(), "{report}");
    // Bad inputs are input errors, naming what is known.
    let out = repo
        .p
        .slipway()
        .args(["ci", "gitlab", "--input", "deploy_with=cdk"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("deploy_with is one of slipway, terraform")
    );
    // gitlab-ci-local reads the generated file and the included template.
    if glci.is_some() {
        generate(&repo, &[]);
        repo.commit();
        let (ok, log) = repo.pipeline(&[("CI_COMMIT_REF_PROTECTED", "true")], &["--list"]);
        assert!(ok, "{log}");
        for job in [
            "slipway-build",
            "slipway-test",
            "slipway-scan",
            "slipway-deploy",
            "slipway-promote",
            "slipway-rollback",
            "slipway-ci-check",
        ] {
            assert!(log.contains(job), "{job} missing:\n{log}");
        }
        assert!(
            !log.contains("slipway-drift"),
            "drift runs on schedules only:\n{log}"
        );
        // A merge request pipeline deploys nothing.
        let (ok, log) = repo.pipeline(
            &[
                ("CI_COMMIT_REF_PROTECTED", "true"),
                ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ],
            &["--list"],
        );
        assert!(ok && !log.contains("slipway-deploy"), "{log}");
        let (ok, log) = repo.pipeline(&[("CI_COMMIT_REF_PROTECTED", "false")], &["--list"]);
        assert!(
            ok && !log.contains("slipway-deploy"),
            "an unprotected branch deploys:\n{log}"
        );
    }
}

#[test]
fn the_pipeline_deploys_once_proves_it_and_a_schedule_reports_drift() {
    let Some(glci) = gitlab_ci_local() else {
        return;
    };
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let index = LocalIndex::start();
    let repo = Repo::new(glci);
    sample(&repo, &index, "");
    let key = signing_key(&repo);
    generate(
        &repo,
        &[
            "trusted_keys=allowed_signers",
            "test_command=python3 -m unittest discover -s tests",
        ],
    );
    repo.commit();
    let vars = gitlab_variables(&proxy.url, &key);

    let (ok, log) = repo.pipeline(&vars, &[]);
    assert!(ok, "{log}");
    for job in [
        "slipway-build",
        "slipway-test",
        "slipway-scan",
        "slipway-deploy",
        "slipway-ci-check",
    ] {
        assert!(log.contains(&format!("PASS  {job}")), "{job}:\n{log}");
    }
    assert!(
        log.contains("hello, gitlab"),
        "the smoke invoke ran the built api:\n{log}"
    );
    assert!(log.contains("Ran 1 test"), "the unit tests ran:\n{log}");
    // Signed in the build job, checked before the deploy.
    assert!(
        repo.artifact("slipway-build", "dist/api/api.zip.sig")
            .is_file()
    );
    assert!(log.contains("passed  sshsig"), "{log}");
    // Credentials came from the ID token: moto's STS saw the exchange.
    assert!(
        proxy
            .seen()
            .iter()
            .any(|s| s.body_start.contains("AssumeRoleWithWebIdentity")),
        "no web identity exchange: {:?}",
        proxy.seen()
    );
    let live = moto.aws(&["lambda", "get-function", "--function-name", "api"]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo.artifact("slipway-build", "dist/api/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        live["Configuration"]["CodeSha256"],
        manifest["artifact"]["code_sha256"]
    );
    let dotenv = std::fs::read_to_string(repo.artifact("slipway-deploy", "slipway-deploy.env"))
        .or_else(|_| {
            std::fs::read_to_string(
                repo.p
                    .join(".gitlab-ci-local/builds/slipway-deploy/slipway-deploy.env"),
            )
        })
        .unwrap();
    assert!(
        dotenv.contains(&format!(
            "SLIPWAY_API_CODE_SHA256={}",
            manifest["artifact"]["code_sha256"].as_str().unwrap()
        )),
        "{dotenv}"
    );
    assert!(dotenv.contains("SLIPWAY_API_VERSION=1"), "{dotenv}");
    assert!(dotenv.contains("SLIPWAY_WORKER_FUNCTION_ARN="), "{dotenv}");
    assert_no_secrets(&log, &[&key, ID_TOKEN, SECRET_KEY]);

    // The same commit again: nothing to write on AWS.
    proxy.clear();
    let (ok, log) = repo.pipeline(&vars, &[]);
    assert!(ok, "{log}");
    // The STS exchange for credentials is the only call that is not a read.
    let writes: Vec<_> = proxy
        .writes()
        .into_iter()
        .filter(|w| w.is_lambda())
        .collect();
    assert!(writes.is_empty(), "a second run wrote to AWS: {writes:?}");
    let versions = moto.aws(&[
        "lambda",
        "list-versions-by-function",
        "--function-name",
        "api",
    ]);
    assert_eq!(
        versions["Versions"].as_array().unwrap().len(),
        2,
        "$LATEST and 1: {versions}"
    );

    // Someone changes the function outside the pipeline; the schedule says what moved.
    moto.aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        "worker",
        "--memory-size",
        "512",
    ]);
    let mut scheduled = vars.clone();
    scheduled.push(("CI_PIPELINE_SOURCE", "schedule"));
    let (ok, log) = repo.pipeline(&scheduled, &[]);
    assert!(!ok, "drift passed:\n{log}");
    assert!(log.contains("FAIL  slipway-drift"), "{log}");
    assert!(
        log.contains("worker: drift") && log.contains("memory"),
        "{log}"
    );
    assert!(
        !log.contains("slipway-deploy "),
        "a schedule deployed:\n{log}"
    );
    assert_no_secrets(&log, &[&key, ID_TOKEN, SECRET_KEY]);
}

#[test]
fn an_artifact_changed_between_build_and_deploy_stops_the_deploy_before_aws() {
    let Some(glci) = gitlab_ci_local() else {
        return;
    };
    let moto = Moto::start().with_role();
    let proxy = Proxy::start(moto.port);
    let index = LocalIndex::start();
    let repo = Repo::new(glci);
    sample(&repo, &index, "");
    generate(&repo, &[]);
    repo.commit();
    let vars = gitlab_variables(&proxy.url, "");
    let vars: Vec<_> = vars
        .into_iter()
        .filter(|(k, _)| *k != "SLIPWAY_SIGNING_KEY")
        .collect();
    // A merge request from a fork: its build job never signs, whatever the variables hold.
    let key = signing_key(&repo);
    let mut fork = vars.clone();
    fork.extend([
        ("SLIPWAY_SIGNING_KEY", key.as_str()),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "424242"),
    ]);
    let (ok, log) = repo.pipeline(&fork, &["slipway-build"]);
    assert!(ok, "{log}");
    assert!(
        !repo
            .artifact("slipway-build", "dist/api/api.zip.sig")
            .exists(),
        "a fork's build was signed"
    );
    assert_no_secrets(&log, &[&key, ID_TOKEN]);
    let (ok, log) = repo.pipeline(&vars, &["slipway-build", "slipway-test", "slipway-scan"]);
    assert!(ok, "{log}");
    // The build job's artifact is altered where the deploy job will take it from.
    let zip = repo.artifact("slipway-build", "dist/worker/worker.zip");
    let mut bytes = std::fs::read(&zip).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&zip, bytes).unwrap();
    proxy.clear();
    let (ok, log) = repo.pipeline(&vars, &["slipway-deploy"]);
    assert!(!ok, "deploy passed:\n{log}");
    assert!(log.contains("FAIL  slipway-deploy"), "{log}");
    assert!(
        log.contains("failed verification, nothing was deployed"),
        "{log}"
    );
    assert!(
        proxy.seen().is_empty(),
        "AWS was called: {:?}",
        proxy.seen()
    );
    let (exists, _) = moto.aws_succeeds(&["lambda", "get-function", "--function-name", "worker"]);
    assert!(!exists);
}

#[test]
fn a_dependency_with_a_known_advisory_fails_the_scan_job_with_a_junit_report() {
    let Some(glci) = gitlab_ci_local() else {
        return;
    };
    let index = LocalIndex::start();
    let repo = Repo::new(glci);
    // PyYAML 5.3 has PYSEC-2020-96 in the bundled PyPA snapshot.
    index.add_wheel(
        &WheelSpec::new("PyYAML", "5.3", "py3-none-any")
            .file("yaml/__init__.py", "__version__ = '5.3'\n"),
    );
    sample(&repo, &index, "PyYAML==5.3\n");
    generate(&repo, &[]);
    repo.commit();
    let (ok, log) = repo.pipeline(&[], &["slipway-scan", "--needs"]);
    assert!(!ok, "scan passed:\n{log}");
    assert!(log.contains("FAIL  slipway-scan"), "{log}");
    let junit = repo.artifact("slipway-scan", "slipway-scan-junit.xml");
    let gl = repo.artifact("slipway-scan", "gl-dependency-scanning-report.json");
    assert!(
        gl.is_file(),
        "the dependency-scanning report is kept on failure"
    );
    assert!(
        repo.artifact("slipway-scan", "dist/api/vex.cdx.json")
            .is_file()
    );
    // An independent reader: Python's XML parser, as a JUnit consumer reads it.
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E\nr = E.parse(sys.argv[1]).getroot()\nassert r.tag == 'testsuites', r.tag\nfor s in r.iter('testsuite'):\n    assert int(s.get('tests')) == len(s.findall('testcase')), s.attrib\nfor c in r.iter('testcase'):\n    f = c.find('failure')\n    if f is not None:\n        print(c.get('classname'), '|', c.get('name'), '|', f.get('type'))\nprint('failures', r.get('failures'))",
        ])
        .arg(&junit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_ok(&out);
    assert!(
        text.contains("api.PyYAML | PYSEC-2020-96 in PyYAML 5.3"),
        "{text}"
    );
    assert!(!text.contains("failures 0"), "{text}");
    // The worker ships nothing vulnerable and shows as a passing case.
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("classname=\"worker\"")
    );
}

#[test]
fn the_monorepo_generator_emits_one_chain_per_changed_function() {
    let moto = Moto::start().with_role();
    let repo = Repo::new(gitlab_ci_local().unwrap_or_default());
    let p = &repo.p;
    let mut toml = format!(
        "[aws]\nregion = \"{REGION}\"\n\n[defaults]\nruntime = \"python3.12\"\nrole = \"{ROLE}\"\n"
    );
    for i in 0..50 {
        toml.push_str(&format!(
            "\n[functions.f{i:02}]\nsource = \"fns/f{i:02}\"\nhandler = \"app.handler\"\n"
        ));
        p.write(
            &format!("fns/f{i:02}/app.py"),
            format!("def handler(event, context):\n    return {i}\n"),
        );
    }
    p.write("slipway.toml", toml);
    let out = repo
        .p
        .slipway()
        .args([
            "ci",
            "gitlab",
            "--monorepo",
            "--component",
            "templates/slipway.yml",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let root = std::fs::read_to_string(p.join(".gitlab-ci.yml")).unwrap();
    assert_valid(&root, "the monorepo .gitlab-ci.yml");
    assert!(root.contains("local: templates/monorepo.yml"), "{root}");

    // The last deploy: all 50, recorded as the record job keeps them.
    let build = p.slipway().args(["build", "-q"]).output().unwrap();
    assert_ok(&build);
    let deploy = crate::support_aws::slipway_aws(p, &moto.url)
        .args(["deploy", "-q"])
        .output()
        .unwrap();
    assert_ok(&deploy);
    for i in 0..50 {
        let from = p.join(&format!("dist/f{i:02}"));
        let to = p.join(&format!(".slipway-deployed/f{i:02}"));
        std::fs::create_dir_all(&to).unwrap();
        for f in ["manifest.json", "deploy.json"] {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
    // Two functions change.
    p.write(
        "fns/f07/app.py",
        "def handler(event, context):\n    return 'seven'\n",
    );
    p.write("fns/f42/helper.py", "X = 1\n");
    let plan = p
        .slipway()
        .args(["--format", "json", "plan"])
        .output()
        .unwrap();
    assert_ok(&plan);
    std::fs::write(p.join("slipway-plan.json"), &plan.stdout).unwrap();
    let out = p
        .slipway()
        .args([
            "--format",
            "json",
            "ci",
            "gitlab",
            "--child-pipeline",
            "--plan",
            "slipway-plan.json",
            "--component",
            "templates/slipway.yml",
        ])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert!(out.status.success(), "{report}");
    let changed: Vec<&str> = report["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["function"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["f07", "f42"]);
    assert_eq!(report["functions"], 50);
    assert_eq!(report["changed"][0]["state"], "changed");
    let child = std::fs::read_to_string(p.join("slipway-child.yml")).unwrap();
    assert_valid(&child, "the child pipeline");
    let doc = &slipway_ci::testing::documents(&child)[0];
    let includes = doc["include"].as_array().unwrap();
    assert_eq!(includes.len(), 2, "{child}");
    assert_eq!(includes[0]["inputs"]["functions"], "f07");
    assert_eq!(includes[1]["inputs"]["functions"], "f42");
    // Each chain, interpolated as GitLab includes it, is valid too, with its own job names.
    let template = std::fs::read_to_string(Path::new(TEMPLATES).join("slipway.yml")).unwrap();
    for f in ["f07", "f42"] {
        let prefix = format!("slipway-{f}-");
        let body = interpolate(&template, &[("functions", f), ("job_prefix", &prefix)]);
        assert_valid(&body, &format!("the {f} chain"));
        assert!(body.contains(&format!("{prefix}deploy:")));
    }
    // gitlab-ci-local reads the child pipeline (its includes resolved) with exactly those chains.
    if gitlab_ci_local().is_some() {
        std::fs::copy(p.join("slipway-child.yml"), p.join("child.yml")).unwrap();
        repo.commit();
        let (ok, log) = repo.pipeline(
            &[("CI_COMMIT_REF_PROTECTED", "true")],
            &["--file", "child.yml", "--list"],
        );
        assert!(ok, "{log}");
        let builds: Vec<&str> = log
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|j| j.ends_with("-build"))
            .collect();
        assert_eq!(builds, ["slipway-f07-build", "slipway-f42-build"], "{log}");
    }
}
