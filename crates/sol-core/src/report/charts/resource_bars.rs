//! Page 6: one horizontal bar per resource — measured ÷ (peak × duration × n_gpus) on a 0–100 %
//! track, with the ceiling divided by, the tier, the steady-state marker and the edge bounds.

use super::{
    MARGIN_PX, WIDTH_PX, cell_subtitle, no_data_reason, tier_label, write_badge, write_heading,
};
use crate::correlation::{Correlation, ResourceRow};
use crate::report::svg::{
    AXIS, Anchor, CAVEAT_INK, DocumentHead, Fill, INK, LegendItem, LegendSymbol, LinearScale,
    MUTED_INK, Pct, Px, SMALL_FONT_PX, TRACK, TextStyle, document, ellipsize, finite,
    resource_colour, stable_id, write_hatch_pattern, write_legend, write_rect, write_steady_tick,
    write_text, write_whisker, write_x_ticks,
};

/// Left edge of the bar track, px.
const TRACK_X_PX: f64 = 190.0;
/// Track width (0 → 100 % of peak), px.
const TRACK_WIDTH_PX: f64 = 400.0;
/// Left edge of the value column, px.
const VALUE_X_PX: f64 = TRACK_X_PX + TRACK_WIDTH_PX + 12.0;
/// Bar height, px.
const BAR_HEIGHT_PX: f64 = 18.0;
/// One resource row: marker headroom, bar, caption, gap.
const ROW_HEIGHT_PX: f64 = 54.0;
/// Bar top within its row (room for the steady-state marker above).
const BAR_OFFSET_PX: f64 = 9.0;
/// Caveat lines under the legend.
const CAVEAT_LINE_PX: f64 = 14.0;

/// How a row's bar is drawn.
enum BarKind {
    /// A %SoL figure.
    Sol(f64),
    /// A counter-tier busy-time share: an upper bound, never a %SoL.
    BusyBound(f64),
    /// Nothing to draw: the reason.
    NoData(String),
}

fn bar_kind(row: &ResourceRow) -> BarKind {
    match (finite(row.sol_pct), finite(row.busy_time_upper_bound_pct)) {
        (Some(sol), _) => BarKind::Sol(sol),
        (None, Some(bound)) => BarKind::BusyBound(bound),
        (None, None) => BarKind::NoData(no_data_reason(row)),
    }
}

/// Page 6: one horizontal bar per resource row of the cell — measured vs peak × duration ×
/// n_gpus, 0–100 % axis; the %SoL figure on each bar; the ceiling key it divides by; a tier badge;
/// steady-state %SoL as a marker; edge bounds as a whisker. Counter-tier busy-time bounds are
/// hatched and labelled as bounds; absent / invalid rows get an empty track with the reason.
pub fn resource_bars(cell: &Correlation) -> String {
    let scale = LinearScale::new([0.0, 100.0], [TRACK_X_PX, TRACK_X_PX + TRACK_WIDTH_PX]);
    let hatch_id =
        |row: &ResourceRow| stable_id(&["bars-hatch", &cell.cell_id, row.resource.label()]);
    let kinds: Vec<BarKind> = cell.resources.iter().map(bar_kind).collect();
    let any_bound = kinds.iter().any(|k| matches!(k, BarKind::BusyBound(_)));

    let mut defs = String::new();
    for (row, kind) in cell.resources.iter().zip(&kinds) {
        if matches!(kind, BarKind::BusyBound(_)) {
            write_hatch_pattern(&mut defs, &hatch_id(row), resource_colour(row.resource));
        }
    }

    let mut body = String::with_capacity(4096 + 1024 * cell.resources.len());
    let mut y = write_heading(
        &mut body,
        &format!("Workload %SoL per resource — cell {}", cell.cell_id),
        &cell_subtitle(cell),
    );
    let legend_hatch = cell
        .resources
        .iter()
        .zip(&kinds)
        .find(|(_, k)| matches!(k, BarKind::BusyBound(_)))
        .map(|(row, _)| hatch_id(row));
    y += legend(&mut body, y, legend_hatch.as_deref());
    for caveat in caveats(cell, any_bound) {
        y += CAVEAT_LINE_PX;
        write_text(
            &mut body,
            MARGIN_PX,
            y - 3.0,
            TextStyle::CAPTION.filled(CAVEAT_INK),
            Some("caveat"),
            &ellipsize(&caveat, WIDTH_PX - 2.0 * MARGIN_PX, SMALL_FONT_PX),
        );
    }
    y += 8.0;

    let rows_top = y;
    let rows_bottom = rows_top + ROW_HEIGHT_PX * cell.resources.len().max(1) as f64;
    write_x_ticks(
        &mut body,
        &scale,
        &[0.0, 25.0, 50.0, 75.0, 100.0],
        [rows_top, rows_bottom],
        |t| format!("{} %", Px(t)),
    );
    if cell.resources.is_empty() {
        write_text(
            &mut body,
            TRACK_X_PX,
            rows_top + 30.0,
            TextStyle::BODY.filled(MUTED_INK),
            Some("no-data"),
            "no data — the result has no resource rows",
        );
    }
    for (i, (row, kind)) in cell.resources.iter().zip(&kinds).enumerate() {
        let row_top = rows_top + ROW_HEIGHT_PX * i as f64;
        write_row(&mut body, row, kind, row_top, &scale, &hatch_id(row));
    }
    write_text(
        &mut body,
        TRACK_X_PX + TRACK_WIDTH_PX / 2.0,
        rows_bottom + 30.0,
        TextStyle::CAPTION.anchored(Anchor::Middle),
        Some("axis-title"),
        "% of peak — measured ÷ (peak × duration × n_gpus); 100 % = the ceiling",
    );
    let height = rows_bottom + 40.0 + MARGIN_PX;

    let title = format!("Workload %SoL per resource, cell {}", cell.cell_id);
    let desc = describe(cell, &kinds, any_bound);
    document(
        DocumentHead {
            width_px: WIDTH_PX,
            height_px: height,
            title: &title,
            desc: &desc,
            defs: &defs,
        },
        &body,
    )
}

fn legend(out: &mut String, y: f64, hatch_id: Option<&str>) -> f64 {
    let mut items = vec![
        LegendItem {
            symbol: LegendSymbol::Swatch("#777777"),
            label: "bar: %SoL over the full window".into(),
        },
        LegendItem {
            symbol: LegendSymbol::SteadyTick,
            label: "steady-state %SoL".into(),
        },
        LegendItem {
            symbol: LegendSymbol::Whisker,
            label: "window edges shifted ± one scrape".into(),
        },
    ];
    if let Some(id) = hatch_id {
        items.push(LegendItem {
            symbol: LegendSymbol::Hatch(id),
            label: "busy-time upper bound (counter tier), not %SoL".into(),
        });
    }
    write_legend(out, &items, MARGIN_PX, y, WIDTH_PX - MARGIN_PX)
}

/// What must be read before trusting the bars: short or unsteady windows, busy-time bounds.
fn caveats(cell: &Correlation, any_bound: bool) -> Vec<String> {
    let mut lines: Vec<String> = cell
        .warnings
        .iter()
        .filter(|w| w.starts_with("SHORT WINDOW") || w.starts_with("UNSTEADY"))
        .map(|w| format!("⚠ {w}"))
        .collect();
    if any_bound {
        lines.push(
            "⚠ Counter tier: hatched bars are the share of time busy — an upper bound on %SoL, not a %SoL"
                .to_string(),
        );
    }
    lines
}

/// Where a row's bar sits.
struct RowGeometry<'a> {
    bar_y: f64,
    /// Baseline of text level with the bar.
    text_y: f64,
    scale: &'a LinearScale,
}

impl RowGeometry<'_> {
    /// Bar length for `pct`, clipped to the 0–100 % track.
    fn width_of(&self, pct: f64) -> f64 {
        self.scale.map_clamped(pct) - TRACK_X_PX
    }
}

fn write_row(
    out: &mut String,
    row: &ResourceRow,
    kind: &BarKind,
    row_top: f64,
    scale: &LinearScale,
    hatch_id: &str,
) {
    let bar_y = row_top + BAR_OFFSET_PX;
    let geometry = RowGeometry {
        bar_y,
        text_y: bar_y + 13.0,
        scale,
    };
    write_text(
        out,
        MARGIN_PX,
        geometry.text_y,
        TextStyle::BODY.bold(),
        Some("resource-name"),
        row.resource.label(),
    );
    write_badge(out, MARGIN_PX, geometry.text_y + 18.0, tier_label(row));
    write_rect(
        out,
        [TRACK_X_PX, bar_y, TRACK_WIDTH_PX, BAR_HEIGHT_PX],
        Fill::Solid(TRACK),
        Some(AXIS),
        None,
    );
    let caption = match kind {
        BarKind::Sol(sol) => write_sol_bar(out, row, *sol, &geometry),
        BarKind::BusyBound(bound) => write_bound_bar(out, row, *bound, &geometry, hatch_id),
        BarKind::NoData(reason) => write_no_data(out, row, reason, &geometry),
    };
    write_text(
        out,
        TRACK_X_PX,
        bar_y + BAR_HEIGHT_PX + 13.0,
        TextStyle::CAPTION,
        Some("bar-caption"),
        &ellipsize(
            &caption.join(" · "),
            WIDTH_PX - MARGIN_PX - TRACK_X_PX,
            SMALL_FONT_PX,
        ),
    );
}

/// A %SoL bar with its figure, edge-bounds whisker and steady-state marker; returns the caption.
fn write_sol_bar(
    out: &mut String,
    row: &ResourceRow,
    sol: f64,
    geometry: &RowGeometry<'_>,
) -> Vec<String> {
    let RowGeometry {
        bar_y,
        text_y,
        scale,
    } = *geometry;
    write_rect(
        out,
        [TRACK_X_PX, bar_y, geometry.width_of(sol), BAR_HEIGHT_PX],
        Fill::Solid(resource_colour(row.resource)),
        None,
        Some("sol-bar"),
    );
    write_text(
        out,
        VALUE_X_PX,
        text_y,
        TextStyle::BODY.bold(),
        Some("sol-figure"),
        &Pct(sol).to_string(),
    );
    let mut caption = vec![format!("÷ {}", row.ceiling)];
    if sol > 100.0 {
        caption.push("above the peak: bar clipped at 100 %".into());
    }
    if let Some([lo, hi]) = row
        .sol_pct_bounds
        .filter(|b| b.iter().all(|v| v.is_finite()))
    {
        write_whisker(
            out,
            scale.map_clamped(lo),
            scale.map_clamped(hi),
            bar_y + BAR_HEIGHT_PX / 2.0,
            BAR_HEIGHT_PX - 6.0,
        );
        caption.push(format!("edge bounds {lo:.1}–{hi:.1} %"));
    }
    if let Some(steady) = finite(row.steady_state_sol_pct) {
        write_steady_tick(
            out,
            scale.map_clamped(steady),
            bar_y - 2.0,
            bar_y + BAR_HEIGHT_PX + 2.0,
        );
        caption.push(format!("steady state {}", Pct(steady)));
    }
    if row.coverage_pct < 100.0 {
        caption.push(format!("data cover {:.0} % of GPU-time", row.coverage_pct));
    }
    caption
}

/// A hatched busy-time bound with a `≤` figure (never a %SoL figure); returns the caption.
fn write_bound_bar(
    out: &mut String,
    row: &ResourceRow,
    bound: f64,
    geometry: &RowGeometry<'_>,
    hatch_id: &str,
) -> Vec<String> {
    write_rect(
        out,
        [
            TRACK_X_PX,
            geometry.bar_y,
            geometry.width_of(bound),
            BAR_HEIGHT_PX,
        ],
        Fill::Pattern(hatch_id),
        Some(resource_colour(row.resource)),
        Some("busy-bound-bar"),
    );
    write_text(
        out,
        VALUE_X_PX,
        geometry.text_y,
        TextStyle::BODY.bold(),
        Some("bound-figure"),
        &format!("≤ {}", Pct(bound)),
    );
    vec![
        "busy-time upper bound, not %SoL".into(),
        format!("from {}", row.metric),
    ]
}

/// An empty track saying why there is no figure; returns the caption.
fn write_no_data(
    out: &mut String,
    row: &ResourceRow,
    reason: &str,
    geometry: &RowGeometry<'_>,
) -> Vec<String> {
    write_text(
        out,
        TRACK_X_PX + 6.0,
        geometry.text_y,
        TextStyle::CAPTION.filled(INK),
        Some("no-data"),
        &ellipsize(
            &format!("no data — {reason}"),
            TRACK_WIDTH_PX - 12.0,
            SMALL_FONT_PX,
        ),
    );
    write_text(
        out,
        VALUE_X_PX,
        geometry.text_y,
        TextStyle::BODY.filled(MUTED_INK),
        Some("no-figure"),
        "no data",
    );
    vec![format!("would divide by {}", row.ceiling)]
}

fn describe(cell: &Correlation, kinds: &[BarKind], any_bound: bool) -> String {
    let mut sentences = vec![format!(
        "Workload %SoL per resource for cell {} ({}), each measured over the window and divided by peak × duration × n_gpus.",
        cell.cell_id,
        cell_subtitle(cell)
    )];
    for (row, kind) in cell.resources.iter().zip(kinds) {
        let label = row.resource.label();
        sentences.push(match kind {
            BarKind::Sol(sol) => {
                let mut s = format!(
                    "{label} {} of {} ({}",
                    Pct(*sol),
                    row.ceiling,
                    tier_label(row)
                );
                if let Some(steady) = finite(row.steady_state_sol_pct) {
                    s.push_str(&format!("; steady state {}", Pct(steady)));
                }
                if let Some([lo, hi]) = row.sol_pct_bounds {
                    s.push_str(&format!("; edge bounds {lo:.1}–{hi:.1} %"));
                }
                s + ")."
            }
            BarKind::BusyBound(bound) => format!(
                "{label}: busy ≤ {} of the time — a busy-time upper bound, not %SoL ({}).",
                Pct(*bound),
                row.metric
            ),
            BarKind::NoData(reason) => format!("{label}: no data ({reason})."),
        });
    }
    sentences.extend(
        caveats(cell, any_bound)
            .into_iter()
            .map(|c| c.replace("⚠ ", "Caveat: ")),
    );
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Tier;
    use crate::report::charts::testing::{
        assert_self_contained, c008, c128, counter_tier, elements_with_class, texts_with_class,
    };

    #[test]
    fn c128_hbm_bar_is_69_68_percent_of_the_track() {
        let svg = resource_bars(&c128());
        assert_self_contained(&svg);
        let figures = texts_with_class(&svg, "sol-figure");
        // Resource order HBM, Tensor, NVLink, PCIe; sol_pct 69.6808 → "69.7 %".
        assert_eq!(figures[0].1, "69.7 %");
        assert_eq!(figures[1].1, "34.9 %");
        // Bar width: 400 px track × 69.6808 / 100 = 278.7232 → written "278.72".
        let bars = elements_with_class(&svg, "sol-bar");
        assert!(bars[0].contains("width=\"278.72\""), "{}", bars[0]);
        // Bar starts at the track's left edge, 190 px.
        assert!(bars[0].contains("x=\"190\""), "{}", bars[0]);
        // Ceiling it divides by, and the steady state 77.7395 → 77.7 %.
        assert!(svg.contains("÷ h200_sxm.hbm3e_tbps"));
        assert!(svg.contains("steady state 77.7 %"));
        assert!(svg.contains("edge bounds 68.9–69.7 %"));
        // The unsteady-window warning is repeated on the chart.
        assert!(svg.contains("UNSTEADY WINDOW: num_prompts 200"));
        assert_eq!(texts_with_class(&svg, "tier-badge")[0].1, "PROF");
    }

    #[test]
    fn steady_marker_and_whisker_sit_at_their_values() {
        let svg = resource_bars(&c128());
        // Steady tick at 190 + 400 × 0.777395 = 500.958 → "500.96"; whisker ends at
        // 190 + 4 × 68.8681 = 465.4724 → "465.47" and 190 + 4 × 69.6808 = 468.7232 → "468.72".
        assert!(svg.contains("x1=\"500.96\""));
        assert!(svg.contains("x1=\"465.47\""));
        assert!(svg.contains("x1=\"468.72\""));
    }

    #[test]
    fn counter_tier_draws_hatched_bounds_and_no_sol_figure() {
        let svg = resource_bars(&counter_tier());
        assert_self_contained(&svg);
        assert!(texts_with_class(&svg, "sol-figure").is_empty());
        let bounds = texts_with_class(&svg, "bound-figure");
        assert_eq!(bounds.len(), 2, "HBM and tensor carry busy-time bounds");
        assert_eq!(bounds[0].1, "≤ 0.0 %");
        assert!(svg.contains("busy-time upper bound, not %SoL"));
        let hatched = elements_with_class(&svg, "busy-bound-bar");
        assert_eq!(hatched.len(), 2);
        assert!(hatched[0].contains("fill=\"url(#sol"));
        assert!(svg.contains("<pattern id=\"sol"));
        // NVLink and PCIe are absent: empty tracks with the reason, no figure at all.
        let no_data = texts_with_class(&svg, "no-data");
        assert_eq!(no_data.len(), 2);
        assert!(
            no_data[0]
                .1
                .starts_with("no data — absent: no DCGM NVLink data")
        );
        let badges: Vec<String> = texts_with_class(&svg, "tier-badge")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            badges,
            [
                "counter: busy-time bound",
                "counter: busy-time bound",
                "absent",
                "absent"
            ]
        );
    }

    #[test]
    fn invalid_rows_get_an_empty_track_with_the_reason() {
        let mut cell = c008();
        let row = &mut cell.resources[1];
        row.tier = Tier::Invalid;
        row.sol_pct = None;
        row.sol_pct_bounds = None;
        row.steady_state_sol_pct = None;
        row.notes = vec!["PROF Tensor counters read all-zero on every GPU".into()];
        let svg = resource_bars(&cell);
        assert_self_contained(&svg);
        let no_data = texts_with_class(&svg, "no-data");
        assert_eq!(
            no_data[0].1,
            "no data — invalid: PROF Tensor counters read all-zero on every GPU"
        );
        assert_eq!(texts_with_class(&svg, "tier-badge")[1].1, "invalid");
        // Three %SoL figures remain (HBM, NVLink, PCIe); tensor has none, not "0.0 %".
        assert_eq!(texts_with_class(&svg, "sol-figure").len(), 3);
    }

    #[test]
    fn values_above_the_peak_are_clipped_and_said() {
        let mut cell = c008();
        cell.resources[0].sol_pct = Some(104.0);
        let svg = resource_bars(&cell);
        // Clipped at the track's full 400 px, and the caption says so.
        assert!(elements_with_class(&svg, "sol-bar")[0].contains("width=\"400\""));
        assert!(svg.contains("above the peak: bar clipped at 100 %"));
        assert_eq!(texts_with_class(&svg, "sol-figure")[0].1, "104.0 %");
    }

    #[test]
    fn desc_summarises_every_row() {
        let svg = resource_bars(&counter_tier());
        let desc = &svg[svg.find("<desc>").unwrap()..svg.find("</desc>").unwrap()];
        assert!(desc.contains("HBM: busy ≤ 0.0 % of the time — a busy-time upper bound"));
        assert!(desc.contains("NVLink: no data (absent: no DCGM NVLink data"));
    }
}
