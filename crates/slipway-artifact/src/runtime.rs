//! Lambda runtimes: what each one is, what it runs on, and when AWS retires it.
//!
//! The lifecycle dates are AWS's published ones (as cfn-lint carries them in
//! `LmbdRuntimeLifecycle.json`). They live in [`RUNTIMES`] only, so a new date
//! is a one-line change.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use time::{Date, Month};

/// The language family of a runtime, with what packaging needs to know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeFamily {
    /// CPython `3.minor`.
    Python { minor: u32 },
    /// Node.js of that major version.
    NodeJs { major: u32 },
    /// An OS-only runtime (`provided.al2023`, `provided.al2`): the package brings its own `bootstrap`.
    OsOnly,
    /// .NET of that major version (`dotnet8`): the package is `dotnet publish` output.
    DotNet { major: u32 },
}

/// The Amazon Linux release a runtime runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmazonLinux {
    Al2,
    Al2023,
}

impl AmazonLinux {
    /// The glibc version of the release, as (major, minor).
    pub fn glibc(self) -> (u32, u32) {
        match self {
            AmazonLinux::Al2 => (2, 26),
            AmazonLinux::Al2023 => (2, 34),
        }
    }
}

/// AWS's retirement dates for one runtime. `None` means none announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub deprecated: Option<Date>,
    pub create_blocked: Option<Date>,
    pub update_blocked: Option<Date>,
}

/// One Lambda runtime slipway knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// The identifier Lambda uses, e.g. `python3.12`.
    pub id: &'static str,
    pub family: RuntimeFamily,
    pub os: AmazonLinux,
    pub lifecycle: Lifecycle,
    /// The runtime AWS points users to when this one is retired.
    pub successor: Option<&'static str>,
}

const fn date(year: i32, month: Month, day: u8) -> Option<Date> {
    match Date::from_calendar_date(year, month, day) {
        Ok(d) => Some(d),
        Err(_) => panic!("invalid date in the runtime table"),
    }
}

const NONE_ANNOUNCED: Lifecycle = Lifecycle {
    deprecated: None,
    create_blocked: None,
    update_blocked: None,
};

const fn python(
    id: &'static str,
    minor: u32,
    os: AmazonLinux,
    lifecycle: Lifecycle,
    successor: &'static str,
) -> Runtime {
    Runtime {
        id,
        family: RuntimeFamily::Python { minor },
        os,
        lifecycle,
        successor: Some(successor),
    }
}

const fn dates(
    deprecated: Option<Date>,
    create_blocked: Option<Date>,
    update_blocked: Option<Date>,
) -> Lifecycle {
    Lifecycle {
        deprecated,
        create_blocked,
        update_blocked,
    }
}

use AmazonLinux::{Al2, Al2023};
use Month::{April, August, December, January, July, June, November, October};

/// Node.js runtimes all run on Amazon Linux 2023; AWS points each older one to nodejs24.x.
const fn nodejs(id: &'static str, major: u32, lifecycle: Lifecycle) -> Runtime {
    Runtime {
        id,
        family: RuntimeFamily::NodeJs { major },
        os: Al2023,
        lifecycle,
        successor: if major < 24 { Some("nodejs24.x") } else { None },
    }
}

/// Every runtime slipway accepts in `slipway.toml`.
pub const RUNTIMES: &[Runtime] = &[
    python(
        "python3.9",
        9,
        Al2,
        dates(
            date(2025, December, 15),
            date(2026, June, 1),
            date(2026, July, 1),
        ),
        "python3.13",
    ),
    python(
        "python3.10",
        10,
        Al2,
        dates(
            date(2026, June, 30),
            date(2026, July, 31),
            date(2026, August, 31),
        ),
        "python3.13",
    ),
    python(
        "python3.11",
        11,
        Al2,
        dates(
            date(2026, June, 30),
            date(2026, July, 31),
            date(2026, August, 31),
        ),
        "python3.13",
    ),
    python(
        "python3.12",
        12,
        Al2023,
        dates(
            date(2028, October, 31),
            date(2028, November, 30),
            date(2029, January, 10),
        ),
        "python3.14",
    ),
    python(
        "python3.13",
        13,
        Al2023,
        dates(
            date(2029, June, 30),
            date(2029, July, 31),
            date(2029, August, 31),
        ),
        "python3.14",
    ),
    python(
        "python3.14",
        14,
        Al2023,
        dates(
            date(2029, June, 30),
            date(2029, July, 31),
            date(2029, August, 31),
        ),
        "python3.14",
    ),
    nodejs(
        "nodejs20.x",
        20,
        dates(
            date(2026, April, 30),
            date(2026, June, 1),
            date(2026, July, 1),
        ),
    ),
    nodejs(
        "nodejs22.x",
        22,
        dates(
            date(2027, April, 30),
            date(2027, June, 1),
            date(2027, July, 1),
        ),
    ),
    nodejs(
        "nodejs24.x",
        24,
        dates(
            date(2028, April, 30),
            date(2028, June, 1),
            date(2028, July, 1),
        ),
    ),
    Runtime {
        id: "provided.al2023",
        family: RuntimeFamily::OsOnly,
        os: Al2023,
        lifecycle: dates(
            date(2029, June, 30),
            date(2029, July, 31),
            date(2029, August, 31),
        ),
        successor: None,
    },
    Runtime {
        id: "provided.al2",
        family: RuntimeFamily::OsOnly,
        os: Al2,
        lifecycle: dates(
            date(2026, June, 30),
            date(2026, July, 31),
            date(2026, August, 31),
        ),
        successor: Some("provided.al2023"),
    },
    // cfn-lint names dotnet9 as dotnet8's successor, but .NET 9 never became
    // a managed runtime (container images only): the next one is dotnet10.
    Runtime {
        id: "dotnet8",
        family: RuntimeFamily::DotNet { major: 8 },
        os: Al2023,
        lifecycle: dates(
            date(2026, November, 10),
            date(2026, December, 10),
            date(2027, January, 11),
        ),
        successor: Some("dotnet10"),
    },
    // Not in cfn-lint's lifecycle data yet: no dates announced.
    Runtime {
        id: "dotnet10",
        family: RuntimeFamily::DotNet { major: 10 },
        os: Al2023,
        lifecycle: NONE_ANNOUNCED,
        successor: None,
    },
];

impl Runtime {
    /// Looks a runtime up by its Lambda identifier.
    pub fn find(id: &str) -> Option<&'static Runtime> {
        RUNTIMES.iter().find(|r| r.id == id)
    }

    /// The identifiers of every known runtime, for error messages.
    pub fn known_ids() -> Vec<&'static str> {
        RUNTIMES.iter().map(|r| r.id).collect()
    }

    pub fn python_minor(&self) -> Option<u32> {
        match self.family {
            RuntimeFamily::Python { minor } => Some(minor),
            _ => None,
        }
    }

    /// The .NET major version of the runtime (`8` for `dotnet8`).
    pub fn dotnet_major(&self) -> Option<u32> {
        match self.family {
            RuntimeFamily::DotNet { major } => Some(major),
            _ => None,
        }
    }

    /// Where the runtime stands on `today`.
    pub fn status_on(&self, today: Date) -> LifecycleStatus {
        let passed = |d: Option<Date>| d.is_some_and(|d| today >= d);
        let lc = self.lifecycle;
        if passed(lc.update_blocked) {
            LifecycleStatus::UpdateBlocked
        } else if passed(lc.create_blocked) {
            LifecycleStatus::CreateBlocked
        } else if passed(lc.deprecated) {
            LifecycleStatus::Deprecated
        } else {
            LifecycleStatus::Supported
        }
    }

    /// A sentence describing the retirement dates, for warnings and errors.
    pub fn lifecycle_sentence(&self) -> String {
        let lc = self.lifecycle;
        let mut parts = Vec::new();
        if let Some(d) = lc.deprecated {
            parts.push(format!("deprecated {d}"));
        }
        if let Some(d) = lc.create_blocked {
            parts.push(format!("function creation blocked from {d}"));
        }
        if let Some(d) = lc.update_blocked {
            parts.push(format!("function updates blocked from {d}"));
        }
        let mut s = format!("{}: {}", self.id, parts.join(", "));
        if let Some(next) = self.successor.filter(|s| *s != self.id) {
            s.push_str(&format!("; move to {next}"));
        }
        s
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// Records hold the Lambda identifier, the string Lambda and `slipway.toml` use.
impl Serialize for Runtime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
    }
}

/// Reading a record resolves the identifier against [`RUNTIMES`] once, so
/// every later stage holds the runtime itself, never a name to look up again.
impl<'de> Deserialize<'de> for &'static Runtime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Runtime::find(&id).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "unknown runtime `{id}` (this slipway knows {})",
                Runtime::known_ids().join(", ")
            ))
        })
    }
}

/// A runtime's standing on a given day, in the order AWS retires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LifecycleStatus {
    Supported,
    /// Still runs and deploys, but AWS no longer patches it.
    Deprecated,
    /// AWS refuses to create new functions with it.
    CreateBlocked,
    /// AWS refuses to create or update functions with it.
    UpdateBlocked,
}

/// The CPU architectures Lambda offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Architecture {
    X86_64,
    Arm64,
}

impl Architecture {
    /// The name Lambda and `slipway.toml` use.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The machine name in wheel platform tags and `platform_machine`.
    pub fn machine(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "aarch64",
        }
    }

    pub fn parse(s: &str) -> Option<Architecture> {
        match s {
            "x86_64" => Some(Architecture::X86_64),
            "arm64" => Some(Architecture::Arm64),
            _ => None,
        }
    }

    /// The architecture of the machine slipway runs on, when Lambda has it.
    pub fn host() -> Option<Architecture> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Architecture::X86_64),
            "aarch64" => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

impl Serialize for Architecture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.lambda_name())
    }
}

impl<'de> Deserialize<'de> for Architecture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Architecture::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "unknown architecture `{name}` (Lambda offers x86_64 and arm64)"
            ))
        })
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lambda_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn python_runtimes_map_to_their_glibc() {
        assert_eq!(Runtime::find("python3.11").unwrap().os.glibc(), (2, 26));
        assert_eq!(Runtime::find("python3.12").unwrap().os.glibc(), (2, 34));
        assert_eq!(
            Runtime::find("python3.14").unwrap().python_minor(),
            Some(14)
        );
    }

    #[test]
    fn nodejs_runtimes_carry_aws_dates() {
        let n20 = Runtime::find("nodejs20.x").unwrap();
        assert_eq!(n20.family, RuntimeFamily::NodeJs { major: 20 });
        assert_eq!(
            n20.status_on(date!(2026 - 05 - 01)),
            LifecycleStatus::Deprecated
        );
        assert_eq!(
            n20.status_on(date!(2026 - 07 - 01)),
            LifecycleStatus::UpdateBlocked
        );
        let n24 = Runtime::find("nodejs24.x").unwrap();
        assert_eq!(
            n24.status_on(date!(2028 - 04 - 29)),
            LifecycleStatus::Supported
        );
        assert_eq!(
            n24.status_on(date!(2028 - 06 - 01)),
            LifecycleStatus::CreateBlocked
        );
        assert!(n20.lifecycle_sentence().ends_with("move to nodejs24.x"));
        assert!(!n24.lifecycle_sentence().contains("move to"));
    }

    #[test]
    fn lifecycle_follows_the_published_dates() {
        let py39 = Runtime::find("python3.9").unwrap();
        assert_eq!(
            py39.status_on(date!(2025 - 12 - 14)),
            LifecycleStatus::Supported
        );
        assert_eq!(
            py39.status_on(date!(2025 - 12 - 15)),
            LifecycleStatus::Deprecated
        );
        assert_eq!(
            py39.status_on(date!(2026 - 06 - 01)),
            LifecycleStatus::CreateBlocked
        );
        assert_eq!(
            py39.status_on(date!(2026 - 07 - 01)),
            LifecycleStatus::UpdateBlocked
        );
        let py312 = Runtime::find("python3.12").unwrap();
        assert_eq!(
            py312.status_on(date!(2026 - 11 - 26)),
            LifecycleStatus::Supported
        );
        assert!(py39.lifecycle_sentence().contains("move to python3.13"));
    }

    #[test]
    fn unknown_runtimes_are_not_found() {
        assert!(Runtime::find("python2.7").is_none());
        assert!(Runtime::known_ids().contains(&"provided.al2023"));
    }

    #[test]
    fn dotnet_and_os_only_runtimes_carry_their_dates() {
        let dotnet8 = Runtime::find("dotnet8").unwrap();
        assert_eq!(dotnet8.dotnet_major(), Some(8));
        assert_eq!(dotnet8.os.glibc(), (2, 34));
        assert_eq!(
            dotnet8.status_on(date!(2026 - 11 - 09)),
            LifecycleStatus::Supported
        );
        assert_eq!(
            dotnet8.status_on(date!(2026 - 11 - 10)),
            LifecycleStatus::Deprecated
        );
        assert_eq!(
            dotnet8.status_on(date!(2027 - 01 - 11)),
            LifecycleStatus::UpdateBlocked
        );
        assert!(dotnet8.lifecycle_sentence().contains("move to dotnet10"));
        assert_eq!(
            Runtime::find("dotnet10").unwrap().family,
            RuntimeFamily::DotNet { major: 10 }
        );
        let al2 = Runtime::find("provided.al2").unwrap();
        assert_eq!(al2.os.glibc(), (2, 26));
        assert_eq!(
            al2.status_on(date!(2026 - 08 - 31)),
            LifecycleStatus::UpdateBlocked
        );
        assert_eq!(
            Runtime::find("provided.al2023")
                .unwrap()
                .status_on(date!(2029 - 06 - 29)),
            LifecycleStatus::Supported
        );
    }
}
