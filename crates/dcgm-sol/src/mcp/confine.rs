//! The one directory the server lets tools touch: every path an agent gives is resolved
//! (symlinks included) and must land inside it.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The campaigns directory, canonical.
#[derive(Debug, Clone)]
pub struct CampaignsRoot {
    path: PathBuf,
}

impl CampaignsRoot {
    /// The canonical form of `dir`, which must be an existing directory.
    pub fn open(dir: &Path) -> Result<CampaignsRoot, String> {
        let path = fs::canonicalize(dir).map_err(|e| {
            format!(
                "campaigns directory {}: {e}; start the server with --campaigns-dir DIR naming an existing directory",
                dir.display()
            )
        })?;
        if !path.is_dir() {
            return Err(format!(
                "campaigns directory {} is not a directory",
                dir.display()
            ));
        }
        Ok(CampaignsRoot { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolves the path argument `field` = `given` (relative to the campaigns directory): the
    /// longest part that exists is resolved with its symlinks, the rest must be plain names
    /// (to be created), and the whole must lie strictly inside the campaigns directory.
    pub fn confine(&self, field: &str, given: &str) -> Result<PathBuf, String> {
        let joined = self.path.join(given);
        let components: Vec<Component> = joined.components().collect();
        for existing in (1..=components.len()).rev() {
            let prefix: PathBuf = components[..existing].iter().collect();
            match fs::symlink_metadata(&prefix) {
                Ok(_) => {
                    let real = fs::canonicalize(&prefix).map_err(|e| {
                        format!(
                            "`{field}` = {given}: {} cannot be resolved ({e}); a dangling symbolic link is not followed",
                            prefix.display()
                        )
                    })?;
                    let rest = &components[existing..];
                    if let Some(odd) = rest.iter().find(|c| !matches!(c, Component::Normal(_))) {
                        return Err(format!(
                            "`{field}` = {given}: `{}` after the part that does not exist yet ({}) cannot be resolved; give a plain path",
                            odd.as_os_str().to_string_lossy(),
                            prefix.display()
                        ));
                    }
                    let resolved = rest.iter().fold(real, |path, c| path.join(c));
                    return self.inside(field, given, resolved);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("`{field}` = {given}: {}: {e}", prefix.display())),
            }
        }
        Err(format!("`{field}` = {given}: nothing of it exists"))
    }

    fn inside(&self, field: &str, given: &str, resolved: PathBuf) -> Result<PathBuf, String> {
        if resolved.starts_with(&self.path) && resolved != self.path {
            Ok(resolved)
        } else {
            Err(format!(
                "`{field}` = {given} resolves to {}, outside the campaigns directory {}; this server reads and writes only inside it (give a path under it, or start the server with another --campaigns-dir)",
                resolved.display(),
                self.path.display()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, CampaignsRoot) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("campaigns/c1/cells")).unwrap();
        fs::write(dir.path().join("campaigns/c1/scrapes.prom"), "x").unwrap();
        fs::write(dir.path().join("secret.txt"), "x").unwrap();
        let root = CampaignsRoot::open(&dir.path().join("campaigns")).unwrap();
        (dir, root)
    }

    #[test]
    fn paths_inside_resolve_relative_to_the_root() {
        let (_dir, root) = root();
        let inside = root.path().join("c1/scrapes.prom");
        assert_eq!(
            root.confine("scrapes", "c1/scrapes.prom"),
            Ok(inside.clone())
        );
        assert_eq!(
            root.confine("scrapes", &inside.display().to_string()),
            Ok(inside)
        );
        // Not there yet: the existing part resolves, the rest is appended.
        assert_eq!(
            root.confine("lake", "lake/new"),
            Ok(root.path().join("lake/new"))
        );
        // `..` inside an existing part is fine when it stays inside.
        assert_eq!(
            root.confine("scrapes", "c1/cells/../scrapes.prom"),
            Ok(root.path().join("c1/scrapes.prom"))
        );
    }

    #[test]
    fn paths_outside_are_refused_with_the_reason() {
        let (dir, root) = root();
        for given in ["../secret.txt", "/etc/passwd", "../elsewhere/lake", "."] {
            let refused = root.confine("lake", given).unwrap_err();
            assert!(
                refused.contains("outside the campaigns directory"),
                "{given}: {refused}"
            );
        }
        // A `..` after a part that does not exist cannot be checked.
        let refused = root.confine("lake", "new/../../x").unwrap_err();
        assert!(refused.contains("give a plain path"), "{refused}");
        // A symlink inside that points outside resolves to the outside.
        std::os::unix::fs::symlink(dir.path(), root.path().join("out")).unwrap();
        let refused = root.confine("lake", "out/lake").unwrap_err();
        assert!(refused.contains("outside"), "{refused}");
        // A dangling symlink is not followed (writing through it could land anywhere).
        std::os::unix::fs::symlink("/nonexistent/x", root.path().join("dangling")).unwrap();
        let refused = root.confine("lake", "dangling").unwrap_err();
        assert!(refused.contains("dangling"), "{refused}");
    }
}
