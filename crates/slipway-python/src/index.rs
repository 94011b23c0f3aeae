//! The package index client: the simple API in JSON (PEP 691) with a
//! fallback to HTML (PEP 503), `--find-links` folders, PEP 658 metadata
//! files, downloads verified against their SHA-256, and the cache behind all
//! of it. Everything is async; the resolver drives it from its own thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use pep508_rs::PackageName;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::{OnceCell, Semaphore};

use crate::PythonError;
use crate::cache::Cache;
use crate::metadata::CoreMetadata;
use crate::sources::{Credentials, IndexUrl, Netrc, Sources, redact};

/// How long a fetched index page is trusted before it is fetched again (the
/// `max-age` public indexes send for these pages).
const PAGE_TTL: Duration = Duration::from_secs(600);
/// Simultaneous downloads; more only queues on a small link.
const PARALLEL_DOWNLOADS: usize = 8;

/// One file of a project, as an index or a folder lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistFile {
    pub filename: String,
    /// Where it is: an absolute URL without credentials, or a local path.
    pub url: String,
    #[serde(default)]
    pub local: bool,
    /// SHA-256, lowercase hex, when the index gives it.
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    #[serde(default)]
    pub yanked: bool,
    /// PEP 658: the index serves `<url>.metadata`; the inner value is its SHA-256.
    #[serde(default)]
    pub core_metadata: Option<Option<String>>,
    /// The index it came from (position in [`Sources::indexes`]), `None` for folders.
    pub index: Option<usize>,
    /// Size in bytes, when the index says (PEP 700).
    #[serde(default)]
    pub size: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct CachedPage {
    fetched_at: u64,
    files: Vec<DistFile>,
}

/// Counters for progress and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub files_downloaded: AtomicU64,
    pub bytes_downloaded: AtomicU64,
}

/// One project page, fetched once however many tasks ask for it.
type PageCell = Arc<OnceCell<Arc<Vec<DistFile>>>>;

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Made on the first request: making it loads every system root
    /// certificate, a third of a warm rebuild that never asks the index.
    http: std::sync::OnceLock<Result<reqwest::Client, String>>,
    sources: Sources,
    cache: Cache,
    offline: bool,
    /// Ask the index again even for pages fetched moments ago (`--refresh`).
    refresh: bool,
    netrc: Netrc,
    pages: Mutex<HashMap<String, PageCell>>,
    metadata: Mutex<HashMap<String, Arc<OnceCell<Arc<CoreMetadata>>>>>,
    downloads: Semaphore,
    /// Files the index gives no hash for, downloaded in this run: URL →
    /// (path, SHA-256). Without a hash the cache cannot find them by content,
    /// and the resolver, the pinned path and the install all ask for them.
    unhashed: Mutex<HashMap<String, (PathBuf, String)>>,
    find_links_listing: OnceCell<Vec<(String, PathBuf)>>,
    stats: Stats,
    deadline: Duration,
}

/// Index pages and metadata files describe one project: a few MB at most.
/// A larger answer is a broken or hostile index, not a page to hold in memory.
pub const MAX_PAGE_BYTES: u64 = 32 << 20;
/// A wheel Lambda could hold (250 MB unzipped) is far smaller than this.
pub const MAX_WHEEL_BYTES: u64 = 1 << 30;
/// How long one page or metadata request may take, retries and body
/// included, unless `SLIPWAY_INDEX_TIMEOUT` (seconds) says otherwise.
/// Wheels get ten times as long: they are larger, and they make progress.
const DEFAULT_REQUEST_DEADLINE: Duration = Duration::from_secs(120);

impl Client {
    pub fn new(sources: Sources, cache: Cache, offline: bool, refresh: bool) -> Client {
        Client {
            inner: Arc::new(Inner {
                http: std::sync::OnceLock::new(),
                sources,
                cache,
                offline,
                refresh: refresh && !offline,
                netrc: Netrc::load(),
                pages: Mutex::new(HashMap::new()),
                metadata: Mutex::new(HashMap::new()),
                downloads: Semaphore::new(PARALLEL_DOWNLOADS),
                unhashed: Mutex::new(HashMap::new()),
                find_links_listing: OnceCell::new(),
                stats: Stats::default(),
                deadline: std::env::var("SLIPWAY_INDEX_TIMEOUT")
                    .ok()
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map_or(DEFAULT_REQUEST_DEADLINE, Duration::from_secs_f64),
            }),
        }
    }

    /// Sets how long one page or metadata request may take (wheels: ten
    /// times as long), instead of `SLIPWAY_INDEX_TIMEOUT` or the default.
    pub fn with_request_deadline(mut self, deadline: Duration) -> Client {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.deadline = deadline;
        }
        self
    }

    /// Runs one request to completion within `deadline`, or says which index
    /// did not answer in time.
    async fn within<T>(
        &self,
        deadline: Duration,
        url: &Url,
        request: impl std::future::Future<Output = Result<T, PythonError>>,
    ) -> Result<T, PythonError> {
        tokio::time::timeout(deadline, request)
            .await
            .unwrap_or_else(|_| {
                Err(PythonError::Index {
                    url: redact(url.as_str()),
                    message: format!(
                        "no complete answer within {} s (SLIPWAY_INDEX_TIMEOUT sets the limit)",
                        deadline.as_secs_f64()
                    ),
                })
            })
    }

    pub fn sources(&self) -> &Sources {
        &self.inner.sources
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Every file of `project` from the first index that has it, plus the
    /// `--find-links` folders. Using the first index only (not a merge of all)
    /// keeps a public index from shadowing a private package of the same name.
    pub async fn project_files(
        &self,
        project: &PackageName,
    ) -> Result<Arc<Vec<DistFile>>, PythonError> {
        let cell = {
            let mut pages = self.inner.pages.lock().expect("lock");
            pages.entry(project.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let mut files = self.folder_files(project).await?;
            let mut paged = false;
            for (i, index) in self.inner.sources.indexes.iter().enumerate() {
                if let Some(mut found) = self.index_page(i, index, project).await? {
                    files.append(&mut found);
                    paged = true;
                    break;
                }
            }
            // Offline, a page missing from the cache says nothing about what
            // the index has: that is no reason to claim the project does not exist.
            if self.inner.offline
                && !paged
                && files.is_empty()
                && !self.inner.sources.indexes.is_empty()
            {
                return Err(PythonError::Offline {
                    what: format!("the index page of `{project}`"),
                    cache: self.inner.cache.root().display().to_string(),
                });
            }
            Ok(Arc::new(files))
        })
        .await
        .cloned()
    }

    async fn folder_files(&self, project: &PackageName) -> Result<Vec<DistFile>, PythonError> {
        let listing = self
            .inner
            .find_links_listing
            .get_or_init(|| async {
                let mut all = Vec::new();
                for dir in &self.inner.sources.find_links {
                    let Ok(entries) = std::fs::read_dir(dir) else {
                        continue;
                    };
                    for e in entries.flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.ends_with(".whl")
                            || name.ends_with(".tar.gz")
                            || name.ends_with(".zip")
                        {
                            all.push((name, e.path()));
                        }
                    }
                }
                all.sort();
                all
            })
            .await;
        Ok(listing
            .iter()
            .filter(|(name, _)| file_project(name).as_ref() == Some(project))
            .map(|(name, path)| DistFile {
                filename: name.clone(),
                url: path.to_string_lossy().into_owned(),
                local: true,
                sha256: None,
                requires_python: None,
                yanked: false,
                core_metadata: None,
                index: None,
                size: std::fs::metadata(path).ok().map(|m| m.len()),
            })
            .collect())
    }

    /// One project page of one index; `None` when the index does not have the project.
    async fn index_page(
        &self,
        i: usize,
        index: &IndexUrl,
        project: &PackageName,
    ) -> Result<Option<Vec<DistFile>>, PythonError> {
        let cache_path = self
            .inner
            .cache
            .page_path(&index.cache_key(), project.as_ref());
        let cached: Option<CachedPage> = std::fs::read(&cache_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if let Some(c) = &cached
            && (self.inner.offline
                || (!self.inner.refresh && now.saturating_sub(c.fetched_at) < PAGE_TTL.as_secs()))
        {
            return Ok(Some(c.files.clone()));
        }
        if self.inner.offline {
            return Ok(None);
        }
        let url = index
            .url
            .join(&format!("{project}/"))
            .map_err(|e| PythonError::Index {
                url: index.url.to_string(),
                message: e.to_string(),
            })?;
        let fetched = self
            .within(self.inner.deadline, &url, async {
                let response = self
                    .send(
                        &url,
                        Some("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"),
                    )
                    .await?;
                if response.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !response.status().is_success() {
                    return Err(PythonError::Index {
                        url: redact(url.as_str()),
                        message: status_message(response.status()),
                    });
                }
                let final_url = response.url().clone();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let body = read_capped(response, MAX_PAGE_BYTES, &url).await?;
                Ok(Some((final_url, content_type, body)))
            })
            .await?;
        let Some((final_url, content_type, body)) = fetched else {
            return Ok(None);
        };
        let unreadable = |message: String| PythonError::Index {
            url: redact(url.as_str()),
            message: format!("the page could not be read: {message}"),
        };
        let body =
            String::from_utf8(body).map_err(|_| unreadable("it is not UTF-8 text".into()))?;
        let mut files = if content_type.contains("json") {
            parse_json_page(&body, &final_url).map_err(unreadable)?
        } else if looks_like_html(&body) {
            parse_html_page(&body, &final_url)
        } else {
            return Err(unreadable(format!(
                "it is neither a PEP 503 HTML page nor a PEP 691 JSON page (Content-Type `{content_type}`)"
            )));
        };
        files.retain(|f| could_ever_be_explained(&f.filename));
        for f in &mut files {
            f.index = Some(i);
        }
        let page = CachedPage {
            fetched_at: now,
            files,
        };
        if let Ok(bytes) = serde_json::to_vec(&page) {
            // A cache that cannot be written only costs speed.
            let _ = self.inner.cache.store(&cache_path, &bytes);
        }
        Ok(Some(page.files))
    }

    /// GET with up to three attempts: CI networks drop connections, and a
    /// retry is cheaper than a failed pipeline. Only connection failures,
    /// time-outs and 5xx answers are retried.
    async fn send(
        &self,
        url: &Url,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, PythonError> {
        const ATTEMPTS: u32 = 3;
        let mut attempt = 1;
        loop {
            let mut request = self.get(url)?;
            if let Some(accept) = accept {
                request = request.header(reqwest::header::ACCEPT, accept);
            }
            let result = request.send().await;
            let retry = match &result {
                Ok(r) => r.status().is_server_error(),
                Err(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            };
            if !retry || attempt == ATTEMPTS {
                return result.map_err(|e| index_error(url, e));
            }
            tracing::debug!(url = %redact(url.as_str()), attempt, "retrying");
            tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
            attempt += 1;
        }
    }

    fn get(&self, url: &Url) -> Result<reqwest::RequestBuilder, PythonError> {
        let http = self
            .inner
            .http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .user_agent(concat!("slipway/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(Duration::from_secs(30))
                    .read_timeout(Duration::from_secs(120))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| PythonError::Index {
                url: "(client)".into(),
                message: message.clone(),
            })?;
        let rb = http.get(url.clone());
        Ok(match self.credentials_for(url) {
            Some(c) => rb.basic_auth(&c.username, c.password.as_deref()),
            None => rb,
        })
    }

    /// Credentials of an index apply to every URL on its host (files are often
    /// served from the same host under another path); otherwise `~/.netrc`.
    fn credentials_for(&self, url: &Url) -> Option<Credentials> {
        let host = url.host_str()?;
        self.inner
            .sources
            .indexes
            .iter()
            .filter(|i| {
                i.url.host_str() == Some(host)
                    && i.url.port_or_known_default() == url.port_or_known_default()
            })
            .find_map(|i| i.credentials.clone())
            .or_else(|| self.inner.netrc.lookup(host).cloned())
    }

    /// The core metadata of a wheel: from the cache, from the index's PEP 658
    /// file, or from the wheel itself (downloading it).
    pub async fn metadata(&self, file: &DistFile) -> Result<Arc<CoreMetadata>, PythonError> {
        let key = file.sha256.clone().unwrap_or_else(|| file.url.clone());
        let cell = {
            let mut m = self.inner.metadata.lock().expect("lock");
            m.entry(key).or_default().clone()
        };
        cell.get_or_try_init(|| async { self.fetch_metadata(file).await.map(Arc::new) })
            .await
            .cloned()
    }

    async fn fetch_metadata(&self, file: &DistFile) -> Result<CoreMetadata, PythonError> {
        let parse = |text: &str| {
            CoreMetadata::parse(text).map_err(|message| PythonError::BadWheel {
                wheel: file.filename.clone(),
                message,
            })
        };
        if file.local {
            let path = PathBuf::from(&file.url);
            return parse(&read_wheel_metadata(&path, &file.filename)?);
        }
        if let Some(sha) = &file.sha256 {
            let cached = self.inner.cache.metadata_path(sha);
            if let Ok(text) = std::fs::read_to_string(&cached) {
                return parse(&text);
            }
            if let Some(path) = self.inner.cache.find_wheel(sha) {
                return parse(&read_wheel_metadata(&path, &file.filename)?);
            }
        }
        if self.inner.offline {
            return Err(PythonError::Offline {
                what: format!("the metadata of {}", file.filename),
                cache: self.inner.cache.root().display().to_string(),
            });
        }
        if let Some(expected) = &file.core_metadata {
            let url =
                Url::parse(&format!("{}.metadata", file.url)).map_err(|e| PythonError::Index {
                    url: redact(&file.url),
                    message: e.to_string(),
                })?;
            let answer = self
                .within(self.inner.deadline, &url, async {
                    let response = self.send(&url, None).await?;
                    if !response.status().is_success() {
                        return Ok(None);
                    }
                    read_capped(response, MAX_PAGE_BYTES, &url).await.map(Some)
                })
                .await?;
            if let Some(bytes) = answer {
                if let Some(expected) = expected {
                    let actual = slipway_artifact::digest::sha256_hex(&bytes);
                    if &actual != expected {
                        return Err(PythonError::HashMismatch {
                            file: format!("{}.metadata", file.filename),
                            expected: expected.clone(),
                            actual,
                        });
                    }
                }
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let parsed = parse(&text)?;
                if let Some(sha) = &file.sha256 {
                    let _ = self
                        .inner
                        .cache
                        .store(&self.inner.cache.metadata_path(sha), text.as_bytes());
                }
                return Ok(parsed);
            }
        }
        let path = self.download(file, &[]).await?;
        parse(&read_wheel_metadata(&path, &file.filename)?)
    }

    /// The file in the cache (downloading it if needed), its SHA-256 checked
    /// against the index and against `allowed` (the lock's or the
    /// requirement's hashes) when that is not empty.
    pub async fn download(
        &self,
        file: &DistFile,
        allowed: &[String],
    ) -> Result<PathBuf, PythonError> {
        if file.local {
            let path = PathBuf::from(&file.url);
            if !allowed.is_empty() {
                let actual = slipway_artifact::digest::file_sha256_hex(&path)
                    .map_err(PythonError::io("read", &path))?;
                check_allowed(&file.filename, &actual, allowed)?;
            }
            return Ok(path);
        }
        let known = match &file.sha256 {
            Some(sha) => Some((
                self.inner.cache.wheel_path(sha, &file.filename),
                sha.clone(),
            )),
            None => self
                .inner
                .unhashed
                .lock()
                .expect("lock")
                .get(&file.url)
                .cloned(),
        };
        if let Some((path, sha)) = known {
            check_allowed(&file.filename, &sha, allowed)?;
            if path.is_file() {
                return Ok(path);
            }
        }
        if self.inner.offline {
            return Err(PythonError::Offline {
                what: file.filename.clone(),
                cache: self.inner.cache.root().display().to_string(),
            });
        }
        let _permit = self
            .inner
            .downloads
            .acquire()
            .await
            .expect("semaphore open");
        let url = Url::parse(&file.url).map_err(|e| PythonError::Index {
            url: redact(&file.url),
            message: e.to_string(),
        })?;
        self.within(
            self.inner.deadline * 10,
            &url,
            self.download_to_cache(file, allowed, &url),
        )
        .await
    }

    async fn download_to_cache(
        &self,
        file: &DistFile,
        allowed: &[String],
        url: &Url,
    ) -> Result<PathBuf, PythonError> {
        let url = url.clone();
        let response = self.send(&url, None).await?;
        if !response.status().is_success() {
            return Err(PythonError::Index {
                url: redact(url.as_str()),
                message: status_message(response.status()),
            });
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_WHEEL_BYTES)
        {
            return Err(too_large(&url, MAX_WHEEL_BYTES));
        }
        let tmp_dir = self.inner.cache.temp_dir()?;
        let tmp = tempfile::Builder::new()
            .prefix(".download.")
            .tempfile_in(&tmp_dir)
            .map_err(PythonError::io("create a file in", &tmp_dir))?;
        let (std_file, tmp_path) = tmp.into_parts();
        let mut out = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut stream = response.bytes_stream();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| index_error(&url, e))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            if size > MAX_WHEEL_BYTES {
                return Err(too_large(&url, MAX_WHEEL_BYTES));
            }
            out.write_all(&chunk)
                .await
                .map_err(PythonError::io("write", tmp_path.to_path_buf()))?;
        }
        out.flush()
            .await
            .map_err(PythonError::io("write", tmp_path.to_path_buf()))?;
        drop(out);
        let actual = hex::encode(hasher.finalize());
        if let Some(expected) = &file.sha256
            && &actual != expected
        {
            return Err(PythonError::HashMismatch {
                file: file.filename.clone(),
                expected: expected.clone(),
                actual,
            });
        }
        check_allowed(&file.filename, &actual, allowed)?;
        let dest = self.inner.cache.wheel_path(&actual, &file.filename);
        let dir = dest.parent().expect("cache paths have parents");
        std::fs::create_dir_all(dir).map_err(PythonError::io("create", dir))?;
        tmp_path.persist(&dest).map_err(|e| PythonError::Io {
            action: "store",
            path: dest.clone(),
            source: e.error,
        })?;
        self.inner
            .stats
            .files_downloaded
            .fetch_add(1, Ordering::Relaxed);
        self.inner
            .stats
            .bytes_downloaded
            .fetch_add(size, Ordering::Relaxed);
        if file.sha256.is_none() {
            self.inner
                .unhashed
                .lock()
                .expect("lock")
                .insert(file.url.clone(), (dest.clone(), actual));
        }
        Ok(dest)
    }

    /// Downloads several files at once; results in the same order.
    /// `done` is called as each file is in the cache (for progress).
    pub async fn download_all(
        &self,
        files: &[(DistFile, Vec<String>)],
        done: &(dyn Fn() + Sync),
    ) -> Vec<Result<PathBuf, PythonError>> {
        futures::stream::iter(files.iter().map(|(f, allowed)| async move {
            let result = self.download(f, allowed).await;
            done();
            result
        }))
        .buffered(PARALLEL_DOWNLOADS)
        .collect()
        .await
    }
}

fn check_allowed(filename: &str, actual: &str, allowed: &[String]) -> Result<(), PythonError> {
    if allowed.is_empty() || allowed.iter().any(|a| a == actual) {
        Ok(())
    } else {
        Err(PythonError::HashMismatch {
            file: filename.to_string(),
            expected: allowed.join(" or "),
            actual: actual.to_string(),
        })
    }
}

/// The body of `response`, refused once it passes `max` bytes (announced or
/// streamed), so a hostile or broken index cannot exhaust memory.
async fn read_capped(
    mut response: reqwest::Response,
    max: u64,
    url: &Url,
) -> Result<Vec<u8>, PythonError> {
    if response.content_length().is_some_and(|n| n > max) {
        return Err(too_large(url, max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| index_error(url, e))? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(too_large(url, max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(url: &Url, max: u64) -> PythonError {
    PythonError::Index {
        url: redact(url.as_str()),
        message: format!(
            "the answer is larger than {} MiB; slipway stops reading there",
            max >> 20
        ),
    }
}

/// Whether a page without a JSON content type is HTML at all: an empty page
/// says "no files", but bytes of anything else must not be read as "no
/// versions" and reported as a version conflict.
fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start_matches('\u{feff}').trim_start();
    start.is_empty() || (start.starts_with('<') && start.contains('>'))
}

fn index_error(url: &Url, e: reqwest::Error) -> PythonError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    PythonError::Index {
        url: redact(url.as_str()),
        message,
    }
}

fn status_message(status: reqwest::StatusCode) -> String {
    match status.as_u16() {
        401 | 403 => {
            format!("HTTP {status}: the index refused the credentials (or none were given)")
        }
        _ => format!("HTTP {status}"),
    }
}

/// Keeps sdists and wheels for Linux on x86_64 or aarch64 (usable, or worth
/// naming in `-v` and errors: musl, `linux_*`, a newer glibc); macOS, Windows
/// and other machines are dropped at once. Popular projects list tens of
/// thousands of files, and this keeps their cached pages small and quick.
fn could_ever_be_explained(filename: &str) -> bool {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return true;
    };
    let Some(platforms) = stem.rsplit('-').next() else {
        return false;
    };
    platforms.split('.').any(|p| {
        p == "any"
            || p.ends_with("_x86_64") && p.contains("linux")
            || p.ends_with("_aarch64") && p.contains("linux")
    })
}

/// The project a distribution file belongs to, from its name.
pub fn file_project(filename: &str) -> Option<PackageName> {
    if filename.ends_with(".whl") {
        crate::WheelName::parse(filename).map(|w| w.name)
    } else {
        crate::wheel_name::SdistName::parse(filename).map(|s| s.name)
    }
}

/// `METADATA` from a wheel's `.dist-info`.
pub fn read_wheel_metadata(path: &Path, filename: &str) -> Result<String, PythonError> {
    let file = std::fs::File::open(path).map_err(PythonError::io("open", path))?;
    let bad = |message: String| PythonError::BadWheel {
        wheel: filename.to_string(),
        message,
    };
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("not a zip file: {e}")))?;
    let name = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .find(|n| {
            let mut parts = n.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(d), Some("METADATA"), None) if d.ends_with(".dist-info"))
        })
        .ok_or_else(|| bad("no .dist-info/METADATA".into()))?;
    let mut entry = zip.by_name(&name).map_err(|e| bad(e.to_string()))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text)
        .map_err(|e| bad(format!("{name}: {e}")))?;
    Ok(text)
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: HashMap<String, String>,
    #[serde(default, rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
    #[serde(default, rename = "core-metadata")]
    core_metadata: serde_json::Value,
    #[serde(default, rename = "dist-info-metadata")]
    dist_info_metadata: serde_json::Value,
    #[serde(default)]
    size: Option<u64>,
}

/// `true`, `false`, or `{ "sha256": … }` (PEP 691/714).
fn metadata_flag(v: &serde_json::Value) -> Option<Option<String>> {
    match v {
        serde_json::Value::Bool(true) => Some(None),
        serde_json::Value::Object(m) => Some(
            m.get("sha256")
                .and_then(|h| h.as_str())
                .map(str::to_ascii_lowercase),
        ),
        _ => None,
    }
}

fn parse_json_page(body: &str, base: &Url) -> Result<Vec<DistFile>, String> {
    let page: JsonPage =
        serde_json::from_str(body).map_err(|e| format!("malformed JSON project page: {e}"))?;
    Ok(page
        .files
        .into_iter()
        .filter_map(|f| {
            let url = base.join(&f.url).ok()?;
            let mut clean = url.clone();
            clean.set_fragment(None);
            Some(DistFile {
                filename: f.filename,
                url: clean.to_string(),
                local: false,
                sha256: f.hashes.get("sha256").map(|h| h.to_ascii_lowercase()),
                requires_python: f.requires_python.filter(|s| !s.is_empty()),
                yanked: match f.yanked {
                    serde_json::Value::Bool(b) => b,
                    serde_json::Value::String(_) => true,
                    _ => false,
                },
                size: f.size,
                core_metadata: metadata_flag(&f.core_metadata)
                    .or_else(|| metadata_flag(&f.dist_info_metadata)),
                index: None,
            })
        })
        .collect())
}

/// PEP 503 pages are a list of anchors whose attributes carry everything; a
/// small scanner reads them (a full HTML parser would buy nothing here).
fn parse_html_page(body: &str, page_url: &Url) -> Vec<DistFile> {
    let lower = body.to_ascii_lowercase();
    let base = find_base_href(body, &lower)
        .and_then(|b| page_url.join(&b).ok())
        .unwrap_or_else(|| page_url.clone());
    let mut files = Vec::new();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<a").map(|i| i + pos) {
        let after = lower.as_bytes().get(start + 2).copied();
        if !matches!(after, Some(b' ' | b'\t' | b'\n' | b'\r')) {
            pos = start + 2;
            continue;
        }
        let Some(tag_end) = lower[start..].find('>').map(|i| i + start) else {
            break;
        };
        let attrs = parse_attributes(&body[start + 2..tag_end]);
        let text_end = lower[tag_end..]
            .find("</a")
            .map(|i| i + tag_end)
            .unwrap_or(tag_end + 1);
        let text = html_unescape(body[tag_end + 1..text_end.max(tag_end + 1)].trim());
        pos = text_end;
        let Some(href) = attrs.get("href") else {
            continue;
        };
        let Ok(mut url) = base.join(href) else {
            continue;
        };
        let sha256 = url
            .fragment()
            .and_then(|f| f.strip_prefix("sha256="))
            .map(str::to_ascii_lowercase);
        url.set_fragment(None);
        let filename = if text.is_empty() {
            url.path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or("")
                .to_string()
        } else {
            text
        };
        let core_metadata = attrs
            .get("data-core-metadata")
            .or_else(|| attrs.get("data-dist-info-metadata"))
            .filter(|v| v.as_str() != "false")
            .map(|v| v.strip_prefix("sha256=").map(str::to_ascii_lowercase));
        files.push(DistFile {
            filename,
            url: url.to_string(),
            local: false,
            sha256,
            requires_python: attrs
                .get("data-requires-python")
                .cloned()
                .filter(|s| !s.is_empty()),
            yanked: attrs.contains_key("data-yanked"),
            core_metadata,
            index: None,
            size: None,
        });
    }
    files
}

fn find_base_href(body: &str, lower: &str) -> Option<String> {
    let start = lower.find("<base ")?;
    let end = lower[start..].find('>')? + start;
    parse_attributes(&body[start + 5..end]).get("href").cloned()
}

fn parse_attributes(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        if name_start == i {
            break;
        }
        let name = s[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let quote = b[i];
                let start = i + 1;
                let end = s[start..]
                    .find(quote as char)
                    .map(|e| e + start)
                    .unwrap_or(b.len());
                i = (end + 1).min(b.len());
                &s[start..end]
            } else {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &s[start..i]
            };
            out.insert(name, html_unescape(value));
        } else {
            out.insert(name, String::new());
        }
    }
    out
}

fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

impl DistFile {
    /// The file name parsed as a wheel, if it is one.
    pub fn wheel(&self) -> Option<crate::WheelName> {
        crate::WheelName::parse(&self.filename)
    }

    pub fn requires_python_specifiers(&self) -> Option<pep508_rs::pep440_rs::VersionSpecifiers> {
        self.requires_python
            .as_deref()
            .and_then(|s| pep508_rs::pep440_rs::VersionSpecifiers::from_str(s).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pep503_html() {
        let page = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let html = r#"<!DOCTYPE html><html><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=ABCDEF" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=11">demo-1.0-py3-none-any.whl</a><br/>
<A HREF='demo-0.9.tar.gz' data-yanked>demo-0.9.tar.gz</A>
<abbr>not an anchor</abbr>
</body></html>"#;
        let files = parse_html_page(html, &page);
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url,
            "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("abcdef"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].core_metadata, Some(Some("11".into())));
        assert!(!files[0].yanked);
        assert!(files[1].yanked);
        assert_eq!(
            files[1].url,
            "http://127.0.0.1:1/simple/demo/demo-0.9.tar.gz"
        );
    }

    #[test]
    fn pages_keep_only_files_a_lambda_build_can_use_or_explain() {
        assert!(could_ever_be_explained("x-1.0.tar.gz"));
        assert!(could_ever_be_explained("x-1.0-py3-none-any.whl"));
        assert!(could_ever_be_explained(
            "x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        assert!(could_ever_be_explained(
            "x-1.0-cp312-cp312-musllinux_1_2_aarch64.whl"
        ));
        assert!(!could_ever_be_explained(
            "x-1.0-cp312-cp312-macosx_11_0_arm64.whl"
        ));
        assert!(!could_ever_be_explained("x-1.0-cp312-cp312-win_amd64.whl"));
        assert!(!could_ever_be_explained(
            "x-1.0-cp312-cp312-manylinux_2_17_s390x.whl"
        ));
    }

    #[test]
    fn reads_pep691_json() {
        let page = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let json = r#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
            {"filename":"demo-1.0-py3-none-any.whl","url":"/f/demo-1.0-py3-none-any.whl","hashes":{"sha256":"AA"},"requires-python":">=3.9","core-metadata":{"sha256":"bb"},"yanked":false},
            {"filename":"demo-0.9-py3-none-any.whl","url":"https://127.0.0.1:2/f/demo-0.9-py3-none-any.whl","hashes":{},"yanked":"broken"}]}"#;
        let files = parse_json_page(json, &page).unwrap();
        assert_eq!(
            files[0].url,
            "http://127.0.0.1:1/f/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("aa"));
        assert_eq!(files[0].core_metadata, Some(Some("bb".into())));
        assert!(files[1].yanked && files[1].sha256.is_none());

        // A page that is not the JSON simple API is an error, not an empty project.
        for bad in [
            "{not json",
            r#"{"name":"demo"}"#,
            r#"{"files":[{"url":"/f"}]}"#,
        ] {
            let err = parse_json_page(bad, &page).unwrap_err();
            assert!(
                err.starts_with("malformed JSON project page"),
                "{bad}: {err}"
            );
        }
    }

    /// A one-connection-at-a-time HTTP server on 127.0.0.1 that answers every
    /// request with `answer`; stops when the test ends (its port closes with it).
    fn misbehaving_index(answer: fn(&mut std::net::TcpStream)) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(8) {
                let Ok(mut stream) = stream else { return };
                std::thread::spawn(move || {
                    use std::io::Read;
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    answer(&mut stream);
                });
            }
        });
        format!("http://user:hunter2secret@127.0.0.1:{port}/simple/")
    }

    fn fetch_page(index: &str, deadline: Duration) -> Result<Arc<Vec<DistFile>>, PythonError> {
        let dir = tempfile::tempdir().unwrap();
        let sources = Sources {
            indexes: vec![IndexUrl::parse(index).unwrap()],
            find_links: vec![],
            index_origin: "test".into(),
        };
        let client = Client::new(sources, Cache::at(dir.path()), false, false)
            .with_request_deadline(deadline);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(client.project_files(&PackageName::from_str("demo").unwrap()))
    }

    #[test]
    fn an_endless_page_is_cut_off_at_the_cap() {
        let index = misbehaving_index(|stream| {
            use std::io::Write;
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>",
            );
            let chunk = b"<a href=\"demo-1.0-py3-none-any.whl\">demo</a>\n".repeat(1024);
            // At most 4x the cap, should slipway not stop reading.
            for _ in 0..(4 * MAX_PAGE_BYTES as usize / chunk.len()) {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        });
        let err = fetch_page(&index, Duration::from_secs(60)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("larger than 32 MiB") && text.contains("127.0.0.1"),
            "{text}"
        );
        assert!(!text.contains("hunter2secret"), "{text}");
    }

    #[test]
    fn a_hung_index_fails_within_the_deadline_naming_it() {
        let index = misbehaving_index(|_| std::thread::sleep(Duration::from_secs(20)));
        let started = std::time::Instant::now();
        let err = fetch_page(&index, Duration::from_millis(800)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no complete answer within 0.8 s"), "{text}");
        assert!(
            text.contains("127.0.0.1") && !text.contains("hunter2secret"),
            "{text}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_garbage_page_is_called_unreadable_not_a_version_conflict() {
        for answer in [
            (|stream: &mut std::net::TcpStream| {
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 6\r\nConnection: close\r\n\r\n\xff\xfe\x00\x01PK");
            }) as fn(&mut std::net::TcpStream),
            |stream| {
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 26\r\nConnection: close\r\n\r\nSELECT * FROM packages; --");
            },
            |stream| {
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"files\":");
            },
        ] {
            let index = misbehaving_index(answer);
            let err = fetch_page(&index, Duration::from_secs(30)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("the page could not be read"), "{text}");
        }
    }
}
