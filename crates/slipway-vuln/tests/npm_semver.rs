//! slipway's SemVer ordering and OSV `SEMVER` range evaluation against the
//! npm registry's `semver` package (the copy inside the machine's npm), on a
//! generated table of versions × ranges, prereleases and build metadata
//! included.

use std::process::Command;

use slipway_vuln::advisory::{AffectedPackage, Event};
use slipway_vuln::matching::MatchedBy;

/// `<npm's global root>/npm/node_modules/semver`: npm's own dependency.
fn npm_semver() -> String {
    let out = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .expect("npm on PATH");
    let root = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let path = format!("{root}/npm/node_modules/semver");
    assert!(
        std::path::Path::new(&path).join("package.json").is_file(),
        "npm's semver package at {path}"
    );
    path
}

fn versions() -> Vec<String> {
    let mut out = Vec::new();
    for core in [
        "0.0.0", "0.0.1", "0.1.0", "1.0.0", "1.0.1", "1.2.3", "1.10.0", "2.0.0", "10.0.0",
    ] {
        for pre in [
            "",
            "-0",
            "-1",
            "-alpha",
            "-alpha.1",
            "-alpha.beta",
            "-beta.2",
            "-beta.11",
            "-rc.1",
            "-rc.1.0",
        ] {
            out.push(format!("{core}{pre}"));
        }
    }
    out.push("1.2.3+build.7".into());
    out.push("2.0.0-rc.1+exp.sha.5114f85".into());
    out
}

/// Ranges as (events for OSV, the same range in node-semver syntax).
fn ranges() -> Vec<(Vec<Event>, String)> {
    let bounds = [
        "0.0.1",
        "1.0.0-alpha.1",
        "1.0.0",
        "1.2.3",
        "1.10.0",
        "2.0.0-rc.1",
        "2.0.0",
    ];
    let mut out = Vec::new();
    for (i, lo) in std::iter::once("0").chain(bounds).enumerate() {
        let lo_expr = if lo == "0" {
            "0.0.0-0".to_string()
        } else {
            lo.to_string()
        };
        out.push((vec![Event::Introduced(lo.into())], format!(">={lo_expr}")));
        for hi in bounds.iter().skip(i) {
            if lo == *hi {
                continue;
            }
            out.push((
                vec![Event::Fixed((*hi).into()), Event::Introduced(lo.into())],
                format!(">={lo_expr} <{hi}"),
            ));
            out.push((
                vec![
                    Event::Introduced(lo.into()),
                    Event::LastAffected((*hi).into()),
                ],
                format!(">={lo_expr} <={hi}"),
            ));
        }
    }
    // Two branches, events out of order.
    out.push((
        vec![
            Event::Fixed("2.0.0".into()),
            Event::Introduced("1.10.0".into()),
            Event::Fixed("1.0.1".into()),
            Event::Introduced("0".into()),
        ],
        ">=0.0.0-0 <1.0.1 || >=1.10.0 <2.0.0".into(),
    ));
    // `limit` bounds an open range.
    out.push((
        vec![
            Event::Introduced("1.0.0".into()),
            Event::Limit("1.10.0".into()),
        ],
        ">=1.0.0 <1.10.0".into(),
    ));
    out
}

#[test]
fn semver_ranges_agree_with_npm_semver() {
    let semver = npm_semver();
    let versions = versions();
    let ranges = ranges();
    let mut ours = Vec::new();
    for (events, _) in &ranges {
        let affected = AffectedPackage {
            ecosystem: slipway_artifact::Ecosystem::Npm,
            name: "p".into(),
            ranges: vec![events.clone()],
            versions: vec![],
            severity: vec![],
        };
        for v in &versions {
            ours.push(slipway_vuln::semver::matches(v, &affected) == Some(MatchedBy::Range));
        }
    }
    let mut order = Vec::new();
    for a in &versions {
        for b in &versions {
            order.push(slipway_vuln::semver::compare(a, b) as i8);
        }
    }
    let input = serde_json::json!({
        "versions": versions,
        "ranges": ranges.iter().map(|(_, r)| r).collect::<Vec<_>>(),
    });
    let script = format!(
        "const semver = require({semver:?});\
         const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\
         const sat = [];\
         for (const r of input.ranges) for (const v of input.versions) sat.push(semver.satisfies(v, r, {{includePrerelease: true}}));\
         const order = [];\
         for (const a of input.versions) for (const b of input.versions) order.push(semver.compare(a, b));\
         console.log(JSON.stringify({{sat, order}}));"
    );
    let mut child = Command::new("node")
        .args(["-e", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node on PATH");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.to_string().as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sat: Vec<bool> = serde_json::from_value(theirs["sat"].clone()).unwrap();
    let their_order: Vec<i8> = serde_json::from_value(theirs["order"].clone()).unwrap();
    assert_eq!(sat.len(), ours.len());
    let mut disagreements = Vec::new();
    for (i, (a, b)) in ours.iter().zip(&sat).enumerate() {
        if a != b {
            let (r, v) = (i / versions.len(), i % versions.len());
            disagreements.push(format!(
                "{} in `{}`: slipway {a}, semver {b}",
                versions[v], ranges[r].1
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} disagree:\n{}",
        disagreements.len(),
        ours.len(),
        disagreements[..disagreements.len().min(20)].join("\n")
    );
    assert_eq!(order, their_order, "ordering disagrees with semver.compare");
    assert!(sat.iter().filter(|s| **s).count() > 100 && sat.iter().filter(|s| !**s).count() > 100);
}
