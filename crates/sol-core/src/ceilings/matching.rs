//! Recognising a row from the DCGM exporter's `modelName` label (gpu-peaks.md §6).
//!
//! Exact device names first, then vGPU profile names, then name prefixes; a row whose `match:`
//! splits by memory size (GH200 96 GB vs 144 GB) needs the device memory. An unknown name matches
//! nothing: %SoL against a guessed row would be silently wrong.

use serde::Serialize;

use super::Ceilings;
use super::model::HwRow;

/// A row recognised from a device name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelMatch {
    /// Row key.
    pub key: String,
    /// What the match assumed, when it was not an exact device name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A vGPU profile name and the physical row it runs on.
struct VgpuAlias {
    name: &'static str,
    key: &'static str,
    note: &'static str,
}

/// vGPU profiles seen in public exporter scrapes (dcgm-fields.md §3).
const VGPU_ALIASES: [VgpuAlias; 1] = [VgpuAlias {
    name: "GRID A100-40C",
    key: "a100_sxm4_40gb",
    note: "vGPU profile GRID A100-40C (compute profile with the whole 40 GB framebuffer of an \
           A100 40GB): assumed the SXM4 board; a PCIe A100 40GB has the same HBM and tensor \
           peaks but a bridge instead of NVSwitch NVLink",
}];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameMatch {
    Exact,
    Prefix,
}

impl Ceilings {
    /// The row for a DCGM `modelName`, using the device memory (MiB) where rows split by it.
    /// Rows are tried in [`Ceilings::rows`] order, so a user file's rows win over the built-in
    /// table. `None` for unknown names: report raw ratios rather than guess a row.
    pub fn match_model_name(
        &self,
        model_name: &str,
        memory_mib: Option<f64>,
    ) -> Option<ModelMatch> {
        let name = model_name.trim();
        if name.is_empty() {
            return None;
        }
        let memory_gib = memory_mib.map(|mib| mib / 1024.0);
        let find = |wanted: NameMatch| {
            self.rows
                .iter()
                .find(|row| name_match(row, name) == Some(wanted) && memory_fits(row, memory_gib))
        };
        if let Some(row) = find(NameMatch::Exact) {
            return Some(ModelMatch {
                key: row.key.clone(),
                note: memory_note(row, memory_gib),
            });
        }
        let vgpu = VGPU_ALIASES
            .iter()
            .find(|alias| alias.name.eq_ignore_ascii_case(name))
            .and_then(|alias| Some((self.row(alias.key).ok()?, alias.note)));
        if let Some((row, note)) = vgpu {
            return Some(ModelMatch {
                key: row.key.clone(),
                note: Some(note.to_string()),
            });
        }
        find(NameMatch::Prefix).map(|row| {
            let prefix_note = format!("matched by device-name prefix for `{name}`");
            let note = match memory_note(row, memory_gib) {
                Some(memory) => format!("{prefix_note}; {memory}"),
                None => prefix_note,
            };
            ModelMatch {
                key: row.key.clone(),
                note: Some(note),
            }
        })
    }
}

/// How `name` matches the row: its `match:` rule, or (seed rows) equality with `hw_name`.
fn name_match(row: &HwRow, name: &str) -> Option<NameMatch> {
    let Some(rule) = &row.model_match else {
        let same = row
            .hw_name
            .as_deref()
            .is_some_and(|hw_name| hw_name.trim().eq_ignore_ascii_case(name));
        return same.then_some(NameMatch::Exact);
    };
    if rule
        .device_names
        .iter()
        .any(|device| device.eq_ignore_ascii_case(name))
    {
        return Some(NameMatch::Exact);
    }
    let has_prefix = |prefix: &String| {
        name.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    rule.device_names_prefix
        .iter()
        .any(has_prefix)
        .then_some(NameMatch::Prefix)
}

/// True when the row has no memory bounds, or the memory is known and within them
/// (`min_mem_gib` ≤ memory < `max_mem_gib`).
fn memory_fits(row: &HwRow, memory_gib: Option<f64>) -> bool {
    let Some(rule) = &row.model_match else {
        return true;
    };
    if rule.min_mem_gib.is_none() && rule.max_mem_gib.is_none() {
        return true;
    }
    memory_gib.is_some_and(|memory| {
        rule.min_mem_gib.is_none_or(|min| memory >= min)
            && rule.max_mem_gib.is_none_or(|max| memory < max)
    })
}

fn memory_note(row: &HwRow, memory_gib: Option<f64>) -> Option<String> {
    let rule = row.model_match.as_ref()?;
    let bound = match (rule.min_mem_gib, rule.max_mem_gib) {
        (Some(min), _) => format!("≥ {min} GiB"),
        (None, Some(max)) => format!("< {max} GiB"),
        (None, None) => return None,
    };
    memory_gib.map(|memory| format!("split by device memory: {memory:.1} GiB {bound}"))
}

#[cfg(test)]
mod tests {
    use crate::ceilings::Ceilings;

    fn key_for(name: &str, memory_mib: Option<f64>) -> Option<String> {
        let ceilings = Ceilings::builtin().unwrap();
        ceilings
            .match_model_name(name, memory_mib)
            .map(|found| found.key)
    }

    #[test]
    fn exact_device_names() {
        assert_eq!(
            key_for("NVIDIA H100 80GB HBM3", None).as_deref(),
            Some("h100_sxm")
        );
        assert_eq!(key_for("NVIDIA H200", None).as_deref(), Some("h200_sxm"));
        assert_eq!(
            key_for("NVIDIA GB300", None).as_deref(),
            Some("gb300_nvl72")
        );
        assert_eq!(
            key_for("NVIDIA A100-SXM4-40GB", None).as_deref(),
            Some("a100_sxm4_40gb")
        );
        assert_eq!(key_for("NVIDIA B200", None).as_deref(), Some("b200_hgx"));
        // An exact match carries no note.
        let ceilings = Ceilings::builtin().unwrap();
        assert_eq!(
            ceilings
                .match_model_name(" NVIDIA H200 ", None)
                .unwrap()
                .note,
            None
        );
    }

    #[test]
    fn gh200_is_split_by_memory() {
        // 97280 MiB / 1024 = 95 GiB < 130 GiB → the 96 GB HBM3 part.
        assert_eq!(
            key_for("NVIDIA GH200 480GB", Some(97280.0)).as_deref(),
            Some("gh200_96gb")
        );
        // 144 GiB = 144 × 1024 = 147456 MiB ≥ 130 GiB → the 144 GB HBM3e part.
        assert_eq!(
            key_for("NVIDIA GH200 480GB", Some(147456.0)).as_deref(),
            Some("gh200_144gb")
        );
        // Without the memory size the two cannot be told apart: no guess.
        assert_eq!(key_for("NVIDIA GH200 480GB", None), None);
        let ceilings = Ceilings::builtin().unwrap();
        let found = ceilings
            .match_model_name("NVIDIA GH200 480GB", Some(97280.0))
            .unwrap();
        let note = found.note.unwrap();
        assert!(note.contains("95.0 GiB < 130 GiB"), "{note}");
    }

    #[test]
    fn vgpu_profile_maps_to_its_physical_row_with_a_note() {
        let ceilings = Ceilings::builtin().unwrap();
        let found = ceilings.match_model_name("GRID A100-40C", None).unwrap();
        assert_eq!(found.key, "a100_sxm4_40gb");
        assert!(found.note.unwrap().contains("vGPU"));
    }

    #[test]
    fn unknown_and_near_miss_names_match_nothing() {
        assert_eq!(key_for("NVIDIA Tesla T4", None), None);
        assert_eq!(key_for("", None), None);
        // A PCIe/NVL variant must never fall through to the SXM row.
        assert_eq!(key_for("NVIDIA H200 NVL", None), None);
        assert_eq!(key_for("NVIDIA H100 80GB", None), None);
    }

    #[test]
    fn prefix_rows_match_editions() {
        let ceilings = Ceilings::builtin().unwrap();
        let found = ceilings
            .match_model_name("NVIDIA RTX PRO 6000 Blackwell Server Edition", None)
            .unwrap();
        assert_eq!(found.key, "rtx_pro_6000_blackwell");
        assert!(found.note.unwrap().contains("prefix"));
    }

    /// Every `modelName` in the shared exporter fixtures, with the row it must resolve to.
    #[test]
    fn model_names_in_the_real_exporter_fixtures() {
        macro_rules! fixture {
            ($name:literal) => {
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../testdata/shared-fixtures/dcgm-exporter/",
                    $name
                ))
            };
        }
        let fixtures = [
            fixture!("a100-mig-prof.prom"),
            fixture!("a100-vgpu-no-prof.prom"),
            fixture!("a100x4-prof-nvlink-zero.prom"),
            fixture!("a30-mig-nvlink-counter.prom"),
            fixture!("gb200x4-transcribed.prom"),
            fixture!("h100-mig-gi-pod-labels.prom"),
            fixture!("h100-prometheus-query-excerpt.json"),
            fixture!("h100x8-pod-labels.prom"),
            fixture!("l40s-default-helm.prom"),
            fixture!("readme-sentinel-old-labels.prom"),
        ];
        let expected = [
            ("GRID A100-40C", Some("a100_sxm4_40gb")),
            ("NVIDIA A100-SXM4-40GB", Some("a100_sxm4_40gb")),
            // A30 is not in the table: no silent fallback to another row.
            ("NVIDIA A30", None),
            ("NVIDIA GB200", Some("gb200_nvl72")),
            ("NVIDIA H100 80GB HBM3", Some("h100_sxm")),
            ("NVIDIA L40S", Some("l40s")),
        ];
        // `modelName="X"` in exposition text, `"modelName": "X"` in the JSON excerpt.
        let mut names: Vec<&str> = fixtures
            .iter()
            .flat_map(|text| text.split("modelName").skip(1))
            .filter_map(|rest| {
                rest.trim_start_matches(['"', ':', '=', ' '])
                    .split('"')
                    .next()
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        let expected_names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, expected_names);
        for (name, key) in expected {
            assert_eq!(key_for(name, None).as_deref(), key, "{name}");
        }
    }

    #[test]
    fn seed_rows_match_by_hw_name_and_win_over_the_builtin_table() {
        let user = Ceilings::from_yaml(
            "b200_sm100: {hw_name: NVIDIA B200, hbm3e_tbps: {value: 8.0, units: TB/s}}\n",
            "site.yaml",
        )
        .unwrap();
        let layered = user.layered_over(Ceilings::builtin().unwrap());
        let found = layered.match_model_name("NVIDIA B200", None).unwrap();
        assert_eq!(found.key, "b200_sm100");
    }
}
