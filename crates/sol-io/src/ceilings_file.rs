//! Which ceilings file is in force (DESIGN.md §2): `--ceilings FILE`, else `$SOL_CEILINGS_YAML`,
//! else `configs/sol-ceilings.yaml` found by walking up from the campaign directory, else the
//! built-in table. A user file is layered over the built-in table, so rows it does not define
//! keep their built-in values.

use std::path::{Path, PathBuf};

use sol_core::ceilings::{Ceilings, CeilingsError};

use crate::read::{InputError, read_text};

/// The ceilings in force and how they were found.
#[derive(Debug, Clone)]
pub struct CeilingsChoice {
    /// Layered ceilings.
    pub ceilings: Ceilings,
    /// The user file, if any.
    pub file: Option<PathBuf>,
    /// How it was found (`--ceilings`, `$SOL_CEILINGS_YAML`, `configs/sol-ceilings.yaml above the campaign`, `built-in`).
    pub found_by: String,
}

/// A ceilings file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CeilingsFileError {
    /// Unreadable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Invalid content (the message names the file, row and key).
    #[error(transparent)]
    Ceilings(#[from] CeilingsError),
}

/// The walk-up location of a project's ceilings file.
pub const CONFIG_RELATIVE_PATH: &str = "configs/sol-ceilings.yaml";

/// Finds and loads the ceilings in force.
pub fn load_ceilings(
    explicit: Option<&Path>,
    env_value: Option<&str>,
    campaign_dir: Option<&Path>,
) -> Result<CeilingsChoice, CeilingsFileError> {
    let builtin = Ceilings::builtin()?;
    let found = explicit
        .map(|p| (p.to_path_buf(), "--ceilings"))
        .or_else(|| {
            env_value
                .filter(|v| !v.is_empty())
                .map(|v| (PathBuf::from(v), "$SOL_CEILINGS_YAML"))
        })
        .or_else(|| {
            campaign_dir?
                .ancestors()
                .map(|dir| dir.join(CONFIG_RELATIVE_PATH))
                .find(|p| p.is_file())
                .map(|p| (p, "configs/sol-ceilings.yaml above the campaign"))
        });
    match found {
        Some((path, found_by)) => {
            let text = read_text(&path)?;
            let user = Ceilings::from_yaml(&text, &path.display().to_string())?;
            Ok(CeilingsChoice {
                ceilings: user.layered_over(builtin),
                file: Some(path),
                found_by: found_by.to_string(),
            })
        }
        None => Ok(CeilingsChoice {
            ceilings: builtin,
            file: None,
            found_by: "built-in".to_string(),
        }),
    }
}
