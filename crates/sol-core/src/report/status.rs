//! What a campaign's report can show: the cells found, their results (or why there is none),
//! and `report_status.json` — `dcgm_grounded`, `sol_rigor`, per-page status and every omission
//! with the way to fix it. Recorded, never a gate.

use serde::Serialize;

use crate::correlation::{Correlation, RIGOR_LEVELS, SCHEMA_VERSION, above_peak_warning};

/// Schema tag of `report_status.json`.
pub const STATUS_SCHEMA: &str = "report_status_v1";

/// What `render` found for one cell.
#[derive(Debug, Clone)]
pub enum CellInput {
    /// A readable result.
    Result(Box<Correlation>),
    /// No dcgm_correlation.json yet.
    NoResult,
    /// A result file that cannot be used, and why.
    Unreadable(String),
}

/// One cell of the campaign as the report sees it.
#[derive(Debug, Clone)]
pub struct ReportCell {
    /// Cell id.
    pub cell_id: String,
    /// Its result, or why there is none.
    pub input: CellInput,
}

impl ReportCell {
    /// The result, when readable.
    pub fn result(&self) -> Option<&Correlation> {
        match &self.input {
            CellInput::Result(result) => Some(result),
            _ => None,
        }
    }
}

/// Reads a dcgm_correlation.json text: the reason it cannot be used names what is wrong
/// (invalid JSON and where, a missing required field, another schema version, a number no
/// measurement can give). A hand-edited %SoL above its ceiling is kept, with its ABOVE PEAK
/// warning restored when the edit dropped it.
pub fn parse_result(text: &str) -> Result<Correlation, String> {
    let mut result: Correlation = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => format!("missing or malformed field: {e}"),
            _ => format!("invalid JSON: {e}"),
        })?;
    if result.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "schema_version {} (this dcgm-sol reads {SCHEMA_VERSION}); re-run correlate",
            result.schema_version
        ));
    }
    let window = &result.window;
    // JSON numbers are finite: plain comparisons suffice.
    if window.end_s <= window.start_s || result.duration_s <= 0.0 {
        return Err(format!(
            "window ends ({}) before it starts ({}), or its duration {} s is not positive: impossible; re-run correlate",
            window.end_utc, window.start_utc, result.duration_s
        ));
    }
    for row in &result.resources {
        let figures = [
            ("sol_pct", row.sol_pct),
            ("steady_state_sol_pct", row.steady_state_sol_pct),
            ("coverage_pct", Some(row.coverage_pct)),
        ];
        if let Some((field, value)) = figures
            .into_iter()
            .find_map(|(field, v)| v.filter(|v| *v < 0.0).map(|v| (field, v)))
        {
            return Err(format!(
                "resource {}: {field} {value} is negative: impossible; re-run correlate",
                row.resource.key()
            ));
        }
    }
    let restored: Vec<String> = result
        .resources
        .iter()
        .filter_map(above_peak_warning)
        .filter(|w| !result.warnings.contains(w))
        .collect();
    result.warnings.extend(restored);
    Ok(result)
}

/// Something the report leaves out, and how to get it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Omission {
    /// The cell, when the omission is one cell's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell_id: Option<String>,
    /// What is missing.
    pub what: String,
    /// Why.
    pub reason: String,
    /// What to do.
    pub fix: String,
}

/// One page or view of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageStatus {
    /// `6`, `6b`, `sweep`, `gpu_spread`, `timeseries`.
    pub page: String,
    /// `complete` (every cell with a result shown), `partial`, or `omitted` (nothing to show).
    pub status: String,
    /// Cells shown.
    pub cells: Vec<String>,
    /// Cells or views left out, with why.
    pub omitted: Vec<Omission>,
}

/// `report_status.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportStatus {
    /// [`STATUS_SCHEMA`].
    pub schema: String,
    /// Campaign slug.
    pub campaign: String,
    /// Every cell of the campaign has a readable dcgm_correlation.json.
    pub dcgm_grounded: bool,
    /// The least rigorous cell's rung: `L4` (DCGM-grounded with ncu evidence), `L3`
    /// (DCGM-grounded), `L2` (counter tier with a per-category attribution), `L1` (counter tier
    /// only, or no DCGM result).
    pub sol_rigor: String,
    /// Cells in the campaign.
    pub cells_total: usize,
    /// Cells with a readable result.
    pub cells_with_result: usize,
    /// Each cell's rigor (from its result, `L1` without one).
    pub cell_rigor: Vec<(String, String)>,
    /// Per page.
    pub pages: Vec<PageStatus>,
    /// Everything left out, campaign-wide.
    pub omitted: Vec<Omission>,
}

/// The campaign's status from its cells and the pages the report drew.
pub fn report_status(campaign: &str, cells: &[ReportCell], pages: Vec<PageStatus>) -> ReportStatus {
    let cell_rigor: Vec<(String, String)> = cells
        .iter()
        .map(|c| {
            let rigor = c.result().map_or("L1", |r| r.sol_rigor.as_str());
            (c.cell_id.clone(), rigor.to_string())
        })
        .collect();
    let cells_with_result = cells.iter().filter(|c| c.result().is_some()).count();
    let dcgm_grounded = !cells.is_empty() && cells_with_result == cells.len();
    // The campaign is as rigorous as its least rigorous cell.
    let sol_rigor = cell_rigor
        .iter()
        .map(|(_, r)| r.as_str())
        .min_by_key(|r| RIGOR_LEVELS.iter().position(|o| o == r).unwrap_or(0))
        .unwrap_or("L1")
        .to_string();
    let mut omitted: Vec<Omission> = cells.iter().filter_map(cell_omission).collect();
    omitted.extend(pages.iter().flat_map(|p| p.omitted.iter().cloned()));
    omitted.dedup();
    ReportStatus {
        schema: STATUS_SCHEMA.to_string(),
        campaign: campaign.to_string(),
        dcgm_grounded,
        sol_rigor,
        cells_total: cells.len(),
        cells_with_result,
        cell_rigor,
        pages,
        omitted,
    }
}

/// Why a cell shows nothing, and what to do.
pub fn cell_omission(cell: &ReportCell) -> Option<Omission> {
    let (reason, fix) = match &cell.input {
        CellInput::Result(_) => return None,
        CellInput::NoResult => (
            "no dcgm_correlation.json".to_string(),
            format!(
                "run `dcgm-sol correlate --campaign <slug> --cell-id {}` (or fold its dcgm-frozen.yaml)",
                cell.cell_id
            ),
        ),
        CellInput::Unreadable(reason) => (
            reason.clone(),
            "re-run correlate or fold for this cell".to_string(),
        ),
    };
    Some(Omission {
        cell_id: Some(cell.cell_id.clone()),
        what: format!("cell {}", cell.cell_id),
        reason,
        fix,
    })
}

/// A page's status from the cells it showed and those it left out.
pub fn page_status(page: &str, shown: Vec<String>, omitted: Vec<Omission>) -> PageStatus {
    let status = match (shown.is_empty(), omitted.is_empty()) {
        (true, _) => "omitted",
        (false, true) => "complete",
        (false, false) => "partial",
    };
    PageStatus {
        page: page.to_string(),
        status: status.to_string(),
        cells: shown,
        omitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C128: &str = include_str!("../../../../testdata/report/h200-tp8-sweep/c128.json");

    fn cell(id: &str, input: CellInput) -> ReportCell {
        ReportCell {
            cell_id: id.to_string(),
            input,
        }
    }

    fn result() -> CellInput {
        CellInput::Result(Box::new(parse_result(C128).unwrap()))
    }

    #[test]
    fn unreadable_results_say_what_is_wrong() {
        let truncated = &C128[..C128.len() / 2];
        assert!(
            parse_result(truncated)
                .unwrap_err()
                .starts_with("invalid JSON")
        );
        let edited = |edit: fn(&mut serde_json::Map<String, serde_json::Value>)| {
            let mut value: serde_json::Value = serde_json::from_str(C128).unwrap();
            edit(value.as_object_mut().unwrap());
            parse_result(&value.to_string()).err().unwrap_or_default()
        };
        let reason = edited(|top| {
            top.remove("hw_key");
        });
        assert!(reason.contains("missing field `hw_key`"), "{reason}");
        let reason = edited(|top| {
            top.insert("schema_version".into(), 2.into());
        });
        assert!(reason.contains("schema_version 2"), "{reason}");
        let reason = edited(|top| {
            top["resources"][0]["sol_pct"] = (-30.0).into();
        });
        assert!(
            reason.starts_with("resource hbm: sol_pct -30 is negative"),
            "{reason}"
        );
        let reason = edited(|top| {
            let start = top["window"]["start_s"].clone();
            top["window"]["start_s"] = top["window"]["end_s"].clone();
            top["window"]["end_s"] = start;
        });
        assert!(reason.starts_with("window ends"), "{reason}");
        // A %SoL edited above its ceiling stays, flagged.
        let mut value: serde_json::Value = serde_json::from_str(C128).unwrap();
        value["resources"][0]["sol_pct"] = 250.0.into();
        let result = parse_result(&value.to_string()).unwrap();
        assert!(
            result
                .warnings
                .iter()
                .any(|w| w.starts_with("ABOVE PEAK: HBM reads 250.0 % of h200_sxm.hbm3e_tbps")),
            "{:?}",
            result.warnings
        );
        // A BOM is not part of the JSON.
        assert!(parse_result(&format!("\u{feff}{C128}")).is_ok());
    }

    #[test]
    fn grounded_only_when_every_cell_has_a_result() {
        // c128 was computed without ncu evidence: L3.
        let all = [cell("a", result()), cell("b", result())];
        let status = report_status("camp", &all, Vec::new());
        assert!(status.dcgm_grounded);
        assert_eq!(status.sol_rigor, "L3");
        assert!(status.omitted.is_empty());
        let mixed = [
            cell("a", result()),
            cell("b", CellInput::NoResult),
            cell("c", CellInput::Unreadable("invalid JSON: eof".into())),
        ];
        let status = report_status("camp", &mixed, Vec::new());
        assert!(!status.dcgm_grounded);
        assert_eq!(status.sol_rigor, "L1", "the least rigorous cell decides");
        assert_eq!(status.cells_with_result, 1);
        assert_eq!(status.omitted.len(), 2);
        assert!(status.omitted[0].fix.contains("--cell-id b"));
        assert_eq!(status.omitted[1].reason, "invalid JSON: eof");
        // L2 lies between L1 and L3 on the ladder.
        let with_rigor = |id: &str, rigor: &str| {
            let mut result = parse_result(C128).unwrap();
            result.sol_rigor = rigor.to_string();
            cell(id, CellInput::Result(Box::new(result)))
        };
        let ladder = |rigors: &[&str]| {
            let cells: Vec<ReportCell> = rigors.iter().map(|r| with_rigor(r, r)).collect();
            report_status("camp", &cells, Vec::new()).sol_rigor
        };
        assert_eq!(ladder(&["L3", "L2"]), "L2");
        assert_eq!(ladder(&["L2", "L1"]), "L1");
        assert_eq!(ladder(&["L4", "L3"]), "L3");
        // An empty campaign is not grounded.
        assert!(!report_status("camp", &[], Vec::new()).dcgm_grounded);
    }

    #[test]
    fn page_status_follows_what_was_shown() {
        let gap = Omission {
            cell_id: Some("b".into()),
            what: "page 6b of cell b".into(),
            reason: "no kernels.json".into(),
            fix: "add one".into(),
        };
        assert_eq!(
            page_status("6", vec!["a".into()], vec![]).status,
            "complete"
        );
        assert_eq!(
            page_status("6b", vec!["a".into()], vec![gap.clone()]).status,
            "partial"
        );
        assert_eq!(page_status("6b", vec![], vec![gap]).status, "omitted");
    }
}
