//! Core metadata (`METADATA` in a wheel's `.dist-info`, or the PEP 658 file
//! an index serves beside the wheel): the email-header format of PEP 566.

use std::str::FromStr;

use pep508_rs::ExtraName;
use pep508_rs::pep440_rs::VersionSpecifiers;

/// The fields slipway needs from a distribution's metadata.
#[derive(Debug, Clone, Default)]
pub struct CoreMetadata {
    pub name: String,
    pub version: String,
    pub requires_dist: Vec<pep508_rs::Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extras: Vec<ExtraName>,
    pub license: Option<String>,
    pub license_expression: Option<String>,
    pub license_classifiers: Vec<String>,
}

impl CoreMetadata {
    /// Parses the header block; unknown fields are ignored, malformed
    /// `Requires-Dist` lines are an error because skipping one would silently
    /// drop a dependency.
    pub fn parse(text: &str) -> Result<CoreMetadata, String> {
        let mut m = CoreMetadata::default();
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.is_empty() {
                break; // the description body follows
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        for (key, value) in fields {
            match key.as_str() {
                "name" => m.name = value,
                "version" => m.version = value,
                "requires-dist" => {
                    let r = crate::requirements::parse_pep508(&value).map_err(|e| {
                        format!(
                            "bad Requires-Dist `{value}`: {}",
                            e.lines().next().unwrap_or("")
                        )
                    })?;
                    m.requires_dist.push(r);
                }
                "requires-python" => {
                    // Some old releases carry unparseable values; pip ignores them too.
                    m.requires_python = VersionSpecifiers::from_str(&value).ok();
                }
                "provides-extra" => {
                    if let Ok(e) = ExtraName::from_str(&value) {
                        m.provides_extras.push(e);
                    }
                }
                "license" if !value.is_empty() && value != "UNKNOWN" => m.license = Some(value),
                "license-expression" => m.license_expression = Some(value),
                "classifier" if value.starts_with("License ::") => {
                    m.license_classifiers.push(value)
                }
                _ => {}
            }
        }
        if m.name.is_empty() || m.version.is_empty() {
            return Err("no Name or Version field".into());
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requirements_licenses_and_extras() {
        let m = CoreMetadata::parse(
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache 2.0\n   continued\nClassifier: License :: OSI Approved :: Apache Software License\nClassifier: Programming Language :: Python\nRequires-Python: >=3.8\nRequires-Dist: idna<4,>=2.5\nRequires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\nProvides-Extra: socks\n\nRequires-Dist: not-a-field\n",
        )
        .unwrap();
        assert_eq!(m.name, "requests");
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.license.as_deref(), Some("Apache 2.0\ncontinued"));
        assert_eq!(m.license_classifiers.len(), 1);
        assert_eq!(m.provides_extras.len(), 1);
        assert!(m.requires_python.is_some());
        assert!(CoreMetadata::parse("Name: x\nVersion: 1\nRequires-Dist: ???\n").is_err());
    }
}
