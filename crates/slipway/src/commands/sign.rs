//! `slipway sign` and `slipway keygen`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use slipway_artifact::{MANIFEST_FILE_NAME, Manifest};
use slipway_attest::keys::{SIGNING_KEY_ENV, allowed_signers_line};
use slipway_attest::{KeyKind, SigningKey, provenance};

use slipway_build::evidence::{write_file, write_signatures};

use crate::context::Context;
use crate::output::{Failure, Render, Status, emit};
use crate::progress::Progress;

/// Sign built functions: a DSSE envelope over the provenance statement
/// (provenance.dsse.json) and an OpenSSH signature of each zip (<zip>.sig,
/// namespace `slipway`, checkable with `ssh-keygen -Y verify`).
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Functions to sign [default: all in slipway.toml]
    pub functions: Vec<String>,
    /// The private key (OpenSSH or PKCS#8 PEM, Ed25519 or ECDSA P-256)
    /// [default: the key itself in SLIPWAY_SIGNING_KEY]
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// The folder `slipway build` wrote [default: dist/ beside slipway.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Write a new signing key pair and its allowed_signers line.
///
/// The private key is written with mode 0600 and never printed. Keep it out
/// of the repository; in GitLab CI store its content in a masked, protected
/// variable named SLIPWAY_SIGNING_KEY.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to PATH.pub
    #[arg(long, value_name = "PATH", default_value = "slipway_signing_key")]
    pub out: PathBuf,
    /// The key type
    #[arg(long = "type", value_enum, default_value_t = KeyType::Ed25519)]
    pub key_type: KeyType,
    /// The signer's identity in allowed_signers (what `ssh-keygen -Y verify -I` names)
    #[arg(long, default_value = "slipway")]
    pub identity: String,
    /// The allowed_signers file to add the public key to [default: allowed_signers beside the key]
    #[arg(long, value_name = "PATH")]
    pub allowed_signers: Option<PathBuf>,
    /// Replace an existing key at --out
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    Ed25519,
    EcdsaP256,
}

/// The signing key from `--key` or `SLIPWAY_SIGNING_KEY` (exit 2 when unusable).
pub(crate) fn load_key(path: Option<&Path>) -> Result<SigningKey, Failure> {
    let path = path.map(Context::user_path);
    Ok(SigningKey::load(
        path.as_deref(),
        std::env::var(SIGNING_KEY_ENV).ok(),
    )?)
}

/// Signs one built function in `dir`; refuses when the zips or the statement
/// no longer match manifest.json. Everything is computed before anything is
/// written.
pub(crate) fn sign_function(
    dir: &Path,
    manifest: &Manifest,
    key: &SigningKey,
) -> Result<Vec<PathBuf>, Failure> {
    let mut zips = Vec::new();
    for artifact in manifest.artifacts() {
        let path = dir.join(&artifact.file);
        let bytes = std::fs::read(&path).map_err(|e| {
            Failure::input(miette::miette!(
                code = "slipway::sign::unreadable",
                help = "run `slipway build` first",
                "cannot read {}: {e}",
                path.display()
            ))
        })?;
        let actual = slipway_artifact::digest::sha256_hex(&bytes);
        if actual != artifact.sha256 {
            return Err(Failure::failed(miette::miette!(
                code = "slipway::sign::changed",
                help = "rebuild with `slipway build`, then sign",
                "refusing to sign {}: its SHA-256 {actual} is not the {} manifest.json records",
                path.display(),
                artifact.sha256
            )));
        }
        zips.push((artifact.file.as_str(), bytes));
    }

    let statement_path = dir.join(provenance::STATEMENT_FILE_NAME);
    let statement_bytes = std::fs::read(&statement_path).map_err(|e| {
        Failure::input(miette::miette!(
            code = "slipway::sign::no_provenance",
            help = "run `slipway build` first; it writes the provenance statement",
            "cannot read {}: {e}",
            statement_path.display()
        ))
    })?;
    let statement: serde_json::Value = serde_json::from_slice(&statement_bytes).map_err(|e| {
        Failure::failed(miette::miette!(
            code = "slipway::sign::bad_provenance",
            help = "rebuild with `slipway build`",
            "{} is not JSON: {e}",
            statement_path.display()
        ))
    })?;
    for artifact in manifest.artifacts() {
        let named = provenance::subjects(&statement)
            .into_iter()
            .any(|(name, sha)| name == artifact.file && sha == artifact.sha256);
        if !named {
            return Err(Failure::failed(miette::miette!(
                code = "slipway::sign::provenance_mismatch",
                help = "rebuild with `slipway build`, then sign",
                "refusing to sign: {} does not name {} with the SHA-256 manifest.json records",
                statement_path.display(),
                artifact.file
            )));
        }
    }
    write_signatures(
        dir,
        zips.iter().map(|(file, bytes)| (*file, bytes.as_slice())),
        &statement_bytes,
        key,
    )
}

#[derive(Serialize)]
struct SignReport {
    keyid: String,
    functions: Vec<SignedFunction>,
}

#[derive(Serialize)]
struct SignedFunction {
    function: String,
    files: Vec<PathBuf>,
}

impl Render for SignReport {
    fn human(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for f in &self.functions {
            writeln!(out, "{}: signed with {}", f.function, self.keyid)?;
            for file in &f.files {
                writeln!(out, "  {}", file.display())?;
            }
        }
        Ok(())
    }
}

pub fn run(ctx: &Context, args: SignArgs) -> Result<Status, Failure> {
    let project = ctx.project()?;
    let functions = project.select(&args.functions)?;
    let out = Context::out_dir(&project, args.out.as_deref());
    let key = load_key(args.key.as_deref())?;
    // Every manifest is read before anything is signed, so a function that
    // was never built stops the command before it writes a signature.
    let mut built = Vec::new();
    for function in functions {
        let dir = slipway_artifact::function_dist_dir(&out, &function.name);
        let manifest = Manifest::read(&dir.join(MANIFEST_FILE_NAME))?;
        built.push((function, dir, manifest));
    }
    let progress = Progress::new(ctx);
    let mut signed = Vec::new();
    for (function, dir, manifest) in built {
        progress.stage(&format!("{}: signing", function.name), None);
        let files = sign_function(&dir, &manifest, &key)?;
        signed.push(SignedFunction {
            function: function.name.clone(),
            files,
        });
    }
    drop(progress);
    emit(
        ctx,
        &SignReport {
            keyid: key.keyid(),
            functions: signed,
        },
    )?;
    Ok(Status::Ok)
}

#[derive(Serialize)]
struct KeygenReport {
    private_key: PathBuf,
    public_key: PathBuf,
    allowed_signers: PathBuf,
    keyid: String,
    public_key_line: String,
    allowed_signers_line: String,
}

impl Render for KeygenReport {
    fn human(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(
            out,
            "private key  {} (mode 0600; keep it secret)",
            self.private_key.display()
        )?;
        writeln!(out, "public key   {}", self.public_key.display())?;
        writeln!(out, "fingerprint  {}", self.keyid)?;
        writeln!(out, "added to     {}:", self.allowed_signers.display())?;
        writeln!(out, "  {}", self.allowed_signers_line)?;
        writeln!(
            out,
            "sign with `slipway build --sign --key {key}`; in GitLab CI put `base64 -w0 {key}` in a masked, protected variable SLIPWAY_SIGNING_KEY",
            key = self.private_key.display()
        )?;
        writeln!(
            out,
            "verify with `slipway verify --trusted-keys {}`",
            self.allowed_signers.display()
        )
    }
}

pub fn run_keygen(ctx: &Context, args: KeygenArgs) -> Result<Status, Failure> {
    let private_path = Context::user_path(&args.out);
    let public_path = PathBuf::from(format!("{}.pub", private_path.display()));
    let allowed_path = args
        .allowed_signers
        .as_deref()
        .map(Context::user_path)
        .unwrap_or_else(|| {
            private_path
                .parent()
                .unwrap_or(Path::new("."))
                .join("allowed_signers")
        });
    if !args.force {
        for existing in [&private_path, &public_path] {
            if existing.exists() {
                return Err(Failure::input(miette::miette!(
                    code = "slipway::keygen::exists",
                    help = "choose another --out, or pass --force to replace it",
                    "{} already exists",
                    existing.display()
                )));
            }
        }
    }
    let kind = match args.key_type {
        KeyType::Ed25519 => KeyKind::Ed25519,
        KeyType::EcdsaP256 => KeyKind::EcdsaP256,
    };
    let key = SigningKey::generate(kind, &args.identity)?;
    let public_line = key
        .public_key()
        .to_openssh()
        .map_err(|e| Failure::failed(miette::miette!("cannot encode the public key: {e}")))?;
    let allowed_line = allowed_signers_line(&args.identity, key.public_key());

    write_private(&private_path, key.to_openssh()?.as_bytes())?;
    write_file(&public_path, format!("{public_line}\n").as_bytes())?;
    let mut allowed = std::fs::read_to_string(&allowed_path).unwrap_or_default();
    if !allowed.is_empty() && !allowed.ends_with('\n') {
        allowed.push('\n');
    }
    allowed.push_str(&allowed_line);
    allowed.push('\n');
    write_file(&allowed_path, allowed.as_bytes())?;

    emit(
        ctx,
        &KeygenReport {
            private_key: private_path,
            public_key: public_path,
            allowed_signers: allowed_path,
            keyid: key.keyid(),
            public_key_line: public_line,
            allowed_signers_line: allowed_line,
        },
    )?;
    Ok(Status::Ok)
}

/// Writes the private key readable by its owner only, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    slipway_artifact::fs::write_atomic_private(path, bytes).map_err(|e| {
        Failure::failed(miette::miette!(
            code = "slipway::keygen::write",
            "cannot write {}: {e}",
            path.display()
        ))
    })
}
