use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::sam::Config;
use crate::schema::{RawFile, RawFunction};
use crate::{
    AlexaTrigger, AwsSettings, CONFIG_FILE_NAME, ConfigError, Cors, Function, FunctionUrl,
    IgnoreEntry, Project, PythonSettings, Runtime, S3Trigger, ScanSettings, SourceFile, SqsTrigger,
    Triggers, UrlAuth, limits, resolve_path,
};

/// Finds `slipway.toml` in `start` or the nearest folder above it.
pub fn find_config(start: &Path) -> Result<PathBuf, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    Err(ConfigError::NotFound {
        start: start.to_path_buf(),
    })
}

/// Reads and validates the configuration file at `path`, which must define
/// its functions itself (see [`load_config`] for one that may name a SAM template).
pub fn load_file(path: &Path) -> Result<Project, ConfigError> {
    only_functions(load_config(path)?)
}

/// Reads and validates the configuration file at `path`: its own functions,
/// or the SAM template it names with `sam = "…"` and the settings around it.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    parse_config(&text, &absolute)
}

/// Validates configuration `text` as if read from `path`; it must define its functions itself.
pub fn parse(text: &str, path: &Path) -> Result<Project, ConfigError> {
    only_functions(parse_config(text, path)?)
}

fn only_functions(config: Config) -> Result<Project, ConfigError> {
    match config {
        Config::Functions(project) => Ok(project),
        Config::Sam(sam) => Err(ConfigError::invalid(
            &sam.file,
            Some(sam.span.clone()),
            format!(
                "the functions are defined by the SAM template {}",
                sam.template.display()
            ),
            Some("slipway reads the template itself when it runs from this folder; as a library, read it with `slipway_sam::load_config`".into()),
        )),
    }
}

/// Validates configuration `text` as if read from `path`.
pub fn parse_config(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let file = SourceFile {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let help = parse_error_help(e.message());
        ConfigError::invalid(&file, e.span(), e.message().trim().to_string(), help)
    })?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let v = Validator {
        file: &file,
        root: &root,
    };

    if let Some(template) = &raw.sam {
        return v.sam(template, &raw).map(Config::Sam);
    }
    if raw.functions.is_empty() {
        return Err(v.err(
            None,
            "no functions defined",
            Some("add a `[functions.NAME]` table with at least `source` and `handler`, or name a SAM template with `sam = \"template.yaml\"`".into()),
        ));
    }
    let mut functions = BTreeMap::new();
    for (name, table) in &raw.functions {
        let f = v.function(name, table, &raw.defaults)?;
        functions.insert(f.name.clone(), f);
    }
    if let Some(url) = &raw.aws.endpoint_url {
        v.http_url("aws.endpoint_url", url.get_ref(), url.span())?;
    }
    Ok(Config::Functions(Project {
        nodejs: crate::NodejsSettings {
            accept_native: raw.nodejs.accept_native.clone().unwrap_or_default(),
        },
        python: v.python(&raw)?,
        scan: v.scan(&raw)?,
        aws: AwsSettings {
            region: raw.aws.region.clone(),
            profile: raw.aws.profile.clone(),
            endpoint_url: raw.aws.endpoint_url.as_ref().map(|u| u.get_ref().clone()),
        },
        functions,
        root,
        file,
    }))
}

/// What to do about a file serde or TOML refused: serde names the expected
/// keys on an unknown one; anything else is TOML syntax or a value of the
/// wrong kind at the marked place.
fn parse_error_help(message: &str) -> Option<String> {
    Some(if message.contains("unknown field") {
        "check the spelling; the README's `slipway.toml` reference lists every key".into()
    } else {
        "fix the TOML at the marked place; the README's `slipway.toml` reference shows every key and its kind of value".into()
    })
}

pub(crate) struct Validator<'a> {
    pub(crate) file: &'a SourceFile,
    pub(crate) root: &'a Path,
}

impl Validator<'_> {
    pub(crate) fn err(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ConfigError {
        ConfigError::invalid(self.file, span, message, help)
    }

    fn function(
        &self,
        name: &Spanned<String>,
        table: &Spanned<RawFunction>,
        defaults: &RawFunction,
    ) -> Result<Function, ConfigError> {
        // A value inherited from `[defaults]` is named where it is written.
        // How a key is named in messages, quoted: where its value is written.
        let key = |k: &str| {
            if defaults.sets(k) && !table.get_ref().sets(k) {
                format!("`defaults.{k}` for `functions.{}`", name.get_ref())
            } else {
                format!("`functions.{}.{k}`", name.get_ref())
            }
        };
        // Every key reads the one combined table; `[defaults]` is not consulted again.
        let own = &table.get_ref().overlay(defaults);
        self.function_name(name)?;

        let source_raw = own.source.as_ref();
        let source_relative = source_raw
            .map(|s| s.get_ref().clone())
            .unwrap_or_else(|| ".".into());
        let source = resolve_path(self.root, &source_relative);
        if !source.is_dir() {
            let what = if source.exists() {
                "is a file, not a folder"
            } else {
                "does not exist"
            };
            return Err(self.err(
                source_raw.map(Spanned::span).or(Some(name.span())),
                format!(
                    "{}: source folder {} {what}",
                    key("source"),
                    source.display()
                ),
                Some("`source` is a folder relative to slipway.toml".into()),
            ));
        }

        let runtime_raw = own.runtime.as_ref().ok_or_else(|| {
            self.err(
                Some(name.span()),
                format!("{} is missing", key("runtime")),
                Some("set `runtime = \"python3.12\"` in the function or in `[defaults]`".into()),
            )
        })?;
        let runtime = Runtime::find(runtime_raw.get_ref()).ok_or_else(|| {
            self.err(
                Some(runtime_raw.span()),
                format!(
                    "{}: unknown runtime `{}`",
                    key("runtime"),
                    runtime_raw.get_ref()
                ),
                Some(format!(
                    "known runtimes: {}",
                    Runtime::known_ids().join(", ")
                )),
            )
        })?;

        let architecture = match own.architecture.as_ref() {
            None => crate::Architecture::X86_64,
            Some(a) => crate::Architecture::parse(a.get_ref()).ok_or_else(|| {
                self.err(
                    Some(a.span()),
                    format!(
                        "{}: unknown architecture `{}`",
                        key("architecture"),
                        a.get_ref()
                    ),
                    Some("use `x86_64` or `arm64`".into()),
                )
            })?,
        };

        let handler_raw = own.handler.as_ref().ok_or_else(|| {
            self.err(
                Some(name.span()),
                format!("{} is missing", key("handler")),
                Some("for Python, `handler = \"module.function\"`, e.g. `app.handler` for `def handler` in app.py".into()),
            )
        })?;
        let handler = handler_raw.get_ref().clone();
        if runtime.python_minor().is_some() && !valid_python_handler(&handler) {
            return Err(self.err(
                Some(handler_raw.span()),
                format!("{}: `{handler}` is not a Python handler", key("handler")),
                Some("write `module.function`, e.g. `app.handler` or `pkg/app.handler`".into()),
            ));
        }

        let memory = match own.memory.as_ref() {
            None => 128,
            Some(m) => {
                let value = *m.get_ref();
                let ok = u32::try_from(value)
                    .ok()
                    .filter(|v| limits::MEMORY_MB.contains(v));
                ok.ok_or_else(|| {
                    self.err(
                        Some(m.span()),
                        format!(
                            "{} = {value} is outside Lambda's 128–10240 MB",
                            key("memory")
                        ),
                        Some("memory is in MB, between 128 and 10240".into()),
                    )
                })?
            }
        };
        let timeout = match own.timeout.as_ref() {
            None => 3,
            Some(t) => {
                let value = *t.get_ref();
                let ok = u32::try_from(value)
                    .ok()
                    .filter(|v| (1..=limits::TIMEOUT_SECONDS_MAX).contains(v));
                ok.ok_or_else(|| {
                    self.err(
                        Some(t.span()),
                        format!(
                            "{} = {value} is outside Lambda's 1–900 seconds",
                            key("timeout")
                        ),
                        Some("timeout is in seconds, at most 900 (15 minutes)".into()),
                    )
                })?
            }
        };

        let role = match own.role.as_ref() {
            None => None,
            Some(r) => {
                if !is_iam_role_arn(r.get_ref()) {
                    return Err(self.err(
                        Some(r.span()),
                        format!("{}: `{}` is not an IAM role ARN", key("role"), r.get_ref()),
                        Some("write the execution role's ARN, e.g. `arn:aws:iam::123456789012:role/orders-exec`".into()),
                    ));
                }
                Some(r.get_ref().clone())
            }
        };

        let environment = value_or_default(&own.environment);
        if let Some(env_span) = own.environment.as_ref().map(Spanned::span) {
            self.environment(&key("environment"), &environment, env_span)?;
        }

        let dependencies_layer = own.layer.unwrap_or(false);
        let layers = value_or_default(&own.layers);
        if let Some(l) = own.layers.as_ref() {
            let max = limits::LAYERS_MAX - usize::from(dependencies_layer);
            if layers.len() > max {
                return Err(self.err(
                    Some(l.span()),
                    format!(
                        "{} lists {} layers; Lambda allows {max} here",
                        key("layers"),
                        layers.len()
                    ),
                    dependencies_layer
                        .then(|| "`layer = true` uses one of the five layer slots".into()),
                ));
            }
            if let Some(bad) = layers.iter().find(|a| !is_layer_version_arn(a)) {
                return Err(self.err(
                    Some(l.span()),
                    format!("{}: `{bad}` is not a layer version ARN", key("layers")),
                    Some("write `arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION`".into()),
                ));
            }
        }

        let description = own.description.as_ref().map(|d| d.get_ref().clone());
        if let Some(d) = own.description.as_ref()
            && d.get_ref().chars().count() > limits::DESCRIPTION_MAX
        {
            return Err(self.err(
                Some(d.span()),
                format!("{} is longer than 256 characters", key("description")),
                None,
            ));
        }

        let tags = value_or_default(&own.tags);
        if let Some(t) = own.tags.as_ref() {
            let bad = tags.iter().find(|(k, v)| {
                k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:")
            });
            if tags.len() > limits::TAGS_MAX || bad.is_some() {
                return Err(self.err(
                    Some(t.span()),
                    format!("{}: Lambda allows 50 tags, keys of 1–128 characters not starting with `aws:`, values up to 256", key("tags")),
                    None,
                ));
            }
        }

        let include = self.globs(&key("include"), own.include.as_ref())?;
        let exclude = self.globs(&key("exclude"), own.exclude.as_ref())?;

        let requirements = match own.requirements.as_ref() {
            None => None,
            Some(r) => {
                let path = resolve_path(self.root, r.get_ref());
                if !path.is_file() {
                    return Err(self.err(
                        Some(r.span()),
                        format!("{}: {} does not exist", key("requirements"), path.display()),
                        Some("`requirements` is a requirements.txt, pyproject.toml or uv.lock, relative to slipway.toml".into()),
                    ));
                }
                Some(path)
            }
        };

        Ok(Function {
            name: name.get_ref().clone(),
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
            exclude_packages: value_or_default(&own.exclude_packages),
            dependencies_layer,
            publish: own.publish.unwrap_or(false),
            alias: own.alias.as_ref().map(|a| a.get_ref().clone()),
            s3_bucket: own.s3_bucket.as_ref().map(|a| a.get_ref().clone()),
            s3_prefix: own.s3_prefix.as_ref().map(|a| a.get_ref().clone()),
            code_signing_config_arn: own
                .code_signing_config_arn
                .as_ref()
                .map(|a| a.get_ref().clone()),
            signing_profile: own.signing_profile.as_ref().map(|a| a.get_ref().clone()),
            require_signature: own.require_signature.unwrap_or(false),
            handler_check: own.handler_check.unwrap_or(true),
            triggers: self.triggers(name.get_ref(), own)?,
        })
    }

    fn function_name(&self, name: &Spanned<String>) -> Result<(), ConfigError> {
        let n = name.get_ref();
        let ok = !n.is_empty()
            && n.len() <= limits::FUNCTION_NAME_MAX
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.err(
                Some(name.span()),
                format!("`{n}` is not a valid Lambda function name"),
                Some("use 1–64 letters, digits, `-` or `_`".into()),
            ))
        }
    }

    fn environment(
        &self,
        key: &str,
        env: &BTreeMap<String, String>,
        span: Range<usize>,
    ) -> Result<(), ConfigError> {
        for name in env.keys() {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(self.err(
                    Some(span.clone()),
                    format!("{key}: `{name}` is not a valid environment variable name"),
                    Some("names start with a letter and hold only letters, digits and `_`".into()),
                ));
            }
            if crate::is_reserved_environment_variable(name) {
                return Err(self.err(
                    Some(span.clone()),
                    format!("{key}: `{name}` is reserved by Lambda"),
                    Some("Lambda sets this variable itself; choose another name".into()),
                ));
            }
        }
        let size: usize = env.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > limits::ENVIRONMENT_BYTES {
            return Err(self.err(
                Some(span),
                format!("{key} holds {size} bytes; Lambda allows 4 KB (4096 bytes) of names and values"),
                Some("move large values to SSM Parameter Store or Secrets Manager and read them at start-up".into()),
            ));
        }
        Ok(())
    }

    pub(crate) fn globs(
        &self,
        key: &str,
        raw: Option<&Spanned<Vec<String>>>,
    ) -> Result<Vec<String>, ConfigError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        for g in raw.get_ref() {
            if let Err(e) = globset::Glob::new(g) {
                return Err(self.err(
                    Some(raw.span()),
                    format!("{key}: `{g}` is not a valid glob: {}", e.kind()),
                    Some("globs are relative to the source folder, e.g. `src/**/*.py`".into()),
                ));
            }
        }
        Ok(raw.get_ref().clone())
    }

    fn triggers(&self, name: &str, own: &RawFunction) -> Result<Triggers, ConfigError> {
        let mut triggers = Triggers::default();
        for t in own.sqs.iter().flatten() {
            let r = t.get_ref();
            let key = format!("functions.{name}.sqs");
            let batch_size = r.batch_size.unwrap_or(10);
            let window = r.batching_window.unwrap_or(0);
            if !r.queue_arn.starts_with("arn:") || !r.queue_arn.contains(":sqs:") {
                return Err(self.err(
                    Some(t.span()),
                    format!(
                        "`{key}.queue_arn`: `{}` is not an SQS queue ARN",
                        r.queue_arn
                    ),
                    None,
                ));
            }
            if !(1..=10000).contains(&batch_size) || !(0..=300).contains(&window) {
                return Err(self.err(
                    Some(t.span()),
                    format!(
                        "`{key}`: batch_size must be 1–10000 and batching_window 0–300 seconds"
                    ),
                    None,
                ));
            }
            if batch_size > 10 && window == 0 {
                return Err(self.err(
                    Some(t.span()),
                    format!(
                        "`{key}`: a batch_size over 10 needs a batching_window of at least 1 second"
                    ),
                    None,
                ));
            }
            if let Some(mc) = r.maximum_concurrency
                && !(2..=1000).contains(&mc)
            {
                return Err(self.err(
                    Some(t.span()),
                    format!("`{key}.maximum_concurrency` must be 2–1000"),
                    None,
                ));
            }
            triggers.sqs.push(SqsTrigger {
                queue_arn: r.queue_arn.clone(),
                batch_size: batch_size as u32,
                batching_window_seconds: window as u32,
                report_batch_item_failures: r.report_batch_item_failures.unwrap_or(false),
                maximum_concurrency: r.maximum_concurrency.map(|m| m as u32),
                enabled: r.enabled.unwrap_or(true),
            });
        }
        for t in own.s3.iter().flatten() {
            let r = t.get_ref();
            let events = r
                .events
                .clone()
                .unwrap_or_else(|| vec!["s3:ObjectCreated:*".into()]);
            if let Some(bad) = events.iter().find(|e| !e.starts_with("s3:")) {
                return Err(self.err(
                    Some(t.span()),
                    format!("`functions.{name}.s3.events`: `{bad}` is not an S3 event type"),
                    Some("e.g. `s3:ObjectCreated:*` or `s3:ObjectRemoved:Delete`".into()),
                ));
            }
            triggers.s3.push(S3Trigger {
                bucket: r.bucket.clone(),
                events,
                prefix: r.prefix.clone(),
                suffix: r.suffix.clone(),
            });
        }
        if let Some(u) = &own.url {
            let r = u.get_ref();
            let auth = match r.auth.as_deref() {
                None | Some("AWS_IAM") => UrlAuth::AwsIam,
                Some("NONE") => UrlAuth::None,
                Some(other) => {
                    return Err(self.err(
                        Some(u.span()),
                        format!("`functions.{name}.url.auth`: `{other}` is not `AWS_IAM` or `NONE`"),
                        Some("`AWS_IAM` (the default) requires signed requests; `NONE` makes the URL public".into()),
                    ));
                }
            };
            let cors = r.cors.as_ref().map(|c| Cors {
                allow_origins: c.allow_origins.clone().unwrap_or_default(),
                allow_methods: c.allow_methods.clone().unwrap_or_default(),
                allow_headers: c.allow_headers.clone().unwrap_or_default(),
                expose_headers: c.expose_headers.clone().unwrap_or_default(),
                allow_credentials: c.allow_credentials.unwrap_or(false),
                max_age: c.max_age.map(|m| m as u32),
            });
            triggers.url = Some(FunctionUrl { auth, cors });
        }
        for t in own.alexa.iter().flatten() {
            let skill_id = &t.get_ref().skill_id;
            if !is_alexa_skill_id(skill_id) {
                return Err(self.err(
                    Some(t.span()),
                    format!("`functions.{name}.alexa.skill_id`: `{skill_id}` is not an Alexa skill id"),
                    Some("copy it from the Alexa developer console: `amzn1.ask.skill.` followed by a UUID".into()),
                ));
            }
            if triggers.alexa.iter().any(|a| &a.skill_id == skill_id) {
                return Err(self.err(
                    Some(t.span()),
                    format!("`functions.{name}.alexa`: skill `{skill_id}` is listed twice"),
                    None,
                ));
            }
            triggers.alexa.push(AlexaTrigger {
                skill_id: skill_id.clone(),
            });
        }
        Ok(triggers)
    }

    /// An index or endpoint URL must be http(s): anything else would only
    /// fail later, far from the line that set it.
    pub(crate) fn http_url(
        &self,
        key: &str,
        value: &str,
        span: Range<usize>,
    ) -> Result<(), ConfigError> {
        crate::parse_http_url(value).map(drop).map_err(|reason| {
            self.err(
                Some(span),
                format!("`{key}`: {reason}"),
                Some("write a full URL such as `https://pypi.example.com/simple`".into()),
            )
        })
    }

    pub(crate) fn python(&self, raw: &RawFile) -> Result<PythonSettings, ConfigError> {
        if let Some(url) = &raw.python.index_url {
            self.http_url("python.index_url", url.get_ref(), url.span())?;
        }
        if let Some(urls) = &raw.python.extra_index_urls {
            for url in urls.get_ref() {
                self.http_url("python.extra_index_urls", url, urls.span())?;
            }
        }
        Ok(PythonSettings {
            index_url: raw.python.index_url.as_ref().map(|u| u.get_ref().clone()),
            extra_index_urls: raw
                .python
                .extra_index_urls
                .as_ref()
                .map(|u| u.get_ref().clone())
                .unwrap_or_default(),
            find_links: raw
                .python
                .find_links
                .iter()
                .flatten()
                .map(|p| resolve_path(self.root, p))
                .collect(),
        })
    }

    pub(crate) fn scan(&self, raw: &RawFile) -> Result<ScanSettings, ConfigError> {
        let fail_on =
            match &raw.scan.fail_on {
                None => None,
                Some(f) => Some(f.get_ref().parse::<slipway_artifact::Severity>().map_err(
                    |_| {
                        self.err(
                            Some(f.span()),
                            format!("`scan.fail_on`: `{}` is not a severity", f.get_ref()),
                            Some(format!(
                                "use one of {}",
                                slipway_artifact::Severity::ALL
                                    .map(|s| s.as_str())
                                    .join(", ")
                            )),
                        )
                    },
                )?),
            };
        let mut ignore = Vec::new();
        for entry in &raw.scan.ignore {
            let r = entry.get_ref();
            let until = match &r.until {
                None => None,
                Some(dt) => Some(
                    dt.date
                        .and_then(|d| {
                            time::Date::from_calendar_date(
                                d.year as i32,
                                time::Month::try_from(d.month).ok()?,
                                d.day,
                            )
                            .ok()
                        })
                        .ok_or_else(|| {
                            self.err(
                                Some(entry.span()),
                                "`scan.ignore.until` must be a date like 2027-01-31",
                                None,
                            )
                        })?,
                ),
            };
            ignore.push(IgnoreEntry {
                id: r.id.clone(),
                reason: r.reason.clone(),
                until,
                line: self.file.line_of(entry.span().start),
            });
        }
        Ok(ScanSettings {
            db: raw.scan.db.clone(),
            fail_on,
            max_db_age_days: raw.scan.max_db_age_days.map(|d| d.max(0) as u32),
            allow_unscored: raw.scan.allow_unscored.unwrap_or(false),
            ignore,
        })
    }
}

/// The value without its span, or the type's empty value when the key is absent.
fn value_or_default<T: Clone + Default>(raw: &Option<Spanned<T>>) -> T {
    raw.as_ref()
        .map(|v| v.get_ref().clone())
        .unwrap_or_default()
}

pub fn valid_python_handler(handler: &str) -> bool {
    let Some((module, function)) = handler.rsplit_once('.') else {
        return false;
    };
    let ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    ident(function) && !module.is_empty() && module.split(['.', '/']).all(ident)
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
pub fn is_iam_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_lit, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name_ok = resource.strip_prefix("role/").is_some_and(|name| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    });
    arn_lit == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && name_ok
}

/// `amzn1.ask.skill.` and a UUID, as the Alexa developer console shows it.
fn is_alexa_skill_id(id: &str) -> bool {
    let Some(uuid) = id.strip_prefix("amzn1.ask.skill.") else {
        return false;
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION`.
pub fn is_layer_version_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 8
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && parts[5] == "layer"
        && !parts[6].is_empty()
        && parts[7].parse::<u64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("services/orders")).unwrap();
        std::fs::write(dir.path().join("services/orders/requirements.txt"), "").unwrap();
        dir
    }

    fn parse_in(dir: &Path, text: &str) -> Result<Project, ConfigError> {
        parse(text, &dir.join("slipway.toml"))
    }

    const GOOD: &str = r#"
[defaults]
runtime = "python3.12"
architecture = "x86_64"
environment = { LOG_LEVEL = "info" }

[functions.orders]
source = "services/orders"          # any folder, relative to this file
handler = "app.handler"
requirements = "services/orders/requirements.txt"
role = "arn:aws:iam::123456789012:role/orders-exec"
memory = 256
timeout = 30
environment = { TABLE = "orders" }
"#;

    #[test]
    fn the_documented_example_parses_and_inherits_defaults() {
        let dir = project_dir();
        let p = parse_in(dir.path(), GOOD).unwrap();
        let f = &p.functions["orders"];
        assert_eq!(f.runtime.id, "python3.12");
        assert_eq!(f.memory, 256);
        assert_eq!(f.environment.len(), 2, "defaults and own environment merge");
        assert_eq!(f.source, dir.path().join("services/orders"));
    }

    fn error_for(replace: (&str, &str)) -> ConfigError {
        let dir = project_dir();
        parse_in(dir.path(), &GOOD.replace(replace.0, replace.1)).unwrap_err()
    }

    #[test]
    fn bad_values_name_the_key_and_line() {
        let cases = [
            (
                ("memory = 256", "memory = 64"),
                "functions.orders.memory",
                12,
            ),
            (
                ("timeout = 30", "timeout = 901"),
                "functions.orders.timeout",
                13,
            ),
            (
                ("role/orders-exec", "user/bob"),
                "is not an IAM role ARN",
                11,
            ),
            (("python3.12", "python2.7"), "unknown runtime", 3),
            (("x86_64", "sparc"), "unknown architecture", 4),
        ];
        for ((from, to), needle, line) in cases {
            let e = error_for((from, to));
            assert!(e.to_string().contains(needle), "{e}");
            assert_eq!(e.line(), Some(line), "{e}");
        }
    }

    #[test]
    fn every_refused_value_says_why() {
        let with = |extra: &str| {
            let dir = project_dir();
            parse_in(dir.path(), &format!("{GOOD}{extra}"))
                .unwrap_err()
                .to_string()
        };
        let cases = [
            (
                "[[functions.orders.sqs]]\nqueue_arn = \"arn:aws:sqs:us-east-1:123456789012:q\"\nbatch_size = 50\n",
                "batching_window of at least 1 second",
            ),
            (
                "[[functions.orders.sqs]]\nqueue_arn = \"orders\"\n",
                "not an SQS queue ARN",
            ),
            (
                "[[functions.orders.sqs]]\nqueue_arn = \"arn:aws:sqs:us-east-1:123456789012:q\"\nmaximum_concurrency = 1\n",
                "maximum_concurrency` must be 2–1000",
            ),
            (
                "[[functions.orders.s3]]\nbucket = \"b\"\nevents = [\"ObjectCreated\"]\n",
                "is not an S3 event type",
            ),
            (
                "[[functions.orders.alexa]]\nskill_id = \"my-skill\"\n",
                "is not an Alexa skill id",
            ),
            (
                "[[functions.orders.alexa]]\nskill_id = \"amzn1.ask.skill.0a1b2c3d-0000-4000-8000-00000000000g\"\n",
                "is not an Alexa skill id",
            ),
            (
                "[[functions.orders.alexa]]\nskill_id = \"amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001\"\n[[functions.orders.alexa]]\nskill_id = \"amzn1.ask.skill.0a1b2c3d-0000-4000-8000-000000000001\"\n",
                "is listed twice",
            ),
            (
                "[functions.orders.url]\nauth = \"PUBLIC\"\n",
                "is not `AWS_IAM` or `NONE`",
            ),
            (
                "[functions.\"bad name!\"]\nhandler = \"app.handler\"\n",
                "not a valid Lambda function name",
            ),
            (
                "[functions.other]\nhandler = \"app\"\n",
                "is not a Python handler",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nsource = \"missing\"\n",
                "does not exist",
            ),
            (
                "[python]\nindex_url = \"pypi.example.com/simple\"\n",
                "`python.index_url`: `pypi.example.com/simple` is not a URL",
            ),
            (
                "[python]\nextra_index_urls = [\"https://ok.example/simple\", \"ftp://mirror/simple\"]\n",
                "`python.extra_index_urls`: `ftp://mirror/simple` is not an http(s) URL",
            ),
            (
                "[aws]\nendpoint_url = \"not a url\"\n",
                "`aws.endpoint_url`",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nsource = \"services/orders/requirements.txt\"\n",
                "is a file, not a folder",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nrequirements = \"nope.txt\"\n",
                "does not exist",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nlayers = [\"arn:aws:lambda:us-east-1:1:layer:x\"]\n",
                "not a layer version ARN",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nexclude = [\"a[\"]\n",
                "not a valid glob",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nenvironment = { AWS_REGION = \"x\" }\n",
                "is reserved by Lambda",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\nenvironment = { \"1X\" = \"x\" }\n",
                "not a valid environment variable name",
            ),
            (
                "[functions.other]\nhandler = \"app.handler\"\ntags = { \"aws:x\" = \"y\" }\n",
                "Lambda allows 50 tags",
            ),
            ("[scan]\nfail_on = \"severe\"\n", "is not a severity"),
            (
                "[scan]\n[[scan.ignore]]\nid = \"X\"\nreason = \"r\"\nuntil = 12:00:00\n",
                "must be a date",
            ),
        ];
        for (extra, needle) in cases {
            let e = with(extra);
            assert!(e.contains(needle), "{extra}\n=> {e}");
        }
        let dir = project_dir();
        let no_runtime = GOOD.replace("runtime = \"python3.12\"\n", "");
        let e = parse_in(dir.path(), &no_runtime).unwrap_err().to_string();
        assert!(e.contains("functions.orders.runtime` is missing"), "{e}");
        let e = parse_in(dir.path(), "[defaults]\nruntime = \"python3.12\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no functions defined"), "{e}");
    }

    #[test]
    fn every_key_inherits_from_defaults_and_errors_point_where_the_value_is() {
        let dir = project_dir();
        let text = r#"
[defaults]
runtime = "python3.12"
handler = "app.handler"
source = "services/orders"
publish = true
timeout = 20
tags = { team = "a", cost = "x" }
[defaults.url]
auth = "NONE"

[functions.orders]
tags = { cost = "y" }

[functions.billing]
timeout = 5
"#;
        let p = parse_in(dir.path(), text).unwrap();
        let orders = &p.functions["orders"];
        assert!(orders.publish && orders.triggers.url.is_some());
        assert_eq!(orders.timeout, 20);
        assert_eq!(
            orders.tags,
            BTreeMap::from([("team".into(), "a".into()), ("cost".into(), "y".into())])
        );
        assert_eq!(p.functions["billing"].timeout, 5, "own value wins");

        // A bad value written in `[defaults]` is reported on its own line
        // there; the same value in the function's table, on that line.
        let bad_default = text.replace("timeout = 20", "timeout = 0");
        let e = parse_in(dir.path(), &bad_default).unwrap_err();
        assert!(
            e.to_string()
                .contains("`defaults.timeout` for `functions.orders` = 0"),
            "{e}"
        );
        assert_eq!(e.line(), Some(7));
        let bad_own = text.replace("timeout = 5", "timeout = 1000");
        let e = parse_in(dir.path(), &bad_own).unwrap_err();
        assert!(e.to_string().contains("functions.billing.timeout"), "{e}");
        assert_eq!(e.line(), Some(16));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = error_for(("memory = 256", "memroy = 256"));
        assert!(e.to_string().contains("unknown field `memroy`"), "{e}");
        assert_eq!(e.line(), Some(12));
    }

    #[test]
    fn environment_over_4kb_is_refused() {
        let big = "x".repeat(5000);
        let e = error_for(("TABLE = \"orders\"", &format!("TABLE = \"{big}\"")));
        assert!(e.to_string().contains("4 KB"), "{e}");
    }

    #[test]
    fn role_arns() {
        assert!(is_iam_role_arn(
            "arn:aws:iam::123456789012:role/service-role/x.y@z"
        ));
        assert!(is_iam_role_arn("arn:aws-cn:iam::123456789012:role/a"));
        assert!(!is_iam_role_arn("arn:aws:iam::12345:role/a"));
        assert!(!is_iam_role_arn("arn:aws:iam::123456789012:user/a"));
        assert!(!is_iam_role_arn(
            "arn:aws:iam:us-east-1:123456789012:role/a"
        ));
    }

    #[test]
    fn handlers() {
        assert!(valid_python_handler("app.handler"));
        assert!(valid_python_handler("pkg/app.lambda_handler"));
        assert!(!valid_python_handler("app"));
        assert!(!valid_python_handler("app.1x"));
    }

    const TOML_PIECES: &[&str] = &[
        "[defaults]\n",
        "[functions.orders]\n",
        "[functions.\"a b\"]\n",
        "[python]\n",
        "[aws]\n",
        "[[functions.orders.sqs]]\n",
        "[functions.orders.url]\n",
        "[scan]\n",
        "[[scan.ignore]]\n",
        "runtime = ",
        "handler = ",
        "source = ",
        "memory = ",
        "timeout = ",
        "layers = ",
        "environment = ",
        "index_url = ",
        "endpoint_url = ",
        "queue_arn = ",
        "batch_size = ",
        "\"python3.12\"",
        "\"app.handler\"",
        "\"services/orders\"",
        "\"..\"",
        "\"/\"",
        "128",
        "-1",
        "99999999999999999999",
        "1e400",
        "true",
        "[]",
        "{}",
        "{ A = \"b\" }",
        "\"arn:aws:sqs:us-east-1:123456789012:q\"",
        "\n",
        " ",
        "\"",
        "=",
        "'",
        "#",
    ];

    use proptest::prelude::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any slipway.toml loads or is refused with an error; none panics.
        #[test]
        fn any_text_loads_or_is_refused_without_a_panic(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => proptest::sample::select(TOML_PIECES).prop_map(str::to_string),
                    1 => "\\PC{0,10}",
                ],
                0..40,
            )
        ) {
            let dir = project_dir();
            let _ = parse_in(dir.path(), &pieces.concat());
        }
    }
}
