//! Reading a SAM template into a [`Project`]: every `AWS::Serverless::Function`
//! of package type Zip, with `Globals` merged as SAM merges them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};
use slipway_config::{
    Architecture, AwsSettings, Cors, Function, FunctionUrl, Project, PythonSettings, Runtime,
    S3Trigger, ScanSettings, SourceFile, SqsTrigger, Triggers, UrlAuth, limits,
};

use crate::intrinsics::{Scope, Unresolved, scalar_string, show};
use crate::{AlexaEvent, LocalQueue, Note, SamError, SamFunction, SamProject};

/// What the caller knows that the template does not.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `AWS::Region` (and from it `AWS::Partition` and `AWS::URLSuffix`).
    pub region: Option<String>,
    /// `AWS::StackName`.
    pub stack_name: Option<String>,
    /// Parameter values that override the template's defaults
    /// (`--parameter-overrides`); each must name a parameter of the template.
    pub parameters: BTreeMap<String, String>,
}

/// Reads the SAM template a `slipway.toml` names with `sam = "…"`, with the
/// settings slipway.toml adds: `[python]`, `[scan]`, `[aws]`, `[nodejs]`, and
/// per function the keys of [`slipway_config::SAM_FUNCTION_KEYS`]. A key
/// set both in `[functions.X]` and in X's `Metadata.slipway` is an error
/// (neither silently wins); `[defaults]` fills what both leave unset.
pub fn load_config(
    config: &slipway_config::SamSource,
    options: &Options,
) -> Result<SamProject, SamError> {
    // `[aws] region` wins over the environment, as it does for every AWS call.
    let options = Options {
        region: config.aws.region.clone().or_else(|| options.region.clone()),
        ..options.clone()
    };
    let text =
        std::fs::read_to_string(&config.template).map_err(|source| SamError::Unreadable {
            path: config.template.clone(),
            source,
        })?;
    let mut sam = read(&text, &config.template, &options, Some(config))?;
    for (name, table) in &config.functions {
        if !sam.functions.contains_key(name) {
            return Err(SamError::UnknownFunction {
                config: config.file.path.clone(),
                line: table.line,
                name: name.clone(),
                template: config.template.clone(),
                known: sam.functions.keys().cloned().collect(),
            });
        }
    }
    let project = &mut sam.project;
    project.file = config.file.clone();
    project.python = config.python.clone();
    project.scan = config.scan.clone();
    project.nodejs = config.nodejs.clone();
    project.aws = config.aws.clone();
    Ok(sam)
}

/// Reads the SAM template at `path`.
pub fn load(path: &Path, options: &Options) -> Result<SamProject, SamError> {
    let text = std::fs::read_to_string(path).map_err(|source| SamError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    load_str(&text, &absolute, options)
}

/// Reads template `text` as if from `path` (absolute).
pub fn load_str(text: &str, path: &Path, options: &Options) -> Result<SamProject, SamError> {
    read(text, path, options, None)
}

fn read(
    text: &str,
    path: &Path,
    options: &Options,
    config: Option<&slipway_config::SamSource>,
) -> Result<SamProject, SamError> {
    let file = SourceFile {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let template: Value = serde_norway::from_str(text).map_err(|e| {
        let location = e.location();
        SamError::NotYaml(Box::new(crate::error::NotYaml {
            path: path.to_path_buf(),
            line: location.as_ref().map(|l| l.line()),
            message: e.to_string(),
            src: miette::NamedSource::new(path.display().to_string(), text.to_string()),
            span: location.map(|l| miette::SourceSpan::from(l.index()..l.index())),
        }))
    })?;
    let not_template = |reason: &str| SamError::NotATemplate {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let top = template
        .as_mapping()
        .ok_or_else(|| not_template("the document is not a mapping"))?;
    let resources = top
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or_else(|| not_template("it has no `Resources` mapping"))?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let region = options.region.clone();
    let mut pseudo = BTreeMap::new();
    if let Some(r) = &region {
        let (partition, suffix) = if r.starts_with("cn-") {
            ("aws-cn", "amazonaws.com.cn")
        } else if r.starts_with("us-gov-") {
            ("aws-us-gov", "amazonaws.com")
        } else {
            ("aws", "amazonaws.com")
        };
        pseudo.insert("AWS::Region", r.clone());
        pseudo.insert("AWS::Partition", partition.to_string());
        pseudo.insert("AWS::URLSuffix", suffix.to_string());
    }
    if let Some(s) = &options.stack_name {
        pseudo.insert("AWS::StackName", s.clone());
    }
    let declared = top.get("Parameters").and_then(Value::as_mapping);
    let mut parameters = BTreeMap::new();
    for (k, v) in declared.into_iter().flatten() {
        let Some(name) = k.as_str() else { continue };
        if let Some(given) = options.parameters.get(name) {
            parameters.insert(name.to_string(), parameter_value(path, name, v, given)?);
        } else if let Some(default) = v.get("Default") {
            let value = match default {
                Value::String(text) if is_list_parameter(v) => list_value(text),
                other => other.clone(),
            };
            parameters.insert(name.to_string(), value);
        }
    }
    if let Some(unknown) = options
        .parameters
        .keys()
        .find(|name| !declared.is_some_and(|d| d.contains_key(name.as_str())))
    {
        return Err(SamError::UnknownParameter {
            path: path.to_path_buf(),
            name: unknown.clone(),
            known: declared
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                .collect(),
        });
    }
    let scope = Scope {
        parameters,
        pseudo,
        mappings: top.get("Mappings").and_then(Value::as_mapping),
        conditions: top.get("Conditions").and_then(Value::as_mapping),
    };
    let globals = top
        .get("Globals")
        .and_then(|g| g.get("Function"))
        .and_then(Value::as_mapping);

    let reader = Reader {
        file: &file,
        root: &root,
        scope: &scope,
        resources,
        config,
    };
    let mut functions = BTreeMap::new();
    let mut sam_functions = BTreeMap::new();
    let mut notes = Vec::new();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let (function, sam) = reader.function(id, resource, globals, &mut notes)?;
        functions.insert(id.to_string(), function);
        sam_functions.insert(id.to_string(), sam);
    }
    if functions.is_empty() {
        return Err(not_template("it defines no `AWS::Serverless::Function`"));
    }
    Ok(SamProject {
        path: path.to_path_buf(),
        project: Project {
            file,
            root,
            functions,
            python: PythonSettings::default(),
            nodejs: Default::default(),
            scan: ScanSettings::default(),
            aws: AwsSettings {
                region,
                ..AwsSettings::default()
            },
        },
        template,
        functions: sam_functions,
        notes,
    })
}

/// An override as CloudFormation takes it: a list parameter splits on
/// commas, and a value outside `AllowedValues` is refused as the stack would.
fn parameter_value(
    path: &Path,
    name: &str,
    declared: &Value,
    given: &str,
) -> Result<Value, SamError> {
    let allowed: Vec<String> = declared
        .get("AllowedValues")
        .and_then(Value::as_sequence)
        .map(|l| l.iter().filter_map(scalar_string).collect())
        .unwrap_or_default();
    if !allowed.is_empty() && !allowed.iter().any(|a| a == given) {
        return Err(SamError::ParameterNotAllowed {
            path: path.to_path_buf(),
            name: name.to_string(),
            value: given.to_string(),
            allowed,
        });
    }
    Ok(if is_list_parameter(declared) {
        list_value(given)
    } else {
        Value::String(given.to_string())
    })
}

fn is_list_parameter(declared: &Value) -> bool {
    let kind = declared
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or("String");
    kind == "CommaDelimitedList" || kind.starts_with("List<")
}

fn list_value(text: &str) -> Value {
    Value::Sequence(
        text.split(',')
            .map(|s| Value::String(s.trim().to_string()))
            .collect(),
    )
}

/// SAM's `Globals` rule: the function's own value wins for scalars, maps
/// merge key by key (the function's keys win), lists concatenate (globals first).
pub fn merge_globals(global: &Value, own: &Value) -> Value {
    match (global, own) {
        (Value::Mapping(g), Value::Mapping(o))
            if crate::intrinsics::intrinsic(global).is_none()
                && crate::intrinsics::intrinsic(own).is_none() =>
        {
            let mut out = g.clone();
            for (k, v) in o {
                let merged = match g.get(k) {
                    Some(gv) => merge_globals(gv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Mapping(out)
        }
        (Value::Sequence(g), Value::Sequence(o)) => {
            Value::Sequence(g.iter().chain(o).cloned().collect())
        }
        _ => own.clone(),
    }
}

/// What a function's `Events` and `FunctionUrlConfig` give.
struct Events {
    triggers: Triggers,
    alexa: Vec<AlexaEvent>,
    /// Every event source: (name, SAM type).
    events: Vec<(String, String)>,
    queues: Vec<LocalQueue>,
}

struct Reader<'a> {
    file: &'a SourceFile,
    root: &'a Path,
    scope: &'a Scope<'a>,
    resources: &'a Mapping,
    config: Option<&'a slipway_config::SamSource>,
}

/// Settings only slipway knows, from `Metadata: { slipway: … }`.
const METADATA_KEYS: &[&str] = slipway_config::SAM_FUNCTION_KEYS;

impl Reader<'_> {
    fn err(
        &self,
        id: &str,
        property: &str,
        message: impl Into<String>,
        help: Option<&str>,
    ) -> SamError {
        SamError::Property(Box::new(crate::error::PropertyError {
            path: self.file.path.clone(),
            line: self.line_of(id),
            logical_id: id.to_string(),
            property: property.to_string(),
            message: message.into(),
            help: help.map(str::to_string),
        }))
    }

    /// The line where resource `id` starts, for messages (the YAML model keeps no positions).
    fn line_of(&self, id: &str) -> Option<usize> {
        let text = &self.file.text;
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let t = line.trim_start();
            let indented = line.len() != t.len();
            let key = t
                .strip_prefix(id)
                .or_else(|| t.strip_prefix(&format!("\"{id}\"")))
                .or_else(|| t.strip_prefix(&format!("'{id}'")));
            if indented && key.is_some_and(|rest| rest.trim_start().starts_with(':')) {
                return Some(self.file.line_of(offset));
            }
            offset += line.len();
        }
        None
    }

    /// A property slipway must know: resolved to a string, or an error naming what blocked it.
    fn required_string(
        &self,
        id: &str,
        property: &str,
        value: Option<&Value>,
        help: &str,
    ) -> Result<String, SamError> {
        let value = value.ok_or_else(|| self.err(id, property, "is missing", Some(help)))?;
        match self.scope.string(value) {
            Ok(Some(s)) => Ok(s),
            Ok(None) => Err(self.err(id, property, "is `!Ref AWS::NoValue`", Some(help))),
            Err(Unresolved(expr)) => Err(self.err(
                id,
                property,
                format!("{} cannot be resolved before deployment: only the stack knows it", blocked(value, &expr)),
                Some("slipway resolves `!Ref` to parameters with a default, pseudo parameters and `!Sub` of those; write the value, or a parameter with a `Default`, here"),
            )),
        }
    }

    fn function(
        &self,
        id: &str,
        resource: &Value,
        globals: Option<&Mapping>,
        notes: &mut Vec<Note>,
    ) -> Result<(Function, SamFunction), SamError> {
        let own = resource
            .get("Properties")
            .cloned()
            .unwrap_or(Value::Mapping(Mapping::new()));
        let props = match globals {
            Some(g) => merge_globals(&Value::Mapping(g.clone()), &own),
            None => own,
        };
        let get = |k: &str| props.get(k);
        let mut note = |property: &str, message: String| {
            notes.push(Note {
                logical_id: id.to_string(),
                property: property.to_string(),
                message,
            })
        };

        let name_ok =
            id.len() <= limits::FUNCTION_NAME_MAX && id.chars().all(|c| c.is_ascii_alphanumeric());
        if !name_ok {
            return Err(self.err(
                id,
                "(logical id)",
                "is longer than the 64 characters slipway uses as the function's build name",
                Some("shorten the logical id"),
            ));
        }

        if let Some(pt) = get("PackageType") {
            let pt = self.required_string(id, "PackageType", Some(pt), "")?;
            if pt != "Zip" {
                return Err(self.err(
                    id,
                    "PackageType",
                    format!("is `{pt}`; slipway builds Zip packages only"),
                    Some("build container images with `sam build` and docker; remove `PackageType: Image` to let slipway build a zip"),
                ));
            }
        }
        if get("ImageUri").is_some() {
            return Err(self.err(
                id,
                "ImageUri",
                "names a container image; slipway builds Zip packages only",
                Some("remove `ImageUri` and set `CodeUri` to the function's source folder"),
            ));
        }
        if get("InlineCode").is_some() {
            return Err(self.err(
                id,
                "InlineCode",
                "is code written in the template; there is nothing for slipway to build",
                Some("move the code into a folder and set `CodeUri` to it"),
            ));
        }

        let code_uri_value = get("CodeUri");
        if code_uri_value.is_some_and(Value::is_mapping)
            && crate::intrinsics::intrinsic(code_uri_value.unwrap()).is_none()
        {
            return Err(self.err(
                id,
                "CodeUri",
                "is an S3 location (`Bucket`/`Key`); slipway builds from a source folder",
                Some("set `CodeUri` to the function's source folder, relative to the template"),
            ));
        }
        let code_uri = self.required_string(
            id,
            "CodeUri",
            code_uri_value,
            "set `CodeUri` to the function's source folder, relative to the template",
        )?;
        if code_uri.starts_with("s3://") {
            return Err(self.err(
                id,
                "CodeUri",
                format!("`{code_uri}` is an S3 location; slipway builds from a source folder"),
                Some("set `CodeUri` to the function's source folder, relative to the template"),
            ));
        }
        let source = self.inside_project(id, "CodeUri", &code_uri)?;
        if !source.is_dir() {
            return Err(self.err(
                id,
                "CodeUri",
                format!("`{code_uri}` is not a folder"),
                Some("`CodeUri` is the function's source folder, relative to the template"),
            ));
        }
        let source_relative = slipway_config::relative_path(self.root, &source);

        let runtime_name = self.required_string(
            id,
            "Runtime",
            get("Runtime"),
            "set `Runtime` (e.g. `python3.12`) on the function or in `Globals.Function`",
        )?;
        let runtime = Runtime::find(&runtime_name).ok_or_else(|| {
            self.err(
                id,
                "Runtime",
                format!("`{runtime_name}` is not a runtime slipway builds for"),
                Some(&format!("use one of {}", Runtime::known_ids().join(", "))),
            )
        })?;

        let handler = self.required_string(
            id,
            "Handler",
            get("Handler"),
            "set `Handler` (e.g. `app.handler`) on the function or in `Globals.Function`",
        )?;
        if runtime.python_minor().is_some() && !slipway_config::valid_python_handler(&handler) {
            return Err(self.err(
                id,
                "Handler",
                format!("`{handler}` is not a Python handler"),
                Some("write `module.function`, e.g. `app.handler` or `pkg/app.handler`"),
            ));
        }

        let architecture = match get("Architectures") {
            None => Architecture::X86_64,
            Some(a) => {
                let resolved = self.scope.resolve(a).map_err(|Unresolved(expr)| {
                    self.err(
                        id,
                        "Architectures",
                        format!(
                            "{} cannot be resolved before deployment: only the stack knows it",
                            blocked(a, &expr)
                        ),
                        Some("write `[x86_64]` or `[arm64]`, or a parameter with a `Default`"),
                    )
                })?;
                let list: Vec<String> = match &resolved {
                    Some(Value::Sequence(s)) => s.iter().filter_map(scalar_string).collect(),
                    Some(other) => scalar_string(other).into_iter().collect(),
                    None => Vec::new(),
                };
                match list.as_slice() {
                    [] => Architecture::X86_64,
                    [one] => Architecture::parse(one).ok_or_else(|| {
                        self.err(
                            id,
                            "Architectures",
                            format!("`{one}` is not `x86_64` or `arm64`"),
                            Some("write `[x86_64]` or `[arm64]`"),
                        )
                    })?,
                    _ => {
                        return Err(self.err(
                            id,
                            "Architectures",
                            "lists more than one architecture; Lambda takes exactly one",
                            Some("write `[x86_64]` or `[arm64]`"),
                        ));
                    }
                }
            }
        };

        let memory = self.number(id, "MemorySize", get("MemorySize"), 128, &mut note)?;
        if !limits::MEMORY_MB.contains(&memory) {
            return Err(self.err(
                id,
                "MemorySize",
                format!("{memory} is outside Lambda's 128–10240 MB"),
                Some("memory is in MB, between 128 and 10240"),
            ));
        }
        let timeout = self.number(id, "Timeout", get("Timeout"), 3, &mut note)?;
        if !(1..=limits::TIMEOUT_SECONDS_MAX).contains(&timeout) {
            return Err(self.err(
                id,
                "Timeout",
                format!("{timeout} is outside Lambda's 1–900 seconds"),
                Some("timeout is in seconds, at most 900"),
            ));
        }

        let mut environment = BTreeMap::new();
        if let Some(vars) = get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
        {
            for (k, v) in vars {
                let Some(k) = k.as_str() else { continue };
                if slipway_config::is_reserved_environment_variable(k) {
                    return Err(self.err(
                        id,
                        &format!("Environment.Variables.{k}"),
                        "is reserved by Lambda",
                        Some("Lambda sets this variable itself; choose another name"),
                    ));
                }
                match self.scope.string(v) {
                    Ok(Some(s)) => {
                        environment.insert(k.to_string(), s);
                    }
                    Ok(None) => {}
                    Err(Unresolved(expr)) => note(
                        &format!("Environment.Variables.{k}"),
                        format!(
                            "{} is known only to the stack: passed to the output template unchanged, not set in local runs",
                            blocked(v, &expr)
                        ),
                    ),
                }
            }
        }

        let mut layers = Vec::new();
        if let Some(Value::Sequence(list)) = get("Layers") {
            for l in list {
                match self.scope.string(l) {
                    Ok(Some(arn)) if slipway_config::is_layer_version_arn(&arn) => layers.push(arn),
                    Ok(Some(arn)) => note(
                        "Layers",
                        format!(
                            "`{arn}` is not a layer version ARN: passed to the output template unchanged"
                        ),
                    ),
                    Ok(None) => {}
                    Err(Unresolved(expr)) => note(
                        "Layers",
                        format!(
                            "{} is known only to the stack: passed to the output template unchanged",
                            blocked(l, &expr)
                        ),
                    ),
                }
            }
        }

        let role = get("Role")
            .and_then(|r| self.scope.string(r).ok().flatten())
            .filter(|r| slipway_config::is_iam_role_arn(r));
        let description = get("Description").and_then(|d| self.scope.string(d).ok().flatten());
        let tags = get("Tags")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), self.scope.string(v).ok()??)))
            .collect();
        let alias = get("AutoPublishAlias").and_then(|a| self.scope.string(a).ok().flatten());
        let code_signing_config_arn =
            get("CodeSigningConfigArn").and_then(|a| self.scope.string(a).ok().flatten());

        let metadata = self.metadata(id, resource)?;
        let meta_list = |k: &str| -> Vec<String> {
            metadata
                .get(k)
                .and_then(Value::as_sequence)
                .map(|l| l.iter().filter_map(scalar_string).collect())
                .unwrap_or_default()
        };
        let include = meta_list("include");
        let exclude = meta_list("exclude");
        for (key, globs) in [("include", &include), ("exclude", &exclude)] {
            if let Some(bad) = globs.iter().find(|g| globset::Glob::new(g).is_err()) {
                return Err(self.err(
                    id,
                    &format!("Metadata.slipway.{key}"),
                    format!("`{bad}` is not a valid glob"),
                    Some("globs are relative to `CodeUri`, e.g. `src/**/*.py`"),
                ));
            }
        }
        let dependencies_layer = metadata
            .get("layer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let requirements = match metadata.get("requirements").and_then(Value::as_str) {
            Some(r) => {
                let path = self.inside_project(id, "Metadata.slipway.requirements", r)?;
                if !path.is_file() {
                    return Err(self.err(
                        id,
                        "Metadata.slipway.requirements",
                        format!("`{r}` does not exist"),
                        Some("`requirements` is a requirements.txt, pyproject.toml or uv.lock, relative to the template"),
                    ));
                }
                Some(path)
            }
            // Where `sam build` looks for Python dependencies.
            None => Some(source.join("requirements.txt"))
                .filter(|p| runtime.python_minor().is_some() && p.is_file()),
        };
        let layer_slots = limits::LAYERS_MAX - usize::from(dependencies_layer);
        let layer_count = get("Layers")
            .and_then(Value::as_sequence)
            .map_or(0, Vec::len);
        if layer_count > layer_slots {
            return Err(self.err(
                id,
                "Layers",
                format!("lists {layer_count} layers; Lambda allows {layer_slots} here"),
                dependencies_layer.then_some(
                    "`layer: true` in `Metadata.slipway` uses one of the five layer slots",
                ),
            ));
        }

        let Events {
            triggers,
            alexa,
            events,
            queues,
        } = self.events(id, &props, &mut note)?;

        let function = Function {
            name: id.to_string(),
            source,
            source_relative,
            handler,
            runtime,
            architecture,
            requirements,
            include,
            exclude,
            environment,
            memory,
            timeout,
            role,
            layers,
            description,
            tags,
            exclude_packages: meta_list("exclude_packages"),
            dependencies_layer,
            publish: alias.is_some(),
            alias: alias.clone(),
            s3_bucket: None,
            s3_prefix: None,
            code_signing_config_arn,
            signing_profile: metadata
                .get("signing_profile")
                .and_then(Value::as_str)
                .map(str::to_string),
            require_signature: metadata
                .get("require_signature")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            handler_check: metadata
                .get("handler_check")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            triggers,
        };
        let sam = SamFunction {
            logical_id: id.to_string(),
            auto_publish_alias: alias,
            dependencies_layer,
            alexa,
            events,
            queues,
        };
        Ok((function, sam))
    }

    /// `path` (as written in the template) resolved against the template's
    /// folder; it must stay inside it, as `sam build` and the zip's
    /// reproducibility across checkouts need.
    fn inside_project(&self, id: &str, property: &str, path: &str) -> Result<PathBuf, SamError> {
        let joined = slipway_config::resolve_path(self.root, path);
        let outside = || {
            self.err(
                id,
                property,
                format!("`{path}` is outside the project folder {}", self.root.display()),
                Some("keep sources beside or below the template, so a checkout holds everything the build reads"),
            )
        };
        let canonical_root = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.to_path_buf());
        match joined.canonicalize() {
            Ok(c) if c.starts_with(&canonical_root) => Ok(joined),
            Ok(_) => Err(outside()),
            Err(_) => {
                // A missing path: judge it by its components.
                let lexical = slipway_config::relative_path(self.root, &joined);
                if lexical.starts_with("..")
                    || Path::new(path).is_absolute() && !joined.starts_with(self.root)
                {
                    Err(outside())
                } else {
                    Err(self.err(
                        id,
                        property,
                        format!("`{path}` does not exist"),
                        Some("paths in the template are relative to the template's folder"),
                    ))
                }
            }
        }
    }

    fn number(
        &self,
        id: &str,
        property: &str,
        value: Option<&Value>,
        default: u32,
        note: &mut impl FnMut(&str, String),
    ) -> Result<u32, SamError> {
        let Some(value) = value else {
            return Ok(default);
        };
        match self.scope.string(value) {
            Ok(Some(s)) => s
                .trim()
                .parse::<u32>()
                .map_err(|_| self.err(id, property, format!("`{s}` is not a whole number"), None)),
            Ok(None) => Ok(default),
            Err(Unresolved(expr)) => {
                note(
                    property,
                    format!(
                        "{} is known only to the stack: local runs use {default}",
                        blocked(value, &expr)
                    ),
                );
                Ok(default)
            }
        }
    }

    /// `Metadata.slipway`, with what slipway.toml says of the function.
    fn metadata(&self, id: &str, resource: &Value) -> Result<Mapping, SamError> {
        let mut meta = self.own_metadata(id, resource)?;
        let Some(config) = self.config else {
            return Ok(meta);
        };
        let toml = config.file.path.display();
        if let Some(table) = config.functions.get(id) {
            for (key, value) in slipway_only_values(table) {
                if meta.contains_key(key) {
                    return Err(self.err(
                        id,
                        &format!("Metadata.slipway.{key}"),
                        format!(
                            "is also set in {toml}{} (`functions.{id}.{key}`)",
                            table.line.map(|l| format!(":{l}")).unwrap_or_default()
                        ),
                        Some("set it in one place: the template's Metadata or slipway.toml"),
                    ));
                }
                meta.insert(key.into(), value);
            }
        }
        for (key, value) in slipway_only_values(&config.defaults) {
            if !meta.contains_key(key) {
                meta.insert(key.into(), value);
            }
        }
        Ok(meta)
    }

    fn own_metadata(&self, id: &str, resource: &Value) -> Result<Mapping, SamError> {
        let Some(meta) = resource.get("Metadata").and_then(|m| m.get("slipway")) else {
            return Ok(Mapping::new());
        };
        let meta = meta.as_mapping().ok_or_else(|| {
            self.err(
                id,
                "Metadata.slipway",
                "is not a mapping",
                Some("write e.g. `Metadata: { slipway: { exclude: [tests], layer: true } }`"),
            )
        })?;
        for (k, v) in meta {
            let key = k.as_str().unwrap_or_default();
            let property = format!("Metadata.slipway.{key}");
            let well_typed = match key {
                "include" | "exclude" | "exclude_packages" => v
                    .as_sequence()
                    .is_some_and(|l| l.iter().all(Value::is_string)),
                "layer" | "require_signature" | "handler_check" => v.is_bool(),
                "requirements" | "signing_profile" => v.is_string(),
                _ => {
                    return Err(self.err(
                        id,
                        &property,
                        "is not a setting slipway knows",
                        Some(&format!("known settings: {}", METADATA_KEYS.join(", "))),
                    ));
                }
            };
            if !well_typed {
                let expected = match key {
                    "layer" | "require_signature" | "handler_check" => "true or false",
                    "requirements" | "signing_profile" => "a string",
                    _ => "a list of strings",
                };
                return Err(self.err(id, &property, format!("must be {expected}"), None));
            }
        }
        Ok(meta.clone())
    }

    /// Event sources and the Function URL, as far as local runs and slipway's
    /// records need them; everything else stays in the template for SAM.
    fn events(
        &self,
        id: &str,
        props: &Value,
        note: &mut impl FnMut(&str, String),
    ) -> Result<Events, SamError> {
        let known = |v: Option<&Value>| v.and_then(|v| self.scope.string(v).ok().flatten());
        let mut triggers = Triggers::default();
        let mut alexa = Vec::new();
        let mut events = Vec::new();
        let mut queues = Vec::new();
        for (name, event) in props
            .get("Events")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default().to_string();
            let kind = event
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let p = event.get("Properties").cloned().unwrap_or(Value::Null);
            let property = format!("Events.{name}");
            match kind.as_str() {
                "SQS" => {
                    let queue = p.get("Queue");
                    let trigger = |queue_arn: String| SqsTrigger {
                        queue_arn,
                        batch_size: known(p.get("BatchSize"))
                            .and_then(|b| b.parse().ok())
                            .unwrap_or(10),
                        batching_window_seconds: known(p.get("MaximumBatchingWindowInSeconds"))
                            .and_then(|b| b.parse().ok())
                            .unwrap_or(0),
                        report_batch_item_failures: p
                            .get("FunctionResponseTypes")
                            .and_then(Value::as_sequence)
                            .is_some_and(|l| {
                                l.iter()
                                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
                            }),
                        maximum_concurrency: known(
                            p.get("ScalingConfig")
                                .and_then(|s| s.get("MaximumConcurrency")),
                        )
                        .and_then(|b| b.parse().ok()),
                        enabled: known(p.get("Enabled")).is_none_or(|e| e == "true"),
                    };
                    match queue.map(|q| self.scope.string(q)) {
                        Some(Ok(Some(arn))) => triggers.sqs.push(trigger(arn)),
                        Some(Err(Unresolved(expr))) => {
                            match queue.and_then(|q| self.template_queue(q)) {
                                Some((logical_id, queue_name)) => {
                                    note(
                                        &format!("{property}.Queue"),
                                        format!(
                                            "`{expr}` is known only to the stack; `slipway serve` polls the queue named `{queue_name}` at its endpoint URL"
                                        ),
                                    );
                                    queues.push(LocalQueue {
                                        event: name.clone(),
                                        logical_id,
                                        name: queue_name,
                                        trigger: trigger(expr),
                                    });
                                }
                                None => note(
                                    &format!("{property}.Queue"),
                                    format!(
                                        "`{expr}` is known only to the stack; give `slipway serve --sqs {id}=QUEUE_URL` to poll a queue locally"
                                    ),
                                ),
                            }
                        }
                        _ => {}
                    }
                }
                "S3" => {
                    let bucket = p.get("Bucket").and_then(|b| self.bucket_name(b));
                    let mut events_list: Vec<String> = match p.get("Events") {
                        Some(Value::Sequence(l)) => l.iter().filter_map(scalar_string).collect(),
                        Some(v) => scalar_string(v).into_iter().collect(),
                        None => Vec::new(),
                    };
                    if events_list.is_empty() {
                        events_list.push("s3:ObjectCreated:*".into());
                    }
                    let rules = p
                        .get("Filter")
                        .and_then(|f| f.get("S3Key"))
                        .and_then(|k| k.get("Rules"))
                        .and_then(Value::as_sequence);
                    let rule = |which: &str| {
                        rules.into_iter().flatten().find_map(|r| {
                            let n = r.get("Name")?.as_str()?;
                            n.eq_ignore_ascii_case(which)
                                .then(|| known(r.get("Value")))?
                        })
                    };
                    match bucket {
                        Some(bucket) => triggers.s3.push(S3Trigger {
                            bucket,
                            events: events_list,
                            prefix: rule("prefix"),
                            suffix: rule("suffix"),
                        }),
                        None => note(
                            &format!("{property}.Bucket"),
                            "names a bucket known only to the stack; SAM wires the notification at deploy".into(),
                        ),
                    }
                }
                "AlexaSkill" => {
                    let skill_id = known(p.get("SkillId"));
                    // The same trigger slipway.toml's `[[functions.X.alexa]]`
                    // declares, so function.json and drift see it too.
                    if let Some(skill_id) = &skill_id {
                        triggers.alexa.push(slipway_config::AlexaTrigger {
                            skill_id: skill_id.clone(),
                        });
                    }
                    alexa.push(AlexaEvent {
                        event: name.clone(),
                        skill_id,
                    })
                }
                _ => {}
            }
            events.push((name, kind));
        }
        if let Some(url) = props.get("FunctionUrlConfig") {
            let auth = match known(url.get("AuthType")).as_deref() {
                Some("NONE") => UrlAuth::None,
                Some("AWS_IAM") => UrlAuth::AwsIam,
                other => {
                    return Err(self.err(
                        id,
                        "FunctionUrlConfig.AuthType",
                        format!(
                            "is {}; SAM requires `AWS_IAM` or `NONE`",
                            other.map_or("missing".into(), |o| format!("`{o}`"))
                        ),
                        Some("`AWS_IAM` requires signed requests; `NONE` makes the URL public"),
                    ));
                }
            };
            let cors = url.get("Cors").map(|c| {
                let list = |k: &str| -> Vec<String> {
                    c.get(k)
                        .and_then(|v| self.scope.resolve(v).ok().flatten())
                        .and_then(|v| v.as_sequence().cloned())
                        .map(|l| l.iter().filter_map(scalar_string).collect())
                        .unwrap_or_default()
                };
                Cors {
                    allow_origins: list("AllowOrigins"),
                    allow_methods: list("AllowMethods"),
                    allow_headers: list("AllowHeaders"),
                    expose_headers: list("ExposeHeaders"),
                    allow_credentials: known(c.get("AllowCredentials"))
                        .is_some_and(|v| v == "true"),
                    max_age: known(c.get("MaxAge")).and_then(|m| m.parse().ok()),
                }
            });
            triggers.url = Some(FunctionUrl { auth, cors });
        }
        Ok(Events {
            triggers,
            alexa,
            events,
            queues,
        })
    }

    /// `!GetAtt Q.Arn` of an `AWS::SQS::Queue` `Q` in this template: its
    /// logical id and the name it has where slipway can see it, its
    /// `QueueName` when that resolves, else the logical id.
    fn template_queue(&self, value: &Value) -> Option<(String, String)> {
        let (f, arg) = crate::intrinsics::intrinsic(value)?;
        if f != "Fn::GetAtt" {
            return None;
        }
        let (target, attribute) = match arg {
            Value::String(s) => s.split_once('.')?,
            Value::Sequence(l) if l.len() == 2 => (l[0].as_str()?, l[1].as_str()?),
            _ => return None,
        };
        let queue = self.resources.get(target)?;
        if attribute != "Arn" || queue.get("Type")?.as_str()? != "AWS::SQS::Queue" {
            return None;
        }
        let name = queue
            .get("Properties")
            .and_then(|p| p.get("QueueName"))
            .and_then(|n| self.scope.string(n).ok().flatten())
            .unwrap_or_else(|| target.to_string());
        Some((target.to_string(), name))
    }

    /// A bucket's name: written, from a parameter, or from the `BucketName` of
    /// the `AWS::S3::Bucket` that a `!Ref` names.
    fn bucket_name(&self, value: &Value) -> Option<String> {
        if let Ok(Some(name)) = self.scope.string(value) {
            return Some(name);
        }
        let (f, arg) = crate::intrinsics::intrinsic(value)?;
        let target = (f == "Ref").then(|| arg.as_str())??;
        let bucket = self.resources.get(target)?;
        let name = bucket.get("Properties")?.get("BucketName")?;
        self.scope.string(name).ok()?
    }
}

/// A slipway.toml table's settings in the shape `Metadata.slipway` has.
fn slipway_only_values(t: &slipway_config::SlipwayOnly) -> Vec<(&'static str, Value)> {
    let list = |l: &Option<Vec<String>>| {
        l.as_ref()
            .map(|l| Value::Sequence(l.iter().map(|s| Value::String(s.clone())).collect()))
    };
    let string = |s: Option<String>| s.map(Value::String);
    [
        ("include", list(&t.include)),
        ("exclude", list(&t.exclude)),
        ("exclude_packages", list(&t.exclude_packages)),
        ("layer", t.layer.map(Value::Bool)),
        (
            "requirements",
            string(t.requirements.as_ref().map(|p| p.display().to_string())),
        ),
        ("signing_profile", string(t.signing_profile.clone())),
        ("require_signature", t.require_signature.map(Value::Bool)),
        ("handler_check", t.handler_check.map(Value::Bool)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect()
}

/// `value` as written, and what in it needs the stack when that is a part of it.
fn blocked(value: &Value, expr: &str) -> String {
    let whole = show(value);
    if whole == expr {
        format!("`{whole}`")
    } else {
        format!("`{whole}` ({expr})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(tempfile::TempDir);

    impl Dir {
        fn new() -> Dir {
            let d = Dir(tempfile::tempdir().unwrap());
            d.write("src/app.py", "def handler(e, c):\n    return 1\n");
            d
        }
        fn write(&self, rel: &str, text: &str) {
            let p = self.0.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        fn load(&self, template: &str) -> Result<SamProject, SamError> {
            self.write("template.yaml", template);
            let options = Options {
                region: Some("eu-west-1".into()),
                ..Options::default()
            };
            load(&self.0.path().join("template.yaml"), &options)
        }
    }

    const TEMPLATE: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: prod }
  Memory: { Type: Number, Default: 512 }
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 20
    Layers: ["arn:aws:lambda:eu-west-1:123456789012:layer:common:3"]
    Environment:
      Variables: { STAGE: !Ref Stage, SHARED: global }
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Uploads:
    Type: AWS::S3::Bucket
    Properties: { BucketName: !Sub "uploads-${Stage}" }
  Orders:
    Type: AWS::Serverless::Function
    Metadata:
      slipway: { exclude: [tests], exclude_packages: [boto3], layer: true }
    Properties:
      CodeUri: src/
      Architectures: [arm64]
      MemorySize: !Ref Memory
      AutoPublishAlias: live
      Role: !Sub "arn:aws:iam::123456789012:role/orders-${Stage}"
      Layers: [!Ref SharedLayer]
      Environment:
        Variables: { SHARED: own, TABLE: !Ref Table, REGION_NAME: !Ref "AWS::Region" }
      FunctionUrlConfig:
        AuthType: NONE
        Cors: { AllowOrigins: ["http://localhost:3000"], MaxAge: 300 }
      Events:
        Work: { Type: SQS, Properties: { Queue: !GetAtt Queue.Arn, BatchSize: 5 } }
        Direct: { Type: SQS, Properties: { Queue: "arn:aws:sqs:eu-west-1:123456789012:direct", FunctionResponseTypes: [ReportBatchItemFailures] } }
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: [s3:ObjectCreated:*]
            Filter: { S3Key: { Rules: [{ Name: prefix, Value: incoming/ }] } }
        Skill: { Type: AlexaSkill, Properties: { SkillId: amzn1.ask.skill.1 } }
"#;

    #[test]
    fn functions_are_read_with_globals_merged_and_intrinsics_resolved() {
        let d = Dir::new();
        d.write("src/requirements.txt", "orjson\n");
        let sam = d.load(TEMPLATE).unwrap();
        let f = &sam.project.functions["Orders"];
        assert_eq!(f.runtime.id, "python3.12");
        assert_eq!(f.handler, "app.handler");
        assert_eq!(f.architecture, Architecture::Arm64);
        assert_eq!((f.memory, f.timeout), (512, 20));
        assert_eq!(f.source_relative, "src");
        assert_eq!(
            f.requirements,
            Some(d.0.path().join("src/requirements.txt")),
            "found as sam build finds it"
        );
        assert_eq!(f.exclude, ["tests"]);
        assert_eq!(f.exclude_packages, ["boto3"]);
        assert!(f.dependencies_layer);
        assert_eq!(
            f.role.as_deref(),
            Some("arn:aws:iam::123456789012:role/orders-prod")
        );
        assert_eq!(f.alias.as_deref(), Some("live"));
        let env: Vec<(&str, &str)> = f
            .environment
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            env,
            [
                ("REGION_NAME", "eu-west-1"),
                ("SHARED", "own"),
                ("STAGE", "prod")
            ]
        );
        assert_eq!(
            f.layers,
            ["arn:aws:lambda:eu-west-1:123456789012:layer:common:3"],
            "globals first, the unresolvable one passed through"
        );
        assert_eq!(f.triggers.sqs.len(), 1);
        assert!(f.triggers.sqs[0].report_batch_item_failures);
        assert_eq!(f.triggers.s3[0].bucket, "uploads-prod");
        assert_eq!(f.triggers.s3[0].prefix.as_deref(), Some("incoming/"));
        let url = f.triggers.url.as_ref().unwrap();
        assert_eq!(url.auth, UrlAuth::None);
        assert_eq!(url.cors.as_ref().unwrap().max_age, Some(300));
        let s = &sam.functions["Orders"];
        assert_eq!(s.alexa[0].skill_id.as_deref(), Some("amzn1.ask.skill.1"));
        assert_eq!(f.triggers.alexa[0].skill_id, "amzn1.ask.skill.1");
        assert_eq!(s.auto_publish_alias.as_deref(), Some("live"));
        let notes: Vec<String> = sam.notes.iter().map(ToString::to_string).collect();
        for expected in [
            "Orders.Environment.Variables.TABLE: `!Ref Table`",
            "Orders.Layers: `!Ref SharedLayer`",
            "Orders.Events.Work.Queue: `!GetAtt Queue.Arn`",
        ] {
            assert!(
                notes.iter().any(|n| n.starts_with(expected)),
                "{expected} in {notes:#?}"
            );
        }
    }

    #[test]
    fn no_requirements_file_means_no_dependencies() {
        let d = Dir::new();
        let sam = d.load(TEMPLATE).unwrap();
        assert_eq!(sam.project.functions["Orders"].requirements, None);
    }

    fn error(d: &Dir, template: &str) -> SamError {
        d.load(template).unwrap_err()
    }

    #[test]
    fn what_slipway_needs_but_cannot_know_is_an_error_naming_resource_and_property() {
        let d = Dir::new();
        std::fs::create_dir_all(d.0.path().join("../outside-src")).ok();
        let cases = [
            (
                ("CodeUri: src/", "CodeUri: !GetAtt Bucket.Arn"),
                "CodeUri",
                "!GetAtt Bucket.Arn",
            ),
            (
                ("CodeUri: src/", "CodeUri: !Sub '${AWS::AccountId}/src'"),
                "CodeUri",
                "AWS::AccountId",
            ),
            (
                ("CodeUri: src/", "CodeUri: ../"),
                "CodeUri",
                "outside the project",
            ),
            (
                ("CodeUri: src/", "CodeUri: s3://bucket/key.zip"),
                "CodeUri",
                "S3 location",
            ),
            (
                ("CodeUri: src/", "CodeUri: { Bucket: b, Key: k }"),
                "CodeUri",
                "S3 location",
            ),
            (
                ("CodeUri: src/", "CodeUri: missing/"),
                "CodeUri",
                "does not exist",
            ),
            (
                ("CodeUri: src/", "CodeUri: src/app.py"),
                "CodeUri",
                "not a folder",
            ),
            (
                (
                    "CodeUri: src/",
                    "PackageType: Image\n      ImageUri: repo:tag",
                ),
                "PackageType",
                "Zip packages only",
            ),
            (
                ("Runtime: python3.12", "Runtime: python2.7"),
                "Runtime",
                "not a runtime slipway builds for",
            ),
            (
                (
                    "Runtime: python3.12",
                    "Runtime: !If [Unknown, python3.12, python3.13]",
                ),
                "Runtime",
                "cannot be resolved",
            ),
            (
                ("Handler: app.handler", "Handler: app"),
                "Handler",
                "not a Python handler",
            ),
            (
                ("Handler: app.handler", "Handler: !GetAtt X.Handler"),
                "Handler",
                "cannot be resolved",
            ),
            (
                ("Architectures: [arm64]", "Architectures: [arm64, x86_64]"),
                "Architectures",
                "more than one",
            ),
            (
                ("Architectures: [arm64]", "Architectures: [!GetAtt X.Arch]"),
                "Architectures",
                "cannot be resolved",
            ),
            (
                ("Architectures: [arm64]", "Architectures: [sparc]"),
                "Architectures",
                "not `x86_64` or `arm64`",
            ),
            (
                ("layer: true", "layers: true"),
                "Metadata.slipway.layers",
                "not a setting slipway knows",
            ),
            (
                ("layer: true", "layer: yes-please"),
                "Metadata.slipway.layer",
                "true or false",
            ),
            (
                ("MemorySize: !Ref Memory", "MemorySize: 99999"),
                "MemorySize",
                "128–10240",
            ),
            (
                ("AuthType: NONE", "AuthType: PUBLIC"),
                "FunctionUrlConfig.AuthType",
                "AWS_IAM",
            ),
            (
                ("SHARED: own,", "AWS_REGION: x,"),
                "Environment.Variables.AWS_REGION",
                "reserved",
            ),
        ];
        for ((from, to), property, needle) in cases {
            assert!(TEMPLATE.contains(from), "{from}");
            let e = error(&d, &TEMPLATE.replacen(from, to, 1));
            let message = e.to_string();
            assert_eq!(e.property().map(|p| p.1), Some(property), "{to}: {message}");
            assert_eq!(e.property().map(|p| p.0), Some("Orders"), "{to}: {message}");
            assert!(message.contains(needle), "{to}: {message}");
            assert!(
                message.contains("template.yaml:20:"),
                "the resource's line: {message}"
            );
        }
    }

    #[test]
    fn files_that_are_not_sam_templates() {
        let d = Dir::new();
        let e = error(&d, "Resources:\n  A: [unclosed\n");
        assert!(
            matches!(&e, SamError::NotYaml(y) if y.line.is_some()),
            "{e}"
        );
        let e = error(&d, "just text");
        assert!(matches!(e, SamError::NotATemplate { .. }), "{e}");
        let e = error(&d, "Resources:\n  Q: { Type: AWS::SQS::Queue }\n");
        assert!(
            e.to_string().contains("no `AWS::Serverless::Function`"),
            "{e}"
        );
    }

    fn with_parameters(
        d: &Dir,
        template: &str,
        given: &[(&str, &str)],
    ) -> Result<SamProject, SamError> {
        d.write("template.yaml", template);
        let options = Options {
            region: Some("eu-west-1".into()),
            parameters: given
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Options::default()
        };
        load(&d.0.path().join("template.yaml"), &options)
    }

    const PARAMETERS: &str = r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: prod, AllowedValues: [dev, prod] }
  Table: { Type: String }
  Subnets: { Type: CommaDelimitedList, Default: "a,b" }
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Environment:
        Variables:
          STAGE: !Ref Stage
          TABLE: !Ref Table
          NAME: !Sub "orders-${Stage}-${Table}"
          SECOND: !Select [1, !Ref Subnets]
"#;

    fn env(sam: &SamProject) -> BTreeMap<String, String> {
        sam.project.functions["Fn"].environment.clone()
    }

    #[test]
    fn parameter_overrides_feed_ref_and_sub_with_and_without_defaults() {
        let d = Dir::new();
        let defaults = with_parameters(&d, PARAMETERS, &[]).unwrap();
        assert_eq!(env(&defaults)["STAGE"], "prod");
        assert!(
            !env(&defaults).contains_key("TABLE"),
            "no default, no value"
        );
        assert!(!env(&defaults).contains_key("NAME"));
        assert_eq!(env(&defaults)["SECOND"], "b");

        let given = with_parameters(
            &d,
            PARAMETERS,
            &[
                ("Stage", "dev"),
                ("Table", "orders-dev"),
                ("Subnets", "x, y"),
            ],
        )
        .unwrap();
        let env = env(&given);
        assert_eq!(env["STAGE"], "dev");
        assert_eq!(env["TABLE"], "orders-dev");
        assert_eq!(env["NAME"], "orders-dev-orders-dev");
        assert_eq!(env["SECOND"], "y", "a list parameter splits on commas");
        assert!(given.notes.is_empty(), "{:?}", given.notes);
    }

    #[test]
    fn an_override_of_no_parameter_or_outside_allowed_values_is_an_error_naming_it() {
        let d = Dir::new();
        let e = with_parameters(&d, PARAMETERS, &[("Stgae", "dev")]).unwrap_err();
        assert!(
            matches!(&e, SamError::UnknownParameter { name, .. } if name == "Stgae"),
            "{e}"
        );
        assert!(e.to_string().contains("`Stgae`"), "{e}");
        let help = miette::Diagnostic::help(&e).unwrap().to_string();
        assert_eq!(help, "its parameters: Stage, Table, Subnets");
        let e = with_parameters(&d, PARAMETERS, &[("Stage", "test")]).unwrap_err();
        assert!(matches!(e, SamError::ParameterNotAllowed { .. }), "{e}");
        assert!(e.to_string().contains("Stage `test`"), "{e}");
    }

    #[test]
    fn a_queue_of_the_template_is_found_by_name_for_local_runs() {
        let d = Dir::new();
        let sam = d.load(TEMPLATE).unwrap();
        let queues = &sam.functions["Orders"].queues;
        assert_eq!(queues.len(), 1, "{queues:?}");
        assert_eq!(
            (
                queues[0].event.as_str(),
                queues[0].logical_id.as_str(),
                queues[0].name.as_str()
            ),
            ("Work", "Queue", "Queue"),
            "no QueueName: the logical id"
        );
        assert_eq!(queues[0].trigger.batch_size, 5);
        let named = TEMPLATE.replace(
            "  Queue:\n    Type: AWS::SQS::Queue\n",
            "  Queue:\n    Type: AWS::SQS::Queue\n    Properties: { QueueName: !Sub \"work-${Stage}\" }\n",
        );
        assert_ne!(named, TEMPLATE);
        let sam = d.load(&named).unwrap();
        assert_eq!(sam.functions["Orders"].queues[0].name, "work-prod");
        // A queue of another stack stays the user's to name.
        let other = TEMPLATE.replace("!GetAtt Queue.Arn", "!ImportValue shared-queue");
        let sam = d.load(&other).unwrap();
        assert!(sam.functions["Orders"].queues.is_empty());
    }

    fn config(d: &Dir, toml: &str) -> Result<SamProject, SamError> {
        let path = d.0.path().join("slipway.toml");
        std::fs::write(&path, toml).unwrap();
        let source = match slipway_config::load_config(&path).unwrap() {
            slipway_config::Config::Sam(s) => s,
            slipway_config::Config::Functions(_) => panic!("not a sam source"),
        };
        load_config(&source, &Options::default())
    }

    #[test]
    fn slipway_toml_adds_what_the_template_cannot_say() {
        let d = Dir::new();
        d.write("template.yaml", TEMPLATE);
        d.write("reqs/requirements.txt", "orjson\n");
        let sam = config(
            &d,
            r#"sam = "template.yaml"
[aws]
region = "eu-central-1"
[python]
index_url = "http://127.0.0.1:1/simple"
[defaults]
include = ["**/*.py"]
exclude_packages = ["never-used"]
handler_check = false
[functions.Orders]
requirements = "reqs/requirements.txt"
signing_profile = "release"
"#,
        )
        .unwrap();
        let f = &sam.project.functions["Orders"];
        assert_eq!(f.include, ["**/*.py"], "[defaults] where both are silent");
        assert_eq!(
            f.exclude_packages,
            ["boto3"],
            "the template's Metadata wins over [defaults]"
        );
        assert!(!f.handler_check);
        assert_eq!(
            f.requirements,
            Some(d.0.path().join("reqs/requirements.txt"))
        );
        assert_eq!(f.signing_profile.as_deref(), Some("release"));
        assert_eq!(
            f.environment["REGION_NAME"], "eu-central-1",
            "AWS::Region from [aws] region"
        );
        assert_eq!(
            sam.project.python.index_url.as_deref(),
            Some("http://127.0.0.1:1/simple")
        );
        assert_eq!(sam.project.file.path, d.0.path().join("slipway.toml"));
        assert_eq!(sam.path, d.0.path().join("template.yaml"));

        let source = match slipway_config::load_config(&d.0.path().join("slipway.toml")).unwrap() {
            slipway_config::Config::Sam(s) => s,
            slipway_config::Config::Functions(_) => panic!("not a sam source"),
        };
        let from_env = Options {
            region: Some("us-east-1".into()),
            ..Options::default()
        };
        let sam = load_config(&source, &from_env).unwrap();
        assert_eq!(
            sam.project.functions["Orders"].environment["REGION_NAME"], "eu-central-1",
            "[aws] region wins over AWS_REGION, as for every AWS call"
        );
    }

    #[test]
    fn a_setting_in_both_places_or_a_table_for_no_function_is_an_error() {
        let d = Dir::new();
        d.write("template.yaml", TEMPLATE);
        let e = config(
            &d,
            "sam = \"template.yaml\"\n[functions.Orders]\nexclude = [\"docs\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            e.property(),
            Some(("Orders", "Metadata.slipway.exclude")),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("slipway.toml:2 (`functions.Orders.exclude`)"),
            "{e}"
        );
        let e = config(
            &d,
            "sam = \"template.yaml\"\n\n[functions.Ordrs]\nlayer = true\n",
        )
        .unwrap_err();
        assert!(
            matches!(e, SamError::UnknownFunction { line: Some(3), .. }),
            "{e}"
        );
        assert!(e.to_string().contains("`[functions.Ordrs]`"), "{e}");
    }

    #[test]
    fn globals_merge_as_sam_merges() {
        let g: Value = serde_norway::from_str("{ A: 1, M: { x: 1, y: 1 }, L: [g] }").unwrap();
        let o: Value = serde_norway::from_str("{ A: 2, M: { y: 2 }, L: [o] }").unwrap();
        let want: Value = serde_norway::from_str("{ A: 2, M: { x: 1, y: 2 }, L: [g, o] }").unwrap();
        assert_eq!(merge_globals(&g, &o), want);
        // An intrinsic replaces rather than merges.
        let o: Value = serde_norway::from_str("{ M: !If [C, {}, {}] }").unwrap();
        assert!(matches!(
            merge_globals(&g, &o).get("M"),
            Some(Value::Tagged(_))
        ));
    }
}
