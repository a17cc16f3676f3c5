//! The "Workload-level SoL" section of a campaign's `sol-summary.md`: [`render_section`] turns
//! the cells' results into the section body and [`patch`] puts that body into the file's text.
//!
//! Ownership rule: the tool owns only the lines between [`BEGIN_MARKER`] and [`END_MARKER`],
//! which sit under the first `## Workload-level SoL` heading (an ATX heading outside fenced code).
//! Everything else in the file is a human's and is kept byte for byte. See [`patch`] for how the
//! marked part is found or first placed.

mod patch;
mod table;

pub use patch::{PatchOutcome, Placement, patch, patch_with_outcome};
pub use table::{SummaryCell, render_section};

/// Heading of the section the tool owns (level 2).
pub const SECTION_HEADING: &str = "## Workload-level SoL";
/// First line of the tool's part (an HTML comment: invisible when rendered).
pub const BEGIN_MARKER: &str = "<!-- dcgm-sol:workload-sol begin -->";
/// Last line of the tool's part.
pub const END_MARKER: &str = "<!-- dcgm-sol:workload-sol end -->";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation::Correlation;

    fn parse(name: &str) -> Correlation {
        let path = format!(
            "{}/../../testdata/report/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_rendered_section_survives_patching_twice() {
        let human = "# Campaign\n\nIntro.\n\n## Workload-level SoL\n\nNote.\n\n## Other section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let results = [
            parse("h200-tp8-sweep/c008.json"),
            parse("h200-tp8-sweep/c128.json"),
            parse("counter-tier-vgpu.json"),
        ];
        let cells: Vec<SummaryCell> = results
            .iter()
            .map(|result| SummaryCell {
                cell_id: &result.cell_id,
                result_path: "x.json",
                result,
            })
            .collect();
        let body = render_section(&cells, &[("c256".into(), "unreadable".into())]);
        let once = patch(Some(human), &body);
        assert_eq!(patch(Some(&once), &body), once);
        assert!(once.ends_with("## Other section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"));
    }
}
