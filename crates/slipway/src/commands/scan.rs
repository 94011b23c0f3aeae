//! `slipway scan` and `slipway db`: the vulnerability gate.
//!
//! The scan reads what was built (`dist/<function>/manifest.json` →
//! `dependencies`), never the requirements file, and matches it against OSV
//! advisories for PyPI.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use slipway_artifact::Manifest;
use slipway_vuln::db::{self, Database, DbKind};
use slipway_vuln::ignore::{IGNORE_FILE_NAME, IgnoreRule};
use slipway_vuln::index::redact;
use slipway_vuln::report::{cyclonedx, gitlab, junit, sarif, table};
use slipway_vuln::{Finding, ScanOutcome, ScanTarget, Severity};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

/// Days after which the advisory data is called stale, unless
/// `[scan] max_db_age_days` says otherwise.
const DEFAULT_MAX_DB_AGE_DAYS: u32 = 30;

#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 no finding at or above --fail-on remains, 1 one does, 2 bad input.

The advisory database, first found of: --db, [scan] db in slipway.toml, the local copy
written by `slipway db update`, the snapshot bundled in slipway.

Accepted risks: [[scan.ignore]] in slipway.toml and [[ignore]] in slipway-ignore.toml,
each with id, reason and until (a date). Expired and unmatched entries are reported.")]
pub struct ScanArgs {
    /// Functions to scan [default: all in slipway.toml]
    pub functions: Vec<String>,

    /// Advisories: a folder of OSV JSON/YAML files, an OSV `all.zip`, a copy
    /// written by `slipway db update`, an http(s) URL of a zip or copy, or
    /// `index` to ask the package index's JSON API
    #[arg(long, value_name = "PATH|URL|index")]
    pub db: Option<String>,

    /// Exit 1 when an unaccepted finding at or above this severity remains
    /// (unknown, none, low, medium, high, critical) [default: [scan] fail_on, else high]
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Let findings without a severity score pass the gate. By default an
    /// advisory nobody scored fails it: most PyPA records carry no CVSS vector,
    /// and an unknown risk is not a pass [default: [scan] allow_unscored, else false]
    #[arg(long)]
    pub allow_unscored: bool,

    /// Also write a SARIF 2.1.0 report to this file
    #[arg(long, value_name = "PATH")]
    pub sarif: Option<PathBuf>,

    /// Also write a GitLab dependency-scanning report to this file
    /// (GitLab reads `gl-dependency-scanning-report.json`)
    #[arg(long, value_name = "PATH")]
    pub gitlab_report: Option<PathBuf>,

    /// Also write a JUnit XML report to this file: one test case per finding,
    /// failed when it blocks the gate (GitLab shows `reports: junit` on every tier)
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Do not write dist/<function>/vex.cdx.json (the function's CycloneDX
    /// SBOM with the findings as `vulnerabilities`)
    #[arg(long, conflicts_with = "sbom_in_place")]
    pub no_sbom: bool,

    /// Put the findings into dist/<function>/sbom.cdx.json itself instead of
    /// vex.cdx.json. The SBOM then no longer matches the digest the
    /// provenance records, so `slipway verify` fails on it
    #[arg(long)]
    pub sbom_in_place: bool,

    /// An ignore file of accepted risks [default: slipway-ignore.toml beside slipway.toml, if present]
    #[arg(long, value_name = "PATH")]
    pub ignore_file: Option<PathBuf>,

    /// The folder `slipway build` wrote [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// The package index asked by `--db index` (overrides slipway.toml,
    /// PIP_INDEX_URL, UV_DEFAULT_INDEX and pip's config)
    #[arg(long, value_name = "URL", value_parser = slipway_config::parse_http_url)]
    pub index_url: Option<String>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Store a local copy of an advisory database for offline scans
    Update {
        /// A folder of OSV files, an OSV `all.zip`, or an http(s) URL of one
        #[arg(long, value_name = "PATH|URL")]
        from: String,
    },
}

#[derive(Serialize)]
struct ScanResult {
    ok: bool,
    #[serde(flatten)]
    outcome: ScanOutcome,
    warnings: Vec<String>,
    reports: Vec<PathBuf>,
}

impl Render for ScanResult {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(table::render(&self.outcome).as_bytes())?;
        for r in &self.reports {
            writeln!(out, "wrote {}", r.display())?;
        }
        Ok(())
    }
}

pub fn run(ctx: &Context, args: ScanArgs) -> Result<Status, Failure> {
    let start = time::OffsetDateTime::now_utc();
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out_dir = Context::out_dir(&project, args.out.as_deref());
    let progress = Progress::new(ctx);
    let mut warnings = Vec::new();

    // The inventory: what each function's package ships.
    let mut targets = Vec::new();
    let mut artifact_files: BTreeMap<String, String> = BTreeMap::new();
    for function in &functions {
        let dist_dir = slipway_artifact::function_dist_dir(&out_dir, &function.name);
        let manifest_path = dist_dir.join(slipway_artifact::MANIFEST_FILE_NAME);
        let manifest = Manifest::read(&manifest_path)?;
        let mut requires_dist = BTreeMap::new();
        for record in std::iter::once(&manifest.artifact).chain(manifest.layer.as_ref()) {
            let zip = dist_dir.join(&record.file);
            let read = std::fs::File::open(&zip)
                .map(|f| slipway_vuln::fix::requires_dist_from_zip(std::io::BufReader::new(f)));
            match read {
                Ok(Ok(map)) => requires_dist.extend(map),
                Ok(Err(e)) => warnings.push(format!(
                    "cannot read {}: {e}; fix advice is limited",
                    zip.display()
                )),
                Err(_) if manifest.dependencies.is_empty() => {}
                Err(e) => warnings.push(format!(
                    "cannot read {}: {e}; fix advice is limited",
                    zip.display()
                )),
            }
        }
        let reported_file = function
            .requirements
            .as_ref()
            .filter(|p| p.exists())
            .unwrap_or(&manifest_path);
        artifact_files.insert(
            function.name.clone(),
            slipway_config::relative_path(&project.root, reported_file),
        );
        targets.push(ScanTarget {
            function: function.name.clone(),
            distributions: manifest.dependencies,
            requires_dist,
        });
    }

    // The advisories.
    let db_choice = match (&args.db, &project.scan.db) {
        (Some(d), _) => DbChoice::from_arg(d, None),
        (None, Some(d)) => DbChoice::from_arg(d, Some(&project.root)),
        (None, None) => match db::local_copy_path().filter(|p| p.is_file()) {
            Some(p) => DbChoice::Path(p),
            None => DbChoice::Embedded,
        },
    };
    progress.stage("loading advisories", None);
    // Only records that name a shipped distribution need parsing.
    let relevance = db::Relevance::new(
        targets
            .iter()
            .flat_map(|t| t.distributions.iter().map(|d| d.name.as_str())),
    );
    let db = match db_choice {
        DbChoice::Embedded => Database::embedded()?,
        DbChoice::Path(p) => Database::open_for(&p, Some(&relevance))?,
        DbChoice::Url(url) => {
            let bytes = db::download(&url)?;
            let mut db =
                Database::from_bytes_for(&bytes, Path::new(&redact(&url)), Some(&relevance))?;
            db.info.location = redact(&url);
            db
        }
        DbChoice::Index => {
            let index = index_for_scan(args.index_url.clone(), &project)?;
            let packages: Vec<(String, String)> = targets
                .iter()
                .flat_map(|t| {
                    // The package index's JSON API knows PyPI releases only.
                    t.distributions
                        .iter()
                        .filter(|d| d.ecosystem.is_pypi())
                        .map(|d| (d.name.clone(), d.version.clone()))
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            progress.stage("asking the package index", Some(packages.len() as u64));
            let mut online = slipway_vuln::index::query(&index, &packages)?;
            // The JSON API has no CVSS vectors: take them, by shared name,
            // from the offline database the scan would otherwise use.
            let offline = match db::local_copy_path().filter(|p| p.is_file()) {
                Some(p) => Database::open(&p),
                None => Database::embedded(),
            };
            match offline {
                Ok(offline) => {
                    online.borrow_severities(&offline);
                }
                Err(e) => {
                    warnings.push(format!("no offline database to score index findings: {e}"))
                }
            }
            online
        }
    };
    for skipped in &db.info.skipped {
        warnings.push(format!("skipped an unreadable advisory: {skipped}"));
    }
    let today = start.date();
    let max_age = project
        .scan
        .max_db_age_days
        .unwrap_or(DEFAULT_MAX_DB_AGE_DAYS);
    if db.info.kind != DbKind::Index {
        match db.info.age_days(today) {
            Some(age) if age > i64::from(max_age) => warnings.push(format!(
                "the advisory data is {age} days old (newest advisory {}), more than the {max_age} days allowed by [scan] max_db_age_days; refresh it with `slipway db update --from …`",
                db.info.date.as_deref().and_then(|d| d.get(..10)).unwrap_or("?")
            )),
            None => warnings.push("the advisory data has no date; its age is unknown".into()),
            _ => {}
        }
    }

    // Accepted risks.
    let mut ignores: Vec<IgnoreRule> = project
        .scan
        .ignore
        .iter()
        .map(|e| IgnoreRule {
            id: e.id.clone(),
            reason: e.reason.clone(),
            until: e.until,
            origin: format!("{}:{}", slipway_config::CONFIG_FILE_NAME, e.line),
        })
        .collect();
    let ignore_file = match &args.ignore_file {
        Some(p) => Some(Context::user_path(p)),
        None => Some(project.root.join(IGNORE_FILE_NAME)).filter(|p| p.is_file()),
    };
    if let Some(path) = &ignore_file {
        ignores.extend(slipway_vuln::ignore::read_ignore_file(path)?);
    }

    // One precedence rule: the flag, then slipway.toml, then `high`.
    let fail_on = args
        .fail_on
        .or(project.scan.fail_on)
        .unwrap_or(Severity::High);
    progress.stage(
        "matching",
        Some(targets.iter().map(|t| t.distributions.len() as u64).sum()),
    );
    let allow_unscored = args.allow_unscored || project.scan.allow_unscored;
    let outcome = slipway_vuln::scan::scan(&db, &targets, &ignores, fail_on, allow_unscored, today);
    for report in &outcome.ignores {
        match report.state {
            slipway_vuln::IgnoreState::Expired => warnings.push(format!(
                "ignore entry {} ({}) expired on {}; it no longer applies",
                report.rule.id,
                report.rule.origin,
                report.rule.until.map(|d| d.to_string()).unwrap_or_default()
            )),
            slipway_vuln::IgnoreState::Stale => warnings.push(format!(
                "ignore entry {} ({}) matches no finding",
                report.rule.id, report.rule.origin
            )),
            slipway_vuln::IgnoreState::Applied => {}
        }
    }

    // Reports.
    let artifact_for = |f: &Finding| artifact_files.get(&f.function).cloned().unwrap_or_default();
    let mut reports = Vec::new();
    if let Some(path) = &args.sarif {
        let path = Context::user_path(path);
        write_json(&path, &sarif::render(&outcome, &artifact_for))?;
        reports.push(path);
    }
    if let Some(path) = &args.gitlab_report {
        let path = Context::user_path(path);
        let end = time::OffsetDateTime::now_utc();
        write_json(
            &path,
            &gitlab::render(&outcome, start, end, &artifact_for, &warnings),
        )?;
        reports.push(path);
    }
    if let Some(path) = &args.junit {
        let path = Context::user_path(path);
        slipway_artifact::fs::write_atomic(&path, junit::render(&outcome).as_bytes()).map_err(
            |source| {
                Failure::input(slipway_vuln::VulnError::Write {
                    path: path.clone(),
                    source,
                })
            },
        )?;
        reports.push(path);
    }
    if !args.no_sbom {
        for target in &targets {
            let dir = slipway_artifact::function_dist_dir(&out_dir, &target.function);
            let sbom = dir.join(cyclonedx::SBOM_FILE_NAME);
            let findings: Vec<&Finding> = outcome
                .findings
                .iter()
                .filter(|f| f.function == target.function)
                .collect();
            if args.sbom_in_place {
                if cyclonedx::merge_into_file(&sbom, &findings)? {
                    reports.push(sbom);
                }
            } else {
                let vex = dir.join(cyclonedx::VEX_FILE_NAME);
                if cyclonedx::write_vex(&sbom, &vex, &findings)? {
                    reports.push(vex);
                }
            }
        }
    }

    drop(progress);
    if !ctx.json() {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    let passed = outcome.passed();
    emit(
        ctx,
        &ScanResult {
            ok: passed,
            outcome,
            warnings,
            reports,
        },
    )?;
    Ok(if passed {
        Status::Ok
    } else {
        Status::CheckFailed
    })
}

enum DbChoice {
    Embedded,
    Path(PathBuf),
    Url(String),
    Index,
}

impl DbChoice {
    /// `base` resolves relative paths from slipway.toml; command-line paths
    /// are relative to the current folder.
    fn from_arg(value: &str, base: Option<&Path>) -> DbChoice {
        let v = value.trim();
        if v.eq_ignore_ascii_case("index") {
            DbChoice::Index
        } else if v.eq_ignore_ascii_case("bundled") {
            DbChoice::Embedded
        } else if v.starts_with("http://") || v.starts_with("https://") {
            DbChoice::Url(v.to_string())
        } else {
            let path = Path::new(v);
            DbChoice::Path(match base {
                Some(root) if path.is_relative() => root.join(path),
                _ => Context::user_path(path),
            })
        }
    }
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), Failure> {
    let mut text = serde_json::to_vec_pretty(value).expect("JSON serialises");
    text.push(b'\n');
    slipway_artifact::fs::write_atomic(path, &text).map_err(|source| {
        Failure::input(slipway_vuln::VulnError::Write {
            path: path.to_path_buf(),
            source,
        })
    })
}

#[derive(Serialize)]
struct DbUpdateResult {
    path: PathBuf,
    source: String,
    advisories: usize,
    withdrawn: usize,
    date: Option<String>,
    fetched_at: String,
    skipped: Vec<String>,
}

impl Render for DbUpdateResult {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "stored {} advisories from {}",
            self.advisories, self.source
        )?;
        writeln!(
            out,
            "  data as of: {}",
            self.date.as_deref().unwrap_or("unknown")
        )?;
        writeln!(out, "  fetched:    {}", self.fetched_at)?;
        writeln!(out, "  withdrawn:  {} skipped", self.withdrawn)?;
        for s in &self.skipped {
            writeln!(out, "  unreadable: {s}")?;
        }
        writeln!(out, "  copy:       {}", self.path.display())?;
        writeln!(out, "scans use it unless --db or [scan] db says otherwise")
    }
}

pub fn run_db(ctx: &Context, cmd: DbCommand) -> Result<Status, Failure> {
    let DbCommand::Update { from } = cmd;
    let progress = Progress::new(ctx);
    progress.stage(&format!("reading advisories from {}", redact(&from)), None);
    let mut db = match DbChoice::from_arg(&from, None) {
        DbChoice::Path(p) => Database::open(&p)?,
        DbChoice::Url(url) => {
            let bytes = db::download(&url)?;
            Database::from_bytes(&bytes, Path::new(&redact(&url)))?
        }
        DbChoice::Embedded | DbChoice::Index => {
            return Err(Failure::input(miette::miette!(
                code = "slipway::db::source",
                help = "give a folder of OSV files, an OSV all.zip, or an http(s) URL of one",
                "`{from}` cannot be stored as a local copy"
            )));
        }
    };
    let source = match db.info.kind {
        DbKind::LocalCopy => db.info.source.clone().unwrap_or_else(|| redact(&from)),
        _ => redact(&from),
    };
    db.info.source = Some(source.clone());
    let path = db::local_copy_path().ok_or_else(|| {
        Failure::input(miette::miette!(
            code = "slipway::db::no_cache",
            help = "set SLIPWAY_CACHE_DIR to a writable folder",
            "there is no user cache folder to keep the copy in"
        ))
    })?;
    let fetched_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let bytes = db.to_compact(Some(fetched_at.clone()));
    slipway_artifact::fs::write_atomic(&path, &bytes).map_err(|source| {
        Failure::input(slipway_vuln::VulnError::Write {
            path: path.clone(),
            source,
        })
    })?;
    drop(progress);
    emit(
        ctx,
        &DbUpdateResult {
            path,
            source,
            advisories: db.info.advisories,
            withdrawn: db.info.withdrawn,
            date: db.info.date.clone(),
            fetched_at,
            skipped: db.info.skipped.clone(),
        },
    )?;
    Ok(Status::Ok)
}

/// The index an online scan asks, decided exactly as the dependency stage
/// decides where to install from (command line, slipway.toml, PIP_INDEX_URL,
/// UV_DEFAULT_INDEX, pip's configuration, then pip's own default).
fn index_for_scan(
    cli: Option<String>,
    project: &slipway_config::Project,
) -> Result<slipway_vuln::index::IndexUrl, Failure> {
    use slipway_python::sources::{Environment, decide, pip_default_index_cached};
    let settings = slipway_python::SourceSettings {
        cli_index_url: cli,
        config_index_url: project.python.index_url.clone(),
        ..Default::default()
    };
    let cache = slipway_python::Cache::from_env();
    let sources = decide(&settings, &Environment::capture(), || {
        pip_default_index_cached(&cache)
    })?;
    let main = sources
        .indexes
        .first()
        .ok_or(slipway_vuln::VulnError::NoIndex)?;
    Ok(slipway_vuln::index::IndexUrl {
        url: main.with_credentials().to_string(),
        origin: sources.index_origin.clone(),
    })
}
