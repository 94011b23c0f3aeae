//! The official SBOM schemas as validators, set up in one place for
//! slipway-sbom's schema tests and the CLI's evidence tests. The schemas stay
//! in `crates/slipway-sbom/schemas/` (the SBOM writer reads the SPDX licence
//! list from there) and are compiled in; CycloneDX's references to its
//! sibling schemas are registered locally: no network.

use serde_json::Value;

fn schema(text: &str) -> Value {
    serde_json::from_str(text).expect("the bundled schemas are JSON")
}

/// CycloneDX 1.6 (`bom-1.6.schema.json` with the SPDX licence list and JSF
/// schemas it refers to), formats checked.
pub fn cyclonedx_validator() -> jsonschema::Validator {
    // The CycloneDX schema refers to its siblings relative to its `$id`.
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            schema(include_str!("../../slipway-sbom/schemas/spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            schema(include_str!(
                "../../slipway-sbom/schemas/jsf-0.82.schema.json"
            )),
        )
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema(include_str!(
            "../../slipway-sbom/schemas/bom-1.6.schema.json"
        )))
        .unwrap()
}

/// SPDX 2.3 (`spdx-schema.json`), formats checked.
pub fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(include_str!(
            "../../slipway-sbom/schemas/spdx-schema.json"
        )))
        .unwrap()
}

/// Fails with every schema error of `doc` and where it is.
pub fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid:\n{}",
        errors.join("\n")
    );
}
