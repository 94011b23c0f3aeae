//! CycloneDX 1.6 JSON.

use serde_json::{Value, json};
use slipway_artifact::{ArtifactRecord, Manifest};

use crate::{
    DeclaredLicense, SbomInput, by_normalized_name, normalize_name, purl, sorted_distributions,
    stable_uuid, timestamp,
};

/// The CycloneDX document for a built function.
pub fn cyclonedx(manifest: &Manifest, input: &SbomInput) -> Value {
    let function_ref = format!("function:{}", manifest.function);
    let index = by_normalized_name(manifest);

    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let mut function_depends = Vec::new();

    if let Some(layer) = &manifest.layer {
        let layer_ref = layer_ref(layer);
        components.push(json!({
            "type": "file",
            "bom-ref": layer_ref,
            "name": layer.file,
            "hashes": [sha256(&layer.sha256)],
            "properties": [{ "name": "slipway:role", "value": "dependencies layer" }],
        }));
        function_depends.push(layer_ref.clone());
        dependencies.push(json!({ "ref": layer_ref, "dependsOn": [] }));
    }

    for dist in sorted_distributions(manifest) {
        let purl = purl(dist);
        let mut component = json!({
            "type": "library",
            "bom-ref": purl,
            "name": dist.name,
            "version": dist.version,
            "purl": purl,
            "hashes": hashes(dist),
        });
        if let Some(licenses) = DeclaredLicense::of(dist).cyclonedx() {
            component["licenses"] = licenses;
        }
        if let Some(url) = &dist.wheel_url {
            component["externalReferences"] = json!([{
                "type": "distribution",
                "url": url,
                "hashes": hashes(dist),
            }]);
        }
        component["properties"] = json!([
            { "name": "slipway:direct", "value": dist.direct.to_string() },
            { "name": "slipway:installed_in", "value": dist.installed_in },
            { "name": "slipway:wheel", "value": dist.wheel },
        ]);
        components.push(component);

        let mut depends: Vec<String> = dist
            .requires
            .iter()
            .filter_map(|name| index.get(&normalize_name(name)).map(|d| crate::purl(d)))
            .collect();
        depends.sort();
        depends.dedup();
        dependencies.push(json!({ "ref": purl, "dependsOn": depends }));
        if dist.direct {
            function_depends.push(purl);
        }
    }
    function_depends.sort();
    function_depends.dedup();
    dependencies.insert(
        0,
        json!({ "ref": function_ref, "dependsOn": function_depends }),
    );

    let mut function_properties = vec![
        property("slipway:architecture", manifest.architecture.lambda_name()),
        property("slipway:handler", &manifest.handler),
        property("slipway:input_hash", &manifest.input_hash),
        property("slipway:runtime", manifest.runtime.id),
    ];
    if let Some(commit) = &manifest.source_commit {
        function_properties.push(property("slipway:source_commit", commit));
    }
    function_properties.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));

    let mut metadata_properties = vec![
        property("gitlab:dependency_scanning:language:name", "python"),
        property("gitlab:dependency_scanning:package_manager:name", "pip"),
        property("gitlab:meta:schema_version", "1"),
    ];
    if let Some(path) = &input.dependency_file {
        metadata_properties.push(property("gitlab:dependency_scanning:input_file:path", path));
    }
    metadata_properties.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));

    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!(
            "urn:uuid:{}",
            stable_uuid(&format!("cyclonedx:{}:{}", manifest.function, manifest.artifact.sha256))
        ),
        "version": 1,
        "metadata": {
            "timestamp": timestamp(manifest.evidence_time()),
            "lifecycles": [{ "phase": "build" }],
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "slipway",
                    "version": manifest.slipway_version,
                }]
            },
            "component": {
                "type": "application",
                "bom-ref": function_ref,
                "name": manifest.function,
                "hashes": [sha256(&manifest.artifact.sha256)],
                "properties": function_properties,
            },
            "properties": metadata_properties,
        },
        "components": components,
        "dependencies": dependencies,
    })
}

fn layer_ref(layer: &ArtifactRecord) -> String {
    format!("layer:{}", layer.file)
}

fn hashes(dist: &slipway_artifact::Distribution) -> Value {
    crate::digests(dist)
        .into_iter()
        .map(|(alg, content)| json!({ "alg": alg, "content": content }))
        .collect()
}

fn sha256(hex: &str) -> Value {
    json!({ "alg": "SHA-256", "content": hex })
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}
