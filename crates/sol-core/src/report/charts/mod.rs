//! The report charts, each a standalone SVG document built from cell results: page 6's resource
//! bars, the per-GPU spread, the time series, page 6b's category attribution and the sweep.
//!
//! Every chart is a pure function of the results, writes its body once into a `String` and wraps
//! it with [`super::svg::document`]. Missing numbers are drawn as "no data" with the reason.

mod attribution;
mod gpu_spread;
mod resource_bars;
mod sweep;
#[cfg(test)]
mod testing;
mod timeseries;

pub use attribution::attribution;
pub use gpu_spread::gpu_spread;
pub use resource_bars::resource_bars;
pub use sweep::sweep;
pub use timeseries::timeseries;

use std::fmt::Write;

use super::svg::{
    AXIS, Anchor, Fill, INK, MUTED_INK, Px, SMALL_FONT_PX, TITLE_FONT_PX, TextStyle, ellipsize,
    finite, text_width_px, write_rect, write_text, write_vertical_title,
};
use crate::correlation::{Correlation, ResourceRow};
use crate::measure::Tier;

/// Width of every chart, px: fits a printed A4/Letter page at 96 dpi.
const WIDTH_PX: f64 = 760.0;
/// Outer margin, px.
const MARGIN_PX: f64 = 16.0;

/// Writes the title and a muted subtitle; returns the y below them.
fn write_heading(out: &mut String, title: &str, subtitle: &str) -> f64 {
    let max_px = WIDTH_PX - 2.0 * MARGIN_PX;
    write_text(
        out,
        MARGIN_PX,
        24.0,
        TextStyle {
            font_px: TITLE_FONT_PX,
            bold: true,
            fill: INK,
            anchor: Anchor::Start,
        },
        Some("chart-title"),
        &ellipsize(title, max_px, TITLE_FONT_PX),
    );
    write_text(
        out,
        MARGIN_PX,
        41.0,
        TextStyle::CAPTION,
        None,
        &ellipsize(subtitle, max_px, SMALL_FONT_PX),
    );
    50.0
}

/// `NVIDIA H200 (h200_sxm) · 8 GPUs · 120 s window · Llama-3.3-70B-Instruct · fp8 · TP8 ·
/// concurrency 128`: what the numbers were measured on and under.
fn cell_subtitle(cell: &Correlation) -> String {
    let hardware = match &cell.hardware.hw_name {
        Some(name) => format!("{name} ({})", cell.hw_key),
        None => cell.hw_key.clone(),
    };
    let mut parts = vec![
        hardware,
        format!(
            "{} GPU{}",
            cell.n_gpus,
            if cell.n_gpus == 1 { "" } else { "s" }
        ),
        format!("{:.0} s window", cell.duration_s),
    ];
    parts.extend(workload_parts(cell));
    parts.join(" · ")
}

/// The workload half of the subtitle (model, precision, TP, concurrency), as far as known.
fn workload_parts(cell: &Correlation) -> Vec<String> {
    let ctx = &cell.context;
    let mut parts = Vec::new();
    if let Some(model) = &ctx.model {
        parts.push(model.clone());
    }
    if let Some(quant) = &ctx.quant {
        parts.push(quant.clone());
    }
    if let Some(tp) = ctx.tensor_parallel {
        parts.push(format!("TP{tp}"));
    }
    if let Some(concurrency) = ctx.concurrency {
        parts.push(format!("concurrency {concurrency}"));
    }
    parts
}

/// The tier as words, for badges and legends (colour never carries it alone).
fn tier_label(row: &ResourceRow) -> &'static str {
    match row.tier {
        Tier::Prof => "PROF",
        Tier::Counter if finite(row.sol_pct).is_none() => "counter: busy-time bound",
        Tier::Counter => "counter (DEV bytes)",
        Tier::Invalid => "invalid",
        Tier::Absent => "absent",
    }
}

/// Why a row has no %SoL: its tier and first note, or a generic reason.
fn no_data_reason(row: &ResourceRow) -> String {
    let fallback = match row.tier {
        Tier::Absent => "nothing exported for this resource",
        Tier::Invalid => "PROF counters all-zero while the GPU was busy",
        Tier::Prof | Tier::Counter => "no value in the window",
    };
    let detail = row.notes.first().map_or(fallback, String::as_str);
    match row.tier {
        Tier::Absent | Tier::Invalid => format!("{}: {detail}", tier_label(row)),
        Tier::Prof | Tier::Counter => detail.to_string(),
    }
}

/// Writes a tier badge (outlined words) with its left edge at `x`; returns its width.
fn write_badge(out: &mut String, x: f64, baseline_y: f64, label: &str) -> f64 {
    let width = text_width_px(label, SMALL_FONT_PX) + 8.0;
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"3\" fill=\"#ffffff\" stroke=\"{MUTED_INK}\" stroke-width=\"1\"/>",
        Px(x),
        Px(baseline_y - 10.5),
        Px(width)
    );
    write_text(
        out,
        x + 4.0,
        baseline_y,
        TextStyle::CAPTION.filled(INK),
        Some("tier-badge"),
        label,
    );
    width
}

/// A rectangular plot area, px.
#[derive(Debug, Clone, Copy)]
struct PlotArea {
    x0: f64,
    x1: f64,
    top: f64,
    bottom: f64,
}

impl PlotArea {
    /// Writes the frame (after the data's background, before the lines) — no fill.
    fn write_frame(&self, out: &mut String) {
        write_rect(
            out,
            [self.x0, self.top, self.x1 - self.x0, self.bottom - self.top],
            Fill::Solid("none"),
            Some(AXIS),
            None,
        );
    }

    /// Writes the x-axis title under the tick labels and the y-axis title up the left margin.
    fn write_axis_titles(&self, out: &mut String, x_title: &str, y_title: &str) {
        write_text(
            out,
            (self.x0 + self.x1) / 2.0,
            self.bottom + 30.0,
            TextStyle::CAPTION.anchored(Anchor::Middle),
            Some("axis-title"),
            x_title,
        );
        write_vertical_title(
            out,
            MARGIN_PX + 4.0,
            (self.top + self.bottom) / 2.0,
            y_title,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{
        assert_self_contained, c008, c032, c064, c128, counter_tier, texts_with_class,
    };
    use super::*;

    fn every_chart(cell: &Correlation) -> Vec<String> {
        let mut charts = vec![resource_bars(cell), gpu_spread(cell), timeseries(cell)];
        charts.extend(attribution(cell));
        charts
    }

    #[test]
    fn every_chart_of_every_fixture_is_self_contained_and_deterministic() {
        let cells = [c008(), c032(), c064(), c128(), counter_tier()];
        for cell in &cells {
            let first = every_chart(cell);
            assert_eq!(first, every_chart(cell), "cell {}", cell.cell_id);
            first.iter().for_each(|svg| assert_self_contained(svg));
        }
        let refs: Vec<&Correlation> = cells.iter().collect();
        let sweep_svg = sweep(&refs).expect("four cells with a concurrency");
        assert_self_contained(&sweep_svg);
        assert_eq!(Some(sweep_svg), sweep(&refs));
    }

    #[test]
    fn user_text_is_escaped_everywhere() {
        let mut cell = c064();
        cell.cell_id = "c<1>&\"x\"".into();
        cell.context.model = Some("org/<script>alert('m')</script>".into());
        cell.resources[0].ceiling = "h200&co.<hbm>".into();
        cell.per_category_attribution[0].category = "GEMM & <friends>".into();
        let mut other = c008();
        other.context.model = cell.context.model.clone();
        for svg in every_chart(&cell)
            .into_iter()
            .chain(sweep(&[&cell, &other]))
        {
            assert_self_contained(&svg);
            assert!(!svg.contains("<script>"));
        }
        let bars = resource_bars(&cell);
        assert!(bars.contains("cell c&lt;1&gt;&amp;&quot;x&quot;"));
        assert!(bars.contains("÷ h200&amp;co.&lt;hbm&gt;"));
    }

    #[test]
    fn non_finite_numbers_are_no_data_never_nan_or_zero() {
        let mut cell = c008();
        cell.resources[0].sol_pct = Some(f64::NAN);
        cell.resources[0].steady_state_sol_pct = Some(f64::INFINITY);
        cell.resources[0].sol_pct_bounds = Some([f64::NAN, 1.0]);
        cell.resources[0].per_gpu[0].value_pct = Some(f64::NAN);
        cell.resources[0].timeseries[3] = [f64::NAN, 1.0];
        cell.resources[1].timeseries[3][1] = f64::NEG_INFINITY;
        cell.context.output_tokens_per_s = Some(f64::NAN);
        for svg in every_chart(&cell)
            .into_iter()
            .chain(sweep(&[&cell, &c032()]))
        {
            assert_self_contained(&svg);
        }
        let bars = resource_bars(&cell);
        // HBM has no finite %SoL left: an empty track with a reason, not a 0 % bar.
        assert_eq!(texts_with_class(&bars, "no-data").len(), 1);
        assert!(
            !texts_with_class(&bars, "sol-figure")
                .iter()
                .any(|(_, t)| t == "0.0 %")
        );
    }
}
