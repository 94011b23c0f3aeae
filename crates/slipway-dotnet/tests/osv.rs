//! The deps.json inventory against OSV records of the NuGet ecosystem,
//! walked with NuGet's version ordering (slipway-vuln's `versions::nuget`).
//! The scan's dispatch on ecosystems is not here yet; this pins what the
//! NuGet arm must find in the fixture.

use std::cmp::Ordering;
use std::path::Path;

use slipway_vuln::versions::nuget;

/// OSV's range walk: affected from an `introduced` until the next `fixed`.
fn affected(version: &str, events: &[serde_json::Value]) -> bool {
    let mut hit = false;
    for e in events {
        if let Some(v) = e["introduced"].as_str() {
            if v == "0" || nuget::compare(version, v).unwrap() != Ordering::Less {
                hit = true;
            }
        } else if let Some(v) = e["fixed"].as_str()
            && hit
        {
            return nuget::compare(version, v).unwrap() == Ordering::Less;
        }
    }
    hit
}

#[test]
fn nuget_advisories_match_the_published_packages() {
    let deps = slipway_dotnet::testing::DEPS_JSON_TEMPLATE.replace("ASSEMBLY", "ItemsApi");
    let inventory = slipway_dotnet::deps::inventory("ItemsApi.deps.json", &deps).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
    let mut findings = Vec::new();
    let mut records: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    records.sort();
    for path in records {
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for a in record["affected"].as_array().unwrap() {
            assert_eq!(a["package"]["ecosystem"], "NuGet");
            let name = a["package"]["name"].as_str().unwrap();
            for d in inventory
                .iter()
                .filter(|d| d.name.eq_ignore_ascii_case(name))
            {
                let hit = a["ranges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| affected(&d.version, r["events"].as_array().unwrap()));
                if hit {
                    findings.push(format!(
                        "{} {}@{}",
                        record["id"].as_str().unwrap(),
                        d.name,
                        d.version
                    ));
                }
            }
        }
    }
    assert_eq!(
        findings,
        [
            "GHSA-5crp-9r3c-p9vr Newtonsoft.Json@11.0.2",
            "GHSA-7jgj-8wvc-jh57 System.Net.Http@4.3.0",
            "GHSA-cmhx-cq75-c4mj System.Text.RegularExpressions@4.3.0",
        ],
        "System.Text.Json 8.0.0-rc.2 sorts before 8.0.0, outside both of its advisories' ranges"
    );
    // The same walk finds the released versions those ranges name.
    let stj = |v: &str| {
        affected(
            v,
            &[
                serde_json::json!({"introduced": "8.0.0"}),
                serde_json::json!({"fixed": "8.0.4"}),
            ],
        )
    };
    assert!(stj("8.0.0") && stj("8.0.3") && !stj("8.0.4") && !stj("8.0.0-rc.2.23479.6"));
}
