//! `slipway ci gitlab`: the project's `.gitlab-ci.yml` (and, for monorepos,
//! the child pipeline of changed functions) using the component in
//! `templates/`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use slipway_ci::{ChildOptions, Component, Inputs, Plan, RootOptions};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// Write .gitlab-ci.yml for this project, or check that it is up to date
    Gitlab(GitlabArgs),
}

/// Write the project's .gitlab-ci.yml: the slipway component (build, test, scan, deploy,
/// verify, promote/rollback, drift) included with the functions of slipway.toml.
///
/// The file is generated: change slipway.toml or the flags and run the command again.
/// The pipeline runs `slipway ci gitlab --check` with the same flags, so a stale file fails
/// the pipeline before anything is built.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 written (or up to date with --check), 1 stale with --check, 2 bad input.

Monorepos: with --monorepo, the pipeline's first job runs `slipway plan` and
`slipway ci gitlab --child-pipeline`, which compares each function's input hash with
the manifest of its last deploy and triggers a child pipeline with one chain per
changed function. See templates/README.md.")]
pub struct GitlabArgs {
    /// The file to write [default: .gitlab-ci.yml at the top of the git repository holding
    /// slipway.toml, else beside slipway.toml; slipway-child.yml with --child-pipeline]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Write nothing; exit 1 when the file differs from what would be written
    #[arg(long)]
    pub check: bool,

    /// The slipway component: a CI/CD catalog address (`host/group/project/slipway@1.0.0`)
    /// or a template file in the repository (`templates/slipway.yml`)
    #[arg(long, value_name = "REF", default_value = DEFAULT_COMPONENT)]
    pub component: String,

    /// An input of the component, NAME=VALUE (repeatable), e.g. `deploy_with=terraform`,
    /// `environment=staging`, `fail_on=medium`, `canary=10`
    #[arg(short, long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,

    /// One build/test/scan/deploy chain per changed function, through a generated child
    /// pipeline, instead of one chain for all functions
    #[arg(long, conflicts_with = "child_pipeline")]
    pub monorepo: bool,

    /// Write the monorepo child pipeline: one chain per function whose input hash
    /// differs from its last deployed manifest
    #[arg(long, requires = "plan")]
    pub child_pipeline: bool,

    /// The JSON of `slipway --format json plan` (`-` for stdin)
    #[arg(long, value_name = "FILE", requires = "child_pipeline")]
    pub plan: Option<PathBuf>,

    /// The manifests of the last deploys: <function>/manifest.json with the deploy.json
    /// `slipway deploy` wrote beside it (a function missing here counts as changed)
    #[arg(long, value_name = "DIR", default_value = slipway_ci::DEPLOYED_DIR, requires = "child_pipeline")]
    pub deployed: PathBuf,

    /// The monorepo component's job prefix (its plan job is `<prefix>plan`)
    #[arg(long, value_name = "PREFIX", default_value = slipway_ci::DEFAULT_JOB_PREFIX, requires = "child_pipeline")]
    pub job_prefix: String,

    /// Inputs for every chain, `NAME=VALUE` separated by spaces (the monorepo
    /// component's `chain_inputs`)
    #[arg(
        long,
        value_name = "INPUTS",
        default_value = "",
        requires = "child_pipeline"
    )]
    pub chain_inputs: String,
}

/// The component of the slipway release this binary is.
const DEFAULT_COMPONENT: &str = concat!(
    "$CI_SERVER_FQDN/slipway/slipway/slipway@",
    env!("CARGO_PKG_VERSION")
);

pub fn run(ctx: &Context, command: CiCommand) -> Result<Status, Failure> {
    let CiCommand::Gitlab(args) = command;
    if args.child_pipeline {
        return run_child(ctx, args);
    }
    let project = ctx.project()?;
    let out = match &args.out {
        Some(p) => Context::user_path(p),
        None => repository_root(&project.root).join(".gitlab-ci.yml"),
    };
    let base = out.parent().unwrap_or(Path::new("."));
    let config = slipway_config::relative_path(base, &Context::user_path(&project.file.path));
    let inputs = Inputs::parse(args.inputs.iter().map(String::as_str))?;
    let component = Component::parse(&args.component);

    // The command the check job runs, from the folder of the written file.
    let mut command = vec!["slipway".to_string()];
    if config != slipway_config::CONFIG_FILE_NAME {
        command.extend(["--config".into(), config.clone()]);
    }
    command.extend(["ci".into(), "gitlab".into()]);
    if args.component != DEFAULT_COMPONENT {
        command.extend(["--component".into(), args.component.clone()]);
    }
    for input in inputs.args() {
        command.extend(["--input".into(), input]);
    }
    if args.monorepo {
        command.push("--monorepo".into());
    }
    let text = slipway_ci::root_pipeline(
        &slipway_ci::Project {
            functions: project.functions.keys().cloned().collect(),
            config,
        },
        &RootOptions {
            component,
            inputs,
            monorepo: args.monorepo,
            command: command
                .iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" "),
        },
    );
    write_or_check(ctx, &out, &text, args.check, &command)
}

fn write_or_check(
    ctx: &Context,
    out: &Path,
    text: &str,
    check: bool,
    command: &[String],
) -> Result<Status, Failure> {
    if check {
        let current = std::fs::read_to_string(out).ok();
        let stale_line = match &current {
            None => Some(0),
            Some(c) if c == text => None,
            Some(c) => Some(
                c.lines()
                    .zip(text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| c.lines().count().min(text.lines().count()))
                    + 1,
            ),
        };
        let report = CheckReport {
            ok: stale_line.is_none(),
            path: out.to_path_buf(),
            exists: current.is_some(),
            first_difference: stale_line.filter(|l| *l > 0),
            command: command.join(" "),
        };
        emit(ctx, &report)?;
        return Ok(if report.ok {
            Status::Ok
        } else {
            Status::CheckFailed
        });
    }
    let unchanged = std::fs::read_to_string(out).is_ok_and(|c| c == text);
    if !unchanged {
        slipway_artifact::fs::write_atomic(out, text.as_bytes()).map_err(|e| {
            Failure::input(miette::miette!(
                code = "slipway::ci::write",
                help = "check that the folder exists and is writable, or pass --out",
                "cannot write {}: {e}",
                out.display()
            ))
        })?;
    }
    emit(
        ctx,
        &WriteReport {
            ok: true,
            path: out.to_path_buf(),
            changed: !unchanged,
        },
    )?;
    Ok(Status::Ok)
}

fn run_child(ctx: &Context, args: GitlabArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let plan_arg = args.plan.clone().unwrap_or_else(|| PathBuf::from("-"));
    let plan = if plan_arg.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::input(miette::miette!("cannot read the plan from stdin: {e}")))?;
        Plan::from_json(&bytes, "stdin")?
    } else {
        Plan::read(&Context::user_path(&plan_arg))?
    };
    let deployed = Context::user_path(&args.deployed);
    let changes = slipway_ci::plan::changes(&plan, &deployed)?;
    let out = Context::user_path(
        args.out
            .as_deref()
            .unwrap_or(Path::new("slipway-child.yml")),
    );
    let config = slipway_config::relative_path(
        &std::env::current_dir().unwrap_or_default(),
        &Context::user_path(&project.file.path),
    );
    let text = slipway_ci::child_pipeline(
        &slipway_ci::Project {
            functions: project.functions.keys().cloned().collect(),
            config,
        },
        &changes,
        &ChildOptions {
            component: Component::parse(&args.component),
            inputs: Inputs::parse_spaced(&args.chain_inputs)?,
            job_prefix: args.job_prefix.clone(),
        },
    );
    if args.check {
        return Err(Failure::input(miette::miette!(
            code = "slipway::ci::check_child",
            help =
                "the child pipeline is written fresh in each pipeline; check the root file instead",
            "--check does not apply to --child-pipeline"
        )));
    }
    slipway_artifact::fs::write_atomic(&out, text.as_bytes()).map_err(|e| {
        Failure::input(miette::miette!(
            code = "slipway::ci::write",
            help = "check that the folder exists and is writable, or pass --out",
            "cannot write {}: {e}",
            out.display()
        ))
    })?;
    let changed: Vec<slipway_ci::Change> =
        changes.iter().filter(|c| c.is_changed()).cloned().collect();
    emit(
        ctx,
        &ChildReport {
            ok: true,
            path: out,
            deployed,
            functions: changes.len(),
            changed,
        },
    )?;
    Ok(Status::Ok)
}

/// The top of the git work tree holding `dir`, or `dir` itself.
fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[derive(Serialize)]
struct WriteReport {
    ok: bool,
    path: PathBuf,
    changed: bool,
}

impl Render for WriteReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.changed {
            writeln!(out, "wrote {}", self.path.display())
        } else {
            writeln!(out, "{} is up to date", self.path.display())
        }
    }
}

#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    path: PathBuf,
    exists: bool,
    /// The first line (1-based) where the file differs from what slipway would write.
    first_difference: Option<usize>,
    command: String,
}

impl Render for CheckReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.ok {
            return writeln!(out, "{} is up to date", self.path.display());
        }
        if !self.exists {
            writeln!(out, "{} does not exist", self.path.display())?;
        } else {
            writeln!(
                out,
                "{} is stale: it differs from what slipway.toml gives from line {}",
                self.path.display(),
                self.first_difference.unwrap_or(1)
            )?;
        }
        writeln!(out, "help: run `{}` and commit the result", self.command)
    }
}

#[derive(Serialize)]
struct ChildReport {
    ok: bool,
    path: PathBuf,
    deployed: PathBuf,
    functions: usize,
    changed: Vec<slipway_ci::Change>,
}

impl Render for ChildReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} of {} function(s) changed since their last deploy (records in {})",
            self.changed.len(),
            self.functions,
            self.deployed.display()
        )?;
        for c in &self.changed {
            writeln!(out, "  {}: {}", c.function, c.reason.describe())?;
        }
        writeln!(out, "wrote {}", self.path.display())
    }
}
