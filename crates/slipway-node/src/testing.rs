//! Test helpers: npm-style tarballs built in memory and a registry served on
//! 127.0.0.1 that hands them out, so offline tests exercise the real
//! download, integrity and extraction path.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use crate::tarball::{Algorithm, Integrity};

/// One entry of a test tarball.
#[derive(Debug, Clone)]
pub struct TarEntry {
    pub path: String,
    pub kind: u8,
    pub mode: u32,
    pub link: String,
    pub content: Vec<u8>,
}

impl TarEntry {
    pub fn file(path: &str, content: &[u8]) -> TarEntry {
        TarEntry {
            path: path.into(),
            kind: b'0',
            mode: 0o644,
            link: String::new(),
            content: content.to_vec(),
        }
    }
    pub fn exec(path: &str, content: &[u8]) -> TarEntry {
        TarEntry {
            mode: 0o755,
            ..TarEntry::file(path, content)
        }
    }
    pub fn dir(path: &str) -> TarEntry {
        TarEntry {
            kind: b'5',
            mode: 0o755,
            ..TarEntry::file(path, b"")
        }
    }
    pub fn symlink(path: &str, target: &str) -> TarEntry {
        TarEntry {
            kind: b'2',
            link: target.into(),
            ..TarEntry::file(path, b"")
        }
    }
    pub fn hardlink(path: &str, target: &str) -> TarEntry {
        TarEntry {
            kind: b'1',
            link: target.into(),
            ..TarEntry::file(path, b"")
        }
    }
}

fn header(name: &[u8], size: usize, kind: u8, mode: u32, link: &str) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    h[100..107].copy_from_slice(format!("{mode:07o}").as_bytes());
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len().min(100)].copy_from_slice(&link.as_bytes()[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

fn pad(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// A gzip'd tar of `entries`, long paths in pax headers as npm's packer writes them.
pub fn tarball(entries: &[TarEntry]) -> Vec<u8> {
    let mut tar = Vec::new();
    for e in entries {
        if e.path.len() > 100 {
            let record = format!(" path={}\n", e.path);
            // The length prefix counts itself.
            let mut len = record.len() + 1;
            while format!("{len}{record}").len() != len {
                len += 1;
            }
            let pax = format!("{len}{record}");
            tar.extend_from_slice(&header(b"PaxHeader", pax.len(), b'x', 0o644, ""));
            pad(&mut tar, pax.as_bytes());
        }
        tar.extend_from_slice(&header(
            e.path.as_bytes(),
            e.content.len(),
            e.kind,
            e.mode,
            &e.link,
        ));
        pad(&mut tar, &e.content);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("in memory");
    gz.finish().expect("in memory")
}

/// The sha512 SRI string of `data`.
pub fn sri512(data: &[u8]) -> String {
    Integrity {
        algorithm: Algorithm::Sha512,
        digest: Algorithm::Sha512.digest(data),
    }
    .to_sri()
}

/// A registry on 127.0.0.1: serves `path → bytes`, counts requests.
pub struct LocalRegistry {
    pub url: String,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl LocalRegistry {
    /// Serves `files` (keys like `/lodash/-/lodash-4.17.21.tgz`) under `http://127.0.0.1:<port>/`.
    pub fn serve(files: BTreeMap<String, Vec<u8>>) -> LocalRegistry {
        let files = Arc::new(files);
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let counter = hits.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
                    let files = files.clone();
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        match files.get(uri.path()) {
                            Some(body) => (axum::http::StatusCode::OK, body.clone()),
                            None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                        }
                    }
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        LocalRegistry {
            url,
            hits,
            _shutdown: tx,
        }
    }
}
