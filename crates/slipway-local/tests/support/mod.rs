//! Built functions made on the fly: a zip written by slipway's own zip writer
//! and a manifest beside it, as `slipway build` leaves them in `dist/`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use slipway_artifact::{MANIFEST_SCHEMA_VERSION, Manifest};
use slipway_local::python::{self, Interpreter};
use slipway_local::{BuiltFunction, FunctionSpec, LogSink, RuntimeClient};
use slipway_package::{EntryData, ZipEntry, ZipOptions, write_zip};

pub struct Dist {
    pub dir: tempfile::TempDir,
    pub built: BuiltFunction,
}

/// Writes `dist/<name>/<name>.zip` holding `files` and its manifest.
pub fn build(name: &str, runtime: &str, handler: &str, files: &[(&str, &str)]) -> Dist {
    build_with_layer(name, runtime, handler, files, &[])
}

pub fn build_with_layer(
    name: &str,
    runtime: &str,
    handler: &str,
    files: &[(&str, &str)],
    layer_files: &[(&str, &str)],
) -> Dist {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join(name);
    std::fs::create_dir_all(&dist).unwrap();
    let entries = |files: &[(&str, &str)]| {
        files
            .iter()
            .map(|(path, text)| ZipEntry {
                path: path.to_string(),
                executable: false,
                data: EntryData::Bytes(text.as_bytes().to_vec()),
                origin: slipway_artifact::EntryOrigin::Source,
            })
            .collect::<Vec<_>>()
    };
    let artifact = write_zip(
        entries(files),
        &dist.join(format!("{name}.zip")),
        &ZipOptions::default(),
    )
    .unwrap();
    let layer = (!layer_files.is_empty()).then(|| {
        write_zip(
            entries(layer_files),
            &dist.join(format!("{name}-layer.zip")),
            &ZipOptions::default(),
        )
        .unwrap()
    });
    // Through JSON rather than a struct literal, so fields the manifest
    // gains later (with defaults) do not break these fixtures.
    let manifest: Manifest = serde_json::from_value(serde_json::json!({
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "function": name,
        "runtime": runtime,
        "architecture": slipway_config::Architecture::host().unwrap().lambda_name(),
        "handler": handler,
        "artifact": artifact,
        "layer": layer,
        "input_hash": "test",
        "slipway_version": "test",
        "source_date_epoch": 315_532_800,
        "dependencies": [],
    }))
    .unwrap();
    std::fs::write(dist.join("manifest.json"), manifest.to_json()).unwrap();
    let built = BuiltFunction::open(&dist).unwrap();
    Dist { dir, built }
}

pub fn interpreter(minor: u32) -> Interpreter {
    python::discover(minor, None).unwrap_or_else(|e| panic!("python3.{minor}: {e}"))
}

pub fn spec(dist: &Dist, client: RuntimeClient, timeout_seconds: u32) -> FunctionSpec {
    let minor = dist.built.python_minor().expect("a Python function");
    FunctionSpec {
        name: dist.built.manifest.function.clone(),
        memory_mb: 256,
        timeout_seconds,
        environment: BTreeMap::from([("GREETING".to_owned(), "hello".to_owned())]),
        region: "eu-west-1".into(),
        interpreter: Some(interpreter(minor)),
        client,
        runtime_packages: None,
    }
}

/// A sink that keeps every line.
pub fn collecting_sink() -> (LogSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let keep = lines.clone();
    let sink: LogSink =
        Arc::new(move |_f: &str, line: &str| keep.lock().unwrap().push(line.to_owned()));
    (sink, lines)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
