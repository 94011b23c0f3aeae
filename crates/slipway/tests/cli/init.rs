use crate::support::{Project, assert_ok, json_stdout};

#[test]
fn init_writes_a_config_that_builds_on() {
    let p = Project::new();
    p.write(
        "fn/lambda_function.py",
        "def lambda_handler(event, context):\n    return 1\n",
    );
    p.write("fn/requirements.txt", "requests==2.32.3\n");
    let out = p
        .slipway()
        .args(["--format", "json", "init", "fn"])
        .output()
        .unwrap();
    assert_ok(&out);
    let v = json_stdout(&out);
    assert_eq!(v["detected"]["handler"], "lambda_function.lambda_handler");
    assert_eq!(v["detected"]["requirements"], "requirements.txt");
    let text = std::fs::read_to_string(p.join("fn/slipway.toml")).unwrap();
    assert!(text.contains("handler = \"lambda_function.lambda_handler\""));
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let p = Project::hello();
    let out = p.slipway().arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let before = std::fs::read_to_string(p.join("slipway.toml")).unwrap();
    assert!(
        before.contains("[functions.hello]"),
        "the existing file is untouched"
    );
}

#[test]
fn init_on_a_missing_folder_is_an_input_error() {
    let p = Project::new();
    let out = p.slipway().args(["init", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a folder"));
    assert!(!p.join("nowhere").exists(), "nothing created");
}

#[test]
fn init_without_a_handler_says_so_and_the_build_names_what_to_fix() {
    let p = Project::new();
    p.write("fn/util.py", "X = 1\n");
    let out = p.slipway().args(["init", "fn"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not found; edit `handler`"));
    // The placeholder handler parses, and the build says exactly what is missing.
    let build = p
        .slipway()
        .arg("--config")
        .arg(p.join("fn/slipway.toml"))
        .arg("build")
        .output()
        .unwrap();
    assert_eq!(build.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&build.stderr).contains("app.py is not in the package"));
}
