//! Reading input files with errors that name the file and say what to do.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// An input file that cannot be read as text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Missing.
    #[error("{path}: no such file")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// Not UTF-8 text.
    #[error("{path}: not UTF-8 text (byte {offset}); is this the right file?")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// First bad byte.
        offset: usize,
    },
    /// Any other I/O failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
}

/// Reads a whole file as UTF-8.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let bytes = fs::read(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        _ => InputError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
