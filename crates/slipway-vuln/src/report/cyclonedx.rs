//! CycloneDX 1.6 `vulnerabilities` for one function's SBOM: each finding
//! rated, linked to the component it affects, and accepted risks carried as
//! `analysis` so the document doubles as VEX.
//!
//! By default the result goes to `vex.cdx.json` beside the SBOM: the SBOM
//! with `vulnerabilities` set and `version` raised by one (CycloneDX's way of
//! saying "the same BOM, modified"). The SBOM itself stays byte for byte as
//! the build wrote it, because the signed provenance records its digest and
//! `slipway verify` checks it. [`merge_into_file`] rewrites the SBOM in place
//! for those who want one document and do not verify.
//!
//! The SBOM is read as plain JSON and only `vulnerabilities` (and, for the
//! VEX copy, `version`) change, so this does not depend on the SBOM writer's types.

use std::path::Path;

use serde_json::{Value, json};

use crate::error::VulnError;
use crate::scan::Finding;
use slipway_sbom::normalize_name as normalize;

/// The SBOM file name inside `dist/<function>/`.
pub const SBOM_FILE_NAME: &str = slipway_sbom::CYCLONEDX_FILE_NAME;
/// The SBOM-with-findings written beside it.
pub use slipway_artifact::layout::VEX_FILE_NAME;

/// The `vulnerabilities` array for `findings`, whose `affects` point at the
/// matching components of `bom` (by purl or name and version).
pub fn vulnerabilities(findings: &[&Finding], bom: &Value) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                let mut v = json!({
                    "bom-ref": format!("vulnerability:{}:{}@{}:{}", f.function, normalize(&f.package), f.version, f.id),
                    "id": f.id,
                    "source": source(&f.id),
                });
                let references: Vec<Value> = f
                    .aliases
                    .iter()
                    .map(|a| json!({"id": a, "source": source(a)}))
                    .collect();
                if !references.is_empty() {
                    v["references"] = json!(references);
                }
                v["ratings"] = json!([rating(f)]);
                if !f.summary.is_empty() {
                    v["description"] = json!(f.summary);
                }
                if let Some(fixed) = &f.fixed_in {
                    v["recommendation"] = json!(format!("Upgrade {} to {fixed} or later.", f.package));
                }
                if let Some(url) = &f.url {
                    v["advisories"] = json!([{"url": url}]);
                }
                if let Some(a) = &f.accepted {
                    // Accepting a risk says nothing about exploitability, so no
                    // `state` is claimed: only the response and the reason.
                    v["analysis"] = json!({
                        "response": ["will_not_fix"],
                        "detail": format!(
                            "Accepted risk{}: {} ({})",
                            a.until.as_deref().map(|u| format!(" until {u}")).unwrap_or_default(),
                            a.reason,
                            a.origin
                        ),
                    });
                }
                v["affects"] = json!([{
                    "ref": component_ref(bom, &f.package, &f.version),
                    "versions": [{"version": f.version, "status": "affected"}],
                }]);
                v
            })
            .collect(),
    )
}

/// Writes `vex` from the SBOM at `sbom` with `vulnerabilities` set and its
/// `version` raised by one. Returns false (and writes nothing) when there
/// is no SBOM.
pub fn write_vex(sbom: &Path, vex: &Path, findings: &[&Finding]) -> Result<bool, VulnError> {
    let Some(mut bom) = read_bom(sbom)? else {
        return Ok(false);
    };
    let vulns = vulnerabilities(findings, &bom);
    let obj = bom.as_object_mut().expect("read_bom returns objects");
    obj.insert("vulnerabilities".into(), vulns);
    let version = obj.get("version").and_then(Value::as_u64).unwrap_or(1);
    obj.insert("version".into(), json!(version + 1));
    write_bom(vex, &bom)?;
    Ok(true)
}

/// Sets `vulnerabilities` in the SBOM at `path` itself (if it exists) and
/// writes it back atomically, only when that changes it. Returns whether it
/// was rewritten. The SBOM's digest then differs from the one the
/// provenance records.
pub fn merge_into_file(path: &Path, findings: &[&Finding]) -> Result<bool, VulnError> {
    let Some(mut bom) = read_bom(path)? else {
        return Ok(false);
    };
    let vulns = vulnerabilities(findings, &bom);
    let obj = bom.as_object_mut().expect("read_bom returns objects");
    let before = obj.get("vulnerabilities").cloned();
    if findings.is_empty() {
        obj.remove("vulnerabilities");
    } else {
        obj.insert("vulnerabilities".into(), vulns);
    }
    if obj.get("vulnerabilities") == before.as_ref() {
        return Ok(false);
    }
    write_bom(path, &bom)?;
    Ok(true)
}

fn read_bom(path: &Path) -> Result<Option<Value>, VulnError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(VulnError::SbomUnreadable {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let bom: Value = serde_json::from_slice(&bytes).map_err(|source| VulnError::SbomMalformed {
        path: path.to_path_buf(),
        source,
    })?;
    if !bom.is_object() {
        return Err(VulnError::SbomMalformed {
            path: path.to_path_buf(),
            source: serde::de::Error::custom("the SBOM is not a JSON object"),
        });
    }
    Ok(Some(bom))
}

fn write_bom(path: &Path, bom: &Value) -> Result<(), VulnError> {
    let mut text = serde_json::to_vec_pretty(bom).expect("JSON serialises");
    text.push(b'\n');
    slipway_artifact::fs::write_atomic(path, &text).map_err(|source| VulnError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn source(id: &str) -> Value {
    if id.starts_with("CVE-") {
        json!({"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{id}")})
    } else if id.starts_with("GHSA-") {
        json!({"name": "GitHub", "url": format!("https://github.com/advisories/{id}")})
    } else if id.starts_with("PYSEC-") {
        json!({"name": "PyPA", "url": format!("https://osv.dev/vulnerability/{id}")})
    } else {
        json!({"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")})
    }
}

fn rating(f: &Finding) -> Value {
    // CycloneDX's severity names are the scale's own.
    let mut r = json!({"severity": f.severity.as_str()});
    if let (Some(score), Some(vector)) = (f.score, &f.vector) {
        r["score"] = json!(score);
        r["vector"] = json!(vector);
        r["method"] = json!(if vector.starts_with("CVSS:4.") {
            "CVSSv4"
        } else if vector.starts_with("CVSS:3.1") {
            "CVSSv31"
        } else {
            "CVSSv3"
        });
    }
    r
}

/// The `bom-ref` of the component for `package version`: matched by its
/// PyPI purl, else by normalised name and version; the purl itself when the
/// SBOM has no such component.
fn component_ref(bom: &Value, package: &str, version: &str) -> String {
    let normalized = normalize(package);
    let purl = format!("pkg:pypi/{normalized}@{version}");
    let mut stack: Vec<&Value> = bom.get("components").into_iter().collect();
    if let Some(c) = bom.pointer("/metadata/component") {
        stack.push(c);
    }
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(c) => {
                let purl_matches = c.get("purl").and_then(Value::as_str).is_some_and(|p| {
                    p.split(['?', '#'])
                        .next()
                        .is_some_and(|p| normalize_purl(p) == purl)
                });
                let name_matches = c
                    .get("name")
                    .and_then(Value::as_str)
                    .map(normalize)
                    .as_deref()
                    == Some(normalized.as_str())
                    && c.get("version").and_then(Value::as_str) == Some(version);
                if (purl_matches || name_matches)
                    && let Some(r) = c.get("bom-ref").and_then(Value::as_str)
                {
                    return r.to_string();
                }
                if let Some(children) = c.get("components") {
                    stack.push(children);
                }
            }
            _ => {}
        }
    }
    purl
}

fn normalize_purl(purl: &str) -> String {
    match purl
        .strip_prefix("pkg:pypi/")
        .and_then(|rest| rest.split_once('@'))
    {
        Some((name, version)) => format!("pkg:pypi/{}@{version}", normalize(name)),
        None => purl.to_string(),
    }
}
