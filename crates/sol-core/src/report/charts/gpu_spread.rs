//! Per-GPU spread: one small panel per resource, one dot per GPU on a 0–100 % axis, the median
//! line, and the straggler ringed and labelled — a tensor-parallel group runs at its slowest GPU.

use std::fmt::Write;

use super::{
    MARGIN_PX, WIDTH_PX, cell_subtitle, no_data_reason, tier_label, write_badge, write_heading,
};
use crate::correlation::{Correlation, GpuRow, ResourceRow, STRAGGLER_BELOW_MEDIAN};
use crate::measure::{Resource, Tier};
use crate::report::svg::{
    AXIS, Anchor, DocumentHead, Fill, INK, LegendItem, LegendSymbol, LinearScale, Marker, Pct, Px,
    SMALL_FONT_PX, TRACK, TextStyle, document, ellipsize, finite, label_stride, resource_colour,
    resource_marker, text_width_px, write_dashed_line, write_legend, write_rect, write_text,
    write_y_ticks,
};

/// Plot area, px.
const PLOT_X0_PX: f64 = 70.0;
const PLOT_X1_PX: f64 = WIDTH_PX - MARGIN_PX;
const PLOT_HEIGHT_PX: f64 = 90.0;
/// Panel heading line above the plot.
const HEADING_PX: f64 = 22.0;
/// Band under the plot for GPUs without a value.
const NO_DATA_BAND_PX: f64 = 16.0;
const LINE_PX: f64 = 13.0;
const PANEL_GAP_PX: f64 = 14.0;

/// One GPU as the panel draws it.
struct GpuPoint<'a> {
    label: String,
    row: &'a GpuRow,
}

/// Per-GPU spread: for each resource, one dot per GPU (value_pct) on a 0–100 % axis with the
/// median line; the straggler (lowest, when 10 % below the median) highlighted and labelled with
/// its GPU index. Invalid GPUs shown as hollow markers with "invalid".
pub fn gpu_spread(cell: &Correlation) -> String {
    let mut body = String::with_capacity(4096 + 2048 * cell.resources.len());
    let mut y = write_heading(
        &mut body,
        &format!("Per-GPU spread — cell {}", cell.cell_id),
        &cell_subtitle(cell),
    );
    y += write_legend(
        &mut body,
        &legend_items(),
        MARGIN_PX,
        y,
        WIDTH_PX - MARGIN_PX,
    ) + 6.0;
    let mut sentences = vec![format!(
        "Per-GPU % of peak for cell {} ({}), one value per GPU and resource.",
        cell.cell_id,
        cell_subtitle(cell)
    )];
    for row in &cell.resources {
        let (height, sentence) = write_panel(&mut body, row, y);
        y += height + PANEL_GAP_PX;
        sentences.push(sentence);
    }
    let title = format!("Per-GPU spread, cell {}", cell.cell_id);
    let desc = sentences.join(" ");
    document(
        DocumentHead {
            width_px: WIDTH_PX,
            height_px: y + MARGIN_PX,
            title: &title,
            desc: &desc,
            defs: "",
        },
        &body,
    )
}

fn legend_items() -> Vec<LegendItem<'static>> {
    vec![
        LegendItem {
            symbol: LegendSymbol::Marker {
                shape: resource_marker(Resource::Hbm),
                colour: INK,
                filled: true,
            },
            label: "one GPU (% of peak; busy % in the counter tier)".into(),
        },
        LegendItem {
            symbol: LegendSymbol::Marker {
                shape: resource_marker(Resource::Hbm),
                colour: INK,
                filled: false,
            },
            label: "invalid or no data (below the axis)".into(),
        },
        LegendItem {
            symbol: LegendSymbol::Rule,
            label: "median across GPUs".into(),
        },
        LegendItem {
            symbol: LegendSymbol::None,
            label: "straggler (< 90 % of the median): ringed and labelled".into(),
        },
    ]
}

/// GPUs in host order, then by exporter index; labels carry the host when there are several.
fn gpu_points(row: &ResourceRow) -> Vec<GpuPoint<'_>> {
    let host = |g: &GpuRow| g.gpu.split('/').next().unwrap_or_default().to_string();
    let mut rows: Vec<&GpuRow> = row.per_gpu.iter().collect();
    rows.sort_by_key(|g| {
        let index = g.gpu_index.as_deref().and_then(|i| i.parse::<u64>().ok());
        (host(g), index.is_none(), index, g.gpu.clone())
    });
    let multi_host = rows.windows(2).any(|w| host(w[0]) != host(w[1]));
    rows.into_iter()
        .map(|g| {
            let index = g.gpu_index.clone().unwrap_or_else(|| {
                let uuid = g.gpu.rsplit('/').next().unwrap_or_default();
                uuid.chars().take(8).collect()
            });
            let label = if multi_host {
                let h = host(g);
                format!("{}:{index}", h.split('.').next().unwrap_or_default())
            } else {
                index
            };
            GpuPoint { label, row: g }
        })
        .collect()
}

/// The straggler's GPU name, when the lowest GPU reads below 90 % of the median.
fn straggler(row: &ResourceRow) -> Option<&str> {
    let spread = row.spread.as_ref()?;
    (spread.median_pct > 0.0 && spread.min_pct < STRAGGLER_BELOW_MEDIAN * spread.median_pct)
        .then_some(spread.min_gpu.as_str())
}

/// Where a panel's plot sits and how it maps GPUs and values to pixels.
struct PanelGeometry {
    plot_top: f64,
    plot_bottom: f64,
    y_scale: LinearScale,
    slot_px: f64,
    marker_radius_px: f64,
}

impl PanelGeometry {
    fn new(plot_top: f64, gpu_count: usize) -> PanelGeometry {
        let plot_bottom = plot_top + PLOT_HEIGHT_PX;
        let slot_px = (PLOT_X1_PX - PLOT_X0_PX) / gpu_count.max(1) as f64;
        PanelGeometry {
            plot_top,
            plot_bottom,
            y_scale: LinearScale::new([0.0, 100.0], [plot_bottom, plot_top]),
            slot_px,
            marker_radius_px: (slot_px * 0.35).clamp(2.0, 4.5),
        }
    }

    /// Centre of GPU slot `i`.
    fn x_of(&self, i: usize) -> f64 {
        PLOT_X0_PX + (i as f64 + 0.5) * self.slot_px
    }

    fn marker(&self, row: &ResourceRow, filled: bool) -> Marker<'static> {
        Marker {
            shape: resource_marker(row.resource),
            radius_px: self.marker_radius_px,
            colour: resource_colour(row.resource),
            filled,
        }
    }
}

/// Writes one resource's panel at `top`; returns its height and a sentence for the `<desc>`.
fn write_panel(out: &mut String, row: &ResourceRow, top: f64) -> (f64, String) {
    let label = row.resource.label();
    let points = gpu_points(row);
    let with_values: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| finite(p.row.value_pct).map(|v| (i, v)))
        .collect();
    let heading_y = top + 12.0;
    let stats_x = write_panel_name(out, row, heading_y);
    if with_values.is_empty() {
        let reason = format!("no per-GPU data — {}", no_data_reason(row));
        write_text(
            out,
            stats_x,
            heading_y,
            TextStyle::CAPTION.filled(INK),
            Some("no-data"),
            &ellipsize(&reason, PLOT_X1_PX - stats_x, SMALL_FONT_PX),
        );
        return (HEADING_PX, format!("{label}: {reason}."));
    }
    let unit = if row.tier == Tier::Counter && finite(row.sol_pct).is_none() {
        "busy % (an upper bound, not %SoL)"
    } else {
        "% of peak"
    };
    let stats = spread_stats(row, &points);
    write_text(
        out,
        stats_x,
        heading_y,
        TextStyle::CAPTION,
        Some("spread-stats"),
        &ellipsize(
            &format!("{unit} · {stats}"),
            PLOT_X1_PX - stats_x,
            SMALL_FONT_PX,
        ),
    );
    let mut sentence = format!(
        "{label} ({}, {unit}): {} GPUs with a value, {stats}",
        tier_label(row),
        with_values.len()
    );

    let geometry = PanelGeometry::new(top + HEADING_PX, points.len());
    write_plot(out, row, &geometry, &with_values);
    if let Some(text) = write_straggler(out, row, &points, &geometry) {
        let _ = write!(sentence, "; straggler {text}");
    }
    let mut bottom = write_no_data_band(out, row, &points, &geometry);
    bottom = write_gpu_labels(out, &points, &geometry, bottom);
    for line in missing_gpu_lines(&points) {
        bottom += LINE_PX;
        write_text(
            out,
            PLOT_X0_PX,
            bottom - 2.0,
            TextStyle::CAPTION.filled(INK),
            Some("missing-gpus"),
            &ellipsize(&line, PLOT_X1_PX - PLOT_X0_PX, SMALL_FONT_PX),
        );
        let _ = write!(sentence, "; {line}");
    }
    sentence.push('.');
    (bottom - top, sentence)
}

/// Writes the resource name and tier badge; returns the x where the panel heading continues.
fn write_panel_name(out: &mut String, row: &ResourceRow, baseline_y: f64) -> f64 {
    let label = row.resource.label();
    write_text(
        out,
        MARGIN_PX,
        baseline_y,
        TextStyle::BODY.bold(),
        Some("resource-name"),
        label,
    );
    let badge_x = MARGIN_PX + text_width_px(label, TextStyle::BODY.font_px) + 8.0;
    badge_x + write_badge(out, badge_x, baseline_y, tier_label(row)) + 8.0
}

/// `median 70.7 % · min 62.4 % (gpu 3) · max 70.9 % (gpu 1)`, or a note when there is no spread.
fn spread_stats(row: &ResourceRow, points: &[GpuPoint<'_>]) -> String {
    let name = |gpu: &str| {
        points
            .iter()
            .find(|p| p.row.gpu == gpu)
            .map_or_else(|| gpu.to_string(), |p| format!("gpu {}", p.label))
    };
    row.spread.as_ref().map_or_else(
        || "no spread computed".to_string(),
        |s| {
            format!(
                "median {} · min {} ({}) · max {} ({})",
                Pct(s.median_pct),
                Pct(s.min_pct),
                name(&s.min_gpu),
                Pct(s.max_pct),
                name(&s.max_gpu)
            )
        },
    )
}

/// The frame, the 0 / 50 / 100 % grid, the median line and one filled dot per GPU with a value.
fn write_plot(
    out: &mut String,
    row: &ResourceRow,
    geometry: &PanelGeometry,
    with_values: &[(usize, f64)],
) {
    write_rect(
        out,
        [
            PLOT_X0_PX,
            geometry.plot_top,
            PLOT_X1_PX - PLOT_X0_PX,
            PLOT_HEIGHT_PX,
        ],
        Fill::Solid("#ffffff"),
        Some(AXIS),
        None,
    );
    write_y_ticks(
        out,
        &geometry.y_scale,
        &[0.0, 50.0, 100.0],
        [PLOT_X0_PX, PLOT_X1_PX],
        Anchor::Start,
        true,
        |t| format!("{} %", Px(t)),
    );
    if let Some(spread) = &row.spread {
        let median_y = geometry.y_scale.map_clamped(spread.median_pct);
        write_dashed_line(
            out,
            [PLOT_X0_PX, median_y],
            [PLOT_X1_PX, median_y],
            INK,
            "4 3",
        );
    }
    let marker = geometry.marker(row, true);
    for &(i, value) in with_values {
        let centre = [geometry.x_of(i), geometry.y_scale.map_clamped(value)];
        marker.write(out, centre, Some("gpu-dot"));
    }
}

/// Hollow markers, below the axis, for GPUs without a value (never drawn at 0); returns the y
/// below the band (the plot bottom when every GPU has a value).
fn write_no_data_band(
    out: &mut String,
    row: &ResourceRow,
    points: &[GpuPoint<'_>],
    geometry: &PanelGeometry,
) -> f64 {
    let missing: Vec<(usize, &GpuPoint)> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| finite(p.row.value_pct).is_none())
        .collect();
    let band_top = geometry.plot_bottom + 4.0;
    if missing.is_empty() {
        return geometry.plot_bottom;
    }
    let band_mid = band_top + NO_DATA_BAND_PX / 2.0;
    write_rect(
        out,
        [
            PLOT_X0_PX,
            band_top,
            PLOT_X1_PX - PLOT_X0_PX,
            NO_DATA_BAND_PX,
        ],
        Fill::Solid(TRACK),
        None,
        None,
    );
    write_text(
        out,
        PLOT_X0_PX - 5.0,
        band_mid + 3.5,
        TextStyle::CAPTION.anchored(Anchor::End),
        None,
        "no data",
    );
    let r = geometry.marker_radius_px;
    let word_fits = geometry.slot_px >= text_width_px("invalid", SMALL_FONT_PX) + 2.0 * r + 6.0;
    let marker = geometry.marker(row, false);
    for (i, p) in missing {
        marker.write(out, [geometry.x_of(i), band_mid], Some("gpu-no-data"));
        if word_fits && p.row.invalid.is_some() {
            write_text(
                out,
                geometry.x_of(i) + r + 2.0,
                band_mid + 3.5,
                TextStyle::CAPTION.filled(INK),
                Some("invalid-label"),
                "invalid",
            );
        }
    }
    band_top + NO_DATA_BAND_PX
}

/// GPU labels under the slots, thinned so neighbours never overlap; returns the y below them.
fn write_gpu_labels(
    out: &mut String,
    points: &[GpuPoint<'_>],
    geometry: &PanelGeometry,
    top: f64,
) -> f64 {
    let widest = points
        .iter()
        .map(|p| text_width_px(&p.label, SMALL_FONT_PX))
        .fold(0.0, f64::max);
    let stride = label_stride(geometry.slot_px, widest);
    write_text(
        out,
        PLOT_X0_PX - 5.0,
        top + 15.0,
        TextStyle::CAPTION.anchored(Anchor::End),
        Some("axis-title"),
        "gpu",
    );
    for (i, p) in points.iter().enumerate().filter(|(i, _)| i % stride == 0) {
        write_text(
            out,
            geometry.x_of(i),
            top + 15.0,
            TextStyle::CAPTION.anchored(Anchor::Middle),
            Some("gpu-label"),
            &p.label,
        );
    }
    top + 19.0
}

/// `invalid (hollow): gpu 2, gpu 5 — <reason>` and `no data (hollow): …` lines, when any.
fn missing_gpu_lines(points: &[GpuPoint<'_>]) -> Vec<String> {
    let missing: Vec<&GpuPoint> = points
        .iter()
        .filter(|p| finite(p.row.value_pct).is_none())
        .collect();
    let (invalid, no_data): (Vec<&GpuPoint>, Vec<&GpuPoint>) =
        missing.into_iter().partition(|p| p.row.invalid.is_some());
    let names = |gpus: &[&GpuPoint]| {
        gpus.iter()
            .map(|p| format!("gpu {}", p.label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = Vec::new();
    if let Some(reason) = invalid.first().and_then(|p| p.row.invalid.as_deref()) {
        lines.push(format!("invalid (hollow): {} — {reason}", names(&invalid)));
    }
    if !no_data.is_empty() {
        lines.push(format!(
            "no data (hollow): {} — no samples in the window",
            names(&no_data)
        ));
    }
    lines
}

/// Rings the straggler and labels it just below (stragglers read below the median, so the other
/// dots are above); near the axis floor the label goes to the top of the plot instead. Returns
/// the label, when there is a straggler.
fn write_straggler(
    out: &mut String,
    row: &ResourceRow,
    points: &[GpuPoint<'_>],
    geometry: &PanelGeometry,
) -> Option<String> {
    let spread = row.spread.as_ref()?;
    let gpu = straggler(row)?;
    let (i, point) = points.iter().enumerate().find(|(_, p)| p.row.gpu == gpu)?;
    let value = finite(point.row.value_pct)?;
    let below_pct = (spread.median_pct - value) / spread.median_pct * 100.0;
    let text = format!(
        "gpu {}: {} — straggler, {below_pct:.1} % below the median",
        point.label,
        Pct(value)
    );
    let [x, y] = [geometry.x_of(i), geometry.y_scale.map_clamped(value)];
    let r = geometry.marker_radius_px;
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.5\"/>",
        Px(x),
        Px(y),
        Px(r + 3.5)
    );
    let width = text_width_px(&text, SMALL_FONT_PX);
    let (text_x, anchor) = if x - 8.0 + width <= PLOT_X1_PX {
        (x - 8.0, Anchor::Start)
    } else {
        (x + 8.0, Anchor::End)
    };
    let below = y + r + 15.0;
    let text_y = if below <= geometry.plot_bottom - 3.0 {
        below
    } else {
        geometry.plot_top + 12.0
    };
    write_text(
        out,
        text_x,
        text_y,
        TextStyle::CAPTION.filled(INK).bold().anchored(anchor),
        Some("straggler-label"),
        &text,
    );
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::testing::{
        assert_self_contained, attribute, c008, c128, counter_tier, elements_with_class,
        texts_with_class,
    };

    #[test]
    fn c128_straggler_is_gpu_3_on_hbm_and_tensor() {
        let svg = gpu_spread(&c128());
        assert_self_contained(&svg);
        let labels = texts_with_class(&svg, "straggler-label");
        // HBM: (70.68785 − 62.378) / 70.68785 = 11.76 % below; tensor: (35.39945 − 31.1733) /
        // 35.39945 = 11.94 % below. NVLink and PCIe are within 10 %.
        assert_eq!(labels.len(), 2);
        assert_eq!(
            labels[0].1,
            "gpu 3: 62.4 % — straggler, 11.8 % below the median"
        );
        assert_eq!(
            labels[1].1,
            "gpu 3: 31.2 % — straggler, 11.9 % below the median"
        );
        assert!(svg.contains("median 70.7 % · min 62.4 % (gpu 3) · max 70.9 % (gpu 1)"));
    }

    #[test]
    fn dots_sit_on_a_0_to_100_axis_in_gpu_index_order() {
        let svg = gpu_spread(&c128());
        let labels = texts_with_class(&svg, "gpu-label");
        let first_eight: Vec<&str> = labels[..8].iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(first_eight, ["0", "1", "2", "3", "4", "5", "6", "7"]);
        // Plot 70 → 744 px = 674 px, 8 GPUs → 84.25 px slots; gpu 0 at 70 + 42.125 = 112.125
        // → written "112.13".
        assert!((labels[0].0 - 112.13).abs() < 1e-9);
        // HBM gpu 0 reads 70.6988 %: 0.706988 × 90 px plot = 63.63 px above the zero line,
        // whose "0 %" label is written 3.5 px below it.
        let dot = elements_with_class(&svg, "gpu-dot")[0];
        assert!(dot.contains("cx=\"112.13\""), "{dot}");
        let zero_y = attribute(elements_with_class(&svg, "y-tick")[0], "y") - 3.5;
        assert!((zero_y - attribute(dot, "cy") - 63.63).abs() < 0.01);
    }

    #[test]
    fn no_straggler_when_gpus_agree() {
        let svg = gpu_spread(&c008());
        assert!(texts_with_class(&svg, "straggler-label").is_empty());
    }

    #[test]
    fn invalid_gpus_are_hollow_and_named_never_zero() {
        let mut cell = c008();
        let row = &mut cell.resources[0];
        row.per_gpu[2].value_pct = None; // gpu 4 (third in file order)
        row.per_gpu[2].invalid = Some("PROF counters all-zero while GPU_UTIL > 0".into());
        let svg = gpu_spread(&cell);
        assert_self_contained(&svg);
        let lines = texts_with_class(&svg, "missing-gpus");
        assert_eq!(
            lines[0].1,
            "invalid (hollow): gpu 4 — PROF counters all-zero while GPU_UTIL > 0"
        );
        assert_eq!(texts_with_class(&svg, "invalid-label").len(), 1);
        assert!(
            svg.contains("fill=\"#ffffff\" stroke=\"#0072B2\""),
            "hollow HBM marker"
        );
    }

    #[test]
    fn absent_rows_say_why() {
        let svg = gpu_spread(&counter_tier());
        assert_self_contained(&svg);
        let no_data = texts_with_class(&svg, "no-data");
        assert_eq!(no_data.len(), 2);
        assert!(
            no_data[0]
                .1
                .starts_with("no per-GPU data — absent: no DCGM NVLink data")
        );
        assert!(svg.contains("busy % (an upper bound, not %SoL)"));
    }

    #[test]
    fn seventy_two_gpus_keep_labels_apart() {
        let mut cell = c008();
        cell.resources.truncate(1);
        let row = &mut cell.resources[0];
        let template = row.per_gpu[0].clone();
        row.per_gpu = (0..72)
            .map(|i| GpuRow {
                gpu: format!("node/GPU-{i:04}"),
                gpu_index: Some(i.to_string()),
                value_pct: Some(30.0 + f64::from(i % 5)),
                ..template.clone()
            })
            .collect();
        let svg = gpu_spread(&cell);
        assert_self_contained(&svg);
        let labels = texts_with_class(&svg, "gpu-label");
        // 674 px / 72 = 9.361 px slots; widest label "10"…"71" = 2 × 0.64 em × 10 px = 12.8 px,
        // + 6 px gap = 18.8 px → stride ceil(18.8 / 9.361) = 3: labels 0, 3, …, 69 (24 of
        // them), 28.08 px apart.
        assert_eq!(labels.len(), 24);
        assert_eq!(labels[1].1, "3");
        for pair in labels.windows(2) {
            let gap = pair[1].0 - pair[0].0;
            let half_widths = (text_width_px(&pair[0].1, SMALL_FONT_PX)
                + text_width_px(&pair[1].1, SMALL_FONT_PX))
                / 2.0;
            assert!(gap >= half_widths + 6.0, "{pair:?}");
        }
    }
}
