//! Checks for tests (feature `testing`): GitLab's CI schema as a validator,
//! and the component templates with their inputs interpolated as GitLab does.

use serde_json::Value as Json;
use serde_norway::Value;

/// GitLab's `.gitlab-ci.yml` schema (Draft 7), formats checked.
pub fn validator() -> jsonschema::Validator {
    let schema: Json = serde_json::from_str(include_str!("../schemas/gitlab-ci.json"))
        .expect("the bundled schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// Each YAML document of `text` (a component has its `spec:` header and its
/// jobs), with merge keys applied, as JSON.
pub fn documents(text: &str) -> Vec<Json> {
    text.split("\n---\n")
        .map(|doc| {
            let mut v: Value =
                serde_norway::from_str(doc).unwrap_or_else(|e| panic!("not YAML ({e}):\n{doc}"));
            v.apply_merge().expect("merge keys apply");
            serde_json::to_value(&v).expect("YAML maps to JSON")
        })
        .collect()
}

/// Fails with every schema error of every document in `text`.
pub fn assert_valid(text: &str, what: &str) {
    let validator = validator();
    for (i, doc) in documents(text).iter().enumerate() {
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} (document {}) is invalid against GitLab's CI schema:\n{}\n{text}",
            i + 1,
            errors.join("\n")
        );
    }
}

/// A template's body with `$[[ inputs.NAME ]]` replaced by `inputs` or the
/// declared defaults, as GitLab interpolates it on `include`: in the parsed
/// document's keys and string values, so a value stays a string whatever it
/// holds. Panics on an input without a value, as GitLab refuses the include.
pub fn interpolate(template: &str, inputs: &[(&str, &str)]) -> String {
    let (header, body) = template.split_once("\n---\n").expect("a spec header");
    let spec: Value = serde_norway::from_str(header).expect("header parses");
    let declared = spec["spec"]["inputs"].as_mapping().expect("inputs");
    let mut values = Vec::new();
    for (k, v) in declared {
        let name = k.as_str().unwrap();
        let value = inputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| {
                v.get("default")
                    .map(|d| d.as_str().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("input `{name}` has no value and no default"));
        values.push((format!("$[[ inputs.{name} ]]"), value));
    }
    let mut doc: Value = serde_norway::from_str(body).expect("the body parses");
    doc.apply_merge().expect("merge keys apply");
    let doc = replace(doc, &values);
    let text = serde_norway::to_string(&doc).expect("serialises");
    assert!(!text.contains("$[["), "an interpolation is left:\n{text}");
    text
}

fn replace(v: Value, values: &[(String, String)]) -> Value {
    let text = |s: String| {
        values
            .iter()
            .fold(s, |s, (from, to)| s.replace(from.as_str(), to))
    };
    match v {
        Value::String(s) => Value::String(text(s)),
        Value::Sequence(items) => {
            Value::Sequence(items.into_iter().map(|i| replace(i, values)).collect())
        }
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| (replace(k, values), replace(v, values)))
                .collect(),
        ),
        other => other,
    }
}
