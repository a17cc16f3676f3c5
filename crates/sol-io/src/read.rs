//! Reading input files with errors that name the file and say what to do.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Longest line [`for_each_line`] accepts. Exporter lines are well under a kilobyte; the cap
/// only bounds what one hostile line can cost.
pub const MAX_LINE_BYTES: usize = 128 << 20;
/// How much of a file's end [`last_line`] reads.
const TAIL_BYTES: u64 = 64 << 10;

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
    /// A directory where a file belongs.
    #[error("{path}: is a directory, not a file; put the file there or remove the directory")]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// A line longer than [`MAX_LINE_BYTES`] (a damaged or wrong file).
    #[error("{path}: line {line} is longer than {max_mib} MiB; is this the right file?")]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The limit, MiB.
        max_mib: usize,
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

/// A UTF-8 byte-order mark, which editors on Windows put at the start of text files.
const BOM: &str = "\u{feff}";

fn io_error(path: &Path) -> impl Fn(io::Error) -> InputError + '_ {
    move |source| match source.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        io::ErrorKind::IsADirectory => InputError::IsDirectory {
            path: path.to_path_buf(),
        },
        _ => InputError::Io {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Opens a file for reading; a directory is refused up front (opening one succeeds on Unix).
fn open(path: &Path) -> Result<File, InputError> {
    let file = File::open(path).map_err(io_error(path))?;
    if file.metadata().map_err(io_error(path))?.is_dir() {
        return Err(InputError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Reads a whole file as UTF-8, without a leading byte-order mark.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    let mut text = String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    if text.starts_with(BOM) {
        text.drain(..BOM.len());
    }
    Ok(text)
}

/// Calls `each` with every line of a UTF-8 text file (without its `\n`), reading it in pieces:
/// memory holds one line, not the file. Stops at the first error.
pub fn for_each_line<E: From<InputError>>(
    path: &Path,
    each: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    lines_up_to(path, MAX_LINE_BYTES, each)
}

fn lines_up_to<E: From<InputError>>(
    path: &Path,
    max_line_bytes: usize,
    mut each: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let mut reader = BufReader::with_capacity(1 << 20, open(path)?);
    let mut line = Vec::new();
    let (mut number, mut offset) = (0, 0);
    loop {
        line.clear();
        let read = (&mut reader)
            .take(max_line_bytes as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io_error(path))?;
        if read == 0 {
            return Ok(());
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > max_line_bytes {
            return Err(InputError::LineTooLong {
                path: path.to_path_buf(),
                line: number,
                max_mib: max_line_bytes >> 20,
            }
            .into());
        }
        let text = std::str::from_utf8(&line).map_err(|e| InputError::NotUtf8 {
            path: path.to_path_buf(),
            offset: offset + e.valid_up_to(),
        })?;
        each(if number == 1 {
            text.strip_prefix(BOM).unwrap_or(text)
        } else {
            text
        })?;
        offset += read;
    }
}

/// The last non-blank line of a text file, read from its tail.
pub fn last_line(path: &Path) -> Result<String, InputError> {
    let mut file = open(path)?;
    let length = file.metadata().map_err(io_error(path))?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(TAIL_BYTES)))
        .map_err(io_error(path))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io_error(path))?;
    let text = String::from_utf8_lossy(&tail);
    Ok(text
        .trim_end()
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fs;

    /// The lines of a file holding `bytes`, with a 1 MiB line limit.
    fn lines_of(bytes: &[u8]) -> Result<Vec<String>, InputError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, bytes).unwrap();
        let mut lines = Vec::new();
        lines_up_to(&path, 1 << 20, |line| {
            lines.push(line.to_string());
            Ok::<(), InputError>(())
        })?;
        Ok(lines)
    }

    #[test]
    fn streams_lines_with_or_without_a_final_newline() {
        assert_eq!(lines_of(b"a\nb\r\n\nc").unwrap(), ["a", "b\r", "", "c"]);
        assert!(lines_of(b"").unwrap().is_empty());
    }

    #[test]
    fn names_the_first_bad_byte_and_overlong_lines() {
        let error = lines_of(b"ok\nbad \xff here\n").unwrap_err();
        // "ok\n" is 3 bytes, "bad " 4 more: the bad byte is at offset 7.
        assert!(
            matches!(error, InputError::NotUtf8 { offset: 7, .. }),
            "{error}"
        );
        let long = vec![b'x'; (1 << 20) + 1];
        let error = lines_of(&long).unwrap_err();
        assert!(
            error.to_string().contains("line 1 is longer than 1 MiB"),
            "{error}"
        );
    }

    #[test]
    fn drops_a_leading_bom_and_names_a_directory() {
        assert_eq!(
            lines_of("\u{feff}a\n\u{feff}b".as_bytes()).unwrap(),
            ["a", "\u{feff}b"]
        );
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t"), "\u{feff}text").unwrap();
        assert_eq!(read_text(&dir.path().join("t")).unwrap(), "text");
        let error = read_text(dir.path()).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "is a directory, not a file; put the file there or remove the directory"
            ),
            "{error}"
        );
    }

    #[test]
    fn last_line_skips_trailing_blanks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "m 1 5\n# EOF\n\n  \n").unwrap();
        assert_eq!(last_line(&path).unwrap(), "# EOF");
    }
}
