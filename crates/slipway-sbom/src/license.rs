//! What a distribution says about its license, sorted into what the SBOM
//! formats can carry: a valid SPDX expression, or free-text names.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use slipway_artifact::Distribution;

/// A distribution's declared license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredLicense {
    /// A valid SPDX license expression (possibly a single id).
    Spdx(String),
    /// Names that are not SPDX identifiers, as the distribution wrote them.
    Names(Vec<String>),
    /// The distribution declares nothing.
    Unknown,
}

/// Trove classifiers whose meaning is one SPDX id. Classifiers that leave the
/// version open ("Apache Software License", "BSD License") stay names.
const CLASSIFIER_IDS: &[(&str, &str)] = &[
    ("MIT License", "MIT"),
    ("MIT No Attribution License (MIT-0)", "MIT-0"),
    ("ISC License (ISCL)", "ISC"),
    ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
    ("Python Software Foundation License", "PSF-2.0"),
    ("The Unlicense (Unlicense)", "Unlicense"),
    ("Zero-Clause BSD (0BSD)", "0BSD"),
    ("Boost Software License 1.0 (BSL-1.0)", "BSL-1.0"),
    ("GNU General Public License v2 (GPLv2)", "GPL-2.0-only"),
    (
        "GNU General Public License v2 or later (GPLv2+)",
        "GPL-2.0-or-later",
    ),
    ("GNU General Public License v3 (GPLv3)", "GPL-3.0-only"),
    (
        "GNU General Public License v3 or later (GPLv3+)",
        "GPL-3.0-or-later",
    ),
    (
        "GNU Lesser General Public License v2 or later (LGPLv2+)",
        "LGPL-2.0-or-later",
    ),
    (
        "GNU Lesser General Public License v3 (LGPLv3)",
        "LGPL-3.0-only",
    ),
    (
        "GNU Lesser General Public License v3 or later (LGPLv3+)",
        "LGPL-3.0-or-later",
    ),
];

/// Free text longer than this is a license's full text, not its name.
const MAX_NAME_LEN: usize = 120;

impl DeclaredLicense {
    /// PEP 639's `License-Expression` first, then a `License` field that is a
    /// valid expression, then an unambiguous classifier, then names.
    pub fn of(distribution: &Distribution) -> DeclaredLicense {
        if let Some(expr) = distribution
            .license_expression
            .as_deref()
            .and_then(valid_spdx)
        {
            return DeclaredLicense::Spdx(expr);
        }
        if let Some(expr) = distribution.license.as_deref().and_then(valid_spdx) {
            return DeclaredLicense::Spdx(expr);
        }
        let classifier_names: Vec<&str> = distribution
            .license_classifiers
            .iter()
            .filter_map(|c| c.rsplit("::").next().map(str::trim))
            .filter(|n| !n.is_empty() && *n != "OSI Approved")
            .collect();
        if let [only] = classifier_names.as_slice()
            && let Some((_, id)) = CLASSIFIER_IDS.iter().find(|(name, _)| name == only)
        {
            return DeclaredLicense::Spdx((*id).to_string());
        }
        let mut names = Vec::new();
        let text = distribution
            .license_expression
            .as_deref()
            .or(distribution.license.as_deref());
        if let Some(text) = text.map(str::trim)
            && !text.is_empty()
            && !text.contains('\n')
            && text.len() <= MAX_NAME_LEN
        {
            names.push(text.to_string());
        }
        let mut classifiers: Vec<String> = classifier_names.iter().map(|s| s.to_string()).collect();
        classifiers.sort();
        for c in classifiers {
            if !names.contains(&c) {
                names.push(c);
            }
        }
        if names.is_empty() {
            DeclaredLicense::Unknown
        } else {
            DeclaredLicense::Names(names)
        }
    }

    /// The `licenses` array of a CycloneDX component (absent when unknown).
    pub fn cyclonedx(&self) -> Option<serde_json::Value> {
        use serde_json::json;
        match self {
            DeclaredLicense::Spdx(expr) if cyclonedx_license_ids().contains(expr.as_str()) => {
                Some(json!([{ "license": { "id": expr } }]))
            }
            DeclaredLicense::Spdx(expr) => Some(json!([{ "expression": expr }])),
            DeclaredLicense::Names(names) => Some(serde_json::Value::Array(
                names
                    .iter()
                    .map(|n| json!({ "license": { "name": n } }))
                    .collect(),
            )),
            DeclaredLicense::Unknown => None,
        }
    }

    /// SPDX 2.3 `licenseDeclared`: the expression or `NOASSERTION`.
    pub fn spdx_declared(&self) -> &str {
        match self {
            DeclaredLicense::Spdx(expr) => expr,
            _ => "NOASSERTION",
        }
    }
}

/// The expression, trimmed, when it is valid SPDX and refers only to listed
/// licenses (a `LicenseRef-` would need a definition the SBOM does not have).
fn valid_spdx(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.contains("LicenseRef-") || text.contains("DocumentRef-") {
        return None;
    }
    spdx::Expression::parse(text).ok().map(|_| text.to_string())
}

/// The license ids CycloneDX 1.6 validators accept in `license.id`: the list
/// in the `spdx.schema.json` it ships, which can lag the `spdx` crate's.
fn cyclonedx_license_ids() -> &'static BTreeSet<String> {
    static IDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../schemas/spdx.schema.json"))
                .expect("bundled schema is JSON");
        schema["enum"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(expr: Option<&str>, license: Option<&str>, classifiers: &[&str]) -> Distribution {
        Distribution {
            ecosystem: slipway_artifact::Ecosystem::PyPI,
            integrity: None,
            install_path: None,
            name: "x".into(),
            version: "1".into(),
            wheel: "x-1-py3-none-any.whl".into(),
            wheel_sha256: "00".into(),
            wheel_url: None,
            license_expression: expr.map(String::from),
            license: license.map(String::from),
            license_classifiers: classifiers.iter().map(|s| s.to_string()).collect(),
            direct: true,
            requires: vec![],
            installed_in: slipway_artifact::InstalledIn::Function,
        }
    }

    #[test]
    fn pep_639_expressions_win() {
        let d = dist(Some("MIT OR Apache-2.0"), Some("whatever"), &[]);
        assert_eq!(
            DeclaredLicense::of(&d),
            DeclaredLicense::Spdx("MIT OR Apache-2.0".into())
        );
        assert_eq!(
            DeclaredLicense::of(&d).cyclonedx().unwrap(),
            serde_json::json!([{ "expression": "MIT OR Apache-2.0" }])
        );
    }

    #[test]
    fn a_single_listed_id_is_an_id() {
        let d = dist(None, Some("BSD-3-Clause"), &[]);
        assert_eq!(
            DeclaredLicense::of(&d).cyclonedx().unwrap(),
            serde_json::json!([{ "license": { "id": "BSD-3-Clause" } }])
        );
    }

    #[test]
    fn unambiguous_classifiers_map_and_others_stay_names() {
        let mit = dist(None, None, &["License :: OSI Approved :: MIT License"]);
        assert_eq!(
            DeclaredLicense::of(&mit),
            DeclaredLicense::Spdx("MIT".into())
        );
        let apache = dist(
            None,
            Some("Apache 2.0"),
            &["License :: OSI Approved :: Apache Software License"],
        );
        assert_eq!(
            DeclaredLicense::of(&apache),
            DeclaredLicense::Names(vec!["Apache 2.0".into(), "Apache Software License".into()])
        );
        assert_eq!(DeclaredLicense::of(&apache).spdx_declared(), "NOASSERTION");
    }

    #[test]
    fn full_license_texts_are_not_names() {
        let d = dist(
            None,
            Some("Copyright (c) someone\n\nPermission is hereby granted"),
            &[],
        );
        assert_eq!(DeclaredLicense::of(&d), DeclaredLicense::Unknown);
        assert_eq!(DeclaredLicense::of(&d).cyclonedx(), None);
    }

    #[test]
    fn the_bundled_cyclonedx_list_is_loaded() {
        assert!(cyclonedx_license_ids().contains("Apache-2.0"));
        assert!(cyclonedx_license_ids().len() > 500);
    }
}
