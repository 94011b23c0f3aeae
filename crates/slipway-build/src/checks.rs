//! Checks `slipway build` makes before anything ships.

use slipway_artifact::ArtifactRecord;
use slipway_config::{Function, LifecycleStatus, RuntimeFamily, limits};
use slipway_package::input_hash::HashedFile;
use slipway_package::{EntryData, ZipEntry};

use crate::error::Failure;

/// A warning when the runtime is deprecated or blocked, naming its successor.
pub fn runtime_lifecycle(function: &Function) -> Vec<String> {
    let today = time::OffsetDateTime::now_utc().date();
    let rt = function.runtime;
    let what = match rt.status_on(today) {
        LifecycleStatus::Supported => return Vec::new(),
        LifecycleStatus::Deprecated => "is deprecated",
        LifecycleStatus::CreateBlocked => {
            "is deprecated and AWS no longer creates functions with it"
        }
        LifecycleStatus::UpdateBlocked => {
            "is deprecated and AWS refuses to create or update functions with it"
        }
    };
    vec![format!(
        "runtime {} {what} ({})",
        rt.id,
        rt.lifecycle_sentence()
    )]
}

/// The handler's module is in the package and defines the handler function.
pub fn handler(function: &Function, files: &[HashedFile]) -> Result<(), Failure> {
    if let RuntimeFamily::NodeJs { .. } = function.runtime.family {
        return node_handler(function, files);
    }
    let RuntimeFamily::Python { .. } = function.runtime.family else {
        return Ok(());
    };
    let (module, name) = function
        .handler
        .rsplit_once('.')
        .expect("validated as module.function");
    let module_path = module.replace('.', "/");
    let candidates = [
        format!("{module_path}.py"),
        format!("{module_path}/__init__.py"),
    ];
    let Some(file) = files.iter().find(|f| candidates.contains(&f.file.zip_path)) else {
        return Err(Failure::input(miette::miette!(
            code = "slipway::build::handler_missing",
            help = format!(
                "`handler = \"{}\"` needs {} in the source folder {} (check `source`, `include` and `exclude`)",
                function.handler,
                candidates[0],
                function.source.display()
            ),
            "function `{}`: the handler's module {} is not in the package",
            function.name,
            candidates[0],
        )));
    };
    let text = match &file.content {
        Some(content) => String::from_utf8_lossy(content).into_owned(),
        None => std::fs::read_to_string(&file.file.disk_path).map_err(|e| {
            Failure::input(miette::miette!(
                "cannot read {}: {e}",
                file.file.disk_path.display()
            ))
        })?,
    };
    if function.handler_check {
        // The file on disk, not its place in the package: the user edits that one.
        let module = file.file.disk_path.display().to_string();
        slipway_python::handler::check_handler(&text, &module, name)?;
    }
    Ok(())
}

/// A Node.js handler's module: `index.js`, `index.mjs` or `index.cjs`.
fn node_handler(function: &Function, files: &[HashedFile]) -> Result<(), Failure> {
    let paths: Vec<&str> = files.iter().map(|f| f.file.zip_path.as_str()).collect();
    let found = slipway_node::handler::resolve(&function.handler, &paths, |_| None);
    if found.is_some() {
        return Ok(());
    }
    let tried = slipway_node::handler::candidates(&function.handler)
        .map(|(c, _)| c.join(", "))
        .unwrap_or_default();
    Err(Failure::input(miette::miette!(
        code = "slipway::build::handler_missing",
        help = format!(
            "`handler = \"{}\"` needs one of {tried} in the source folder {} (check `source`, `include` and `exclude`)",
            function.handler,
            function.source.display()
        ),
        "function `{}`: the handler's module ({tried}) is not in the package",
        function.name,
    )))
}

/// The uncompressed size of a package entry.
pub fn entry_size(e: &ZipEntry) -> u64 {
    match &e.data {
        EntryData::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        EntryData::Bytes(b) => b.len() as u64,
        EntryData::Hashed { content, .. } => content.len() as u64,
        EntryData::Precompressed(p) => p.uncompressed_size,
    }
}

/// Lambda refuses more than 250 MB unzipped (function and layers together).
/// `parts` are package paths with their uncompressed sizes.
pub fn unzipped_size(parts: &[(&str, u64)]) -> Result<(), Failure> {
    let total: u64 = parts.iter().map(|(_, size)| size).sum();
    if total <= limits::UNZIPPED_BYTES {
        return Ok(());
    }
    // Name the largest contributors by top-level folder (a package, usually).
    let mut by_top: std::collections::BTreeMap<String, u64> = Default::default();
    for (path, size) in parts {
        let top = path
            .trim_start_matches("python/")
            .split('/')
            .next()
            .unwrap_or("");
        *by_top.entry(top.to_string()).or_default() += size;
    }
    let mut ranked: Vec<_> = by_top.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = ranked
        .iter()
        .take(5)
        .map(|(name, s)| format!("{name} ({:.1} MB)", *s as f64 / 1_048_576.0))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Failure::input(miette::miette!(
        code = "slipway::build::too_large",
        help = format!(
            "largest: {top}. Exclude what the function does not need (`exclude`, `exclude_packages`), or ship it as a container image"
        ),
        "the package is {:.1} MB unzipped; Lambda allows 250 MB including layers",
        total as f64 / 1_048_576.0
    )))
}

/// Over 50 MB zipped, Lambda only takes the package through S3.
pub fn zipped_size(artifact: &ArtifactRecord, layer: Option<&ArtifactRecord>) -> Vec<String> {
    std::iter::once(artifact)
        .chain(layer)
        .filter(|a| a.zipped_size > limits::ZIPPED_DIRECT_UPLOAD_BYTES)
        .map(|a| {
            format!(
                "{} is {:.1} MB zipped, over Lambda's 50 MB direct upload limit: deploys will upload it through S3 (set `s3_bucket`)",
                a.file,
                a.zipped_size as f64 / 1_048_576.0
            )
        })
        .collect()
}
