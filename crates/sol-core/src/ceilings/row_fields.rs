//! Row fields that both file formats share (names, clocks, memory, matching, confidence), and the
//! checks every finished row goes through.

use std::collections::BTreeSet;

use super::error::CeilingsError;
use super::loader::Loader;
use super::model::{HwRow, ModelMatchRule, Sourced};
use super::yaml_tree::YamlNode;

/// Row fields that are not peaks, in both formats.
pub(super) const COMMON_ROW_FIELDS: [&str; 13] = [
    "hw_name",
    "aliases",
    "match",
    "compute_capability",
    "sm_count",
    "boost_mhz",
    "tensor_peak_clock_mhz",
    "tdp_w",
    "mem_type",
    "hbm_gb",
    "mem_clock_max_mhz",
    "weak_fields",
    "confidence",
];

/// Fills the shared fields of `row` from its YAML node. `row_path` is the key path of the row
/// (`["gpus", "h100_sxm"]` or `["b200_sm100"]`); each value's source is its line comment.
pub(super) fn read_common_fields(
    loader: &mut Loader,
    row: &mut HwRow,
    node: &YamlNode,
    row_path: &[&str],
) -> Result<(), CeilingsError> {
    let reader = FieldReader {
        loader,
        node,
        row_path,
    };
    row.hw_name = reader.read("hw_name", YamlNode::as_text)?;
    row.aliases = reader
        .read("aliases", YamlNode::as_text_list)?
        .unwrap_or_default();
    row.weak_fields = reader
        .read("weak_fields", YamlNode::as_text_list)?
        .unwrap_or_default();
    row.compute_capability = reader.sourced("compute_capability", YamlNode::as_version_text)?;
    row.mem_type = reader.sourced("mem_type", YamlNode::as_text)?;
    row.confidence = reader.sourced("confidence", YamlNode::as_text)?;
    row.sm_count = reader.sourced("sm_count", YamlNode::as_positive_number)?;
    row.boost_mhz = reader.sourced("boost_mhz", YamlNode::as_positive_number)?;
    row.tensor_peak_clock_mhz =
        reader.sourced("tensor_peak_clock_mhz", YamlNode::as_positive_number)?;
    row.tdp_w = reader.sourced("tdp_w", YamlNode::as_positive_number)?;
    row.mem_gb = reader.sourced("hbm_gb", YamlNode::as_positive_number)?;
    row.mem_clock_max_mhz = reader.sourced("mem_clock_max_mhz", YamlNode::as_positive_number)?;
    if let Some(rule) = node.get("match") {
        row.model_match = Some(read_match_rule(
            loader,
            rule,
            &reader_path(row_path, "match"),
        )?);
    }
    Ok(())
}

/// Sorts the peaks into their stable order and refuses a row where one name means two peaks.
pub(super) fn finish_row(
    loader: &Loader,
    row: &mut HwRow,
    row_path: &str,
) -> Result<(), CeilingsError> {
    row.peaks
        .sort_by(|a, b| (a.role, a.dtype, &a.key).cmp(&(b.role, b.dtype, &b.key)));
    let mut seen = BTreeSet::new();
    for peak in &row.peaks {
        for name in std::iter::once(&peak.key).chain(&peak.aliases) {
            if !seen.insert(name.as_str()) {
                return Err(loader.peak_error(
                    &format!("{row_path}.{}", peak.key),
                    format!("`{name}` names more than one peak of the row; rename one of them"),
                ));
            }
        }
    }
    Ok(())
}

/// Reads optional fields of one row node, turning bad values into errors with the field's path.
struct FieldReader<'r, 'a> {
    loader: &'r Loader<'a>,
    node: &'r YamlNode,
    row_path: &'r [&'r str],
}

impl FieldReader<'_, '_> {
    fn read<T>(
        &self,
        field: &str,
        convert: impl Fn(&YamlNode) -> Result<T, String>,
    ) -> Result<Option<T>, CeilingsError> {
        self.node
            .get(field)
            .map(|value| {
                convert(value).map_err(|reason| {
                    self.loader
                        .field_error(&reader_path(self.row_path, field), reason)
                })
            })
            .transpose()
    }

    fn sourced<T>(
        &self,
        field: &str,
        convert: impl Fn(&YamlNode) -> Result<T, String>,
    ) -> Result<Option<Sourced<T>>, CeilingsError> {
        let mut comment_path = self.row_path.to_vec();
        comment_path.push(field);
        Ok(self.read(field, convert)?.map(|value| Sourced {
            value,
            source: self.loader.comment(&comment_path),
        }))
    }
}

fn reader_path(row_path: &[&str], field: &str) -> String {
    format!("{}.{field}", row_path.join("."))
}

fn read_match_rule(
    loader: &mut Loader,
    node: &YamlNode,
    path: &str,
) -> Result<ModelMatchRule, CeilingsError> {
    let entries = node
        .as_map()
        .map_err(|reason| loader.field_error(path, reason))?;
    let mut rule = ModelMatchRule::default();
    for (name, value) in entries {
        let field_path = format!("{path}.{name}");
        let invalid = |reason: String| loader.field_error(&field_path, reason);
        match name.as_str() {
            "device_names" => rule.device_names = value.as_text_list().map_err(invalid)?,
            "device_names_prefix" => {
                rule.device_names_prefix = value.as_text_list().map_err(invalid)?;
            }
            "compute_capability" => {
                rule.compute_capability = Some(value.as_version_text().map_err(invalid)?);
            }
            "min_mem_gib" => rule.min_mem_gib = Some(value.as_positive_number().map_err(invalid)?),
            "max_mem_gib" => rule.max_mem_gib = Some(value.as_positive_number().map_err(invalid)?),
            _ => loader.warn(&field_path, "unknown match field, ignored"),
        }
    }
    Ok(rule)
}
