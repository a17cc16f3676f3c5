//! The sweep view: %SoL of each resource against concurrency across cells — where does it
//! saturate — with output throughput on a second axis.

use super::{MARGIN_PX, PlotArea, WIDTH_PX, workload_parts, write_heading};
use crate::correlation::{Correlation, ResourceRow};
use crate::measure::Resource;
use crate::report::svg::{
    Anchor, DocumentHead, INK, LegendItem, LegendSymbol, LinearScale, Marker, MarkerShape, Pct, Px,
    SMALL_FONT_PX, TextStyle, document, finite, label_stride, resource_colour, resource_dash,
    resource_marker, text_width_px, write_legend, write_polyline, write_text, write_vertical_title,
    write_y_ticks, zero_based_ticks,
};

const PLOT_X0_PX: f64 = 64.0;
const PLOT_X1_PX: f64 = 690.0;
const PLOT_HEIGHT_PX: f64 = 260.0;
/// Throughput line: black, dashed, crosses — distinct from every resource.
const THROUGHPUT_DASH: &str = "5 3";
/// Descriptions list every cell up to this many, then summarise.
const DESC_LIST_MAX_CELLS: usize = 12;

/// A resource's plotted value in one cell, and whether it is the steady-state figure.
#[derive(Debug, Clone, Copy)]
struct SweepValue {
    pct: f64,
    steady: bool,
}

fn sweep_value(row: &ResourceRow) -> Option<SweepValue> {
    match (finite(row.steady_state_sol_pct), finite(row.sol_pct)) {
        (Some(pct), _) => Some(SweepValue { pct, steady: true }),
        (None, Some(pct)) => Some(SweepValue { pct, steady: false }),
        (None, None) => None,
    }
}

/// One resource across the cells.
struct ResourceLine {
    resource: Resource,
    values: Vec<Option<SweepValue>>,
}

/// Evenly spaced category slots across the plot.
struct Categories {
    slot_px: f64,
    marker_radius_px: f64,
}

impl Categories {
    fn new(count: usize) -> Categories {
        let slot_px = (PLOT_X1_PX - PLOT_X0_PX) / count.max(1) as f64;
        Categories {
            slot_px,
            marker_radius_px: (slot_px * 0.3).clamp(2.0, 4.5),
        }
    }

    /// Centre of slot `i`.
    fn x_of(&self, i: usize) -> f64 {
        PLOT_X0_PX + (i as f64 + 0.5) * self.slot_px
    }

    /// Pixel points of per-cell values (`None` stays `None`: a gap, never 0).
    fn points(&self, values: &[Option<f64>], scale: &LinearScale) -> Vec<Option<[f64; 2]>> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|v| [self.x_of(i), scale.map_clamped(v)]))
            .collect()
    }
}

/// Sweep view: %SoL of each resource (steady-state when present, else full window; the legend
/// says which) against concurrency across cells, with output throughput (tokens/s) on a second
/// y axis when the bench gives it. Cells without a concurrency are left out; `None` with fewer
/// than 2 cells that have one. Cells sit evenly spaced in concurrency order, so 1, 8, 32, 128 and
/// 1024 never crowd, and labels thin out when there are many.
pub fn sweep(cells: &[&Correlation]) -> Option<String> {
    let mut cells: Vec<(u32, &Correlation)> = cells
        .iter()
        .filter_map(|c| c.context.concurrency.map(|n| (n, *c)))
        .collect();
    if cells.len() < 2 {
        return None;
    }
    cells.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cell_id.cmp(&b.1.cell_id)));
    let lines = resource_lines(&cells);
    let throughput: Vec<Option<f64>> = cells
        .iter()
        .map(|(_, c)| finite(c.context.output_tokens_per_s))
        .collect();
    let has_throughput = throughput.iter().any(Option::is_some);

    let mut body = String::with_capacity(8192 + 512 * cells.len());
    let mut y = write_heading(
        &mut body,
        &format!("%SoL against concurrency — {} cells", cells.len()),
        &shared_subtitle(&cells),
    );
    let mut items: Vec<LegendItem> = lines.iter().map(legend_item).collect();
    if has_throughput {
        items.push(LegendItem {
            symbol: LegendSymbol::Line {
                colour: INK,
                dash: Some(THROUGHPUT_DASH),
                shape: MarkerShape::Cross,
            },
            label: "output throughput, tokens/s (right axis)".into(),
        });
    }
    y += write_legend(&mut body, &items, MARGIN_PX, y, WIDTH_PX - MARGIN_PX);

    let plot = PlotArea {
        x0: PLOT_X0_PX,
        x1: PLOT_X1_PX,
        top: y + 14.0,
        bottom: y + 14.0 + PLOT_HEIGHT_PX,
    };
    let max_pct = lines
        .iter()
        .flat_map(|l| l.values.iter().flatten().map(|v| v.pct))
        .fold(100.0, f64::max);
    let pct_ticks = zero_based_ticks(max_pct, 5);
    let pct_scale = LinearScale::new(
        [0.0, *pct_ticks.last().unwrap_or(&100.0)],
        [plot.bottom, plot.top],
    );
    write_y_ticks(
        &mut body,
        &pct_scale,
        &pct_ticks,
        [plot.x0, plot.x1],
        Anchor::Start,
        true,
        |t| format!("{} %", Px(t)),
    );
    let tps_scale = has_throughput.then(|| write_throughput_axis(&mut body, &throughput, &plot));
    plot.write_frame(&mut body);

    let categories = Categories::new(cells.len());
    for line in &lines {
        write_resource_line(&mut body, line, &categories, &pct_scale);
    }
    if let Some(scale) = &tps_scale {
        let points = categories.points(&throughput, scale);
        write_broken_line(&mut body, &points, INK, Some(THROUGHPUT_DASH));
        let cross = Marker {
            shape: MarkerShape::Cross,
            radius_px: categories.marker_radius_px,
            colour: INK,
            filled: true,
        };
        for point in points.iter().flatten() {
            cross.write(&mut body, *point, Some("throughput-point"));
        }
    }
    let stride = write_concurrency_labels(&mut body, &cells, &categories, &plot);
    let x_title = if stride > 1 {
        format!(
            "concurrency (max in-flight requests) — cells evenly spaced in order; one label per {stride} cells"
        )
    } else {
        "concurrency (max in-flight requests) — cells evenly spaced in order".to_string()
    };
    plot.write_axis_titles(&mut body, &x_title, "%SoL (% of peak)");

    let title = format!("%SoL against concurrency, {} cells", cells.len());
    let desc = describe(&cells, &lines, &throughput);
    Some(document(
        DocumentHead {
            width_px: WIDTH_PX,
            height_px: plot.bottom + 40.0 + MARGIN_PX,
            title: &title,
            desc: &desc,
            defs: "",
        },
        &body,
    ))
}

/// One line per resource that has a value in at least one cell, in report order.
fn resource_lines(cells: &[(u32, &Correlation)]) -> Vec<ResourceLine> {
    Resource::ALL
        .iter()
        .map(|&resource| ResourceLine {
            resource,
            values: cells
                .iter()
                .map(|(_, c)| {
                    c.resources
                        .iter()
                        .find(|r| r.resource == resource)
                        .and_then(sweep_value)
                })
                .collect(),
        })
        .filter(|line| line.values.iter().any(Option::is_some))
        .collect()
}

/// The right-hand tokens/s axis (labels and title, no grid); returns its scale.
fn write_throughput_axis(
    out: &mut String,
    throughput: &[Option<f64>],
    plot: &PlotArea,
) -> LinearScale {
    let max_tps = throughput.iter().flatten().copied().fold(0.0, f64::max);
    let ticks = zero_based_ticks(max_tps, 5);
    let scale = LinearScale::new(
        [0.0, *ticks.last().unwrap_or(&1.0)],
        [plot.bottom, plot.top],
    );
    write_y_ticks(
        out,
        &scale,
        &ticks,
        [plot.x0, plot.x1],
        Anchor::End,
        false,
        |t| Px(t).to_string(),
    );
    write_vertical_title(
        out,
        WIDTH_PX - MARGIN_PX + 4.0,
        (plot.top + plot.bottom) / 2.0,
        "output throughput (tokens/s)",
    );
    scale
}

/// A resource's line, broken at cells without a value; filled markers for steady-state values,
/// hollow for full-window ones.
fn write_resource_line(
    out: &mut String,
    line: &ResourceLine,
    categories: &Categories,
    scale: &LinearScale,
) {
    let colour = resource_colour(line.resource);
    let pcts: Vec<Option<f64>> = line.values.iter().map(|v| v.map(|v| v.pct)).collect();
    let points = categories.points(&pcts, scale);
    write_broken_line(out, &points, colour, resource_dash(line.resource));
    for (point, value) in points.iter().zip(&line.values) {
        if let (Some(point), Some(value)) = (point, value) {
            Marker {
                shape: resource_marker(line.resource),
                radius_px: categories.marker_radius_px,
                colour,
                filled: value.steady,
            }
            .write(out, *point, Some("sweep-point"));
        }
    }
}

/// Concurrency labels under the slots, thinned so neighbours never overlap; returns the stride.
fn write_concurrency_labels(
    out: &mut String,
    cells: &[(u32, &Correlation)],
    categories: &Categories,
    plot: &PlotArea,
) -> usize {
    let labels: Vec<String> = cells.iter().map(|(n, _)| n.to_string()).collect();
    let widest = labels
        .iter()
        .map(|l| text_width_px(l, SMALL_FONT_PX))
        .fold(0.0, f64::max);
    let stride = label_stride(categories.slot_px, widest);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % stride == 0) {
        write_text(
            out,
            categories.x_of(i),
            plot.bottom + 13.0,
            TextStyle::CAPTION.anchored(Anchor::Middle),
            Some("concurrency-label"),
            label,
        );
    }
    stride
}

/// Hardware and workload the cells share, or "mixed" where they differ.
fn shared_subtitle(cells: &[(u32, &Correlation)]) -> String {
    let Some((_, first)) = cells.first() else {
        return String::new();
    };
    let same =
        |f: &dyn Fn(&Correlation) -> Vec<String>| cells.iter().all(|(_, c)| f(c) == f(first));
    let hardware = |c: &Correlation| vec![c.hw_key.clone()];
    let workload = |c: &Correlation| {
        let mut parts = workload_parts(c);
        parts.retain(|p| !p.starts_with("concurrency"));
        parts
    };
    let mut parts = vec![if same(&hardware) {
        first.hw_key.clone()
    } else {
        "mixed hardware".to_string()
    }];
    if same(&workload) {
        parts.extend(workload(first));
    } else {
        parts.push("mixed workloads".into());
    }
    parts.push("filled markers: steady-state %SoL; hollow: full window".into());
    parts.join(" · ")
}

fn legend_item(line: &ResourceLine) -> LegendItem<'static> {
    let present: Vec<&SweepValue> = line.values.iter().flatten().collect();
    let which = if present.iter().all(|v| v.steady) {
        "steady state"
    } else if present.iter().all(|v| !v.steady) {
        "full window"
    } else {
        "steady state where detected (filled), else full window (hollow)"
    };
    LegendItem {
        symbol: LegendSymbol::Line {
            colour: resource_colour(line.resource),
            dash: resource_dash(line.resource),
            shape: resource_marker(line.resource),
        },
        label: format!("{} %SoL, {which}", line.resource.label()),
    }
}

/// Draws a line through consecutive present points; a missing cell breaks it.
fn write_broken_line(
    out: &mut String,
    points: &[Option<[f64; 2]>],
    colour: &str,
    dash: Option<&str>,
) {
    for run in points.split(Option::is_none) {
        let run: Vec<[f64; 2]> = run.iter().flatten().copied().collect();
        if run.len() >= 2 {
            write_polyline(out, &run, colour, dash);
        }
    }
}

fn describe(
    cells: &[(u32, &Correlation)],
    lines: &[ResourceLine],
    throughput: &[Option<f64>],
) -> String {
    let concurrency: Vec<String> = cells.iter().map(|(n, _)| n.to_string()).collect();
    let mut sentences = vec![format!(
        "%SoL per resource against concurrency across {} cells (concurrency {}), steady-state %SoL where a steady span was detected, else the full window.",
        cells.len(),
        if cells.len() <= DESC_LIST_MAX_CELLS {
            concurrency.join(", ")
        } else {
            format!(
                "{} to {}",
                concurrency[0],
                concurrency[concurrency.len() - 1]
            )
        }
    )];
    let series = |name: String, values: Vec<Option<String>>, numbers: Vec<Option<f64>>| {
        let present: Vec<(usize, f64)> = numbers
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        let missing = values.iter().filter(|v| v.is_none()).count();
        let body = if cells.len() <= DESC_LIST_MAX_CELLS {
            values
                .iter()
                .zip(&concurrency)
                .map(|(v, c)| format!("{} at {c}", v.as_deref().unwrap_or("no data")))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            let highest = present
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| *i)
                .unwrap_or_default();
            format!(
                "highest {} at concurrency {}; {} of {} cells without a value",
                values[highest].as_deref().unwrap_or("no data"),
                concurrency[highest],
                missing,
                cells.len()
            )
        };
        format!("{name}: {body}.")
    };
    for line in lines {
        let numbers: Vec<Option<f64>> = line.values.iter().map(|v| v.map(|v| v.pct)).collect();
        let values = line
            .values
            .iter()
            .map(|v| {
                v.map(|v| {
                    format!(
                        "{}{}",
                        Pct(v.pct),
                        if v.steady { "" } else { " (full window)" }
                    )
                })
            })
            .collect();
        sentences.push(series(line.resource.label().to_string(), values, numbers));
    }
    if throughput.iter().any(Option::is_some) {
        let values = throughput
            .iter()
            .map(|v| v.map(|v| format!("{v:.0} tokens/s")))
            .collect();
        sentences.push(series(
            "Output throughput".into(),
            values,
            throughput.to_vec(),
        ));
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::testing::{
        assert_self_contained, c008, c032, c064, c128, counter_tier, elements_with_class,
        texts_with_class,
    };

    #[test]
    fn orders_cells_by_concurrency_and_skips_cells_without_one() {
        let cells = [c128(), counter_tier(), c032(), c008(), c064()];
        let refs: Vec<&Correlation> = cells.iter().collect();
        let svg = sweep(&refs).expect("four cells with a concurrency");
        assert_self_contained(&svg);
        let labels = texts_with_class(&svg, "concurrency-label");
        let text: Vec<&str> = labels.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(text, ["8", "32", "64", "128"]);
        // 626 px plot / 4 = 156.5 px slots: centres 64 + 78.25 = 142.25, 298.75, 455.25, 611.75.
        let xs: Vec<f64> = labels.iter().map(|(x, _)| *x).collect();
        assert_eq!(xs, [142.25, 298.75, 455.25, 611.75]);
        assert!(svg.contains("%SoL against concurrency — 4 cells"));
    }

    #[test]
    fn steady_values_are_plotted_and_the_legend_says_so() {
        let cells = [c008(), c128()];
        let refs: Vec<&Correlation> = cells.iter().collect();
        let svg = sweep(&refs).unwrap();
        assert!(svg.contains("HBM %SoL, steady state"));
        // HBM steady 34.0024 % (c008) and 77.7395 % (c128) on a 260 px, 0–100 % axis: the
        // second point is (77.7395 − 34.0024) × 2.6 = 113.72 px higher.
        let points = elements_with_class(&svg, "sweep-point");
        let cy = |tag: &str| crate::report::charts::testing::attribute(tag, "cy");
        assert!((cy(points[0]) - cy(points[1]) - 113.72).abs() < 0.02);
        assert!(svg.contains("HBM: 34.0 % at 8, 77.7 % at 128."));
        assert!(svg.contains("Output throughput: 1092 tokens/s at 8, 853 tokens/s at 128."));
        assert!(svg.contains("output throughput (tokens/s)"));
        assert!(svg.contains("concurrency (max in-flight requests)"));
    }

    #[test]
    fn full_window_values_are_hollow_and_named() {
        let mut hbm_full = c032();
        hbm_full.resources[0].steady_state_sol_pct = None;
        let cells = [c008(), hbm_full];
        let refs: Vec<&Correlation> = cells.iter().collect();
        let svg = sweep(&refs).unwrap();
        assert!(
            svg.contains(
                "HBM %SoL, steady state where detected (filled), else full window (hollow)"
            )
        );
        // c032 HBM full window 49.4533 %, hollow (white fill).
        assert!(svg.contains("49.5 % (full window) at 32"));
        assert!(elements_with_class(&svg, "sweep-point")[1].contains("fill=\"#ffffff\""));
    }

    #[test]
    fn fewer_than_two_cells_with_a_concurrency_is_none() {
        assert!(sweep(&[&c008(), &counter_tier()]).is_none());
        assert!(sweep(&[]).is_none());
    }

    #[test]
    fn sixty_four_cells_up_to_1024_keep_labels_apart() {
        let template = c064();
        let cells: Vec<Correlation> = (1..=64u32)
            .map(|i| {
                let mut c = template.clone();
                c.cell_id = format!("c{i:03}");
                c.context.concurrency = Some(i * 16);
                c
            })
            .collect();
        let refs: Vec<&Correlation> = cells.iter().collect();
        let svg = sweep(&refs).unwrap();
        assert_self_contained(&svg);
        let labels = texts_with_class(&svg, "concurrency-label");
        // 626 / 64 = 9.78 px slots; widest "1024" = 4 × 6.4 = 25.6 px + 6 px gap = 31.6 px →
        // stride ceil(31.6 / 9.78) = 4: 16 labels, 39.1 px apart.
        assert_eq!(labels.len(), 16);
        assert_eq!(labels[1].1, "80");
        for pair in labels.windows(2) {
            let half_widths = (text_width_px(&pair[0].1, SMALL_FONT_PX)
                + text_width_px(&pair[1].1, SMALL_FONT_PX))
                / 2.0;
            assert!(pair[1].0 - pair[0].0 >= half_widths + 6.0, "{pair:?}");
        }
        assert!(svg.contains("one label per 4 cells"));
    }
}
