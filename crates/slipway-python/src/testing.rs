//! Test helpers (feature `testing`): wheels written on the fly and a package
//! index served on 127.0.0.1, speaking PEP 691 JSON or PEP 503 HTML.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use slipway_artifact::digest::{sha256, sha256_hex};

/// A wheel to write.
#[derive(Debug, Clone)]
pub struct WheelSpec {
    pub name: String,
    pub version: String,
    /// `py3-none-any`, `cp312-cp312-manylinux_2_17_x86_64`, …
    pub tag: String,
    /// Extra files: (path in the wheel, content). Defaults to `<module>/__init__.py`.
    pub files: Vec<(String, Vec<u8>)>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extras: Vec<String>,
    pub license: Option<String>,
    /// Entries written without a RECORD line (or with a wrong hash), to test refusal.
    pub tamper_record: bool,
    /// A symbolic link entry `link -> /etc/passwd`.
    pub symlink: bool,
    /// The first entry's RECORD size off by one, to test refusal.
    pub tamper_record_size: bool,
}

impl WheelSpec {
    pub fn new(name: &str, version: &str, tag: &str) -> WheelSpec {
        WheelSpec {
            name: name.into(),
            version: version.into(),
            tag: tag.into(),
            files: Vec::new(),
            requires_dist: Vec::new(),
            requires_python: None,
            provides_extras: Vec::new(),
            license: Some("MIT".into()),
            tamper_record: false,
            symlink: false,
            tamper_record_size: false,
        }
    }

    pub fn requires(mut self, r: &str) -> Self {
        self.requires_dist.push(r.into());
        self
    }

    pub fn file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.into(), content.into()));
        self
    }

    pub fn extra(mut self, e: &str) -> Self {
        self.provides_extras.push(e.into());
        self
    }

    fn dist_name(&self) -> String {
        self.name.replace('-', "_")
    }

    pub fn filename(&self) -> String {
        format!("{}-{}-{}.whl", self.dist_name(), self.version, self.tag)
    }

    pub fn metadata(&self) -> String {
        let mut m = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        if let Some(l) = &self.license {
            m.push_str(&format!("License: {l}\n"));
        }
        if let Some(r) = &self.requires_python {
            m.push_str(&format!("Requires-Python: {r}\n"));
        }
        for e in &self.provides_extras {
            m.push_str(&format!("Provides-Extra: {e}\n"));
        }
        for r in &self.requires_dist {
            m.push_str(&format!("Requires-Dist: {r}\n"));
        }
        m
    }

    /// The wheel's bytes.
    pub fn build(&self) -> Vec<u8> {
        let di = format!("{}-{}.dist-info", self.dist_name(), self.version);
        let module = self.dist_name().to_lowercase();
        let mut files = self.files.clone();
        if files.is_empty() {
            files.push((
                format!("{module}/__init__.py"),
                format!(
                    "__version__ = \"{}\"\nNAME = \"{}\"\n",
                    self.version, self.name
                )
                .into_bytes(),
            ));
        }
        files.push((format!("{di}/METADATA"), self.metadata().into_bytes()));
        files.push((
            format!("{di}/WHEEL"),
            format!(
                "Wheel-Version: 1.0\nGenerator: slipway-tests\nRoot-Is-Purelib: true\nTag: {}\n",
                self.tag
            )
            .into_bytes(),
        ));
        let mut record = String::new();
        for (i, (path, content)) in files.iter().enumerate() {
            let mut digest = sha256(content);
            if self.tamper_record && i == 0 {
                digest[0] ^= 0xff;
            }
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            let size = content.len() + usize::from(self.tamper_record_size && i == 0);
            record.push_str(&format!("{path},sha256={b64},{size}\n"));
        }
        record.push_str(&format!("{di}/RECORD,,\n"));
        files.push((format!("{di}/RECORD"), record.into_bytes()));

        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (path, content) in &files {
                zip.start_file(path.as_str(), options).expect("zip entry");
                zip.write_all(content).expect("zip write");
            }
            if self.symlink {
                zip.add_symlink(format!("{module}/link"), "/etc/passwd", options)
                    .expect("symlink");
            }
            zip.finish().expect("zip finish");
        }
        buf.into_inner()
    }
}

/// One file the index serves.
#[derive(Debug, Clone)]
pub struct IndexFile {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub yanked: bool,
    pub requires_python: Option<String>,
    /// The hash the index advertises; `None` uses the real one, `Some("")`
    /// publishes none (as some private indexes do).
    pub advertised_sha256: Option<String>,
    /// Served as a PEP 658 `.metadata` file.
    pub metadata: Option<String>,
    /// The hash the index advertises for the `.metadata` file; `None` uses the real one.
    pub advertised_metadata_sha256: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    projects: BTreeMap<String, Vec<IndexFile>>,
    html_only: bool,
    credentials: Option<(String, String)>,
    /// Page requests still to answer with 503.
    failures: usize,
}

/// A package index on 127.0.0.1 for the length of a test.
pub struct LocalIndex {
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicUsize>,
    pub base: String,
    _thread: std::thread::JoinHandle<()>,
}

impl LocalIndex {
    pub fn start() -> LocalIndex {
        let state = Arc::new(Mutex::new(State::default()));
        let requests = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (s, r) = (state.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/simple/{project}/", axum::routing::get(page))
                    .route("/files/{file}", axum::routing::get(file))
                    .with_state((s, r));
                let _ = axum::serve(listener, app).await;
            });
        });
        LocalIndex {
            state,
            requests,
            base: format!("http://127.0.0.1:{port}"),
            _thread: thread,
        }
    }

    /// The simple API root, e.g. `http://127.0.0.1:PORT/simple/`.
    pub fn url(&self) -> String {
        format!("{}/simple/", self.base)
    }

    /// The URL with credentials in it.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!(
            "http://{user}:{password}@{}/simple/",
            self.base.trim_start_matches("http://")
        )
    }

    pub fn require_credentials(&self, user: &str, password: &str) {
        self.state.lock().unwrap().credentials = Some((user.into(), password.into()));
    }

    pub fn html_only(&self, yes: bool) {
        self.state.lock().unwrap().html_only = yes;
    }

    /// Answers the next `n` page requests with 503 Service Unavailable.
    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().failures = n;
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Publishes a wheel; returns its SHA-256.
    pub fn add_wheel(&self, spec: &WheelSpec) -> String {
        self.add(IndexFile {
            filename: spec.filename(),
            bytes: spec.build(),
            yanked: false,
            requires_python: spec.requires_python.clone(),
            advertised_sha256: None,
            metadata: Some(spec.metadata()),
            advertised_metadata_sha256: None,
        })
    }

    pub fn add(&self, file: IndexFile) -> String {
        let sha = sha256_hex(&file.bytes);
        let project = crate::index::file_project(&file.filename)
            .map(|n| n.to_string())
            .expect("a distribution file name");
        self.state
            .lock()
            .unwrap()
            .projects
            .entry(project)
            .or_default()
            .push(file);
        sha
    }

    /// Changes a published file in place.
    pub fn edit(&self, filename: &str, f: impl FnOnce(&mut IndexFile)) {
        let mut state = self.state.lock().unwrap();
        let file = state
            .projects
            .values_mut()
            .flatten()
            .find(|x| x.filename == filename)
            .expect("published file");
        f(file);
    }
}

type Shared = (Arc<Mutex<State>>, Arc<AtomicUsize>);

fn authorised(state: &State, headers: &axum::http::HeaderMap) -> bool {
    let Some((user, password)) = &state.credentials else {
        return true;
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn page(
    axum::extract::State((state, requests)): axum::extract::State<Shared>,
    axum::extract::Path(project): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    requests.fetch_add(1, Ordering::SeqCst);
    let mut state = state.lock().unwrap();
    if state.failures > 0 {
        state.failures -= 1;
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    if !authorised(&state, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, "credentials required").into_response();
    }
    let Some(files) = pep508_rs::PackageName::from_str(&project)
        .ok()
        .and_then(|name| state.projects.get(name.as_ref()))
    else {
        return (axum::http::StatusCode::NOT_FOUND, "no such project").into_response();
    };
    let accept = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let sha = |f: &IndexFile| {
        f.advertised_sha256
            .clone()
            .unwrap_or_else(|| sha256_hex(&f.bytes))
    };
    let hashes = |f: &IndexFile| match sha(f) {
        s if s.is_empty() => serde_json::json!({}),
        s => serde_json::json!({ "sha256": s }),
    };
    if accept.contains("application/vnd.pypi.simple.v1+json") && !state.html_only {
        let files: Vec<serde_json::Value> = files
            .iter()
            .map(|f| {
                let mut v = serde_json::json!({
                    "filename": f.filename,
                    "url": format!("../../files/{}", f.filename),
                    "hashes": hashes(f),
                    "yanked": f.yanked,
                    "size": f.bytes.len(),
                });
                if let Some(r) = &f.requires_python {
                    v["requires-python"] = r.clone().into();
                }
                if let Some(m) = &f.metadata {
                    let sha = f
                        .advertised_metadata_sha256
                        .clone()
                        .unwrap_or_else(|| sha256_hex(m.as_bytes()));
                    v["core-metadata"] = serde_json::json!({ "sha256": sha });
                }
                v
            })
            .collect();
        let body =
            serde_json::json!({"meta": {"api-version": "1.1"}, "name": project, "files": files});
        return (
            [("content-type", "application/vnd.pypi.simple.v1+json")],
            body.to_string(),
        )
            .into_response();
    }
    let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
    for f in files {
        let mut attrs = String::new();
        if let Some(r) = &f.requires_python {
            attrs.push_str(&format!(
                " data-requires-python=\"{}\"",
                r.replace('>', "&gt;").replace('<', "&lt;")
            ));
        }
        if f.yanked {
            attrs.push_str(" data-yanked=\"\"");
        }
        let fragment = match sha(f) {
            s if s.is_empty() => String::new(),
            s => format!("#sha256={s}"),
        };
        html.push_str(&format!(
            "<a href=\"/files/{0}{fragment}\"{attrs}>{0}</a><br/>\n",
            f.filename
        ));
    }
    html.push_str("</body></html>\n");
    ([("content-type", "text/html")], html).into_response()
}

async fn file(
    axum::extract::State((state, requests)): axum::extract::State<Shared>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    requests.fetch_add(1, Ordering::SeqCst);
    let state = state.lock().unwrap();
    if !authorised(&state, &headers) {
        return (axum::http::StatusCode::UNAUTHORIZED, "credentials required").into_response();
    }
    let (wanted, metadata) = match name.strip_suffix(".metadata") {
        Some(w) => (w, true),
        None => (name.as_str(), false),
    };
    for f in state.projects.values().flatten() {
        if f.filename == wanted {
            return if metadata {
                match &f.metadata {
                    Some(m) => m.clone().into_response(),
                    None => axum::http::StatusCode::NOT_FOUND.into_response(),
                }
            } else {
                f.bytes.clone().into_response()
            };
        }
    }
    axum::http::StatusCode::NOT_FOUND.into_response()
}

/// A universal `uv.lock` for the project `app`, from `registry`: `lib 1.0`
/// (which needs `dep 1.0`) on every platform and `winonly 1.0` only on
/// Windows, each locked to the given wheel SHA-256.
pub fn uv_lock(registry: &str, lib: &str, dep: &str, winonly: &str) -> String {
    format!(
        r#"version = 1
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [
    {{ name = "lib" }},
    {{ name = "winonly", marker = "sys_platform == 'win32'" }},
]

[[package]]
name = "lib"
version = "1.0"
source = {{ registry = "{registry}" }}
dependencies = [{{ name = "dep" }}]
wheels = [{{ url = "{registry}lib.whl", hash = "sha256:{lib}" }}]

[[package]]
name = "dep"
version = "1.0"
source = {{ registry = "{registry}" }}
wheels = [{{ url = "{registry}dep.whl", hash = "sha256:{dep}" }}]

[[package]]
name = "winonly"
version = "1.0"
source = {{ registry = "{registry}" }}
wheels = [{{ url = "{registry}w.whl", hash = "sha256:{winonly}" }}]
"#
    )
}

/// Writes `spec` as a file in `dir` (a `--find-links` folder).
pub fn write_wheel(dir: &Path, spec: &WheelSpec) -> PathBuf {
    std::fs::create_dir_all(dir).expect("folder");
    let p = dir.join(spec.filename());
    std::fs::write(&p, spec.build()).expect("write wheel");
    p
}

/// A real shared object of this machine whose highest GLIBC symbol version is
/// in `(above, at_most]`, for testing the ELF check with genuine ELF files.
pub fn host_library_needing_glibc(
    above: (u32, u32),
    at_most: (u32, u32),
) -> Option<(PathBuf, (u32, u32))> {
    let dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
    ];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !crate::elf::looks_like_shared_object(&name) || !p.is_file() {
                continue;
            }
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if meta.len() > 8 * 1024 * 1024 {
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if let Ok(Some(facts)) = crate::elf::inspect(&name, &bytes)
                && let Some(top) = facts.glibc.first()
                && top.version > above
                && top.version <= at_most
            {
                return Some((p, top.version));
            }
        }
    }
    None
}
