//! `.aws-sam/build/`: the template SAM deploys, with each function's
//! `CodeUri` pointing at slipway's zip, and the zips themselves.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_norway::value::{Tag, TaggedValue};
use serde_norway::{Mapping, Value};
use slipway_artifact::{MANIFEST_FILE_NAME, Manifest, function_dist_dir};

use crate::{SamError, SamProject};

/// Where `sam build` leaves its output and `sam deploy` / `sam package` look for it.
pub const BUILD_DIR: &str = ".aws-sam/build";
pub const BUILD_TEMPLATE: &str = "template.yaml";

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct BuildTemplate {
    /// `.aws-sam/build/template.yaml`, absolute.
    pub path: PathBuf,
    pub functions: Vec<BuiltFunction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuiltFunction {
    pub logical_id: String,
    /// As written in the template, relative to it.
    pub code_uri: String,
    pub code_sha256: String,
    /// The dependencies layer's logical id, when the function has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

const HEADER: &str = "# Written by `slipway build --sam`: every CodeUri is a deterministic zip that\n\
                      # `sam deploy` and `sam package` upload unchanged. Rebuild rather than edit.\n";

/// Writes `.aws-sam/build/` beside the template from the manifests in `dist`.
/// The folder is replaced whole, so it is never a mix of two builds.
pub fn write_build_template(sam: &SamProject, dist: &Path) -> Result<BuildTemplate, SamError> {
    let root = &sam.project.root;
    let (template, built, copies) = rewrite(sam, dist, &|id, file| format!("{id}/{file}"))?;
    let yaml = to_yaml(template);
    let final_dir = root.join(BUILD_DIR);
    let parent = final_dir.parent().expect("BUILD_DIR has a parent");
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SamError::Write { path, source }
    };
    std::fs::create_dir_all(parent).map_err(write_err(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".build-staging-")
        .tempdir_in(parent)
        .map_err(write_err(parent))?;
    for (from, to) in &copies {
        let target = staging.path().join(to);
        let folder = target.parent().expect("a file in a folder");
        std::fs::create_dir_all(folder).map_err(write_err(folder))?;
        // A hard link shares the bytes; dist/ is replaced by rename, never rewritten in place.
        if std::fs::hard_link(from, &target).is_err() {
            std::fs::copy(from, &target).map_err(write_err(&target))?;
        }
    }
    let template_path = staging.path().join(BUILD_TEMPLATE);
    std::fs::write(&template_path, format!("{HEADER}{yaml}")).map_err(write_err(&template_path))?;
    replace_dir(staging.keep().as_path(), &final_dir)?;
    Ok(BuildTemplate {
        path: final_dir.join(BUILD_TEMPLATE),
        functions: built,
    })
}

/// The template as `sam package` leaves it: every `CodeUri` (and dependencies
/// layer `ContentUri`) is where `location(logical id, file in dist)` says the
/// package was uploaded, e.g. `s3://bucket/Fn/<sha256>.zip`.
pub fn packaged_template(
    sam: &SamProject,
    dist: &Path,
    location: &dyn Fn(&str, &str) -> String,
) -> Result<String, SamError> {
    let (template, _, _) = rewrite(sam, dist, location)?;
    Ok(to_yaml(template))
}

/// Files to place beside the written template: (source in dist, path relative to it).
type Copies = Vec<(PathBuf, String)>;

/// The template with each function's code at `uri(logical id, file)`.
fn rewrite(
    sam: &SamProject,
    dist: &Path,
    uri: &dyn Fn(&str, &str) -> String,
) -> Result<(Value, Vec<BuiltFunction>, Copies), SamError> {
    let mut manifests = Vec::new();
    for id in sam.functions.keys() {
        let path = function_dist_dir(dist, id).join(MANIFEST_FILE_NAME);
        if !path.is_file() {
            return Err(SamError::NotBuilt {
                logical_id: id.clone(),
                dist: dist.to_path_buf(),
            });
        }
        manifests.push((id, Manifest::read(&path)?));
    }

    let mut template = sam.template.clone();
    let mut built = Vec::new();
    let mut copies = Vec::new();
    let resources = template
        .get_mut("Resources")
        .and_then(Value::as_mapping_mut)
        .expect("a template read by `load` has Resources");
    for (id, manifest) in &manifests {
        let sam_fn = &sam.functions[*id];
        let code_uri = uri(id, &manifest.artifact.file);
        copies.push((
            function_dist_dir(dist, id).join(&manifest.artifact.file),
            code_uri.clone(),
        ));
        let layer = manifest.layer.as_ref().map(|l| {
            let layer_id = format!("{id}DependenciesLayer");
            let content_uri = uri(id, &l.file);
            copies.push((
                function_dist_dir(dist, id).join(&l.file),
                content_uri.clone(),
            ));
            (layer_id, content_uri)
        });
        if let Some((layer_id, content_uri)) = &layer {
            if resources.contains_key(layer_id.as_str()) {
                return Err(SamError::Property(Box::new(crate::error::PropertyError {
                    path: sam.path.clone(),
                    line: None,
                    logical_id: layer_id.clone(),
                    property: "(logical id)".into(),
                    message: format!("is taken; slipway names {id}'s dependencies layer so"),
                    help: Some(format!("rename the resource `{layer_id}`")),
                })));
            }
            let mut props = Mapping::new();
            props.insert("ContentUri".into(), content_uri.as_str().into());
            props.insert(
                "CompatibleRuntimes".into(),
                Value::Sequence(vec![manifest.runtime.id.into()]),
            );
            props.insert(
                "CompatibleArchitectures".into(),
                Value::Sequence(vec![manifest.architecture.lambda_name().into()]),
            );
            let mut resource = Mapping::new();
            resource.insert("Type".into(), "AWS::Serverless::LayerVersion".into());
            resource.insert("Properties".into(), Value::Mapping(props));
            resources.insert(layer_id.as_str().into(), Value::Mapping(resource));
        }

        let function = resources
            .get_mut(id.as_str())
            .and_then(Value::as_mapping_mut)
            .expect("the function was read from this template");
        if !function.contains_key("Properties") {
            function.insert("Properties".into(), Value::Mapping(Mapping::new()));
        }
        let props = function
            .get_mut("Properties")
            .and_then(Value::as_mapping_mut)
            .expect("Properties is a mapping");
        props.insert("CodeUri".into(), code_uri.as_str().into());
        if sam_fn.auto_publish_alias.is_some() {
            props.insert(
                "AutoPublishCodeSha256".into(),
                manifest.artifact.code_sha256.as_str().into(),
            );
        }
        if let Some((layer_id, _)) = &layer {
            let reference = Value::Tagged(Box::new(TaggedValue {
                tag: Tag::new("Ref"),
                value: layer_id.as_str().into(),
            }));
            match props.get_mut("Layers") {
                Some(Value::Sequence(list)) => list.push(reference),
                _ => {
                    props.insert("Layers".into(), Value::Sequence(vec![reference]));
                }
            }
        }
        built.push(BuiltFunction {
            logical_id: id.to_string(),
            code_uri,
            code_sha256: manifest.artifact.code_sha256.clone(),
            layer: layer.map(|(l, _)| l),
        });
    }

    Ok((template, built, copies))
}

/// The template as YAML that YAML 1.1 readers (PyYAML, as the AWS CLI, SAM
/// and cfn-lint use it) read back as the same strings: the serializer follows
/// YAML 1.2 and leaves `2010-09-09` or `yes` plain, which 1.1 reads as a date
/// or a boolean. Such strings are swapped for placeholders and quoted after.
pub(crate) fn to_yaml(mut template: Value) -> String {
    let mut quoted = Vec::new();
    protect(&mut template, &mut quoted);
    let mut yaml = serde_norway::to_string(&template).expect("a YAML value serialises");
    for (i, s) in quoted.iter().enumerate() {
        yaml = yaml.replacen(&placeholder(i), &format!("'{}'", s.replace('\'', "''")), 1);
    }
    yaml
}

fn placeholder(i: usize) -> String {
    format!("SLIPWAYQUOTED{i}X")
}

fn protect(value: &mut Value, quoted: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.contains('\n') && yaml11_ambiguous(s) => {
            quoted.push(std::mem::replace(s, placeholder(quoted.len())));
        }
        Value::Sequence(items) => items.iter_mut().for_each(|v| protect(v, quoted)),
        Value::Mapping(m) => m.values_mut().for_each(|v| protect(v, quoted)),
        Value::Tagged(t) => protect(&mut t.value, quoted),
        _ => {}
    }
}

/// Plain scalars YAML 1.1 resolves to something other than a string:
/// timestamps, the 1.1 booleans, sexagesimal and underscored numbers.
fn yaml11_ambiguous(s: &str) -> bool {
    const BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL",
    ];
    let b = s.as_bytes();
    let date = b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    let numeric = |c: char| c.is_ascii_digit() || "_:.+-".contains(c);
    let number_like = !s.is_empty()
        && s.chars().all(numeric)
        && s.chars().any(|c| c.is_ascii_digit())
        && (s.contains('_') || s.contains(':'));
    date || number_like || BOOLS.contains(&s) || s == "="
}

/// Moves the finished staging folder into place; the old one is moved aside first.
fn replace_dir(staging: &Path, target: &Path) -> Result<(), SamError> {
    let fail = |source| SamError::Write {
        path: target.to_path_buf(),
        source,
    };
    if target.exists() {
        let parent = target.parent().unwrap_or(Path::new("."));
        let aside = tempfile::Builder::new()
            .prefix(".old-")
            .tempdir_in(parent)
            .map_err(fail)?
            .keep();
        std::fs::rename(target, aside.join("build")).map_err(fail)?;
        std::fs::rename(staging, target).map_err(fail)?;
        let _ = std::fs::remove_dir_all(&aside);
    } else {
        std::fs::rename(staging, target).map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_yaml_1_1_would_misread_are_quoted_and_tags_kept() {
        let text = "AWSTemplateFormatVersion: '2010-09-09'\nA: 'yes'\nB: '1:30'\nC: '1_000'\nD: !Ref Stage\nE: !Sub '${AWS::Region}-x'\nF: [plain, 'off']\nG: \"two\\nlines\"\n";
        let value: Value = serde_norway::from_str(text).unwrap();
        let yaml = to_yaml(value.clone());
        for quoted in ["'2010-09-09'", "'yes'", "'1:30'", "'1_000'", "'off'"] {
            assert!(yaml.contains(quoted), "{quoted} in\n{yaml}");
        }
        assert!(yaml.contains("D: !Ref Stage"), "{yaml}");
        assert!(!yaml.contains("SLIPWAYQUOTED"), "{yaml}");
        let back: Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(back, value, "the output reads back as the input");
    }
}
