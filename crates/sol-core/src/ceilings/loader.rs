//! Reads one ceilings file (seed rows, a `gpus:` table, or both) into [`Ceilings`].
//!
//! Top-level keys: `gpus` (the default table's schema), `sources`, `schema_version`,
//! `category_ceiling_map`, `dcgm_config`; every other key is a hardware row in the seed's format.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{CeilingsError, CeilingsWarning};
use super::line_comments::LineComments;
use super::model::{Bound, CategoryCeiling, CategoryCeilingMap, DcgmConfig, HwRow};
use super::yaml_tree::YamlNode;
use super::{Ceilings, rich_format, seed_format};

/// Top-level keys that are not seed-format hardware rows.
const RESERVED_TOP_LEVEL: [&str; 5] = [
    "gpus",
    "sources",
    "schema_version",
    "category_ceiling_map",
    "dcgm_config",
];

/// State shared while reading one file: where it came from, its line comments, and the warnings
/// collected so far.
pub(super) struct Loader<'a> {
    pub(super) origin: &'a str,
    comments: LineComments,
    warnings: Vec<CeilingsWarning>,
}

impl Loader<'_> {
    /// Records something ignored or dropped.
    pub(super) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push(CeilingsWarning {
            origin: self.origin.to_string(),
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// A bad non-peak field.
    pub(super) fn field_error(&self, path: &str, reason: impl Into<String>) -> CeilingsError {
        CeilingsError::InvalidField {
            origin: self.origin.to_string(),
            path: path.to_string(),
            reason: reason.into(),
        }
    }

    /// A bad peak.
    pub(super) fn peak_error(&self, path: &str, reason: impl Into<String>) -> CeilingsError {
        CeilingsError::InvalidPeak {
            origin: self.origin.to_string(),
            path: path.to_string(),
            reason: reason.into(),
        }
    }

    /// The line comment of the key at `path`, which is where the files keep sources.
    pub(super) fn comment(&self, path: &[&str]) -> Option<String> {
        self.comments.get(path).map(str::to_string)
    }
}

/// Parses one file. `origin` names it in errors, warnings and [`HwRow::origin`].
pub(super) fn load(text: &str, origin: &str) -> Result<Ceilings, CeilingsError> {
    let tree = YamlNode::parse(text).map_err(|message| CeilingsError::Yaml {
        origin: origin.to_string(),
        message,
    })?;
    let no_rows = || CeilingsError::NoRows {
        origin: origin.to_string(),
    };
    let entries = match &tree {
        YamlNode::Null => return Err(no_rows()),
        node => node
            .as_map()
            .map_err(|reason| CeilingsError::InvalidField {
                origin: origin.to_string(),
                path: "(top level)".to_string(),
                reason: format!("{reason}; a ceilings file maps hardware keys to rows"),
            })?,
    };
    let mut loader = Loader {
        origin,
        comments: LineComments::scan(text),
        warnings: Vec::new(),
    };

    let mut rows = Vec::new();
    if let Some(gpus) = tree.get("gpus") {
        rows.extend(rich_format::read_gpus(&mut loader, gpus)?);
    }
    for (key, node) in entries {
        if !RESERVED_TOP_LEVEL.contains(&key.as_str()) {
            rows.push(seed_format::read_row(&mut loader, key, node)?);
        }
    }
    if rows.is_empty() {
        return Err(no_rows());
    }
    for row in &rows {
        check_row(&loader, row)?;
    }
    check_unique_names(&rows, origin)?;
    if let Some(version) = tree.get("schema_version")
        && version.as_number() != Ok(1.0)
    {
        loader.warn(
            "schema_version",
            format!("{} is not 1; read as schema 1", version.describe()),
        );
    }

    let sources = match tree.get("sources") {
        Some(node) => read_sources(&loader, node)?,
        None => BTreeMap::new(),
    };
    let category_ceiling_map = tree
        .get("category_ceiling_map")
        .map(|node| read_category_map(&loader, node))
        .transpose()?;
    let dcgm_config = tree
        .get("dcgm_config")
        .map(|node| read_dcgm_config(&mut loader, node))
        .transpose()?;
    Ok(Ceilings {
        rows,
        category_ceiling_map_origin: category_ceiling_map.as_ref().map(|_| origin.to_string()),
        category_ceiling_map: category_ceiling_map.unwrap_or_default(),
        dcgm_config_origin: dcgm_config.as_ref().map(|_| origin.to_string()),
        dcgm_config: dcgm_config.unwrap_or_default(),
        sources,
        warnings: loader.warnings,
    })
}

/// Refuses names that cannot be typed as `--hw-key` or would garble a listing, and peaks whose
/// value in base units is not a finite number (a peak of 1e308 TB/s overflows).
fn check_row(loader: &Loader, row: &HwRow) -> Result<(), CeilingsError> {
    for name in std::iter::once(&row.key).chain(&row.aliases) {
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
        if !plain {
            return Err(loader.field_error(
                &format!("{name:?}"),
                "a hardware key or alias is letters, digits, `.`, `_`, `-` and `+` only (it is typed as --hw-key and printed in tables)",
            ));
        }
    }
    if let Some(name) = &row.hw_name
        && name.chars().any(char::is_control)
    {
        return Err(loader.field_error(
            &format!("{}.hw_name", row.key),
            "a display name has no control characters (newlines, tabs)",
        ));
    }
    for peak in &row.peaks {
        let base = [Some(peak.value_base()), peak.per_direction_base()];
        if base.into_iter().flatten().any(|v| !v.is_finite()) {
            return Err(loader.peak_error(
                &format!("{}.{}", row.key, peak.key),
                format!(
                    "{} {} is beyond the largest representable rate once converted to base units; no hardware has such a peak",
                    peak.value,
                    peak.units.label()
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a file where one key or alias names two rows: a lookup would depend on row order.
pub(super) fn check_unique_names(rows: &[HwRow], origin: &str) -> Result<(), CeilingsError> {
    let mut seen = BTreeSet::new();
    for row in rows {
        for name in std::iter::once(&row.key).chain(&row.aliases) {
            if !seen.insert(name.as_str()) {
                let claimants = rows
                    .iter()
                    .filter(|other| other.answers_to(name))
                    .map(|other| other.key.clone())
                    .collect();
                return Err(CeilingsError::DuplicateHwName {
                    origin: origin.to_string(),
                    name: name.clone(),
                    rows: claimants,
                });
            }
        }
    }
    Ok(())
}

fn read_sources(
    loader: &Loader,
    node: &YamlNode,
) -> Result<BTreeMap<String, String>, CeilingsError> {
    let entries = node
        .as_map()
        .map_err(|reason| loader.field_error("sources", format!("{reason}: tag → description")))?;
    entries
        .iter()
        .map(|(tag, text)| {
            let text = text
                .as_text()
                .map_err(|reason| loader.field_error(&format!("sources.{tag}"), reason))?;
            Ok((tag.clone(), text))
        })
        .collect()
}

fn read_category_map(
    loader: &Loader,
    node: &YamlNode,
) -> Result<CategoryCeilingMap, CeilingsError> {
    const SHAPE: &str = "write `Category: {metric: <peak key>, bound: bandwidth|compute}`";
    let entries = node.as_map().map_err(|reason| {
        loader.field_error("category_ceiling_map", format!("{reason}; {SHAPE}"))
    })?;
    let mut map = CategoryCeilingMap::new();
    for (category, entry) in entries {
        let path = format!("category_ceiling_map.{category}");
        let metric = entry
            .get("metric")
            .ok_or_else(|| loader.field_error(&path, format!("missing `metric`; {SHAPE}")))?
            .as_text()
            .map_err(|reason| loader.field_error(&format!("{path}.metric"), reason))?;
        let bound_text = entry
            .get("bound")
            .ok_or_else(|| loader.field_error(&path, format!("missing `bound`; {SHAPE}")))?
            .as_text()
            .map_err(|reason| loader.field_error(&format!("{path}.bound"), reason))?;
        let bound = match bound_text.trim().to_ascii_lowercase().as_str() {
            "bandwidth" => Bound::Bandwidth,
            "compute" => Bound::Compute,
            other => {
                return Err(loader.field_error(
                    &format!("{path}.bound"),
                    format!("`{other}` is neither `bandwidth` nor `compute`"),
                ));
            }
        };
        map.insert(category.clone(), CategoryCeiling { metric, bound });
    }
    Ok(map)
}

fn read_dcgm_config(loader: &mut Loader, node: &YamlNode) -> Result<DcgmConfig, CeilingsError> {
    let entries = node
        .as_map()
        .map_err(|reason| loader.field_error("dcgm_config", reason))?;
    let mut config = DcgmConfig::default();
    for (name, value) in entries {
        let path = format!("dcgm_config.{name}");
        let invalid = |reason: String| CeilingsError::InvalidField {
            origin: loader.origin.to_string(),
            path: path.clone(),
            reason,
        };
        match name.as_str() {
            "min_sweep_seconds" => {
                config.min_sweep_seconds = value
                    .as_number()
                    .and_then(|seconds| {
                        (seconds >= 0.0)
                            .then_some(seconds)
                            .ok_or_else(|| format!("{seconds} must not be negative"))
                    })
                    .map_err(invalid)?;
            }
            "expected_scrape_interval_s" => {
                config.expected_scrape_interval_s = value.as_positive_number().map_err(invalid)?;
            }
            "prof_group_probe_metrics" => {
                config.prof_group_probe_metrics = value.as_text_list().map_err(invalid)?;
            }
            _ => loader.warn(&path, "unknown dcgm_config field, ignored"),
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_comment_only_files_have_no_rows() {
        for text in [
            "",
            "# nothing here\n",
            "dcgm_config: {min_sweep_seconds: 30}\n",
        ] {
            let err = load(text, "c.yaml").unwrap_err();
            assert!(
                matches!(err, CeilingsError::NoRows { .. }),
                "{text:?}: {err}"
            );
            assert!(
                err.to_string().starts_with("c.yaml: no hardware rows"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_yaml_names_the_file_and_position() {
        let err = load("h100:\n  hbm3_tbps: {value: 3.35\n", "conf/sol.yaml").unwrap_err();
        let CeilingsError::Yaml { origin, message } = &err else {
            panic!("{err}");
        };
        assert_eq!(origin, "conf/sol.yaml");
        assert!(message.contains("line"), "{message}");
        assert!(
            err.to_string().starts_with("conf/sol.yaml: not valid YAML"),
            "{err}"
        );
    }

    #[test]
    fn a_top_level_list_is_refused() {
        let err = load("- a\n- b\n", "c.yaml").unwrap_err();
        assert!(matches!(err, CeilingsError::InvalidField { .. }), "{err}");
    }

    #[test]
    fn a_name_used_by_two_rows_is_refused() {
        let text = "a: {aliases: [x], hbm_tbps: {value: 1, units: TB/s}}\n\
                    x: {hbm_tbps: {value: 2, units: TB/s}}\n";
        let err = load(text, "c.yaml").unwrap_err();
        assert_eq!(
            err,
            CeilingsError::DuplicateHwName {
                origin: "c.yaml".into(),
                name: "x".into(),
                rows: vec!["a".into(), "x".into()],
            }
        );
    }

    #[test]
    fn category_map_and_dcgm_config_are_read_and_checked() {
        let text = "r: {hbm_tbps: {value: 1, units: TB/s}}\n\
                    category_ceiling_map: {NCCL: {metric: nvlink5_tbps, bound: Bandwidth}}\n\
                    dcgm_config: {expected_scrape_interval_s: 5, colour: blue}\n";
        let ceilings = load(text, "c.yaml").unwrap();
        assert_eq!(
            ceilings.category_ceiling_map()["NCCL"],
            CategoryCeiling {
                metric: "nvlink5_tbps".into(),
                bound: Bound::Bandwidth
            }
        );
        // Given fields override, missing ones keep the defaults (60 s, the two probe metrics).
        assert_eq!(ceilings.dcgm_config().expected_scrape_interval_s, 5.0);
        assert_eq!(ceilings.dcgm_config().min_sweep_seconds, 60.0);
        assert_eq!(ceilings.warnings().len(), 1);
        assert_eq!(ceilings.warnings()[0].path, "dcgm_config.colour");

        let bad_bound = "r: {hbm_tbps: {value: 1, units: TB/s}}\n\
                         category_ceiling_map: {NCCL: {metric: x, bound: latency}}\n";
        let err = load(bad_bound, "c.yaml").unwrap_err();
        assert!(
            err.to_string().contains("category_ceiling_map.NCCL.bound"),
            "{err}"
        );

        let bad_interval = "r: {hbm_tbps: {value: 1, units: TB/s}}\n\
                            dcgm_config: {expected_scrape_interval_s: 0}\n";
        let err = load(bad_interval, "c.yaml").unwrap_err();
        assert!(
            err.to_string().contains("expected_scrape_interval_s"),
            "{err}"
        );
    }
}
