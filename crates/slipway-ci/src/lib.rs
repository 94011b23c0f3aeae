//! GitLab CI for slipway projects.
//!
//! The pipeline itself is the component in `templates/` (this repository is
//! also a GitLab CI/CD component project). This crate writes what a project
//! needs to use it: the root `.gitlab-ci.yml` that includes the component
//! with the project's functions, and, for monorepos, the child pipeline with
//! one chain per function whose input hash differs from the one last
//! deployed. It returns text and values; it never prints.

mod error;
pub mod plan;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::collections::BTreeMap;

use serde_norway::{Mapping, Value};

pub use error::CiError;
pub use plan::{Change, ChangeReason, Plan, PlannedFunction};

/// The component's template, the one source of its inputs and defaults.
pub const COMPONENT_TEMPLATE: &str = include_str!("../../../templates/slipway.yml");
/// The monorepo component's template.
pub const MONOREPO_TEMPLATE: &str = include_str!("../../../templates/monorepo.yml");

/// Where the generated pipeline finds the component's deploy records.
pub const DEPLOYED_DIR: &str = ".slipway-deployed";
/// The default job-name prefix of the component.
pub const DEFAULT_JOB_PREFIX: &str = "slipway-";

/// Inputs slipway derives from slipway.toml; nobody sets them by hand.
const DERIVED_INPUTS: &[&str] = &["functions", "config", "dist", "job_prefix"];

/// How a pipeline refers to the slipway component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Component {
    /// A CI/CD catalog address, `$CI_SERVER_FQDN/group/project/slipway@1.0.0`.
    Catalog(String),
    /// A template file in the same repository, `templates/slipway.yml`.
    Local(String),
}

impl Component {
    /// A `.yml`/`.yaml` path without a version is a local file; anything
    /// else is a component address.
    pub fn parse(s: &str) -> Component {
        let s = s.trim();
        if !s.contains('@') && (s.ends_with(".yml") || s.ends_with(".yaml")) {
            Component::Local(s.trim_start_matches("./").to_string())
        } else {
            Component::Catalog(s.to_string())
        }
    }

    /// The address as written on slipway's command line.
    pub fn as_str(&self) -> &str {
        match self {
            Component::Catalog(s) | Component::Local(s) => s,
        }
    }

    /// The same component under another template name (the monorepo
    /// component sits beside the slipway one).
    pub fn sibling(&self, name: &str) -> Component {
        match self {
            Component::Catalog(s) => {
                let (path, version) = s.split_once('@').unwrap_or((s, ""));
                let base = path.rsplit_once('/').map(|(b, _)| b).unwrap_or(path);
                if version.is_empty() {
                    Component::Catalog(format!("{base}/{name}"))
                } else {
                    Component::Catalog(format!("{base}/{name}@{version}"))
                }
            }
            Component::Local(p) => {
                let base = p.rsplit_once('/').map(|(b, _)| b).unwrap_or(".");
                Component::Local(format!("{base}/{name}.yml"))
            }
        }
    }

    fn include(&self, inputs: Mapping) -> Value {
        let mut m = Mapping::new();
        match self {
            Component::Catalog(s) => m.insert(s_("component"), s_(s)),
            Component::Local(s) => m.insert(s_("local"), s_(s)),
        };
        if !inputs.is_empty() {
            m.insert(s_("inputs"), Value::Mapping(inputs));
        }
        Value::Mapping(m)
    }
}

/// One input of the component: its name and default (`None`: required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    pub name: String,
    pub default: Option<String>,
    pub options: Vec<String>,
}

/// The inputs the component declares, in its own order.
pub fn component_inputs() -> Vec<InputSpec> {
    inputs_of(COMPONENT_TEMPLATE)
}

fn inputs_of(template: &str) -> Vec<InputSpec> {
    let header = template.split("\n---\n").next().unwrap_or_default();
    let spec: Value = serde_norway::from_str(header).expect("the bundled template parses");
    let Some(inputs) = spec["spec"]["inputs"].as_mapping() else {
        return Vec::new();
    };
    inputs
        .iter()
        .map(|(k, v)| InputSpec {
            name: k.as_str().unwrap_or_default().to_string(),
            default: v.get("default").map(scalar_text),
            options: v
                .get("options")
                .and_then(Value::as_sequence)
                .map(|s| s.iter().map(scalar_text).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Inputs given on the command line (`NAME=VALUE`), checked against the
/// component: unknown names, values outside an input's options and inputs
/// slipway derives itself are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs(BTreeMap<String, String>);

impl Inputs {
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Inputs, CiError> {
        let specs = component_inputs();
        let mut map = BTreeMap::new();
        for item in items {
            let Some((name, value)) = item.split_once('=') else {
                return Err(CiError::InputSyntax {
                    value: item.to_string(),
                });
            };
            let name = name.trim();
            if DERIVED_INPUTS.contains(&name) {
                return Err(CiError::ReservedInput {
                    name: name.to_string(),
                });
            }
            let Some(spec) = specs.iter().find(|s| s.name == name) else {
                return Err(CiError::UnknownInput {
                    name: name.to_string(),
                    known: specs
                        .iter()
                        .filter(|s| !DERIVED_INPUTS.contains(&s.name.as_str()))
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if !spec.options.is_empty() && !spec.options.iter().any(|o| o == value) {
                return Err(CiError::UnknownInput {
                    name: format!("{name}={value}"),
                    known: format!("{name} is one of {}", spec.options.join(", ")),
                });
            }
            map.insert(name.to_string(), value.to_string());
        }
        Ok(Inputs(map))
    }

    /// Splits `a=1 b=2` (the monorepo component's `chain_inputs`).
    pub fn parse_spaced(text: &str) -> Result<Inputs, CiError> {
        Inputs::parse(text.split_whitespace())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `NAME=VALUE` in name order, as the command line takes them.
    pub fn args(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    fn value(&self, name: &str) -> String {
        self.get(name)
            .map(str::to_string)
            .or_else(|| {
                component_inputs()
                    .into_iter()
                    .find(|s| s.name == name)
                    .and_then(|s| s.default)
            })
            .unwrap_or_default()
    }

    /// The stages the component's jobs use, in pipeline order.
    fn stages(&self) -> Vec<String> {
        let mut stages: Vec<String> = Vec::new();
        for name in ["build_stage", "test_stage", "scan_stage", "deploy_stage"] {
            let s = self.value(name);
            if !stages.contains(&s) {
                stages.push(s);
            }
        }
        stages
    }
}

/// The project a pipeline is written for.
#[derive(Debug, Clone)]
pub struct Project {
    /// Function names, in slipway.toml's order.
    pub functions: Vec<String>,
    /// slipway.toml relative to the repository root (`/`-separated).
    pub config: String,
}

impl Project {
    /// The build folder relative to the repository root.
    pub fn dist(&self) -> String {
        match self.config.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/dist"),
            None => "dist".to_string(),
        }
    }

    fn chain_inputs(&self, functions: &[&str], job_prefix: &str, extra: &Inputs) -> Mapping {
        let mut m = Mapping::new();
        m.insert(s_("functions"), s_(&functions.join(" ")));
        if job_prefix != DEFAULT_JOB_PREFIX {
            m.insert(s_("job_prefix"), s_(job_prefix));
        }
        if self.config != "slipway.toml" {
            m.insert(s_("config"), s_(&self.config));
            m.insert(s_("dist"), s_(&self.dist()));
        }
        for (k, v) in &extra.0 {
            m.insert(s_(k), s_(v));
        }
        m
    }
}

/// How the root `.gitlab-ci.yml` is written.
#[derive(Debug, Clone)]
pub struct RootOptions {
    pub component: Component,
    pub inputs: Inputs,
    /// One chain per changed function through a generated child pipeline,
    /// instead of one chain for all functions.
    pub monorepo: bool,
    /// The command that writes this file again; the check job runs it with `--check`.
    pub command: String,
}

/// The root `.gitlab-ci.yml`.
pub fn root_pipeline(project: &Project, opts: &RootOptions) -> String {
    let mut doc = Mapping::new();
    doc.insert(
        s_("stages"),
        Value::Sequence(opts.inputs.stages().iter().map(|s| s_(s)).collect()),
    );
    let include = if opts.monorepo {
        let mut inputs = Mapping::new();
        inputs.insert(s_("component"), s_(opts.component.as_str()));
        if project.config != "slipway.toml" {
            inputs.insert(s_("config"), s_(&project.config));
        }
        if !opts.inputs.0.is_empty() {
            inputs.insert(s_("chain_inputs"), s_(&opts.inputs.args().join(" ")));
        }
        opts.component.sibling("monorepo").include(inputs)
    } else {
        let names: Vec<&str> = project.functions.iter().map(String::as_str).collect();
        opts.component
            .include(project.chain_inputs(&names, DEFAULT_JOB_PREFIX, &opts.inputs))
    };
    doc.insert(s_("include"), Value::Sequence(vec![include]));

    // The file checks itself: a change to slipway.toml that the pipeline
    // does not reflect fails here, before anything is built.
    let mut check = Mapping::new();
    check.insert(s_("stage"), s_(&opts.inputs.value("build_stage")));
    check.insert(s_("image"), s_(&opts.inputs.value("image")));
    check.insert(
        s_("script"),
        Value::Sequence(vec![s_(&format!("{} --check", opts.command))]),
    );
    check.insert(s_("rules"), never_on_schedule());
    doc.insert(
        s_(&format!("{DEFAULT_JOB_PREFIX}ci-check")),
        Value::Mapping(check),
    );

    let header = format!(
        "# Written by `{}` from {}.\n# Edit slipway.toml (or the command's flags) and run it again rather than this file:\n# the {DEFAULT_JOB_PREFIX}ci-check job fails when this file no longer matches.\n",
        opts.command, project.config
    );
    header + &to_yaml(&Value::Mapping(doc))
}

/// How the monorepo child pipeline is written.
#[derive(Debug, Clone)]
pub struct ChildOptions {
    pub component: Component,
    pub inputs: Inputs,
    /// The monorepo component's job prefix: the plan job is `<prefix>plan`,
    /// the chains `<prefix><function>-…`, the record job `<prefix>record`.
    pub job_prefix: String,
}

/// The child pipeline: one chain per changed function, and a record job
/// that carries the deployed manifests forward for the next plan.
pub fn child_pipeline(project: &Project, changes: &[Change], opts: &ChildOptions) -> String {
    let changed: Vec<&Change> = changes.iter().filter(|c| c.is_changed()).collect();
    let mut doc = Mapping::new();
    doc.insert(
        s_("stages"),
        Value::Sequence(
            opts.inputs
                .stages()
                .iter()
                .map(|s| s_(s))
                .collect::<Vec<_>>(),
        ),
    );
    if !changed.is_empty() {
        let includes = changed
            .iter()
            .map(|c| {
                let prefix = chain_prefix(&opts.job_prefix, &c.function);
                opts.component.include(project.chain_inputs(
                    &[c.function.as_str()],
                    &prefix,
                    &opts.inputs,
                ))
            })
            .collect();
        doc.insert(s_("include"), Value::Sequence(includes));
    }

    let dist = project.dist();
    let mut needs = vec![{
        let mut m = Mapping::new();
        m.insert(s_("pipeline"), s_("$PARENT_PIPELINE_ID"));
        m.insert(s_("job"), s_(&format!("{}plan", opts.job_prefix)));
        Value::Mapping(m)
    }];
    for c in &changed {
        let mut m = Mapping::new();
        m.insert(
            s_("job"),
            s_(&format!(
                "{}deploy",
                chain_prefix(&opts.job_prefix, &c.function)
            )),
        );
        m.insert(s_("optional"), Value::Bool(true));
        needs.push(Value::Mapping(m));
    }
    let mut record = Mapping::new();
    record.insert(s_("stage"), s_(".post"));
    record.insert(s_("image"), s_(&opts.inputs.value("image")));
    record.insert(s_("needs"), Value::Sequence(needs));
    record.insert(
        s_("script"),
        Value::Sequence(vec![
            s_(&format!("mkdir -p {DEPLOYED_DIR}")),
            s_(&format!(
                "for d in {dist}/*/; do f=$(basename \"$d\"); if [ -f \"$d/deploy.json\" ]; then mkdir -p \"{DEPLOYED_DIR}/$f\" && cp \"$d/manifest.json\" \"$d/deploy.json\" \"{DEPLOYED_DIR}/$f/\"; fi; done"
            )),
            s_(&format!("ls -R {DEPLOYED_DIR}")),
        ]),
    );
    let mut artifacts = Mapping::new();
    artifacts.insert(
        s_("paths"),
        Value::Sequence(vec![s_(&format!("{DEPLOYED_DIR}/"))]),
    );
    record.insert(s_("artifacts"), Value::Mapping(artifacts));
    let mut always = Mapping::new();
    always.insert(s_("when"), s_("always"));
    record.insert(s_("rules"), Value::Sequence(vec![Value::Mapping(always)]));
    doc.insert(
        s_(&format!("{}record", opts.job_prefix)),
        Value::Mapping(record),
    );

    let mut header = format!(
        "# Written by `slipway ci gitlab --child-pipeline`: {} of {} function(s) changed since the last deploy.\n",
        changed.len(),
        changes.len()
    );
    for c in &changed {
        header.push_str(&format!("#   {}: {}\n", c.function, c.reason.describe()));
    }
    header + &to_yaml(&Value::Mapping(doc))
}

/// The job prefix of one function's chain in the child pipeline.
pub fn chain_prefix(job_prefix: &str, function: &str) -> String {
    format!("{job_prefix}{function}-")
}

fn never_on_schedule() -> Value {
    let mut never = Mapping::new();
    never.insert(s_("if"), s_("$CI_PIPELINE_SOURCE == \"schedule\""));
    never.insert(s_("when"), s_("never"));
    let mut otherwise = Mapping::new();
    otherwise.insert(s_("when"), s_("on_success"));
    Value::Sequence(vec![Value::Mapping(never), Value::Mapping(otherwise)])
}

fn s_(s: &str) -> Value {
    Value::String(s.to_string())
}

fn to_yaml(v: &Value) -> String {
    serde_norway::to_string(v).expect("YAML values serialise")
}

#[cfg(test)]
mod tests;
