//! SPDX 2.3 JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use slipway_artifact::{ArtifactRecord, Distribution, InstalledIn, Manifest};

use crate::{
    DeclaredLicense, SLIPWAY_URI, SbomInput, by_normalized_name, normalize_name, purl,
    sorted_distributions, stable_uuid, timestamp,
};

const FUNCTION_ID: &str = "SPDXRef-Package-function";
const LAYER_ID: &str = "SPDXRef-Package-layer";

/// The SPDX document for a built function.
pub fn spdx_document(manifest: &Manifest, input: &SbomInput) -> Value {
    let index = by_normalized_name(manifest);
    let mut packages = Vec::new();
    let mut files = Vec::new();
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", FUNCTION_ID)];

    packages.push(artifact_package(
        FUNCTION_ID,
        &manifest.function,
        "APPLICATION",
        &manifest.artifact,
        "function",
        input,
        &mut files,
    ));
    if let Some(layer) = &manifest.layer {
        packages.push(artifact_package(
            LAYER_ID,
            &format!("{}-dependencies-layer", manifest.function),
            "ARCHIVE",
            layer,
            "layer",
            input,
            &mut files,
        ));
        relationships.push(relationship(FUNCTION_ID, "DEPENDS_ON", LAYER_ID));
    }

    let mut direct = Vec::new();
    let mut requires = Vec::new();
    let mut in_layer = Vec::new();
    for dist in sorted_distributions(manifest) {
        let id = package_id(dist);
        let license = DeclaredLicense::of(dist);
        let mut package = json!({
            "SPDXID": id,
            "name": dist.name,
            "versionInfo": dist.version,
            "packageFileName": dist.wheel,
            "downloadLocation": dist
                .wheel_url
                .as_deref()
                .filter(|url| is_spdx_download_location(url))
                .unwrap_or("NOASSERTION"),
            "filesAnalyzed": false,
            "checksums": crate::digests(dist)
                .into_iter()
                .map(|(alg, value)| json!({ "algorithm": alg.replace('-', ""), "checksumValue": value }))
                .collect::<Vec<_>>(),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl(dist),
            }],
            "primaryPackagePurpose": "LIBRARY",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license.spdx_declared(),
            "copyrightText": "NOASSERTION",
        });
        if let DeclaredLicense::Names(names) = &license {
            package["licenseComments"] =
                Value::String(format!("The distribution declares: {}", names.join("; ")));
        }
        packages.push(package);
        if dist.direct {
            direct.push(relationship(FUNCTION_ID, "DEPENDS_ON", &id));
        }
        if dist.installed_in == InstalledIn::Layer && manifest.layer.is_some() {
            in_layer.push(relationship(LAYER_ID, "CONTAINS", &id));
        }
        let mut required: Vec<String> = dist
            .requires
            .iter()
            .filter_map(|name| index.get(&normalize_name(name)).map(|d| package_id(d)))
            .collect();
        required.sort();
        required.dedup();
        for other in required {
            requires.push(relationship(&id, "DEPENDS_ON", &other));
        }
    }
    relationships.extend(direct);
    relationships.extend(in_layer);
    relationships.extend(requires);

    let uuid = stable_uuid(&format!(
        "spdx:{}:{}",
        manifest.function, manifest.artifact.sha256
    ));
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {}", manifest.function, manifest.artifact.file),
        "documentNamespace": format!("{SLIPWAY_URI}spdx/{}-{uuid}", manifest.function),
        "creationInfo": {
            "created": timestamp(manifest.evidence_time()),
            "creators": [format!("Tool: slipway-{}", manifest.slipway_version)],
        },
        "packages": packages,
        "files": files,
        "relationships": relationships,
    })
}

/// The package for one zip, with its files. SPDX requires a SHA-1 per file
/// and a verification code over them; without SHA-1s the files are listed
/// but the package says it was not analysed.
fn artifact_package(
    id: &str,
    name: &str,
    purpose: &str,
    artifact: &ArtifactRecord,
    file_prefix: &str,
    input: &SbomInput,
    files: &mut Vec<Value>,
) -> Value {
    let empty = BTreeMap::new();
    let sha1s = input.entry_sha1.get(&artifact.file).unwrap_or(&empty);
    let all_sha1 = artifact.entries.iter().all(|e| sha1s.contains_key(&e.path));
    let mut file_ids = Vec::new();
    for (n, entry) in artifact.entries.iter().enumerate() {
        let file_id = format!("SPDXRef-File-{file_prefix}-{}", n + 1);
        let mut checksums = Vec::new();
        if let Some(sha1) = sha1s.get(&entry.path) {
            checksums.push(json!({ "algorithm": "SHA1", "checksumValue": sha1 }));
        }
        checksums.push(json!({ "algorithm": "SHA256", "checksumValue": entry.sha256 }));
        files.push(json!({
            "SPDXID": file_id,
            "fileName": format!("./{}", entry.path),
            "checksums": checksums,
            "licenseConcluded": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        }));
        file_ids.push(file_id);
    }
    let mut package = json!({
        "SPDXID": id,
        "name": name,
        "packageFileName": artifact.file,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": all_sha1 && !artifact.entries.is_empty(),
        "checksums": [{ "algorithm": "SHA256", "checksumValue": artifact.sha256 }],
        "primaryPackagePurpose": purpose,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "hasFiles": file_ids,
    });
    if all_sha1 && !artifact.entries.is_empty() {
        package["packageVerificationCode"] = json!({
            "packageVerificationCodeValue": verification_code(sha1s.values()),
        });
    }
    package
}

/// SPDX 2.3 §7.9: SHA-1 over the sorted, concatenated SHA-1s of the files.
fn verification_code<'a>(sha1s: impl Iterator<Item = &'a String>) -> String {
    let mut sorted: Vec<&String> = sha1s.collect();
    sorted.sort();
    let mut hasher = Sha1::new();
    for s in sorted {
        hasher.update(s.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// `SPDXRef-Package-pypi-<name>-<version>`, with the characters SPDX ids
/// cannot hold replaced by `-`.
fn package_id(dist: &Distribution) -> String {
    let raw = format!("{}-{}", normalize_name(&dist.name), dist.version);
    let safe: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-Package-pypi-{safe}")
}

/// Whether SPDX 2.3 (§7.7, the pattern its validators apply) accepts `url` as
/// a download location: a scheme it lists, then a host name ending in a
/// 2–5 letter top-level domain, an optional port, then a path. Hosts given
/// as IP addresses or `localhost` do not match, so such URLs (a private
/// index) are written as NOASSERTION rather than making the document invalid.
fn is_spdx_download_location(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let lower = ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    let Some(rest) = [
        "http://", "https://", "ssh://", "git://", "svn://", "sftp://", "ftp://",
    ]
    .iter()
    .find_map(|scheme| lower.strip_prefix(scheme)) else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host_port, None),
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let Some((tld, names)) = labels.split_last() else {
        return false;
    };
    !names.is_empty()
        && (2..=5).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_lowercase())
        && names.iter().all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({ "spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to })
}

#[cfg(test)]
mod tests {
    use super::is_spdx_download_location as ok;

    #[test]
    fn download_locations_follow_the_spdx_pattern() {
        assert!(ok(
            "https://files.example.com/packages/six-1.16.0-py2.py3-none-any.whl"
        ));
        assert!(ok(
            "https://nexus.corp.example.org:8443/repository/pypi/six.whl"
        ));
        assert!(ok("git+https://gitlab.example.com/team/lib.git"));
        assert!(
            !ok("http://127.0.0.1:8080/six.whl"),
            "IP hosts fail SPDX's pattern"
        );
        assert!(!ok("http://localhost:3141/six.whl"));
        assert!(!ok("file:///tmp/six.whl"));
        assert!(!ok("https://files.example.com:port/six.whl"));
    }
}
