//! Per-GPU hardware peaks ("ceilings"): the denominators of every %SoL.
//!
//! Each hardware row (`h100_sxm`, `b200_hgx`, …) holds peaks keyed like `hbm3_tbps` or
//! `bf16_dense_pflops`; a reported %SoL names its ceiling `<hw_key>.<peak_key>`. No peak is written
//! in code: the numbers come from the embedded default table ([`Ceilings::builtin`]) or a user file
//! ([`Ceilings::from_yaml`], seed format or the table's `gpus:` schema), layered with
//! [`Ceilings::layered_over`]. Choosing which file to read is the binary's job.

mod builtin;
mod error;
mod line_comments;
mod loader;
mod matching;
mod model;
mod precision;
mod render;
mod rich_format;
mod role;
mod row_fields;
mod seed_format;
mod tensor_choice;
mod yaml_tree;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use builtin::BUILTIN_ORIGIN;
pub use error::{CeilingsError, CeilingsWarning};
pub use matching::ModelMatch;
pub use model::{
    Bound, CategoryCeiling, CategoryCeilingMap, ClockBasis, DcgmConfig, GddrEccCorrection, HwRow,
    ModelMatchRule, Peak, PeakRole, PeakUnits, Sourced,
};
pub use precision::{Precision, precision_from_quant};
pub use render::{render_list, render_row};
pub use tensor_choice::TensorPeakChoice;

/// The role a peak key implies by its name alone (`nvlink5_tbps` → NVLink), so a seed key can be
/// resolved on another generation's row.
pub fn role_of_peak_key(key: &str) -> Option<PeakRole> {
    role::role_from_key(key).map(|(role, _)| role)
}

/// The ceilings in force: hardware rows (top layer first), the file-level settings, the source
/// descriptions, and the warnings of every file read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ceilings {
    rows: Vec<HwRow>,
    category_ceiling_map: CategoryCeilingMap,
    /// File the category map came from; `None` = none given.
    category_ceiling_map_origin: Option<String>,
    dcgm_config: DcgmConfig,
    /// File the DCGM settings came from; `None` = defaults.
    dcgm_config_origin: Option<String>,
    sources: BTreeMap<String, String>,
    warnings: Vec<CeilingsWarning>,
}

impl Ceilings {
    /// Reads a ceilings file: seed-format rows, a `gpus:` table, or both. `origin` (the file path)
    /// names the file in every error and warning and in each row's [`HwRow::origin`].
    pub fn from_yaml(text: &str, origin: &str) -> Result<Ceilings, CeilingsError> {
        loader::load(text, origin)
    }

    /// These ceilings on top of `base`: a row here replaces the base row with the same key, and a
    /// key or alias here also takes that name away from any base row (a user `b200_sm100`
    /// shadows the built-in alias, while `b200_hgx` still names the built-in row). The category
    /// map and DCGM settings of this layer win when it has them.
    pub fn layered_over(self, base: Ceilings) -> Ceilings {
        let top_names: BTreeSet<String> = self
            .rows
            .iter()
            .flat_map(|row| std::iter::once(&row.key).chain(&row.aliases))
            .cloned()
            .collect();
        let mut rows = self.rows;
        for mut base_row in base.rows {
            if top_names.contains(&base_row.key) {
                continue;
            }
            base_row.aliases.retain(|alias| !top_names.contains(alias));
            rows.push(base_row);
        }
        let mut sources = base.sources;
        sources.extend(self.sources);
        let mut warnings = base.warnings;
        warnings.extend(self.warnings);
        let (category_ceiling_map, category_ceiling_map_origin) =
            if self.category_ceiling_map_origin.is_some() {
                (self.category_ceiling_map, self.category_ceiling_map_origin)
            } else {
                (base.category_ceiling_map, base.category_ceiling_map_origin)
            };
        let (dcgm_config, dcgm_config_origin) = if self.dcgm_config_origin.is_some() {
            (self.dcgm_config, self.dcgm_config_origin)
        } else {
            (base.dcgm_config, base.dcgm_config_origin)
        };
        Ceilings {
            rows,
            category_ceiling_map,
            category_ceiling_map_origin,
            dcgm_config,
            dcgm_config_origin,
            sources,
            warnings,
        }
    }

    /// The row with this key, else the row with this alias.
    pub fn row(&self, key: &str) -> Result<&HwRow, CeilingsError> {
        self.rows
            .iter()
            .find(|row| row.key == key)
            .or_else(|| self.rows.iter().find(|row| row.answers_to(key)))
            .ok_or_else(|| CeilingsError::UnknownHwKey {
                key: key.to_string(),
                known: self
                    .rows
                    .iter()
                    .flat_map(|row| std::iter::once(&row.key).chain(&row.aliases))
                    .cloned()
                    .collect(),
            })
    }

    /// All rows: the top layer's in file order, then the base layer's.
    pub fn rows(&self) -> &[HwRow] {
        &self.rows
    }

    /// What was ignored or dropped while loading (bad DCGM mappings, unknown fields).
    pub fn warnings(&self) -> &[CeilingsWarning] {
        &self.warnings
    }

    /// The DCGM settings (defaults: 60 s minimum sweep, 15 s scrape interval, DRAM_ACTIVE and
    /// PIPE_TENSOR_ACTIVE as PROF probes).
    pub fn dcgm_config(&self) -> &DcgmConfig {
        &self.dcgm_config
    }

    /// Profiler category → the peak its time share is attributed against (empty when no file
    /// gives one).
    pub fn category_ceiling_map(&self) -> &CategoryCeilingMap {
        &self.category_ceiling_map
    }

    /// Source tag → description (`NV-H100` → the datasheet it stands for).
    pub fn sources(&self) -> &BTreeMap<String, String> {
        &self.sources
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_B200: &str = "b200_sm100:\n  hw_name: NVIDIA B200\n  hbm3e_tbps: {value: 8.0, units: TB/s}\n\
                             category_ceiling_map: {NCCL: {metric: nvlink5_tbps, bound: bandwidth}}\n";

    #[test]
    fn a_user_key_shadows_a_builtin_alias_and_the_rest_still_resolves() {
        let builtin = Ceilings::builtin().unwrap();
        let layered = Ceilings::from_yaml(USER_B200, "site/sol-ceilings.yaml")
            .unwrap()
            .layered_over(builtin.clone());
        let user_row = layered.row("b200_sm100").unwrap();
        assert_eq!(user_row.key, "b200_sm100");
        assert_eq!(user_row.origin, "site/sol-ceilings.yaml");
        assert_eq!(user_row.peak("hbm3e_tbps").unwrap().value, 8.0);
        // The built-in B200 row is still there under its own key, minus the shadowed alias.
        let hgx = layered.row("b200_hgx").unwrap();
        assert_eq!(hgx.origin, BUILTIN_ORIGIN);
        assert!(!hgx.aliases.contains(&"b200_sm100".to_string()));
        assert_eq!(layered.row("h100_sxm").unwrap().origin, BUILTIN_ORIGIN);
        // 15 built-in rows + 1 user row; the user row comes first.
        assert_eq!(layered.rows().len(), builtin.rows().len() + 1);
        assert_eq!(layered.rows()[0].key, "b200_sm100");
        assert_eq!(
            layered.category_ceiling_map()["NCCL"].metric,
            "nvlink5_tbps"
        );
        assert_eq!(layered.dcgm_config(), &DcgmConfig::default());
        assert_eq!(layered.sources(), builtin.sources());
    }

    #[test]
    fn a_user_row_with_a_builtin_key_replaces_it() {
        let user =
            "h100_sxm:\n  hw_name: NVIDIA H100 80GB HBM3\n  hbm3_tbps: {value: 2.4, units: TB/s}\n";
        let layered = Ceilings::from_yaml(user, "fleet.yaml")
            .unwrap()
            .layered_over(Ceilings::builtin().unwrap());
        let h100 = layered.row("h100_sxm").unwrap();
        assert_eq!(h100.origin, "fleet.yaml");
        assert_eq!(h100.peak("hbm3_tbps").unwrap().value, 2.4);
        assert_eq!(
            layered
                .rows()
                .iter()
                .filter(|row| row.key == "h100_sxm")
                .count(),
            1
        );
    }

    #[test]
    fn base_settings_survive_when_the_top_layer_has_none() {
        let base = Ceilings::from_yaml(USER_B200, "base.yaml").unwrap();
        let top =
            Ceilings::from_yaml("x: {hbm_tbps: {value: 1, units: TB/s}}\n", "top.yaml").unwrap();
        let layered = top.layered_over(base);
        assert_eq!(
            layered.category_ceiling_map_origin.as_deref(),
            Some("base.yaml")
        );
        assert_eq!(layered.category_ceiling_map().len(), 1);
    }

    #[test]
    fn unknown_key_error_lists_the_known_keys() {
        let ceilings = Ceilings::builtin().unwrap();
        let err = ceilings.row("h300_sxm").unwrap_err();
        let CeilingsError::UnknownHwKey { key, known } = &err else {
            panic!("{err}");
        };
        assert_eq!(key, "h300_sxm");
        assert!(
            known.contains(&"h100_sxm".to_string()) && known.contains(&"b200_sm100".to_string())
        );
        let message = err.to_string();
        assert!(
            message.contains("unknown hardware key `h300_sxm`"),
            "{message}"
        );
        assert!(
            message.contains("gb300_nvl72") && message.contains("a100_sxm"),
            "{message}"
        );
    }

    #[test]
    fn serialises_to_json_with_units_and_roles_by_name() {
        let ceilings = Ceilings::from_yaml(USER_B200, "site.yaml").unwrap();
        let json = serde_json::to_value(&ceilings).unwrap();
        let peak = &json["rows"][0]["peaks"][0];
        assert_eq!(peak["key"], "hbm3e_tbps");
        assert_eq!(peak["units"], "TB/s");
        assert_eq!(peak["role"], "hbm_bandwidth");
        assert_eq!(json["category_ceiling_map"]["NCCL"]["bound"], "bandwidth");
    }
}
