//! Errors and warnings of the ceilings loader and lookups.

use std::fmt;

use serde::Serialize;

/// Why a ceilings file could not be used, or a lookup failed. Every message names the file or key
/// and says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CeilingsError {
    /// The file is not valid YAML.
    #[error("{origin}: not valid YAML: {message}\n(fix the syntax at the line and column shown)")]
    Yaml {
        /// File path (or the built-in table).
        origin: String,
        /// serde-saphyr's message, with line and column.
        message: String,
    },
    /// The file is empty or holds no hardware row.
    #[error(
        "{origin}: no hardware rows (the file is empty or holds only category_ceiling_map / \
         dcgm_config); add a row such as `h100_sxm: {{hw_name: NVIDIA H100 80GB HBM3, hbm3_tbps: \
         {{value: 3.35, units: TB/s}}}}`, or drop --ceilings to use the built-in table"
    )]
    NoRows {
        /// File path.
        origin: String,
    },
    /// A field other than a peak has a bad shape or value.
    #[error("{origin}: `{path}`: {reason}")]
    InvalidField {
        /// File path.
        origin: String,
        /// Dotted path of the field (`dcgm_config.min_sweep_seconds`).
        path: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// A peak entry is unusable (non-numeric, ≤ 0, NaN, unknown units, contradicting role…).
    #[error("{origin}: peak `{path}`: {reason}")]
    InvalidPeak {
        /// File path.
        origin: String,
        /// Dotted path (`b200_sm100.hbm3e_tbps.value`).
        path: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// Two rows claim the same key or alias in one file.
    #[error(
        "{origin}: `{name}` names more than one row ({}); rename or remove one of them",
        rows.join(", ")
    )]
    DuplicateHwName {
        /// File path.
        origin: String,
        /// The key or alias used twice.
        name: String,
        /// Keys of the rows that claim it.
        rows: Vec<String>,
    },
    /// No row has this key or alias.
    #[error(
        "unknown hardware key `{key}`; known keys and aliases: {}. Pass one of them, or add a \
         `{key}` row to your ceilings file (--ceilings)",
        known.join(", ")
    )]
    UnknownHwKey {
        /// The key asked for.
        key: String,
        /// Every key and alias the ceilings answer to.
        known: Vec<String>,
    },
    /// The row has no peak with this key or alias.
    #[error(
        "hardware row `{hw_key}` has no peak `{key}`; its peaks: {}. Use one of them, or add \
         the peak to the row in your ceilings file",
        known.join(", ")
    )]
    UnknownPeakKey {
        /// Row key.
        hw_key: String,
        /// The peak key asked for.
        key: String,
        /// The row's peak keys.
        known: Vec<String>,
    },
    /// A tensor peak was asked for by a key whose peak is not a tensor peak.
    #[error(
        "`{hw_key}.{key}` is a {role} peak, not a tensor peak; pass one of: {}",
        tensor_peaks.join(", ")
    )]
    NotATensorPeak {
        /// Row key.
        hw_key: String,
        /// The key asked for.
        key: String,
        /// Role of that peak.
        role: String,
        /// The row's tensor peak keys.
        tensor_peaks: Vec<String>,
    },
    /// No tensor peak can be chosen without more information.
    #[error(
        "{hw_key}: {reason}; tensor peaks of this row: {}",
        list_or_none(tensor_peaks)
    )]
    NoTensorPeak {
        /// Row key.
        hw_key: String,
        /// Why, and what to pass.
        reason: String,
        /// The row's tensor peak keys.
        tensor_peaks: Vec<String>,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Something in a ceilings file that was ignored or dropped; loading still succeeded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CeilingsWarning {
    /// File path (or the built-in table).
    pub origin: String,
    /// Dotted path of what the warning is about (`b200_sm100.hbm3e_tbps.dcgm_metric`).
    pub path: String,
    /// What was done and why.
    pub message: String,
}

impl fmt::Display for CeilingsWarning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}: `{}`: {}",
            self.origin, self.path, self.message
        )
    }
}
