//! Time series: % of peak of each resource over the window, one line per resource, the
//! steady-state span shaded.

use std::fmt::Write;

use super::{MARGIN_PX, PlotArea, WIDTH_PX, cell_subtitle, no_data_reason, write_heading};
use crate::correlation::{Correlation, ResourceRow};
use crate::report::svg::{
    Anchor, DocumentHead, Fill, INK, LegendItem, LegendSymbol, LinearScale, Marker, Pct, Px, SHADE,
    SMALL_FONT_PX, TextStyle, document, ellipsize, finite, resource_colour, resource_dash,
    resource_marker, write_dashed_line, write_legend, write_polyline, write_rect, write_text,
    write_x_ticks, write_y_ticks, zero_based_ticks,
};
use crate::time::parse_instant;

const PLOT_X0_PX: f64 = 64.0;
const PLOT_X1_PX: f64 = WIDTH_PX - MARGIN_PX;
const PLOT_HEIGHT_PX: f64 = 240.0;
/// At most this many markers per line; the line itself shows every point.
const MAX_MARKERS_PER_LINE: usize = 25;
/// A step longer than this many median sample spacings is a gap: the line breaks there rather
/// than inventing values across it.
const GAP_FACTOR: f64 = 2.5;

/// The points of a row that can be drawn (finite time and value).
fn finite_points(row: &ResourceRow) -> Vec<[f64; 2]> {
    row.timeseries
        .iter()
        .copied()
        .filter(|[t, v]| t.is_finite() && v.is_finite())
        .collect()
}

/// Splits points at gaps longer than [`GAP_FACTOR`] × the median spacing.
fn segments(points: &[[f64; 2]]) -> Vec<&[[f64; 2]]> {
    let mut steps: Vec<f64> = points.windows(2).map(|w| w[1][0] - w[0][0]).collect();
    if steps.len() < 2 {
        return vec![points];
    }
    steps.sort_by(f64::total_cmp);
    let limit = GAP_FACTOR * steps[steps.len() / 2];
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i][0] - points[i - 1][0] > limit {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.push(&points[start..]);
    out
}

/// The steady span in seconds since the window start, when one was detected and parses.
fn steady_span_s(cell: &Correlation) -> Option<[f64; 2]> {
    let steady = &cell.window.steady_state;
    if !steady.detected {
        return None;
    }
    let start = parse_instant(&steady.start_utc).ok()? - cell.window.start_s;
    let end = parse_instant(&steady.end_utc).ok()? - cell.window.start_s;
    (end > start).then_some([start, end])
}

/// Time series: % of peak of each resource over the window (x: seconds since window start,
/// y: %), one line per resource, the steady-state span shaded, legend.
pub fn timeseries(cell: &Correlation) -> String {
    let series: Vec<(&ResourceRow, Vec<[f64; 2]>)> = cell
        .resources
        .iter()
        .map(|row| (row, finite_points(row)))
        .collect();
    let last_t = series
        .iter()
        .flat_map(|(_, p)| p.last().map(|[t, _]| *t))
        .fold(0.0, f64::max);
    let duration_s = finite(Some(cell.duration_s)).unwrap_or(0.0).max(0.0);
    let x_ticks = zero_based_ticks(duration_s.max(last_t), 8);
    let max_value = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|[_, v]| *v))
        .fold(100.0, f64::max);
    let y_ticks = zero_based_ticks(max_value, 5);
    let steady = steady_span_s(cell);

    let mut body = String::with_capacity(8192);
    let mut y = write_heading(
        &mut body,
        &format!("% of peak over the window — cell {}", cell.cell_id),
        &cell_subtitle(cell),
    );
    let mut items: Vec<LegendItem> = series
        .iter()
        .map(|(row, points)| legend_item(row, points.is_empty()))
        .collect();
    if steady.is_some() {
        items.push(LegendItem {
            symbol: LegendSymbol::Shade,
            label: "steady-state span".into(),
        });
    }
    let window_end_drawn = duration_s > 0.0 && last_t > duration_s;
    if window_end_drawn {
        items.push(LegendItem {
            symbol: LegendSymbol::Rule,
            label: "window end (later points: the last scrape's interval)".into(),
        });
    }
    y += write_legend(&mut body, &items, MARGIN_PX, y, WIDTH_PX - MARGIN_PX);
    let steady_line = match steady {
        Some([s, e]) => format!(
            "steady state {s:.0}–{e:.0} s ({}): {}",
            cell.window.steady_state.signal, cell.window.steady_state.summary
        ),
        None => format!(
            "no steady state shaded: {}",
            cell.window.steady_state.summary
        ),
    };
    write_text(
        &mut body,
        MARGIN_PX,
        y + 12.0,
        TextStyle::CAPTION,
        Some("steady-caption"),
        &ellipsize(&steady_line, WIDTH_PX - 2.0 * MARGIN_PX, SMALL_FONT_PX),
    );

    let plot_top = y + 26.0;
    let plot = PlotArea {
        x0: PLOT_X0_PX,
        x1: PLOT_X1_PX,
        top: plot_top,
        bottom: plot_top + PLOT_HEIGHT_PX,
    };
    let x_scale = LinearScale::new([0.0, *x_ticks.last().unwrap_or(&1.0)], [plot.x0, plot.x1]);
    let y_scale = LinearScale::new(
        [0.0, *y_ticks.last().unwrap_or(&100.0)],
        [plot.bottom, plot.top],
    );
    if let Some(span) = steady {
        write_steady_shade(&mut body, span, &x_scale, &plot);
    }
    write_x_ticks(
        &mut body,
        &x_scale,
        &x_ticks,
        [plot.top, plot.bottom],
        |t| Px(t).to_string(),
    );
    write_y_ticks(
        &mut body,
        &y_scale,
        &y_ticks,
        [plot.x0, plot.x1],
        Anchor::Start,
        true,
        |t| format!("{} %", Px(t)),
    );
    plot.write_frame(&mut body);
    if window_end_drawn {
        write_window_end(&mut body, x_scale.map(duration_s), &plot);
    }
    for (row, points) in &series {
        write_series(&mut body, row, points, &x_scale, &y_scale);
    }
    plot.write_axis_titles(
        &mut body,
        "s since window start",
        "% of peak (busy % in the counter tier)",
    );

    let title = format!("% of peak over the window, cell {}", cell.cell_id);
    let desc = describe(cell, &series, &steady_line);
    document(
        DocumentHead {
            width_px: WIDTH_PX,
            height_px: plot.bottom + 40.0 + MARGIN_PX,
            title: &title,
            desc: &desc,
            defs: "",
        },
        &body,
    )
}

/// Shades the steady span across the plot and names it at the top.
fn write_steady_shade(
    out: &mut String,
    [start_s, end_s]: [f64; 2],
    x_scale: &LinearScale,
    plot: &PlotArea,
) {
    let (x0, x1) = (x_scale.map_clamped(start_s), x_scale.map_clamped(end_s));
    write_rect(
        out,
        [x0, plot.top, x1 - x0, plot.bottom - plot.top],
        Fill::Solid(SHADE),
        None,
        Some("steady-span"),
    );
    write_text(
        out,
        x0 + 4.0,
        plot.top + 12.0,
        TextStyle::CAPTION.filled(INK),
        None,
        "steady state",
    );
}

/// A dashed line at the window end: points after it average the last scrape's interval.
fn write_window_end(out: &mut String, x: f64, plot: &PlotArea) {
    write_dashed_line(out, [x, plot.top], [x, plot.bottom], INK, "4 3");
    write_text(
        out,
        x - 3.0,
        plot.top + 12.0,
        TextStyle::CAPTION.anchored(Anchor::End),
        None,
        "window end",
    );
}

fn is_busy_bound(row: &ResourceRow) -> bool {
    finite(row.sol_pct).is_none() && finite(row.busy_time_upper_bound_pct).is_some()
}

fn legend_item(row: &ResourceRow, empty: bool) -> LegendItem<'static> {
    let label = row.resource.label();
    if empty {
        return LegendItem {
            symbol: LegendSymbol::None,
            label: format!("{label}: no data ({})", no_data_reason(row)),
        };
    }
    LegendItem {
        symbol: LegendSymbol::Line {
            colour: resource_colour(row.resource),
            dash: resource_dash(row.resource),
            shape: resource_marker(row.resource),
        },
        label: if is_busy_bound(row) {
            format!("{label} busy % (upper bound, not %SoL)")
        } else {
            format!("{label} % of {}", row.ceiling)
        },
    }
}

fn write_series(
    out: &mut String,
    row: &ResourceRow,
    points: &[[f64; 2]],
    x_scale: &LinearScale,
    y_scale: &LinearScale,
) {
    if points.is_empty() {
        return;
    }
    let colour = resource_colour(row.resource);
    let to_px = |[t, v]: [f64; 2]| [x_scale.map_clamped(t), y_scale.map_clamped(v)];
    let _ = write!(out, "<g class=\"series\">");
    for segment in segments(points) {
        let pixels: Vec<[f64; 2]> = segment.iter().map(|p| to_px(*p)).collect();
        write_polyline(out, &pixels, colour, resource_dash(row.resource));
    }
    let marker = Marker {
        shape: resource_marker(row.resource),
        radius_px: 3.0,
        colour,
        filled: true,
    };
    let every = points.len().div_ceil(MAX_MARKERS_PER_LINE);
    for point in points.iter().step_by(every) {
        marker.write(out, to_px(*point), None);
    }
    out.push_str("</g>");
}

fn describe(
    cell: &Correlation,
    series: &[(&ResourceRow, Vec<[f64; 2]>)],
    steady_line: &str,
) -> String {
    let mut sentences = vec![
        format!(
            "% of peak of each resource over the {:.0} s window of cell {} ({}); x is seconds since the window start.",
            cell.duration_s,
            cell.cell_id,
            cell_subtitle(cell)
        ),
        format!("{}.", steady_line.trim_end_matches('.')),
    ];
    for (row, points) in series {
        let label = row.resource.label();
        let highest = points.iter().copied().max_by(|a, b| a[1].total_cmp(&b[1]));
        sentences.push(match highest {
            Some([t, v]) => format!(
                "{label}{}: {} points, highest {} at {t:.0} s.",
                if is_busy_bound(row) {
                    " (busy %, an upper bound, not %SoL)"
                } else {
                    ""
                },
                points.len(),
                Pct(v)
            ),
            None => format!("{label}: no data ({}).", no_data_reason(row)),
        });
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::testing::{
        assert_self_contained, attribute, c008, c032, c128, counter_tier, elements_with_class,
        texts_with_class,
    };

    #[test]
    fn c032_steady_span_is_shaded_from_its_utc_bounds() {
        let svg = timeseries(&c032());
        assert_self_contained(&svg);
        // Window starts 14:10:00.592, steady 14:10:15 → 14:11:50: 14.408 s → 109.408 s.
        // x axis: last point 124.408 s → ticks of 20 s up to 140 s over 64 → 744 px (680 px):
        // 64 + 680 × 14.408 / 140 = 133.98; width 680 × 95 / 140 = 461.43.
        let span = elements_with_class(&svg, "steady-span")[0];
        assert!((attribute(span, "x") - 133.98).abs() < 0.006, "{span}");
        assert!((attribute(span, "width") - 461.43).abs() < 0.011, "{span}");
        assert!(svg.contains("steady state 14–109 s (DramActive)"));
    }

    #[test]
    fn axes_carry_units_and_lines_have_markers() {
        let svg = timeseries(&c128());
        assert_self_contained(&svg);
        assert!(svg.contains(">s since window start<"));
        assert!(svg.contains("% of peak (busy % in the counter tier)"));
        let x_labels: Vec<String> = texts_with_class(&svg, "x-tick")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(x_labels, ["0", "20", "40", "60", "80", "100", "120", "140"]);
        let y_labels: Vec<String> = texts_with_class(&svg, "y-tick")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(y_labels, ["0 %", "20 %", "40 %", "60 %", "80 %", "100 %"]);
        // Four resources with 25 points each: four polylines, 25 markers each (HBM circles).
        assert_eq!(
            svg.matches("<polyline").count(),
            4 + 4,
            "4 series + 4 legend samples"
        );
        assert!(svg.contains("window end"));
    }

    #[test]
    fn hbm_point_lands_on_hand_computed_pixels() {
        let svg = timeseries(&c008());
        // c008 HBM (5 s, 5.6945 %): x = 64 + 680 × 5 / 140 = 88.29; the plot is 240 px high with
        // 0–100 %: y = bottom − 240 × 0.056945 = bottom − 13.67.
        let zero_y = attribute(elements_with_class(&svg, "y-tick")[0], "y") - 3.5;
        let expected = format!("88.29,{}", Px(zero_y - 13.6668));
        assert!(svg.contains(&expected), "{expected}");
    }

    #[test]
    fn gaps_break_the_line_instead_of_bridging_it() {
        let mut cell = c008();
        cell.resources.truncate(1);
        // Drop the points at 40–60 s: the 35 → 65 s step (30 s) exceeds 2.5 × 5 s.
        cell.resources[0]
            .timeseries
            .retain(|[t, _]| !(40.0..=60.0).contains(t));
        let svg = timeseries(&cell);
        assert_eq!(
            svg.matches("<polyline").count(),
            2 + 1,
            "two pieces + legend sample"
        );
    }

    #[test]
    fn no_data_rows_are_named_and_absent_steady_state_is_said() {
        let svg = timeseries(&counter_tier());
        assert_self_contained(&svg);
        assert!(svg.contains("NVLink: no data (absent: no DCGM NVLink data"));
        assert!(svg.contains("HBM busy % (upper bound, not %SoL)"));
        assert!(svg.contains("no steady state shaded: GpuUtil is idle"));
        assert!(elements_with_class(&svg, "steady-span").is_empty());
    }
}
