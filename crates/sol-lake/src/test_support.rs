//! Shared test data: the example campaign's four results.

use sol_core::report::status::{CellInput, ReportCell, parse_result};

use crate::publish::PublishMeta;

/// The example campaign's results, as `render` and `publish` read them.
pub fn example_cells() -> Vec<ReportCell> {
    ["c008", "c032", "c064", "c128"]
        .into_iter()
        .map(|id| {
            let path = format!(
                "{}/../../testdata/report/h200-tp8-sweep/{id}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).unwrap();
            ReportCell {
                cell_id: id.to_string(),
                input: CellInput::Result(Box::new(parse_result(&text).unwrap())),
            }
        })
        .collect()
}

/// A fixed publish identity: 2026-11-28T00:00:00Z.
pub fn meta() -> PublishMeta {
    PublishMeta {
        publish_id: "0123abcd".into(),
        published_at_us: 1_795_824_000_000_000,
        campaign_slug: "h200-tp8-sweep".into(),
        tool_version: "0.1.0".into(),
    }
}
