//! Everything printed: results on stdout (a closed pipe is not an error), errors on stderr.

use std::io::{self, Write};

use serde::Serialize;

use crate::exit::AppError;

/// JSON with sorted keys, pretty-printed: the form of every JSON output (diffs cleanly).
pub fn sorted_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

/// Writes to stdout; a reader that went away (`| head`) ends the output quietly.
pub fn print_stdout(text: &str) {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("dcgm-sol: cannot write to stdout: {e}"),
        Ok(()) => {}
    }
}

/// Prints an error chain on one line: `dcgm-sol: error: outer: inner: root`.
pub fn print_error(error: &AppError) {
    eprintln!("dcgm-sol: error: {:#}", error.error());
}
