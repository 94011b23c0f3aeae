//! The environment the dependencies will run in: a Lambda runtime on one
//! architecture. It decides which wheels are usable (their tags, in order of
//! preference), which glibc symbol versions a `.so` may need, and the values
//! environment markers see. Nothing here looks at the build host.

use std::collections::HashMap;
use std::fmt;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use slipway_config::{Architecture, Runtime};

use crate::PythonError;
use crate::wheel_name::WheelName;

/// A Lambda Python runtime on one architecture.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Lambda runtime identifier, e.g. `python3.12`.
    pub runtime: String,
    /// CPython `3.minor`.
    pub python_minor: u32,
    pub architecture: Architecture,
    /// The runtime's glibc, as (major, minor).
    pub glibc: (u32, u32),
    /// Accepted `py-abi-platform` tags, best first, with their rank.
    ranks: HashMap<String, usize>,
}

/// The first glibc minor `manylinux_2_X` names: `manylinux1` is glibc 2.5.
const OLDEST_MANYLINUX_GLIBC_MINOR: u32 = 5;

impl Target {
    pub fn for_runtime(
        runtime: &Runtime,
        architecture: Architecture,
    ) -> Result<Target, PythonError> {
        let minor = runtime
            .python_minor()
            .ok_or_else(|| PythonError::NotPython {
                runtime: runtime.id.to_string(),
            })?;
        Ok(Target::new(
            runtime.id,
            minor,
            architecture,
            runtime.os.glibc(),
        ))
    }

    pub fn new(
        runtime: &str,
        python_minor: u32,
        architecture: Architecture,
        glibc: (u32, u32),
    ) -> Target {
        let mut target = Target {
            runtime: runtime.to_string(),
            python_minor,
            architecture,
            glibc,
            ranks: HashMap::new(),
        };
        target.ranks = target
            .tags()
            .into_iter()
            .enumerate()
            .map(|(rank, tag)| (tag, rank))
            .collect();
        target
    }

    /// The machine name in wheel platform tags and `platform_machine`.
    pub fn machine(&self) -> &'static str {
        self.architecture.machine()
    }

    /// The Python version markers and `requires-python` are evaluated against.
    /// Lambda ships the latest patch release, which slipway cannot know; `.0`
    /// is the conservative choice (the same one `--python-version 3.X` makes in uv).
    pub fn python_full_version(&self) -> Version {
        Version::new([3, u64::from(self.python_minor), 0])
    }

    /// The platform tags a wheel may carry, most specific first:
    /// `manylinux_2_<ceiling>` down to `manylinux_2_5`, with the legacy
    /// aliases (`manylinux2014` = 2.17, `manylinux2010` = 2.12, `manylinux1` =
    /// 2.5) in their place, then `any`.
    pub fn platforms(&self) -> Vec<String> {
        let machine = self.machine();
        let mut platforms = Vec::new();
        // glibc majors other than 2 do not exist; a ceiling below 2.5 accepts only `any`.
        if self.glibc.0 == 2 {
            for minor in (OLDEST_MANYLINUX_GLIBC_MINOR..=self.glibc.1).rev() {
                platforms.push(format!("manylinux_2_{minor}_{machine}"));
                let legacy = match (minor, self.architecture) {
                    (17, _) => Some("manylinux2014"),
                    (12, Architecture::X86_64) => Some("manylinux2010"),
                    (5, Architecture::X86_64) => Some("manylinux1"),
                    _ => None,
                };
                if let Some(legacy) = legacy {
                    platforms.push(format!("{legacy}_{machine}"));
                }
            }
        }
        platforms.push("any".into());
        platforms
    }

    /// Every accepted `python-abi-platform` tag, best first, in the order
    /// `packaging.tags.sys_tags()` gives for CPython on that platform.
    pub fn tags(&self) -> Vec<String> {
        let minor = self.python_minor;
        let cp = format!("cp3{minor}");
        let platforms = self.platforms();
        let binary_platforms = &platforms[..platforms.len() - 1];
        let mut tags = Vec::new();
        // CPython-specific tags.
        for platform in binary_platforms {
            tags.push(format!("{cp}-{cp}-{platform}"));
        }
        for platform in binary_platforms {
            tags.push(format!("{cp}-abi3-{platform}"));
        }
        for platform in binary_platforms {
            tags.push(format!("{cp}-none-{platform}"));
        }
        for older in (2..minor).rev() {
            for platform in binary_platforms {
                tags.push(format!("cp3{older}-abi3-{platform}"));
            }
        }
        // Interpreter-independent tags.
        for platform in binary_platforms {
            tags.push(format!("py3{minor}-none-{platform}"));
            tags.push(format!("py3-none-{platform}"));
            for older in (0..minor).rev() {
                tags.push(format!("py3{older}-none-{platform}"));
            }
        }
        tags.push(format!("{cp}-none-any"));
        tags.push(format!("py3{minor}-none-any"));
        tags.push("py3-none-any".into());
        for older in (0..minor).rev() {
            tags.push(format!("py3{older}-none-any"));
        }
        tags
    }

    /// The rank of the best tag of `wheel` (lower is better), or why it cannot run here.
    pub fn wheel_rank(&self, wheel: &WheelName) -> Result<usize, Rejection> {
        let mut best: Option<usize> = None;
        for py in &wheel.python_tags {
            for abi in &wheel.abi_tags {
                for platform in &wheel.platform_tags {
                    if let Some(&rank) = self.ranks.get(&format!("{py}-{abi}-{platform}")) {
                        best = Some(best.map_or(rank, |b| b.min(rank)));
                    }
                }
            }
        }
        best.ok_or_else(|| self.explain_rejection(wheel))
    }

    /// Says in words why no tag of `wheel` is accepted, platform first because
    /// that is the reason people most need to see.
    fn explain_rejection(&self, wheel: &WheelName) -> Rejection {
        let platform_ok = |p: &str| p == "any" || self.platforms().iter().any(|q| q == p);
        if !wheel.platform_tags.iter().any(|p| platform_ok(p)) {
            let p = wheel
                .platform_tags
                .first()
                .map(String::as_str)
                .unwrap_or("");
            let reason = if p.starts_with("musllinux") {
                "musl libc; Lambda runs glibc".to_string()
            } else if p.starts_with("macosx") {
                "macOS".to_string()
            } else if p.starts_with("win") {
                "Windows".to_string()
            } else if p.starts_with("linux_") {
                "built on one Linux machine (`linux_*`), not portable (manylinux)".to_string()
            } else if let Some((glibc, machine)) = parse_manylinux(p) {
                if machine != self.machine() {
                    format!(
                        "built for {machine}; {} runs on {}",
                        self.runtime,
                        self.machine()
                    )
                } else {
                    format!(
                        "needs glibc {}.{}; {} has glibc {}.{}",
                        glibc.0, glibc.1, self.runtime, self.glibc.0, self.glibc.1
                    )
                }
            } else {
                format!("platform `{p}` is not Linux on {}", self.machine())
            };
            return Rejection::Platform(reason);
        }
        Rejection::Python(format!(
            "built for {} / ABI {}; {} is CPython 3.{}",
            wheel.python_tags.join("."),
            wheel.abi_tags.join("."),
            self.runtime,
            self.python_minor
        ))
    }

    /// Marker values as Lambda's interpreter reports them.
    pub fn marker_environment(&self) -> MarkerEnvironment {
        let full = format!("3.{}.0", self.python_minor);
        let short = format!("3.{}", self.python_minor);
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: self.machine(),
            platform_python_implementation: "CPython",
            // The kernel release and build string vary between Lambda hosts;
            // markers on them are rare and cannot be answered for all hosts.
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: &full,
            python_version: &short,
            sys_platform: "linux",
        })
        .expect("static versions parse")
    }

    /// The `manylinux_2_X` policy name of the glibc ceiling, for messages.
    pub fn platform_summary(&self) -> String {
        format!(
            "{} {} (CPython 3.{}, manylinux_2_{} {})",
            self.runtime,
            self.architecture,
            self.python_minor,
            self.glibc.1,
            self.machine()
        )
    }
}

/// Why a wheel cannot run on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Platform(String),
    Python(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Platform(s) | Rejection::Python(s) => f.write_str(s),
        }
    }
}

/// `manylinux_2_28_x86_64` → ((2, 28), "x86_64"); legacy aliases included.
pub fn parse_manylinux(platform: &str) -> Option<((u32, u32), &str)> {
    for (alias, glibc) in [
        ("manylinux1_", (2, 5)),
        ("manylinux2010_", (2, 12)),
        ("manylinux2014_", (2, 17)),
    ] {
        if let Some(machine) = platform.strip_prefix(alias) {
            return Some((glibc, machine));
        }
    }
    let rest = platform.strip_prefix("manylinux_")?;
    let mut parts = rest.splitn(3, '_');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some(((major, minor), parts.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_config::Runtime;

    fn target(runtime: &str, arch: Architecture) -> Target {
        Target::for_runtime(Runtime::find(runtime).unwrap(), arch).unwrap()
    }

    fn rank(t: &Target, file: &str) -> Result<usize, Rejection> {
        t.wheel_rank(&WheelName::parse(file).unwrap())
    }

    #[test]
    fn manylinux_2_28_is_refused_on_python311_and_accepted_on_python312() {
        let file = "cryptography-43.0.3-cp39-abi3-manylinux_2_28_x86_64.whl";
        let err = rank(&target("python3.11", Architecture::X86_64), file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "needs glibc 2.28; python3.11 has glibc 2.26"
        );
        assert!(rank(&target("python3.12", Architecture::X86_64), file).is_ok());
    }

    #[test]
    fn architecture_must_match() {
        let arm = target("python3.12", Architecture::Arm64);
        assert!(
            rank(
                &arm,
                "orjson-3.10.11-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
            )
            .is_ok()
        );
        let err = rank(
            &arm,
            "orjson-3.10.11-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap_err();
        assert!(err.to_string().contains("built for x86_64"), "{err}");
        // manylinux1 and manylinux2010 never existed for aarch64.
        assert!(!arm.tags().iter().any(|t| t.contains("manylinux1_")));
    }

    #[test]
    fn foreign_platforms_are_refused_with_a_reason() {
        let t = target("python3.12", Architecture::X86_64);
        for (file, word) in [
            ("x-1.0-cp312-cp312-musllinux_1_1_x86_64.whl", "musl"),
            ("x-1.0-cp312-cp312-macosx_11_0_arm64.whl", "macOS"),
            ("x-1.0-cp312-cp312-win_amd64.whl", "Windows"),
            ("x-1.0-cp312-cp312-linux_x86_64.whl", "linux_"),
        ] {
            let err = rank(&t, file).unwrap_err();
            assert!(err.to_string().contains(word), "{file}: {err}");
        }
    }

    #[test]
    fn abi3_accepts_older_stable_abi_builds_only() {
        let t = target("python3.12", Architecture::X86_64);
        assert!(rank(&t, "x-1.0-cp37-abi3-manylinux2014_x86_64.whl").is_ok());
        assert!(rank(&t, "x-1.0-cp312-abi3-manylinux2014_x86_64.whl").is_ok());
        assert!(rank(&t, "x-1.0-cp313-abi3-manylinux2014_x86_64.whl").is_err());
        // A CPython-specific ABI of another version is not the stable ABI.
        assert!(rank(&t, "x-1.0-cp311-cp311-manylinux2014_x86_64.whl").is_err());
        // Free-threaded builds use another ABI.
        assert!(rank(&t, "x-1.0-cp313-cp313t-manylinux2014_x86_64.whl").is_err());
        assert!(rank(&t, "x-1.0-py2.py3-none-any.whl").is_ok());
        assert!(rank(&t, "x-1.0-py2-none-any.whl").is_err());
    }

    #[test]
    fn preference_follows_specificity() {
        let t = target("python3.12", Architecture::X86_64);
        let exact = rank(&t, "x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl").unwrap();
        let newer_glibc = rank(&t, "x-1.0-cp312-cp312-manylinux_2_28_x86_64.whl").unwrap();
        let abi3 = rank(&t, "x-1.0-cp38-abi3-manylinux_2_28_x86_64.whl").unwrap();
        let pure = rank(&t, "x-1.0-py3-none-any.whl").unwrap();
        assert!(newer_glibc < exact && exact < abi3 && abi3 < pure);
    }

    #[test]
    fn markers_describe_lambda_not_the_build_host() {
        let env = target("python3.11", Architecture::Arm64).marker_environment();
        let req: pep508_rs::Requirement = "x ; sys_platform == 'linux' and platform_machine == 'aarch64' and python_version < '3.12' and implementation_name == 'cpython'".parse().unwrap();
        assert!(req.evaluate_markers(&env, &[]));
        let req: pep508_rs::Requirement = "x ; sys_platform == 'win32' or python_version >= '3.12'"
            .parse()
            .unwrap();
        assert!(!req.evaluate_markers(&env, &[]));
    }
}
