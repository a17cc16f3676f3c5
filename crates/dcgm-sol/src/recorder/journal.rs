//! The journal writer: every scrape is appended to the cell's journal and synced as it arrives,
//! so an interrupted run keeps everything but the scrape in flight.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use anyhow::Context as _;
use sol_core::record::{JournalEntry, encode_entry};

/// The journal writer thread.
pub struct JournalWriter {
    thread: JoinHandle<anyhow::Result<usize>>,
}

impl JournalWriter {
    /// Creates (truncates) the journal at `path` and appends entries from `entries` until every
    /// sender is gone.
    pub fn start(path: &Path, entries: Receiver<JournalEntry>) -> anyhow::Result<JournalWriter> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("creating the scrape journal {}", path.display()))?;
        let path = path.to_path_buf();
        let thread = std::thread::spawn(move || append_all(file, &path, entries));
        Ok(JournalWriter { thread })
    }

    /// Waits for the last entry; returns how many were written.
    pub fn finish(self) -> anyhow::Result<usize> {
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the journal writer panicked"))?
    }
}

fn append_all(
    mut file: File,
    path: &Path,
    entries: Receiver<JournalEntry>,
) -> anyhow::Result<usize> {
    let mut written = 0;
    for entry in entries {
        file.write_all(encode_entry(&entry).as_bytes())
            .and_then(|()| file.sync_data())
            .with_context(|| format!("appending to the scrape journal {}", path.display()))?;
        written += 1;
    }
    Ok(written)
}
