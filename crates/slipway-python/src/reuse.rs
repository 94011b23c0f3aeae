//! Reusing the last resolution of unchanged inputs: when the dependency
//! files, index settings and target fingerprint the same as when a
//! resolution was made, it is taken again without asking any index (the way
//! a lock file is honoured), until `--refresh` asks for a new one.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::PackageName;
use pep508_rs::pep440_rs::Version;
use serde::{Deserialize, Serialize};

use crate::cache::Cache;
use crate::index::DistFile;
use crate::metadata::CoreMetadata;
use crate::resolve::Resolved;

/// Bumped when the saved form changes; an unknown version is ignored.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Saved {
    format: u32,
    distributions: Vec<SavedDistribution>,
}

/// What a later build needs of one chosen distribution: the file, the graph
/// edges, and the metadata fields the inventory records.
#[derive(Serialize, Deserialize)]
struct SavedDistribution {
    name: String,
    version: String,
    file: DistFile,
    tag: String,
    direct: bool,
    requires: Vec<String>,
    required_by: Vec<String>,
    allowed_hashes: Vec<String>,
    metadata_name: String,
    metadata_version: String,
    license: Option<String>,
    license_expression: Option<String>,
    license_classifiers: Vec<String>,
}

/// The resolution saved for `fingerprint`, when there is one this slipway can
/// read and every file it names can still be had (local files still there).
pub fn load(cache: &Cache, fingerprint: &str) -> Option<Vec<Resolved>> {
    let bytes = std::fs::read(cache.resolution_path(fingerprint)).ok()?;
    let saved: Saved = serde_json::from_slice(&bytes).ok()?;
    if saved.format != FORMAT {
        return None;
    }
    saved
        .distributions
        .into_iter()
        .map(|d| {
            if d.file.local && !std::path::Path::new(&d.file.url).is_file() {
                return None;
            }
            let names = |v: Vec<String>| -> Option<BTreeSet<PackageName>> {
                v.iter().map(|n| PackageName::from_str(n).ok()).collect()
            };
            Some(Resolved {
                name: PackageName::from_str(&d.name).ok()?,
                version: Version::from_str(&d.version).ok()?,
                file: d.file,
                tag: d.tag,
                metadata: Arc::new(CoreMetadata {
                    name: d.metadata_name,
                    version: d.metadata_version,
                    license: d.license,
                    license_expression: d.license_expression,
                    license_classifiers: d.license_classifiers,
                    ..Default::default()
                }),
                direct: d.direct,
                requires: names(d.requires)?,
                required_by: d.required_by.into_iter().collect(),
                allowed_hashes: d.allowed_hashes,
                // Why other files were passed over was said when resolving.
                rejected: Vec::new(),
            })
        })
        .collect()
}

/// Saves `resolved` for later builds with the same fingerprint. Best effort:
/// a cache that cannot be written only costs the next build a resolution.
pub fn save(cache: &Cache, fingerprint: &str, resolved: &[Resolved]) {
    let saved = Saved {
        format: FORMAT,
        distributions: resolved
            .iter()
            .map(|r| SavedDistribution {
                name: r.name.to_string(),
                version: r.version.to_string(),
                file: r.file.clone(),
                tag: r.tag.clone(),
                direct: r.direct,
                requires: r.requires.iter().map(|n| n.to_string()).collect(),
                required_by: r.required_by.iter().cloned().collect(),
                allowed_hashes: r.allowed_hashes.clone(),
                metadata_name: r.metadata.name.clone(),
                metadata_version: r.metadata.version.clone(),
                license: r.metadata.license.clone(),
                license_expression: r.metadata.license_expression.clone(),
                license_classifiers: r.metadata.license_classifiers.clone(),
            })
            .collect(),
    };
    if let Ok(bytes) = serde_json::to_vec(&saved) {
        let _ = cache.store(&cache.resolution_path(fingerprint), &bytes);
    }
}
