//! `sam = "template.yaml"`: slipway.toml names an AWS SAM template as the
//! source of its functions and keeps only what a template cannot say: the
//! package index, the scan gate, the AWS connection, and per function the
//! settings SAM has no property for (the same keys a function's
//! `Metadata: { slipway: … }` takes).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use crate::load::Validator;
use crate::schema::{RawFile, RawFunction};
use crate::{
    AwsSettings, ConfigError, NodejsSettings, Project, PythonSettings, ScanSettings, SourceFile,
    resolve_path,
};

/// A validated `slipway.toml`: functions of its own, or a SAM template's.
#[derive(Debug, Clone)]
pub enum Config {
    Functions(Project),
    Sam(SamSource),
}

/// A `slipway.toml` whose functions come from a SAM template.
#[derive(Debug, Clone)]
pub struct SamSource {
    /// slipway.toml itself.
    pub file: SourceFile,
    /// Where the `sam` key is written, for messages.
    pub span: Range<usize>,
    /// The folder holding slipway.toml.
    pub root: PathBuf,
    /// The template, absolute.
    pub template: PathBuf,
    pub python: PythonSettings,
    pub scan: ScanSettings,
    pub aws: AwsSettings,
    pub nodejs: NodejsSettings,
    /// `[defaults]`: for every function that sets the key neither in its
    /// `[functions.X]` table nor in its `Metadata`.
    pub defaults: SlipwayOnly,
    /// `[functions.X]` by logical id.
    pub functions: BTreeMap<String, SlipwayOnly>,
}

/// The function settings slipway.toml may give a template's function.
pub const SAM_FUNCTION_KEYS: &[&str] = &[
    "include",
    "exclude",
    "exclude_packages",
    "layer",
    "requirements",
    "signing_profile",
    "require_signature",
    "handler_check",
];

/// One table's values of [`SAM_FUNCTION_KEYS`]; `None` where it is silent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlipwayOnly {
    /// The line of the table, for messages.
    pub line: Option<usize>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub exclude_packages: Option<Vec<String>>,
    pub layer: Option<bool>,
    /// Absolute (written relative to slipway.toml, as every path in it).
    pub requirements: Option<PathBuf>,
    pub signing_profile: Option<String>,
    pub require_signature: Option<bool>,
    pub handler_check: Option<bool>,
}

impl SlipwayOnly {
    /// The keys this table sets.
    pub fn keys(&self) -> Vec<&'static str> {
        let set = [
            self.include.is_some(),
            self.exclude.is_some(),
            self.exclude_packages.is_some(),
            self.layer.is_some(),
            self.requirements.is_some(),
            self.signing_profile.is_some(),
            self.require_signature.is_some(),
            self.handler_check.is_some(),
        ];
        SAM_FUNCTION_KEYS
            .iter()
            .zip(set)
            .filter_map(|(k, s)| s.then_some(*k))
            .collect()
    }
}

impl Validator<'_> {
    pub(crate) fn sam(
        &self,
        template: &Spanned<String>,
        raw: &RawFile,
    ) -> Result<SamSource, ConfigError> {
        let path = resolve_path(self.root, template.get_ref());
        if !path.is_file() {
            let what = if path.exists() {
                "is not a file"
            } else {
                "does not exist"
            };
            return Err(self.err(
                Some(template.span()),
                format!("`sam`: the template {} {what}", path.display()),
                Some("`sam` is the SAM template's path relative to slipway.toml, e.g. `sam = \"template.yaml\"`".into()),
            ));
        }
        if let Some(url) = &raw.aws.endpoint_url {
            self.http_url("aws.endpoint_url", url.get_ref(), url.span())?;
        }
        let defaults = self.slipway_only("defaults", None, &raw.defaults)?;
        let mut functions = BTreeMap::new();
        for (name, table) in &raw.functions {
            let key = format!("functions.{}", name.get_ref());
            let mut own = self.slipway_only(&key, Some(table.span()), table.get_ref())?;
            own.line = Some(self.file.line_of(name.span().start));
            functions.insert(name.get_ref().clone(), own);
        }
        Ok(SamSource {
            file: self.file.clone(),
            span: template.span(),
            root: self.root.to_path_buf(),
            template: path,
            python: self.python(raw)?,
            scan: self.scan(raw)?,
            aws: AwsSettings {
                region: raw.aws.region.clone(),
                profile: raw.aws.profile.clone(),
                endpoint_url: raw.aws.endpoint_url.as_ref().map(|u| u.get_ref().clone()),
            },
            nodejs: NodejsSettings {
                accept_native: raw.nodejs.accept_native.clone().unwrap_or_default(),
            },
            defaults,
            functions,
        })
    }

    /// The slipway-only settings of `[defaults]` or `[functions.X]`; a key the
    /// template owns is refused with the property to write instead.
    fn slipway_only(
        &self,
        table: &str,
        table_span: Option<Range<usize>>,
        raw: &RawFunction,
    ) -> Result<SlipwayOnly, ConfigError> {
        let span = |s: Option<Range<usize>>| s.or_else(|| table_span.clone());
        let owned: [(&str, bool, Option<Range<usize>>, &str); 20] = [
            (
                "source",
                raw.source.is_some(),
                raw.source.as_ref().map(Spanned::span),
                "CodeUri",
            ),
            (
                "handler",
                raw.handler.is_some(),
                raw.handler.as_ref().map(Spanned::span),
                "Handler",
            ),
            (
                "runtime",
                raw.runtime.is_some(),
                raw.runtime.as_ref().map(Spanned::span),
                "Runtime",
            ),
            (
                "architecture",
                raw.architecture.is_some(),
                raw.architecture.as_ref().map(Spanned::span),
                "Architectures",
            ),
            (
                "environment",
                raw.environment.is_some(),
                raw.environment.as_ref().map(Spanned::span),
                "Environment.Variables",
            ),
            (
                "memory",
                raw.memory.is_some(),
                raw.memory.as_ref().map(Spanned::span),
                "MemorySize",
            ),
            (
                "timeout",
                raw.timeout.is_some(),
                raw.timeout.as_ref().map(Spanned::span),
                "Timeout",
            ),
            (
                "role",
                raw.role.is_some(),
                raw.role.as_ref().map(Spanned::span),
                "Role",
            ),
            (
                "layers",
                raw.layers.is_some(),
                raw.layers.as_ref().map(Spanned::span),
                "Layers",
            ),
            (
                "description",
                raw.description.is_some(),
                raw.description.as_ref().map(Spanned::span),
                "Description",
            ),
            (
                "tags",
                raw.tags.is_some(),
                raw.tags.as_ref().map(Spanned::span),
                "Tags",
            ),
            ("publish", raw.publish.is_some(), None, "AutoPublishAlias"),
            (
                "alias",
                raw.alias.is_some(),
                raw.alias.as_ref().map(Spanned::span),
                "AutoPublishAlias",
            ),
            (
                "s3_bucket",
                raw.s3_bucket.is_some(),
                raw.s3_bucket.as_ref().map(Spanned::span),
                "the deploy's `--s3-bucket`",
            ),
            (
                "s3_prefix",
                raw.s3_prefix.is_some(),
                raw.s3_prefix.as_ref().map(Spanned::span),
                "the deploy's `--s3-prefix`",
            ),
            (
                "code_signing_config_arn",
                raw.code_signing_config_arn.is_some(),
                raw.code_signing_config_arn.as_ref().map(Spanned::span),
                "CodeSigningConfigArn",
            ),
            (
                "sqs",
                raw.sqs.is_some(),
                raw.sqs.as_ref().and_then(|l| l.first()).map(Spanned::span),
                "an `SQS` event under Events",
            ),
            (
                "s3",
                raw.s3.is_some(),
                raw.s3.as_ref().and_then(|l| l.first()).map(Spanned::span),
                "an `S3` event under Events",
            ),
            (
                "url",
                raw.url.is_some(),
                raw.url.as_ref().map(Spanned::span),
                "FunctionUrlConfig",
            ),
            (
                "alexa",
                raw.alexa.is_some(),
                raw.alexa
                    .as_ref()
                    .and_then(|l| l.first())
                    .map(Spanned::span),
                "an `AlexaSkill` event under Events",
            ),
        ];
        if let Some((key, _, at, property)) = owned.into_iter().find(|(_, set, _, _)| *set) {
            return Err(self.err(
                span(at),
                format!("`{table}.{key}`: the SAM template named by `sam` defines this"),
                Some(format!(
                    "write it in the template ({property}); next to `sam`, a function table takes only {}",
                    SAM_FUNCTION_KEYS.join(", ")
                )),
            ));
        }
        let requirements = match &raw.requirements {
            None => None,
            Some(r) => {
                let path = resolve_path(self.root, r.get_ref());
                if !path.is_file() {
                    return Err(self.err(
                        Some(r.span()),
                        format!("`{table}.requirements`: {} does not exist", path.display()),
                        Some("`requirements` is a requirements.txt, pyproject.toml or uv.lock, relative to slipway.toml".into()),
                    ));
                }
                Some(path)
            }
        };
        let globs = |key: &str, raw: &Option<Spanned<Vec<String>>>| {
            raw.as_ref()
                .map(|g| self.globs(&format!("`{table}.{key}`"), Some(g)))
                .transpose()
        };
        Ok(SlipwayOnly {
            line: None,
            include: globs("include", &raw.include)?,
            exclude: globs("exclude", &raw.exclude)?,
            exclude_packages: raw.exclude_packages.as_ref().map(|l| l.get_ref().clone()),
            layer: raw.layer,
            requirements,
            signing_profile: raw.signing_profile.as_ref().map(|s| s.get_ref().clone()),
            require_signature: raw.require_signature,
            handler_check: raw.handler_check,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{parse, parse_config};

    fn dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("template.yaml"), "Resources: {}\n").unwrap();
        std::fs::write(d.path().join("requirements.txt"), "").unwrap();
        d
    }

    fn sam(dir: &Path, text: &str) -> Result<SamSource, ConfigError> {
        match parse_config(text, &dir.join("slipway.toml"))? {
            Config::Sam(s) => Ok(s),
            Config::Functions(_) => panic!("a project of its own"),
        }
    }

    #[test]
    fn a_template_and_the_settings_it_cannot_hold() {
        let d = dir();
        let s = sam(
            d.path(),
            r#"sam = "template.yaml"

[python]
index_url = "http://127.0.0.1:1/simple"

[defaults]
exclude_packages = ["boto3"]

[functions.Orders]
exclude = ["tests"]
layer = true
requirements = "requirements.txt"
signing_profile = "release"
"#,
        )
        .unwrap();
        assert_eq!(s.template, d.path().join("template.yaml"));
        assert_eq!(
            s.python.index_url.as_deref(),
            Some("http://127.0.0.1:1/simple")
        );
        assert_eq!(s.defaults.exclude_packages, Some(vec!["boto3".to_string()]));
        let orders = &s.functions["Orders"];
        assert_eq!(
            orders.keys(),
            ["exclude", "layer", "requirements", "signing_profile"]
        );
        assert_eq!(orders.line, Some(9));
        assert_eq!(orders.requirements, Some(d.path().join("requirements.txt")));
        assert_eq!(orders.include, None, "silent, so the template may say it");
    }

    #[test]
    fn keys_the_template_owns_and_missing_templates_are_errors_at_their_line() {
        let d = dir();
        for (text, line, needle) in [
            (
                "sam = \"template.yaml\"\n[functions.Orders]\nmemory = 256\n",
                3,
                "`functions.Orders.memory`: the SAM template named by `sam` defines this",
            ),
            (
                "sam = \"template.yaml\"\n[defaults]\nruntime = \"python3.12\"\n",
                3,
                "`defaults.runtime`",
            ),
            (
                "sam = \"template.yaml\"\n[functions.Orders]\npublish = true\n",
                2,
                "`functions.Orders.publish`",
            ),
            (
                "sam = \"template.yaml\"\n[functions.Orders]\nexclude = [\"[\"]\n",
                3,
                "not a valid glob",
            ),
            ("\nsam = \"infra/template.yaml\"\n", 2, "does not exist"),
            (
                "sam = \"template.yaml\"\n[functions.Orders]\nlayre = true\n",
                3,
                "unknown field `layre`",
            ),
        ] {
            let e = sam(d.path(), text).unwrap_err();
            assert_eq!(e.line(), Some(line), "{text}: {e}");
            assert!(e.to_string().contains(needle), "{needle} in {e}");
        }
        let e = sam(
            d.path(),
            "sam = \"template.yaml\"\n[functions.Orders]\nmemory = 256\n",
        )
        .unwrap_err();
        let help = match &e {
            ConfigError::Invalid(i) => i.help.clone().unwrap_or_default(),
            other => panic!("{other}"),
        };
        assert!(help.contains("MemorySize"), "{help}");
    }

    #[test]
    fn the_plain_parser_refuses_a_template_instead_of_ignoring_it() {
        let d = dir();
        let e = parse("sam = \"template.yaml\"\n", &d.path().join("slipway.toml")).unwrap_err();
        assert!(e.to_string().contains("SAM template"), "{e}");
        assert_eq!(e.line(), Some(1));
    }
}
