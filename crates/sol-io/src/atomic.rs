//! The one way outputs reach the disk: a temporary file in the destination's directory, synced,
//! then renamed over the destination. A crash leaves the old file or the new one, never half.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Permissions of written outputs (before umask): readable by others, like any report.
#[cfg(unix)]
const OUTPUT_MODE: u32 = 0o644;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let directory = directory_of(path);
    replace(directory, path, bytes, true)?;
    sync_directory(directory);
    Ok(())
}

/// Writes many files into `directory`, each atomically for readers (a temporary file renamed
/// over the destination: never half a file), with one directory sync at the end instead of two
/// syncs per file. For regenerable outputs written by the thousand (report charts): after a
/// power loss a file may be empty — re-run the command — but a reader never sees a torn one.
/// A file already holding exactly `bytes` is left alone (re-renders rewrite only what changed).
pub fn write_atomic_batch<'a>(
    directory: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> io::Result<()> {
    for (name, bytes) in files {
        let path = directory.join(name);
        if fs::read(&path).is_ok_and(|existing| existing == bytes) {
            continue;
        }
        replace(directory, &path, bytes, false)?;
    }
    sync_directory(directory);
    Ok(())
}

fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A temporary file in `directory`, filled (and synced when asked), renamed over `path`.
fn replace(directory: &Path, path: &Path, bytes: &[u8], sync_file: bool) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dcgm-sol-").suffix(".tmp");
    // The mode is set when the file is created (tempfile's default is 0600): no extra chmod.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(OUTPUT_MODE));
    }
    let mut temp = builder.tempfile_in(directory)?;
    temp.write_all(bytes)?;
    if sync_file {
        temp.as_file().sync_all()?;
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Makes renames durable where the platform allows opening a directory.
fn sync_directory(directory: &Path) {
    if let Ok(dir) = fs::File::open(directory) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"{\"a\":1}").unwrap();
        write_atomic(&path, b"{\"a\":2}").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":2}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_batch_replaces_every_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.svg"), "old").unwrap();
        write_atomic_batch(dir.path(), [("a.svg", &b"new a"[..]), ("b.svg", &b"b"[..])]).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("a.svg")).unwrap(),
            "new a"
        );
        assert_eq!(fs::read_to_string(dir.path().join("b.svg")).unwrap(), "b");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_batch_leaves_unchanged_files_alone_and_writes_readable_ones() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        write_atomic_batch(
            dir.path(),
            [("same.svg", &b"x"[..]), ("edit.svg", &b"1"[..])],
        )
        .unwrap();
        let inode = |name: &str| fs::metadata(dir.path().join(name)).unwrap().ino();
        let (same, edit) = (inode("same.svg"), inode("edit.svg"));
        write_atomic_batch(
            dir.path(),
            [("same.svg", &b"x"[..]), ("edit.svg", &b"2"[..])],
        )
        .unwrap();
        // A rename installs a new inode; an untouched file keeps its own.
        assert_eq!(inode("same.svg"), same);
        assert_ne!(inode("edit.svg"), edit);
        assert_eq!(
            fs::read_to_string(dir.path().join("edit.svg")).unwrap(),
            "2"
        );
        // Created 0644 (before umask): owner-writable and never more permissive than that.
        let mode = fs::metadata(dir.path().join("edit.svg"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o600, 0o600);
        assert_eq!(mode & !0o644 & 0o777, 0);
    }

    #[test]
    fn fails_cleanly_in_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(&dir.path().join("nope/out.json"), b"x").is_err());
    }
}
