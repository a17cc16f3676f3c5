//! Exit codes (DESIGN.md §5): 0 ok, 1 runtime failure (source unreachable, bad or missing data),
//! 2 usage or input-file error. clap's own usage errors also exit 2.

use std::process::ExitCode;

/// Runtime failure: the data or the source let us down.
pub const RUNTIME_FAILURE: u8 = 1;
/// Usage or input-file error: the user can fix an argument or a file.
pub const INPUT_ERROR: u8 = 2;

/// An error with the exit code it maps to.
#[derive(Debug)]
pub enum AppError {
    /// Exit 2.
    Input(anyhow::Error),
    /// Exit 1.
    Runtime(anyhow::Error),
}

impl AppError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The numeric exit code.
    pub fn code(&self) -> u8 {
        match self {
            AppError::Input(_) => INPUT_ERROR,
            AppError::Runtime(_) => RUNTIME_FAILURE,
        }
    }

    /// The error chain.
    pub fn error(&self) -> &anyhow::Error {
        match self {
            AppError::Input(e) | AppError::Runtime(e) => e,
        }
    }
}

/// Marks any error as an input error (exit 2).
pub fn input<E: Into<anyhow::Error>>(error: E) -> AppError {
    AppError::Input(error.into())
}

/// Marks any error as a runtime failure (exit 1).
pub fn runtime<E: Into<anyhow::Error>>(error: E) -> AppError {
    AppError::Runtime(error.into())
}
