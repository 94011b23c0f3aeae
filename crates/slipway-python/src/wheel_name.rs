//! Distribution file names: wheels (`name-version(-build)?-py-abi-platform.whl`)
//! and source distributions (`name-version.tar.gz`).

use std::str::FromStr;

use pep508_rs::PackageName;
use pep508_rs::pep440_rs::Version;

/// The parts of a wheel's file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub name: PackageName,
    pub version: Version,
    pub python_tags: Vec<String>,
    pub abi_tags: Vec<String>,
    pub platform_tags: Vec<String>,
}

impl WheelName {
    pub fn parse(file: &str) -> Option<WheelName> {
        let stem = file.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, tags) = match parts.as_slice() {
            [name, version, py, abi, plat] => (name, version, [py, abi, plat]),
            [name, version, _build, py, abi, plat] => (name, version, [py, abi, plat]),
            _ => return None,
        };
        let split = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        Some(WheelName {
            name: PackageName::from_str(name).ok()?,
            version: Version::from_str(version).ok()?,
            python_tags: split(tags[0]),
            abi_tags: split(tags[1]),
            platform_tags: split(tags[2]),
        })
    }

    /// `py-abi-platform`, as written in the file name.
    pub fn tag(&self) -> String {
        format!(
            "{}-{}-{}",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            self.platform_tags.join(".")
        )
    }

    /// True for a wheel that holds only Python code (`py3-none-any` and the like).
    pub fn is_pure(&self) -> bool {
        self.abi_tags.iter().all(|a| a == "none") && self.platform_tags.iter().all(|p| p == "any")
    }
}

/// A source distribution's name and version, from its file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistName {
    pub name: PackageName,
    pub version: Version,
}

impl SdistName {
    pub fn parse(file: &str) -> Option<SdistName> {
        let stem = file
            .strip_suffix(".tar.gz")
            .or_else(|| file.strip_suffix(".zip"))
            .or_else(|| file.strip_suffix(".tar.bz2"))?;
        // The name may contain `-` in old sdists; the version never does.
        let (name, version) = stem.rsplit_once('-')?;
        Some(SdistName {
            name: PackageName::from_str(name).ok()?,
            version: Version::from_str(version).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compressed_tag_sets_and_build_numbers() {
        let w = WheelName::parse(
            "numpy-2.1.3-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name.as_ref(), "numpy");
        assert_eq!(w.version.to_string(), "2.1.3");
        assert_eq!(w.platform_tags.len(), 2);
        let b = WheelName::parse("Foo_Bar-1.0-2-py2.py3-none-any.whl").unwrap();
        assert_eq!(b.name.as_ref(), "foo-bar");
        assert_eq!(b.python_tags, ["py2", "py3"]);
        assert!(b.is_pure());
        assert!(WheelName::parse("nonsense.whl").is_none());
    }

    #[test]
    fn parses_sdists() {
        let s = SdistName::parse("python-dateutil-2.9.0.post0.tar.gz").unwrap();
        assert_eq!(s.name.as_ref(), "python-dateutil");
        assert_eq!(s.version.to_string(), "2.9.0.post0");
    }
}
