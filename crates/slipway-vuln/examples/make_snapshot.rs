//! Writes the compact advisory snapshot compiled into slipway:
//! `cargo run -p slipway-vuln --example make_snapshot -- DB_FOLDER OUT.json.gz LABEL`
//! (see `scripts/make-snapshot.sh`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let (Some(db), Some(out), Some(label)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: make_snapshot DB_FOLDER OUT.json.gz LABEL".into());
    };
    let mut db = slipway_vuln::Database::open(&PathBuf::from(db))?;
    if !db.info.skipped.is_empty() {
        return Err(format!("unreadable records: {:?}", db.info.skipped).into());
    }
    db.info.source = Some(label.to_string_lossy().into_owned());
    let bytes = db.to_compact(None);
    slipway_artifact::fs::write_atomic(&PathBuf::from(&out), &bytes)?;
    eprintln!(
        "{} advisories ({} withdrawn skipped), data as of {}, {} bytes",
        db.info.advisories,
        db.info.withdrawn,
        db.info.date.as_deref().unwrap_or("?"),
        bytes.len()
    );
    Ok(())
}
