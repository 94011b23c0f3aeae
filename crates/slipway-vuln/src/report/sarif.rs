//! SARIF 2.1.0: one rule per advisory, one result per finding, accepted
//! risks as external suppressions, severity as `security-severity` (the
//! property code-scanning tools sort by).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::scan::{Finding, ScanOutcome};
use crate::severity::Severity;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// `artifact_for(finding)` names the file a finding is reported against
/// (the requirements file, else the manifest), relative to the project root.
pub fn render(outcome: &ScanOutcome, artifact_for: &dyn Fn(&Finding) -> String) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in &outcome.findings {
        rules.entry(f.id.as_str()).or_insert_with(|| {
            let mut rule = json!({
                "id": f.id,
                "name": "VulnerableDependency",
                "shortDescription": {"text": if f.summary.is_empty() { f.id.clone() } else { f.summary.clone() }},
                "fullDescription": {"text": format!("{} ({})", if f.summary.is_empty() { &f.id } else { &f.summary }, f.names().collect::<Vec<_>>().join(", "))},
                "defaultConfiguration": {"level": level(f.severity, outcome.fail_on)},
                "properties": {
                    "tags": ["security", "vulnerability", "dependency"],
                    "aliases": f.aliases,
                },
            });
            if let Some(score) = f.score {
                rule["properties"]["security-severity"] = json!(format!("{score:.1}"));
            }
            if let Some(url) = &f.url {
                rule["helpUri"] = json!(url);
            }
            rule
        });
    }
    let rule_index: BTreeMap<&str, usize> =
        rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.id,
                "ruleIndex": rule_index[f.id.as_str()],
                "level": level(f.severity, outcome.fail_on),
                "message": {"text": format!(
                    "{} {} ({}) is affected by {} [{}]{}",
                    f.package,
                    f.version,
                    f.function,
                    f.id,
                    f.severity,
                    f.fixed_in.as_deref().map(|v| format!("; fixed in {v}")).unwrap_or_default()
                )},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": artifact_for(f)}},
                    "logicalLocations": [{
                        "name": format!("{}@{}", f.package, f.version),
                        "fullyQualifiedName": format!("{}/{}@{}", f.function, f.package, f.version),
                        "kind": "module",
                    }],
                }],
                "partialFingerprints": {"slipwayFinding/v1": super::finding_uuid(f)},
                "properties": {
                    "package": f.package,
                    "installedVersion": f.version,
                    "severity": f.severity,
                    "function": f.function,
                },
            });
            if let Some(fixed) = &f.fixed_in {
                result["properties"]["fixedIn"] = json!(fixed);
            }
            if let Some(a) = &f.accepted {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!(
                        "{}{} ({})",
                        a.reason,
                        a.until.as_deref().map(|u| format!(" — until {u}")).unwrap_or_default(),
                        a.origin
                    ),
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "slipway",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
            "properties": {
                "database": outcome.db.location,
                "databaseDate": outcome.db.date,
                "failOn": outcome.fail_on,
            },
        }],
    })
}

/// `error` for what fails the gate, `warning` for other scored findings,
/// `note` for the rest.
fn level(severity: Severity, fail_on: Severity) -> &'static str {
    if severity >= fail_on {
        "error"
    } else if severity >= Severity::Low {
        "warning"
    } else {
        "note"
    }
}
