//! Where lake tables live, and how a campaign's partitions are put in place so that a reader
//! globbing `<lake>/<table>/**/*.parquet` never sees a half-built or half-replaced partition.
//!
//! [`LakeStore`] is the seam for other stores (an object store later); [`LocalLake`] is the local
//! directory implementation. Tables and the partition are plain directory names; a publish
//! builds new partitions under `<root>/.dcgm-sol-staging/` and then moves each into place with
//! one rename (or, when replacing, one atomic exchange on Linux).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Directory under the lake root where partitions are built before they are moved into place.
/// Outside every table directory, so table globs never match it; the leading dot hides it.
const STAGING_DIR: &str = ".dcgm-sol-staging";

/// Permissions of written files (before umask): readable by others, like any published table.
#[cfg(unix)]
const FILE_MODE: u32 = 0o644;

/// What to do when the campaign's partition already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfExists {
    /// Refuse the publish, writing nothing.
    Error,
    /// Replace each table's partition as a whole with the new files.
    Overwrite,
    /// Add the new files to each table's partition, keeping what is there.
    Append,
}

/// One file of one table's partition.
#[derive(Debug, Clone)]
pub struct PartitionFile {
    /// Table directory name (`dcgm_sol_v1`, `campaign_v1`).
    pub table: String,
    /// File name within the partition (`part-<id>.parquet`).
    pub file_name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// What a publish did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    /// Each table's partition location, in commit order (a path or URL string for messages).
    pub partitions: Vec<String>,
    /// Files written (locations), in commit order.
    pub files: Vec<String>,
    /// Partitions whose previous contents were replaced. Only overwrite replaces; append adds
    /// beside what is there and leaves this empty.
    pub replaced: Vec<String>,
}

/// Where lake tables live.
pub trait LakeStore {
    /// The store's location for messages (a directory path, later `s3://…`).
    fn location(&self) -> String;
    /// Whether `<table>/<partition>` exists.
    fn partition_exists(&self, table: &str, partition: &str) -> Result<bool, StoreError>;
    /// Puts `files` into `<table>/<partition>` for each table they name. Tables are committed
    /// in the order they first appear in `files` (the caller passes the detail table first and
    /// the campaign table last, so a campaign row implies its detail rows are in place).
    fn publish(
        &self,
        partition: &str,
        files: &[PartitionFile],
        mode: IfExists,
    ) -> Result<Published, StoreError>;
}

/// Why a publish or a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The mode is [`IfExists::Error`] and a table's partition already exists.
    #[error(
        "partition {} already exists; use --if-exists overwrite to replace it or --if-exists append to add to it",
        path.display()
    )]
    PartitionExists {
        /// The existing partition directory.
        path: PathBuf,
    },
    /// Appending a file whose name is already taken in the partition.
    #[error(
        "{} already exists; append only adds new files: publish under a new file name or use --if-exists overwrite",
        path.display()
    )]
    FileExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Two files of one publish share a table and a file name.
    #[error(
        "file {file_name:?} is given twice for table {table:?}; each file of a publish needs its own name"
    )]
    DuplicateFile {
        /// The table named twice.
        table: String,
        /// The file name given twice.
        file_name: String,
    },
    /// A file system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// The path operated on.
        path: PathBuf,
        /// What was being done, e.g. "writing staged file".
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A table, partition or file name that is not one plain path component; refused so that
    /// nothing is ever written outside the lake root.
    #[error(
        "refusing lake name {name:?}: {reason}; table, partition and file names must each be one plain path component"
    )]
    BadName {
        /// The refused name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

/// A lake in a local directory (created when missing).
#[derive(Debug, Clone)]
pub struct LocalLake {
    root: PathBuf,
}

impl LocalLake {
    /// A lake rooted at `root`; nothing is created until the first publish.
    pub fn new(root: impl Into<PathBuf>) -> LocalLake {
        LocalLake { root: root.into() }
    }

    /// The lake's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn partition_path(&self, table: &str, partition: &str) -> PathBuf {
        self.root.join(table).join(partition)
    }

    /// Error and overwrite: every table's partition is built under a fresh staging directory,
    /// then each is moved into place in order. The staging directory goes on every path out.
    fn publish_staged(
        &self,
        partition: &str,
        tables: &[TableFiles<'_>],
        mode: IfExists,
    ) -> Result<Published, StoreError> {
        if mode == IfExists::Error {
            for table in tables {
                let live = self.partition_path(table.name, partition);
                if exists(&live)? {
                    return Err(StoreError::PartitionExists { path: live });
                }
            }
        }
        let staging_root = self.root.join(STAGING_DIR);
        create_dirs(&staging_root)?;
        let staging = tempfile::Builder::new()
            .prefix("publish-")
            .tempdir_in(&staging_root)
            .map_err(io_error(&staging_root, "creating a staging directory in"))?;
        let outcome = self.stage_and_commit(staging.path(), partition, tables, mode);
        // Best effort: a leftover staging directory is hidden from readers and holds no live data.
        let _ = staging.close();
        // Succeeds only when no other publish is staging at the same time.
        let _ = fs::remove_dir(&staging_root);
        outcome
    }

    fn stage_and_commit(
        &self,
        staging: &Path,
        partition: &str,
        tables: &[TableFiles<'_>],
        mode: IfExists,
    ) -> Result<Published, StoreError> {
        let new_dir = staging.join("new");
        create_dirs(&new_dir)?;
        for table in tables {
            let staged = new_dir.join(table.name);
            fs::create_dir(&staged).map_err(io_error(&staged, "creating staged partition"))?;
            for file in &table.files {
                write_new_file(&staged.join(&file.file_name), &file.bytes)?;
            }
            sync_directory(&staged);
        }
        let mut published = Published::default();
        for table in tables {
            let table_dir = self.root.join(table.name);
            create_dirs(&table_dir)?;
            let live = table_dir.join(partition);
            let aside = staging.join("old").join(table.name);
            let commit = commit_table(&new_dir.join(table.name), &live, &aside, mode)?;
            sync_directory(&table_dir);
            if commit != Commit::Renamed {
                published.replaced.push(display(&live));
            }
            record(&mut published, &live, table);
        }
        sync_directory(&self.root);
        Ok(published)
    }

    /// Append: each file goes straight into the live partition, atomically per file. Every name
    /// clash is refused before anything is written.
    fn publish_appended(
        &self,
        partition: &str,
        tables: &[TableFiles<'_>],
    ) -> Result<Published, StoreError> {
        for table in tables {
            let live = self.partition_path(table.name, partition);
            for file in &table.files {
                let path = live.join(&file.file_name);
                if exists(&path)? {
                    return Err(StoreError::FileExists { path });
                }
            }
        }
        let mut published = Published::default();
        for table in tables {
            let live = self.partition_path(table.name, partition);
            create_dirs(&live)?;
            for file in &table.files {
                add_file(&live, &file.file_name, &file.bytes)?;
            }
            sync_directory(&live);
            if let Some(table_dir) = live.parent() {
                sync_directory(table_dir);
            }
            record(&mut published, &live, table);
        }
        sync_directory(&self.root);
        Ok(published)
    }
}

impl LakeStore for LocalLake {
    fn location(&self) -> String {
        display(&self.root)
    }

    fn partition_exists(&self, table: &str, partition: &str) -> Result<bool, StoreError> {
        check_name(table)?;
        check_name(partition)?;
        exists(&self.partition_path(table, partition))
    }

    fn publish(
        &self,
        partition: &str,
        files: &[PartitionFile],
        mode: IfExists,
    ) -> Result<Published, StoreError> {
        check_name(partition)?;
        let tables = group_by_table(files)?;
        match mode {
            IfExists::Error | IfExists::Overwrite => self.publish_staged(partition, &tables, mode),
            IfExists::Append => self.publish_appended(partition, &tables),
        }
    }
}

/// One table's files of a publish, in the order given.
struct TableFiles<'a> {
    name: &'a str,
    files: Vec<&'a PartitionFile>,
}

/// Groups `files` by table in order of first appearance, checking every name.
fn group_by_table(files: &[PartitionFile]) -> Result<Vec<TableFiles<'_>>, StoreError> {
    let mut tables: Vec<TableFiles<'_>> = Vec::new();
    for file in files {
        check_name(&file.table)?;
        check_name(&file.file_name)?;
        let position = match tables.iter().position(|t| t.name == file.table) {
            Some(position) => position,
            None => {
                tables.push(TableFiles {
                    name: &file.table,
                    files: Vec::new(),
                });
                tables.len() - 1
            }
        };
        let table = &mut tables[position];
        if table.files.iter().any(|f| f.file_name == file.file_name) {
            return Err(StoreError::DuplicateFile {
                table: file.table.clone(),
                file_name: file.file_name.clone(),
            });
        }
        table.files.push(file);
    }
    Ok(tables)
}

/// Refuses anything but one plain path component. A leading dot is refused as well: it covers
/// `.` and `..`, and hidden names are the store's own (staging, temporary files).
fn check_name(name: &str) -> Result<(), StoreError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.starts_with('.') {
        "it starts with '.' (covers '.' and '..'; hidden names are reserved for staging and temporary files)"
    } else if name.contains(['/', '\\']) {
        "it contains a path separator"
    } else if name.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(StoreError::BadName {
        name: name.to_string(),
        reason,
    })
}

/// How a staged partition was put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// No partition was there (or an empty one): one rename.
    Renamed,
    /// The live partition was swapped with the staged one in one atomic step.
    #[cfg(target_os = "linux")]
    Exchanged,
    /// The live partition was renamed away, then the staged one renamed in.
    MovedAside,
}

/// Moves the partition built at `staged` to `live`; `aside` is a free path in the staging
/// directory where the fallback parks the old contents. Kept apart from the existence check so a
/// partition that appears between the check and the rename (a concurrent publish) is testable.
fn commit_table(
    staged: &Path,
    live: &Path,
    aside: &Path,
    mode: IfExists,
) -> Result<Commit, StoreError> {
    // A directory renames onto a missing or empty directory, never onto a non-empty one.
    match fs::rename(staged, live) {
        Ok(()) => Ok(Commit::Renamed),
        Err(e) if is_occupied(&e) => match mode {
            IfExists::Overwrite => replace_partition(staged, live, aside),
            IfExists::Error | IfExists::Append => Err(StoreError::PartitionExists {
                path: live.to_path_buf(),
            }),
        },
        Err(e) => Err(io_error(live, "renaming the staged partition to")(e)),
    }
}

fn is_occupied(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
    )
}

/// Swaps the staged partition with the live one in one `renameat2(RENAME_EXCHANGE)`: a reader
/// or a crash sees the old directory or the new, never a mix and never nothing. The old contents
/// end up at `staged` and are deleted. File systems without the exchange take the fallback.
#[cfg(target_os = "linux")]
fn replace_partition(staged: &Path, live: &Path, aside: &Path) -> Result<Commit, StoreError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, staged, CWD, live, RenameFlags::EXCHANGE) {
        Ok(()) => {
            // Best effort: the staging directory's removal retries it.
            let _ = fs::remove_dir_all(staged);
            Ok(Commit::Exchanged)
        }
        // EINVAL: the file system lacks RENAME_EXCHANGE (e.g. ZFS before 2.2, some network
        // file systems); ENOSYS: a kernel before 3.15.
        Err(Errno::INVAL | Errno::NOSYS) => move_aside(staged, live, aside),
        Err(e) => Err(io_error(live, "exchanging the staged partition with")(
            e.into(),
        )),
    }
}

/// Without an atomic exchange on this platform, the two-rename fallback.
#[cfg(not(target_os = "linux"))]
fn replace_partition(staged: &Path, live: &Path, aside: &Path) -> Result<Commit, StoreError> {
    move_aside(staged, live, aside)
}

/// Replaces `live` by `staged` with two renames: the live partition to `aside`, the staged one
/// to `live`, then the old contents are deleted. NOT atomic: between the renames the partition
/// is missing (a reader sees no rows for the campaign), and a crash there leaves the old
/// contents under the staging directory. A reader still never sees old and new files mixed.
fn move_aside(staged: &Path, live: &Path, aside: &Path) -> Result<Commit, StoreError> {
    if let Some(parent) = aside.parent() {
        create_dirs(parent)?;
    }
    fs::rename(live, aside).map_err(io_error(live, "moving the old partition aside from"))?;
    if let Err(e) = fs::rename(staged, live) {
        // Put the old partition back so the failed publish leaves it as it was.
        let _ = fs::rename(aside, live);
        return Err(io_error(live, "renaming the staged partition to")(e));
    }
    // Best effort: the staging directory's removal retries it.
    let _ = fs::remove_dir_all(aside);
    Ok(Commit::MovedAside)
}

/// Creates `path` (which must not exist) holding `bytes`, synced.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io_error(path, "creating staged file"))?;
    fill(&mut file, bytes).map_err(io_error(path, "writing staged file"))
}

/// Adds `name` holding `bytes` to `directory` atomically: a hidden temporary file (no table glob
/// matches `.dcgm-sol-*.tmp`), synced, then renamed to `name` only if that name is still free.
fn add_file(directory: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let mut temp = tempfile::Builder::new()
        .prefix(".dcgm-sol-")
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(io_error(directory, "creating a temporary file in"))?;
    fill(temp.as_file_mut(), bytes).map_err(io_error(temp.path(), "writing temporary file"))?;
    let path = directory.join(name);
    match temp.persist_noclobber(&path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
            Err(StoreError::FileExists { path })
        }
        Err(e) => Err(io_error(&path, "renaming a temporary file to")(e.error)),
    }
}

/// Writes `bytes`, sets the published mode (temporary files are created 0600) and syncs.
fn fill(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    file.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    file.sync_all()
}

/// Whether anything (a directory, a file, a dangling link) is at `path`.
fn exists(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, "checking for")(e)),
    }
}

fn create_dirs(path: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(path).map_err(io_error(path, "creating directory"))
}

/// Makes renames and new entries durable where the platform allows opening a directory.
fn sync_directory(directory: &Path) {
    if let Ok(dir) = File::open(directory) {
        let _ = dir.sync_all();
    }
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        path,
        action,
        source,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Adds one committed table's partition and files to `published`.
fn record(published: &mut Published, live: &Path, table: &TableFiles<'_>) {
    published.partitions.push(display(live));
    published.files.extend(
        table
            .files
            .iter()
            .map(|file| display(&live.join(&file.file_name))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const DETAIL: &str = "dcgm_sol_v1";
    const CAMPAIGN: &str = "campaign_v1";

    fn file(table: &str, file_name: &str, bytes: &str) -> PartitionFile {
        PartitionFile {
            table: table.to_string(),
            file_name: file_name.to_string(),
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    /// Every entry under `root` (hidden ones included) by relative path: `None` for a directory,
    /// the contents for a file. Empty when `root` is missing.
    fn listing(root: &Path) -> BTreeMap<String, Option<String>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<String>>) {
            let Ok(entries) = fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                if path.is_dir() {
                    out.insert(relative, None);
                    walk(root, &path, out);
                } else {
                    out.insert(relative, Some(fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    /// The expected listing from `(path, contents)` pairs, `None` for a directory.
    fn expect(entries: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        entries
            .iter()
            .map(|(path, contents)| (path.to_string(), contents.map(str::to_string)))
            .collect()
    }

    fn location(root: &Path, relative: &str) -> String {
        root.join(relative).display().to_string()
    }

    /// A fresh lake under a temporary directory; the lake root itself does not exist yet.
    fn lake() -> (tempfile::TempDir, LocalLake) {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalLake::new(dir.path().join("lake"));
        (dir, lake)
    }

    #[test]
    fn the_first_publish_creates_both_partitions_with_exactly_the_given_bytes() {
        let (_dir, lake) = lake();
        assert!(!lake.partition_exists(DETAIL, "c1").unwrap());
        let files = [
            file(DETAIL, "part-1.parquet", "detail rows"),
            file(CAMPAIGN, "part-1.parquet", "campaign row"),
        ];
        let published = lake.publish("c1", &files, IfExists::Error).unwrap();

        let root = lake.root();
        assert_eq!(
            published,
            Published {
                partitions: vec![
                    location(root, "dcgm_sol_v1/c1"),
                    location(root, "campaign_v1/c1")
                ],
                files: vec![
                    location(root, "dcgm_sol_v1/c1/part-1.parquet"),
                    location(root, "campaign_v1/c1/part-1.parquet"),
                ],
                replaced: vec![],
            }
        );
        // The full listing also shows that no staging directory is left behind.
        assert_eq!(
            listing(root),
            expect(&[
                ("campaign_v1", None),
                ("campaign_v1/c1", None),
                ("campaign_v1/c1/part-1.parquet", Some("campaign row")),
                ("dcgm_sol_v1", None),
                ("dcgm_sol_v1/c1", None),
                ("dcgm_sol_v1/c1/part-1.parquet", Some("detail rows")),
            ])
        );
        assert!(lake.partition_exists(DETAIL, "c1").unwrap());
        assert_eq!(lake.location(), root.display().to_string());
    }

    #[cfg(unix)]
    #[test]
    fn published_files_are_readable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, lake) = lake();
        lake.publish("c1", &[file(DETAIL, "a.parquet", "x")], IfExists::Error)
            .unwrap();
        lake.publish("c1", &[file(DETAIL, "b.parquet", "y")], IfExists::Append)
            .unwrap();
        for name in ["a.parquet", "b.parquet"] {
            let path = lake.root().join(DETAIL).join("c1").join(name);
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644, "{name}");
        }
    }

    #[test]
    fn error_mode_refuses_when_any_partition_exists_and_leaves_the_lake_untouched() {
        let (_dir, lake) = lake();
        // Only the campaign table (the second one) has the partition.
        lake.publish(
            "c1",
            &[file(CAMPAIGN, "old.parquet", "old")],
            IfExists::Error,
        )
        .unwrap();
        let before = listing(lake.root());

        let files = [
            file(DETAIL, "new.parquet", "new detail"),
            file(CAMPAIGN, "new.parquet", "new campaign"),
        ];
        let error = lake.publish("c1", &files, IfExists::Error).unwrap_err();

        match &error {
            StoreError::PartitionExists { path } => {
                assert_eq!(path, &lake.root().join("campaign_v1/c1"));
            }
            other => panic!("expected PartitionExists, got {other:?}"),
        }
        assert!(
            error.to_string().contains(
                "use --if-exists overwrite to replace it or --if-exists append to add to it"
            ),
            "{error}"
        );
        assert_eq!(listing(lake.root()), before);
    }

    #[test]
    fn overwrite_replaces_each_partition_and_is_idempotent_in_file_set() {
        let (_dir, lake) = lake();
        let old = [
            file(DETAIL, "part-a.parquet", "old detail"),
            file(CAMPAIGN, "part-a.parquet", "old campaign"),
        ];
        lake.publish("c1", &old, IfExists::Error).unwrap();

        let new = [
            file(DETAIL, "part-b.parquet", "new detail"),
            file(CAMPAIGN, "part-b.parquet", "new campaign"),
        ];
        let expected = expect(&[
            ("campaign_v1", None),
            ("campaign_v1/c1", None),
            ("campaign_v1/c1/part-b.parquet", Some("new campaign")),
            ("dcgm_sol_v1", None),
            ("dcgm_sol_v1/c1", None),
            ("dcgm_sol_v1/c1/part-b.parquet", Some("new detail")),
        ]);
        let both_partitions = vec![
            location(lake.root(), "dcgm_sol_v1/c1"),
            location(lake.root(), "campaign_v1/c1"),
        ];
        for run in 1..=2 {
            let published = lake.publish("c1", &new, IfExists::Overwrite).unwrap();
            assert_eq!(published.replaced, both_partitions, "run {run}");
            assert_eq!(listing(lake.root()), expected, "run {run}");
        }
    }

    #[test]
    fn append_keeps_the_old_files_and_adds_the_new_ones() {
        let (_dir, lake) = lake();
        lake.publish(
            "c1",
            &[
                file(DETAIL, "part-a.parquet", "detail a"),
                file(CAMPAIGN, "part-a.parquet", "campaign a"),
            ],
            IfExists::Error,
        )
        .unwrap();
        let published = lake
            .publish(
                "c1",
                &[
                    file(DETAIL, "part-b.parquet", "detail b"),
                    file(CAMPAIGN, "part-b.parquet", "campaign b"),
                ],
                IfExists::Append,
            )
            .unwrap();

        assert_eq!(
            published.files,
            vec![
                location(lake.root(), "dcgm_sol_v1/c1/part-b.parquet"),
                location(lake.root(), "campaign_v1/c1/part-b.parquet"),
            ]
        );
        assert!(published.replaced.is_empty());
        assert_eq!(
            listing(lake.root()),
            expect(&[
                ("campaign_v1", None),
                ("campaign_v1/c1", None),
                ("campaign_v1/c1/part-a.parquet", Some("campaign a")),
                ("campaign_v1/c1/part-b.parquet", Some("campaign b")),
                ("dcgm_sol_v1", None),
                ("dcgm_sol_v1/c1", None),
                ("dcgm_sol_v1/c1/part-a.parquet", Some("detail a")),
                ("dcgm_sol_v1/c1/part-b.parquet", Some("detail b")),
            ])
        );
    }

    #[test]
    fn append_creates_a_missing_partition() {
        let (_dir, lake) = lake();
        lake.publish("c1", &[file(DETAIL, "a.parquet", "a")], IfExists::Append)
            .unwrap();
        assert_eq!(
            listing(lake.root()),
            expect(&[
                ("dcgm_sol_v1", None),
                ("dcgm_sol_v1/c1", None),
                ("dcgm_sol_v1/c1/a.parquet", Some("a")),
            ])
        );
    }

    #[test]
    fn an_append_name_clash_is_refused_before_anything_is_written() {
        let (_dir, lake) = lake();
        lake.publish(
            "c1",
            &[file(CAMPAIGN, "part-a.parquet", "campaign a")],
            IfExists::Error,
        )
        .unwrap();
        let before = listing(lake.root());

        // The detail file is new, the campaign one clashes: neither may be written.
        let error = lake
            .publish(
                "c1",
                &[
                    file(DETAIL, "part-c.parquet", "detail c"),
                    file(CAMPAIGN, "part-a.parquet", "campaign a again"),
                ],
                IfExists::Append,
            )
            .unwrap_err();

        match error {
            StoreError::FileExists { path } => {
                assert_eq!(path, lake.root().join("campaign_v1/c1/part-a.parquet"));
            }
            other => panic!("expected FileExists, got {other:?}"),
        }
        // Also: no staging directory and no temporary file left.
        assert_eq!(listing(lake.root()), before);
    }

    #[test]
    fn adding_a_file_whose_name_appeared_meanwhile_is_refused_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("part-a.parquet"), "theirs").unwrap();
        let error = add_file(dir.path(), "part-a.parquet", b"ours").unwrap_err();
        assert!(matches!(error, StoreError::FileExists { .. }), "{error:?}");
        assert_eq!(
            listing(dir.path()),
            expect(&[("part-a.parquet", Some("theirs"))])
        );
    }

    #[test]
    fn names_that_are_not_one_plain_path_component_are_refused_and_nothing_is_written() {
        let good = || file(DETAIL, "part-1.parquet", "x");
        let cases: Vec<(&str, &str, PartitionFile)> = vec![
            ("empty partition", "", good()),
            ("parent partition", "..", good()),
            ("current partition", ".", good()),
            ("nested partition", "a/b", good()),
            ("backslash partition", "a\\b", good()),
            ("control partition", "c1\n", good()),
            ("nested table", "c1", file("a/b", "p.parquet", "x")),
            ("parent table", "c1", file("..", "p.parquet", "x")),
            ("empty table", "c1", file("", "p.parquet", "x")),
            ("escaping file", "c1", file(DETAIL, "../p.parquet", "x")),
            ("empty file", "c1", file(DETAIL, "", "x")),
            ("hidden file", "c1", file(DETAIL, ".dcgm-sol-x.tmp", "x")),
        ];
        for (case, partition, bad) in cases {
            for mode in [IfExists::Error, IfExists::Overwrite, IfExists::Append] {
                let (_dir, lake) = lake();
                let error = lake.publish(partition, &[good(), bad.clone()], mode);
                assert!(
                    matches!(error, Err(StoreError::BadName { .. })),
                    "{case} {mode:?}: {error:?}"
                );
                assert!(
                    !lake.root().exists(),
                    "{case} {mode:?}: the lake was created"
                );
            }
        }
        let (_dir, lake) = lake();
        assert!(matches!(
            lake.partition_exists("..", "c1"),
            Err(StoreError::BadName { .. })
        ));
        assert!(matches!(
            lake.partition_exists(DETAIL, "a/b"),
            Err(StoreError::BadName { .. })
        ));
    }

    #[test]
    fn a_file_given_twice_for_one_table_is_refused() {
        let (_dir, lake) = lake();
        let files = [
            file(DETAIL, "p.parquet", "1"),
            file(CAMPAIGN, "p.parquet", "campaign"),
            file(DETAIL, "p.parquet", "2"),
        ];
        let error = lake.publish("c1", &files, IfExists::Overwrite).unwrap_err();
        assert!(
            matches!(&error, StoreError::DuplicateFile { table, file_name }
                if table == DETAIL && file_name == "p.parquet"),
            "{error:?}"
        );
        assert!(!lake.root().exists());
    }

    #[test]
    fn a_failure_after_staging_still_removes_the_staging_directory() {
        let (_dir, lake) = lake();
        fs::create_dir_all(lake.root()).unwrap();
        // A plain file where the campaign table directory should be: its commit fails.
        fs::write(lake.root().join(CAMPAIGN), "not a directory").unwrap();
        let files = [
            file(DETAIL, "p.parquet", "detail"),
            file(CAMPAIGN, "p.parquet", "campaign"),
        ];
        let error = lake.publish("c1", &files, IfExists::Overwrite).unwrap_err();

        assert!(
            matches!(&error, StoreError::Io { path, .. } if path == &lake.root().join(CAMPAIGN)),
            "{error:?}"
        );
        // The detail table committed first, as ordered; nothing of the staging remains.
        assert_eq!(
            listing(lake.root()),
            expect(&[
                ("campaign_v1", Some("not a directory")),
                ("dcgm_sol_v1", None),
                ("dcgm_sol_v1/c1", None),
                ("dcgm_sol_v1/c1/p.parquet", Some("detail")),
            ])
        );
    }

    #[test]
    fn another_publish_staging_at_the_same_time_keeps_the_staging_root() {
        let (_dir, lake) = lake();
        let other = lake.root().join(STAGING_DIR).join("publish-other");
        fs::create_dir_all(&other).unwrap();
        lake.publish("c1", &[file(DETAIL, "p.parquet", "x")], IfExists::Error)
            .unwrap();
        assert!(other.is_dir());
        assert_eq!(
            fs::read_dir(lake.root().join(STAGING_DIR)).unwrap().count(),
            1
        );
    }

    #[test]
    fn tables_commit_in_the_order_they_first_appear() {
        let (_dir, lake) = lake();
        let files = [
            file(CAMPAIGN, "x.parquet", "x"),
            file(DETAIL, "y.parquet", "y"),
            file(CAMPAIGN, "z.parquet", "z"),
        ];
        let published = lake.publish("c1", &files, IfExists::Overwrite).unwrap();
        let root = lake.root();
        assert_eq!(
            published,
            Published {
                partitions: vec![
                    location(root, "campaign_v1/c1"),
                    location(root, "dcgm_sol_v1/c1")
                ],
                files: vec![
                    location(root, "campaign_v1/c1/x.parquet"),
                    location(root, "campaign_v1/c1/z.parquet"),
                    location(root, "dcgm_sol_v1/c1/y.parquet"),
                ],
                // Overwrite onto partitions that did not exist replaces nothing.
                replaced: vec![],
            }
        );
    }

    /// A staged partition holding `new.parquet` and a live one holding `old.parquet`.
    fn staged_and_live() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staging/new/t");
        let live = dir.path().join("t/c1");
        let aside = dir.path().join("staging/old/t");
        fs::create_dir_all(&staged).unwrap();
        fs::create_dir_all(&live).unwrap();
        fs::write(staged.join("new.parquet"), "new").unwrap();
        fs::write(live.join("old.parquet"), "old").unwrap();
        (dir, staged, live, aside)
    }

    #[test]
    fn a_partition_that_appears_before_the_rename_is_refused_in_error_mode() {
        // The existence check passed; then a concurrent publish created the partition.
        let (_dir, staged, live, aside) = staged_and_live();
        let error = commit_table(&staged, &live, &aside, IfExists::Error).unwrap_err();
        assert!(
            matches!(&error, StoreError::PartitionExists { path } if path == &live),
            "{error:?}"
        );
        assert_eq!(listing(&live), expect(&[("old.parquet", Some("old"))]));
        assert_eq!(listing(&staged), expect(&[("new.parquet", Some("new"))]));
    }

    #[test]
    fn an_empty_partition_is_taken_over_by_a_plain_rename() {
        let (_dir, staged, live, aside) = staged_and_live();
        fs::remove_file(live.join("old.parquet")).unwrap();
        let commit = commit_table(&staged, &live, &aside, IfExists::Error).unwrap();
        assert_eq!(commit, Commit::Renamed);
        assert_eq!(listing(&live), expect(&[("new.parquet", Some("new"))]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn overwrite_exchanges_the_partitions_in_one_step_on_linux() {
        use std::os::unix::fs::MetadataExt;
        let (_dir, staged, live, aside) = staged_and_live();
        let staged_inode = fs::metadata(&staged).unwrap().ino();

        let commit = commit_table(&staged, &live, &aside, IfExists::Overwrite).unwrap();

        assert_eq!(commit, Commit::Exchanged);
        // The staged directory itself now sits at the live path (moved, not copied) ...
        assert_eq!(fs::metadata(&live).unwrap().ino(), staged_inode);
        assert_eq!(listing(&live), expect(&[("new.parquet", Some("new"))]));
        // ... and the old contents, swapped to the staged path, are deleted; nothing was parked.
        assert!(!staged.exists());
        assert!(!aside.exists());
    }

    #[test]
    fn the_fallback_moves_the_old_partition_aside_then_deletes_it() {
        let (_dir, staged, live, aside) = staged_and_live();
        let commit = move_aside(&staged, &live, &aside).unwrap();
        assert_eq!(commit, Commit::MovedAside);
        assert_eq!(listing(&live), expect(&[("new.parquet", Some("new"))]));
        assert!(!staged.exists());
        assert!(!aside.exists());
    }

    #[test]
    fn the_fallback_puts_the_old_partition_back_when_the_new_one_cannot_move_in() {
        let (_dir, staged, live, aside) = staged_and_live();
        fs::remove_dir_all(&staged).unwrap();
        let error = move_aside(&staged, &live, &aside).unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
        assert_eq!(listing(&live), expect(&[("old.parquet", Some("old"))]));
    }
}
