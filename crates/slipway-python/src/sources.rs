//! Where packages come from: which index, which extra indexes and folders,
//! and the credentials for them. slipway writes no index host anywhere: the
//! index comes from configuration, and when there is none, from the local
//! pip's own default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use reqwest::Url;

use crate::PythonError;

/// An index URL with its credentials kept apart, so they are never printed or recorded.
#[derive(Clone)]
pub struct IndexUrl {
    /// The URL without credentials, ending with `/`.
    pub url: Url,
    pub credentials: Option<Credentials>,
}

impl std::fmt::Debug for IndexUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IndexUrl({})", self.url)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ****)", self.username)
    }
}

impl IndexUrl {
    pub fn parse(raw: &str) -> Result<IndexUrl, PythonError> {
        let mut url = Url::parse(raw.trim()).map_err(|e| PythonError::Index {
            url: redact(raw),
            message: format!("not a URL: {e}"),
        })?;
        let credentials = (!url.username().is_empty()).then(|| Credentials {
            username: percent_decode(url.username()),
            password: url.password().map(percent_decode),
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(IndexUrl { url, credentials })
    }

    /// The URL with its credentials put back, for a child process that reads
    /// the index from its environment. Never for showing or storing.
    pub fn with_credentials(&self) -> Url {
        let mut url = self.url.clone();
        if let Some(c) = &self.credentials {
            let _ = url.set_username(&c.username);
            let _ = url.set_password(c.password.as_deref());
        }
        url
    }

    /// A short stable key for cache folders.
    pub fn cache_key(&self) -> String {
        slipway_artifact::digest::sha256_hex(self.url.as_str().as_bytes())[..16].to_string()
    }
}

/// Removes credentials from a URL-like string before it is shown or stored.
/// Unlike [`slipway_artifact::redact_url`], which masks them as `***` in
/// messages, this leaves no trace: its output is recorded in manifests
/// (`wheel_url`) and must be the same whoever's credentials were used.
pub fn redact(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => match raw.split_once('@') {
            Some((head, tail)) if head.contains("://") => {
                format!("{}://****@{tail}", head.split("://").next().unwrap_or(""))
            }
            _ => raw.to_string(),
        },
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Index settings from every place they may be written, strongest first.
#[derive(Debug, Clone, Default)]
pub struct SourceSettings {
    /// `--index-url` on the command line.
    pub cli_index_url: Option<String>,
    pub cli_extra_index_urls: Vec<String>,
    pub cli_find_links: Vec<PathBuf>,
    /// `--index-url` lines in the requirements file.
    pub file_index_url: Option<String>,
    pub file_extra_index_urls: Vec<String>,
    pub file_find_links: Vec<PathBuf>,
    pub file_no_index: bool,
    /// `[python]` in slipway.toml.
    pub config_index_url: Option<String>,
    pub config_extra_index_urls: Vec<String>,
    pub config_find_links: Vec<PathBuf>,
}

/// The indexes and folders to search, in order.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The main index first, then extra indexes.
    pub indexes: Vec<IndexUrl>,
    pub find_links: Vec<PathBuf>,
    /// Where the main index setting came from, for `-v` and errors.
    pub index_origin: String,
}

impl Sources {
    pub fn describe_indexes(&self) -> String {
        if self.indexes.is_empty() {
            return "no index (--no-index)".into();
        }
        self.indexes
            .iter()
            .map(|i| i.url.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The environment variables and pip config values that name indexes.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    /// `index-url`, `extra-index-url`, `find-links` from pip's config files.
    pub pip_config: BTreeMap<String, String>,
}

/// Every environment variable that can name an index, a folder of wheels or
/// pip's configuration file.
pub const INDEX_VARS: &[&str] = &[
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "PIP_CONFIG_FILE",
];

impl Environment {
    /// Reads the variables and pip's config files (no subprocess: this feeds the
    /// build's fingerprint and must be cheap).
    pub fn capture() -> Environment {
        let vars = INDEX_VARS
            .iter()
            .filter_map(|k| {
                std::env::var(k)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| (k.to_string(), v))
            })
            .collect();
        let mut env = Environment {
            vars,
            pip_config: BTreeMap::new(),
        };
        for file in pip_config_files(&env) {
            if let Ok(text) = std::fs::read_to_string(&file) {
                for (section, key, value) in parse_ini(&text) {
                    if section == "global" || section == "install" || section == "download" {
                        let weak = section == "global";
                        if weak && env.pip_config.contains_key(&key) {
                            continue;
                        }
                        env.pip_config.insert(key, value);
                    }
                }
            }
        }
        env
    }

    /// The value pip reads for `key`: its `PIP_…` variable, else its config files.
    fn pip(&self, key: &str) -> Option<&String> {
        self.vars
            .get(&format!("PIP_{}", key.to_uppercase().replace('-', "_")))
            .or(self.pip_config.get(key))
    }

    /// The `--find-links` folders named by pip (variable or config) and
    /// `UV_FIND_LINKS`. URLs of HTML pages are an index in all but name; only
    /// folders are read.
    pub fn find_links(&self) -> Vec<PathBuf> {
        [self.pip("find-links"), self.vars.get("UV_FIND_LINKS")]
            .into_iter()
            .flatten()
            .flat_map(|value| value.split_whitespace())
            .filter(|item| !item.contains("://") || item.starts_with("file://"))
            .map(|item| PathBuf::from(item.trim_start_matches("file://")))
            .collect()
    }

    /// A stable text of everything that could change the sources.
    pub fn fingerprint(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.vars.iter().chain(self.pip_config.iter()) {
            s.push_str(k);
            s.push('=');
            s.push_str(v);
            s.push('\n');
        }
        s
    }
}

/// pip's config files, lowest precedence first (pip's own order: site-wide,
/// user, then the file named by PIP_CONFIG_FILE).
fn pip_config_files(env: &Environment) -> Vec<PathBuf> {
    // pip's own rule: PIP_CONFIG_FILE=/dev/null turns every config file off.
    if env
        .vars
        .get("PIP_CONFIG_FILE")
        .is_some_and(|f| f == "/dev/null")
    {
        return Vec::new();
    }
    let mut files = vec![
        PathBuf::from("/etc/xdg/pip/pip.conf"),
        PathBuf::from("/etc/pip.conf"),
    ];
    if let Some(home) = dirs::home_dir() {
        files.push(home.join(".pip/pip.conf"));
    }
    if let Some(config) = dirs::config_dir() {
        files.push(config.join("pip/pip.conf"));
    }
    if let Some(f) = env.vars.get("PIP_CONFIG_FILE") {
        files.push(PathBuf::from(f));
    }
    files
}

/// (section, key, value) triples of an INI file, with pip's multi-line values joined by spaces.
fn parse_ini(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                if !last.2.is_empty() {
                    last.2.push(' ');
                }
                last.2.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = trimmed.split_once(['=', ':']) {
            out.push((
                section.clone(),
                k.trim().replace('_', "-"),
                v.trim().to_string(),
            ));
        }
    }
    out
}

/// Decides the sources. `pip_default` is asked only when nothing names an index.
pub fn decide(
    settings: &SourceSettings,
    env: &Environment,
    pip_default: impl FnOnce() -> Result<String, PythonError>,
) -> Result<Sources, PythonError> {
    let no_index = settings.file_no_index
        || env
            .vars
            .get("PIP_NO_INDEX")
            .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"));

    let (main, origin) = if let Some(u) = &settings.cli_index_url {
        (Some(u.clone()), "--index-url".to_string())
    } else if let Some(u) = &settings.file_index_url {
        (Some(u.clone()), "the requirements file".to_string())
    } else if let Some(u) = &settings.config_index_url {
        (
            Some(u.clone()),
            "slipway.toml [python] index_url".to_string(),
        )
    } else if let Some(u) = env.vars.get("PIP_INDEX_URL") {
        (Some(u.clone()), "PIP_INDEX_URL".to_string())
    } else if let Some(u) = env.vars.get("UV_DEFAULT_INDEX") {
        (Some(u.clone()), "UV_DEFAULT_INDEX".to_string())
    } else if let Some(u) = env.vars.get("UV_INDEX_URL") {
        (Some(u.clone()), "UV_INDEX_URL".to_string())
    } else if let Some(u) = env.pip_config.get("index-url") {
        (Some(u.clone()), "pip's configuration".to_string())
    } else if no_index {
        (None, "--no-index".to_string())
    } else {
        (Some(pip_default()?), "pip's default index".to_string())
    };

    let mut indexes = Vec::new();
    if !no_index {
        if let Some(u) = main {
            indexes.push(IndexUrl::parse(&u)?);
        }
        let split = |v: &String| v.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let extras = settings
            .cli_extra_index_urls
            .iter()
            .chain(&settings.file_extra_index_urls)
            .chain(&settings.config_extra_index_urls)
            .cloned()
            .chain(env.pip("extra-index-url").map(split).unwrap_or_default())
            .chain(env.vars.get("UV_INDEX").map(split).unwrap_or_default())
            .chain(
                env.vars
                    .get("UV_EXTRA_INDEX_URL")
                    .map(split)
                    .unwrap_or_default(),
            );
        for u in extras {
            let parsed = IndexUrl::parse(&u)?;
            if !indexes.iter().any(|i: &IndexUrl| i.url == parsed.url) {
                indexes.push(parsed);
            }
        }
    }
    let mut find_links: Vec<PathBuf> = settings
        .cli_find_links
        .iter()
        .chain(&settings.file_find_links)
        .chain(&settings.config_find_links)
        .cloned()
        .chain(env.find_links())
        .collect();
    find_links.dedup();
    Ok(Sources {
        indexes,
        find_links,
        index_origin: origin,
    })
}

/// Asks the machine's pip which index it uses by default. slipway itself
/// names no index host; pip knows its own default.
pub fn ask_pip_default_index() -> Result<String, PythonError> {
    let script = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)";
    let mut tried = Vec::new();
    for python in ["python3", "python"] {
        match std::process::Command::new(python)
            .args(["-c", script])
            .stdin(std::process::Stdio::null())
            .output()
        {
            Ok(out) if out.status.success() => {
                let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
                if !url.is_empty() {
                    return Ok(url);
                }
            }
            Ok(out) => tried.push(format!(
                "{python}: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )),
            Err(e) => tried.push(format!("{python}: {e}")),
        }
    }
    Err(PythonError::Index {
        url: "(none configured)".into(),
        message: format!(
            "no index is configured and the local pip could not name its default ({})",
            tried.join("; ")
        ),
    })
}

/// [`ask_pip_default_index`], remembered for a day: starting Python and
/// importing pip costs more than a warm build's whole resolution.
pub fn pip_default_index_cached(cache: &crate::Cache) -> Result<String, PythonError> {
    let path = cache.pip_default_index_path();
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age < std::time::Duration::from_secs(24 * 3600));
    if fresh
        && let Ok(url) = std::fs::read_to_string(&path)
        && !url.trim().is_empty()
    {
        return Ok(url.trim().to_string());
    }
    let url = ask_pip_default_index()?;
    let _ = cache.store(&path, url.as_bytes());
    Ok(url)
}

/// `~/.netrc` (or `$NETRC`) entries: host → credentials.
#[derive(Debug, Clone, Default)]
pub struct Netrc {
    machines: BTreeMap<String, Credentials>,
    default: Option<Credentials>,
}

impl Netrc {
    pub fn load() -> Netrc {
        let path = std::env::var_os("NETRC")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".netrc")));
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| Netrc::parse(&t))
            .unwrap_or_default()
    }

    /// The netrc format is a flat token stream (`machine h login u password p`);
    /// small enough that a dependency would add more than it saves.
    pub fn parse(text: &str) -> Netrc {
        let mut netrc = Netrc::default();
        let mut tokens = text.split_whitespace();
        let mut current: Option<(Option<String>, String, Option<String>)> = None;
        let flush = |netrc: &mut Netrc, entry: Option<(Option<String>, String, Option<String>)>| {
            if let Some((machine, login, password)) = entry {
                let c = Credentials {
                    username: login,
                    password,
                };
                match machine {
                    Some(m) => {
                        netrc.machines.entry(m).or_insert(c);
                    }
                    None => netrc.default = netrc.default.take().or(Some(c)),
                }
            }
        };
        while let Some(tok) = tokens.next() {
            match tok {
                "machine" => {
                    flush(&mut netrc, current.take());
                    current = Some((tokens.next().map(str::to_string), String::new(), None));
                }
                "default" => {
                    flush(&mut netrc, current.take());
                    current = Some((None, String::new(), None));
                }
                "login" => {
                    if let (Some(c), Some(v)) = (current.as_mut(), tokens.next()) {
                        c.1 = v.to_string();
                    }
                }
                "password" => {
                    if let (Some(c), Some(v)) = (current.as_mut(), tokens.next()) {
                        c.2 = Some(v.to_string());
                    }
                }
                "account" => {
                    tokens.next();
                }
                "macdef" => break,
                _ => {}
            }
        }
        flush(&mut netrc, current.take());
        netrc
    }

    pub fn lookup(&self, host: &str) -> Option<&Credentials> {
        self.machines.get(host).or(self.default.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_config_file_dev_null_turns_every_config_file_off_as_in_pip() {
        let off = env(&[("PIP_CONFIG_FILE", "/dev/null")], &[]);
        assert!(pip_config_files(&off).is_empty());
        let one = env(&[("PIP_CONFIG_FILE", "/tmp/pip.conf")], &[]);
        assert_eq!(
            pip_config_files(&one).last(),
            Some(&PathBuf::from("/tmp/pip.conf"))
        );
        assert!(pip_config_files(&one).contains(&PathBuf::from("/etc/pip.conf")));
    }

    fn env(vars: &[(&str, &str)], pip: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pip_config: pip
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn never() -> Result<String, PythonError> {
        panic!("pip must not be asked when an index is configured")
    }

    #[test]
    fn precedence_cli_then_file_then_config_then_environment_then_pip() {
        let mut s = SourceSettings {
            config_index_url: Some("http://127.0.0.1:1/config/".into()),
            ..Default::default()
        };
        let e = env(
            &[
                ("PIP_INDEX_URL", "http://127.0.0.1:1/pip-env/"),
                ("UV_DEFAULT_INDEX", "http://127.0.0.1:1/uv/"),
            ],
            &[],
        );
        assert_eq!(
            decide(&s, &e, never).unwrap().indexes[0].url.path(),
            "/config/"
        );
        s.file_index_url = Some("http://127.0.0.1:1/file".into());
        assert_eq!(
            decide(&s, &e, never).unwrap().indexes[0].url.path(),
            "/file/"
        );
        s.cli_index_url = Some("http://127.0.0.1:1/cli".into());
        assert_eq!(decide(&s, &e, never).unwrap().index_origin, "--index-url");
        let s = SourceSettings::default();
        assert_eq!(
            decide(&s, &e, never).unwrap().indexes[0].url.path(),
            "/pip-env/"
        );
        let e2 = env(
            &[("UV_DEFAULT_INDEX", "http://127.0.0.1:1/uv/")],
            &[("index-url", "http://127.0.0.1:1/pipconf/")],
        );
        assert_eq!(
            decide(&s, &e2, never).unwrap().indexes[0].url.path(),
            "/uv/"
        );
        let e3 = env(&[], &[("index-url", "http://127.0.0.1:1/pipconf/")]);
        assert_eq!(
            decide(&s, &e3, never).unwrap().indexes[0].url.path(),
            "/pipconf/"
        );
        let asked = decide(&s, &env(&[], &[]), || {
            Ok("http://127.0.0.1:1/default/".into())
        })
        .unwrap();
        assert_eq!(asked.index_origin, "pip's default index");
    }

    #[test]
    fn credentials_are_separated_from_the_url() {
        let i = IndexUrl::parse("https://user%40corp:s%3Acret@127.0.0.1:8443/api/simple").unwrap();
        assert_eq!(i.url.as_str(), "https://127.0.0.1:8443/api/simple/");
        let c = i.credentials.clone().unwrap();
        assert_eq!(c.username, "user@corp");
        assert_eq!(c.password.as_deref(), Some("s:cret"));
        assert!(!format!("{c:?}").contains("s:cret"));
        let again = IndexUrl::parse(i.with_credentials().as_str()).unwrap();
        assert_eq!(again.url, i.url);
        assert_eq!(again.credentials.as_ref(), Some(&c));
        assert_eq!(redact("https://a:b@127.0.0.1/x"), "https://127.0.0.1/x");
    }

    #[test]
    fn extra_indexes_and_find_links_accumulate() {
        let s = SourceSettings {
            cli_index_url: Some("http://127.0.0.1:1/main/".into()),
            cli_extra_index_urls: vec!["http://127.0.0.1:1/extra/".into()],
            ..Default::default()
        };
        let e = env(
            &[
                ("PIP_FIND_LINKS", "/opt/wheels"),
                (
                    "PIP_EXTRA_INDEX_URL",
                    "http://127.0.0.1:1/x/ http://127.0.0.1:1/extra/",
                ),
            ],
            &[],
        );
        let d = decide(&s, &e, never).unwrap();
        assert_eq!(d.indexes.len(), 3);
        assert_eq!(d.find_links, [PathBuf::from("/opt/wheels")]);
    }

    #[test]
    fn netrc_and_ini() {
        let n =
            Netrc::parse("machine 127.0.0.1 login me password pw\ndefault login anon password x\n");
        assert_eq!(n.lookup("127.0.0.1").unwrap().username, "me");
        assert_eq!(n.lookup("other").unwrap().username, "anon");
        let ini = parse_ini(
            "[global]\nindex-url = http://a/\nextra-index-url =\n    http://b/\n    http://c/\n",
        );
        assert_eq!(ini[1].2, "http://b/ http://c/");
    }
}
