//! The commit a source folder is checked out at.
//!
//! Read from the repository files rather than by running `git`: starting a
//! process costs more than an entire nothing-changed build. Anything this
//! reader does not understand (reftable, unusual layouts) falls back to
//! `git rev-parse`.

use std::path::{Path, PathBuf};

/// The full commit id of `HEAD` for the repository holding `dir`, if any.
pub fn head_commit(dir: &Path) -> Option<String> {
    let git_dir = find_git_dir(dir)?;
    read_head(&git_dir).or_else(|| rev_parse(dir))
}

/// `.git` as a folder, or a `gitdir:` file (worktrees, submodules).
fn find_git_dir(dir: &Path) -> Option<PathBuf> {
    let mut current = std::fs::canonicalize(dir).ok();
    while let Some(d) = current {
        let candidate = d.join(".git");
        if candidate.is_dir() {
            return Some(candidate);
        }
        if candidate.is_file() {
            let text = std::fs::read_to_string(&candidate).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            return Some(d.join(target));
        }
        current = d.parent().map(Path::to_path_buf);
    }
    None
}

fn read_head(git_dir: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        return is_object_id(head).then(|| head.to_string());
    };
    // Worktrees keep HEAD in their own folder and refs in the common one.
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|| git_dir.to_path_buf());
    for base in [git_dir, common.as_path()] {
        if let Ok(id) = std::fs::read_to_string(base.join(reference)) {
            let id = id.trim();
            return is_object_id(id).then(|| id.to_string());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (id, name) = line.split_once(' ')?;
        (name == reference && is_object_id(id)).then(|| id.to_string())
    })
}

fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The committer time of `HEAD` (seconds since the epoch). Runs `git`: it is
/// needed only when a build actually happens, never on the no-op path.
pub fn commit_time(dir: &Path) -> Option<i64> {
    find_git_dir(dir)?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", "-s", "--format=%ct", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

fn rev_parse(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && is_object_id(&commit)).then_some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    #[test]
    fn agrees_with_git_for_loose_packed_detached_and_worktrees() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("fn")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        assert_eq!(head_commit(&repo.join("fn")), None, "no commit yet");
        std::fs::write(repo.join("fn/app.py"), "x").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-qm", "one"]);
        let expected = git(&repo, &["rev-parse", "HEAD"]);
        assert_eq!(
            head_commit(&repo.join("fn")).as_deref(),
            Some(expected.as_str())
        );
        git(&repo, &["pack-refs", "--all"]);
        assert_eq!(
            head_commit(&repo.join("fn")).as_deref(),
            Some(expected.as_str())
        );
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "--detach",
                dir.path().join("wt").to_str().unwrap(),
            ],
        );
        assert_eq!(
            head_commit(&dir.path().join("wt/fn")).as_deref(),
            Some(expected.as_str())
        );
        git(&repo, &["checkout", "-q", "--detach"]);
        assert_eq!(head_commit(&repo).as_deref(), Some(expected.as_str()));
        let outside = tempfile::tempdir().unwrap();
        assert_eq!(head_commit(outside.path()), None);
    }
}
