//! Page 6b: per-category attribution — each profiler category's share of time and the %SoL it
//! would reach on its ceiling if the resource's traffic happened only during its own time.

use std::collections::BTreeMap;

use super::{MARGIN_PX, WIDTH_PX, cell_subtitle, write_heading};
use crate::correlation::{CategoryAttribution, Correlation, KernelCategories};
use crate::report::svg::{
    AXIS, DocumentHead, Fill, INK, LinearScale, MUTED_INK, Pct, Px, SMALL_FONT_PX, TRACK,
    TextStyle, document, ellipsize, finite, resource_colour, write_dashed_line, write_line,
    write_rect, write_text, write_x_ticks, zero_based_ticks,
};

/// Time-share panel, px.
const SHARE_X0_PX: f64 = 150.0;
const SHARE_X1_PX: f64 = 330.0;
/// %SoL-if-exclusive panel, px.
const EXCLUSIVE_X0_PX: f64 = 400.0;
const EXCLUSIVE_X1_PX: f64 = 690.0;
const BAR_HEIGHT_PX: f64 = 14.0;
const ROW_HEIGHT_PX: f64 = 42.0;
/// The exclusive axis stops here: values above it (which only say the resource was busy outside
/// the category's time) are clipped and marked off scale.
const EXCLUSIVE_AXIS_CAP_PCT: f64 = 200.0;
/// Time-share bars: neutral, since time belongs to no resource.
const SHARE_COLOUR: &str = "#6b6b6b";

/// Page 6b: per-category attribution bars (time share and sol_pct_if_exclusive per category, the
/// ceiling each is attributed to), canonical categories first, unknown ones after them
/// alphabetically. `None` when the cell has no attribution.
pub fn attribution(cell: &Correlation) -> Option<String> {
    if cell.per_category_attribution.is_empty() {
        return None;
    }
    let rows = ordered(&cell.per_category_attribution);
    let exclusive_max = rows
        .iter()
        .filter_map(|r| finite(r.sol_pct_if_exclusive))
        .fold(100.0, f64::max)
        .min(EXCLUSIVE_AXIS_CAP_PCT);
    let exclusive_ticks = zero_based_ticks(exclusive_max, 4);
    let share_scale = LinearScale::new([0.0, 100.0], [SHARE_X0_PX, SHARE_X1_PX]);
    let exclusive_scale = LinearScale::new(
        [0.0, *exclusive_ticks.last().unwrap_or(&100.0)],
        [EXCLUSIVE_X0_PX, EXCLUSIVE_X1_PX],
    );

    let mut body = String::with_capacity(2048 + 1024 * rows.len());
    let y = write_heading(
        &mut body,
        &format!("Per-category attribution — cell {}", cell.cell_id),
        &cell_subtitle(cell),
    );
    let source = cell
        .kernels_json_path
        .as_deref()
        .map_or("profiler categories".to_string(), |p| {
            format!("profiler categories from {p}")
        });
    write_text(
        &mut body,
        MARGIN_PX,
        y + 5.0,
        TextStyle::CAPTION,
        None,
        &ellipsize(&source, WIDTH_PX - 2.0 * MARGIN_PX, SMALL_FONT_PX),
    );
    let heads_y = y + 26.0;
    write_text(
        &mut body,
        SHARE_X0_PX,
        heads_y,
        TextStyle::CAPTION.filled(INK).bold(),
        None,
        "share of profiler time",
    );
    write_text(
        &mut body,
        EXCLUSIVE_X0_PX,
        heads_y,
        TextStyle::CAPTION.filled(INK).bold(),
        None,
        "%SoL if exclusive (% of the ceiling; dashed: 100 %)",
    );
    let rows_top = heads_y + 12.0;
    let rows_bottom = rows_top + ROW_HEIGHT_PX * rows.len() as f64;
    write_x_ticks(
        &mut body,
        &share_scale,
        &[0.0, 50.0, 100.0],
        [rows_top, rows_bottom],
        |t| format!("{} %", Px(t)),
    );
    write_x_ticks(
        &mut body,
        &exclusive_scale,
        &exclusive_ticks,
        [rows_top, rows_bottom],
        |t| format!("{} %", Px(t)),
    );

    let mut sentences = vec![format!(
        "Per-category attribution for cell {} ({}), from {source}. %SoL if exclusive is the workload %SoL divided by the category's time share: what the category would reach if all of the resource's traffic happened during its own time.",
        cell.cell_id,
        cell_subtitle(cell)
    )];
    for (i, row) in rows.iter().enumerate() {
        let top = rows_top + ROW_HEIGHT_PX * i as f64;
        let colour = cell
            .resources
            .iter()
            .find(|r| Some(&r.ceiling) == row.ceiling.as_ref())
            .map(|r| (resource_colour(r.resource), r.resource.label()));
        sentences.push(write_row(
            &mut body,
            row,
            top,
            [&share_scale, &exclusive_scale],
            colour,
        ));
    }
    let footer_y = rows_bottom + 32.0;
    write_text(
        &mut body,
        MARGIN_PX,
        footer_y,
        TextStyle::CAPTION,
        Some("footnote"),
        "Above 100 %: the resource was also busy outside the category's time, so time shares cannot isolate its rate.",
    );
    sentences
        .push("Above 100 % means the resource was also busy outside the category's time.".into());

    let title = format!("Per-category attribution, cell {}", cell.cell_id);
    let desc = sentences.join(" ");
    Some(document(
        DocumentHead {
            width_px: WIDTH_PX,
            height_px: footer_y + 8.0 + MARGIN_PX,
            title: &title,
            desc: &desc,
            defs: "",
        },
        &body,
    ))
}

/// Rows in the attribution code's category order (canonical first, then alphabetical).
fn ordered(rows: &[CategoryAttribution]) -> Vec<&CategoryAttribution> {
    let order = KernelCategories {
        per_category: rows
            .iter()
            .map(|r| (r.category.clone(), 0.0))
            .collect::<BTreeMap<_, _>>(),
    };
    let rank: Vec<&str> = order.ordered().into_iter().map(|(name, _)| name).collect();
    let mut sorted: Vec<&CategoryAttribution> = rows.iter().collect();
    sorted.sort_by_key(|r| rank.iter().position(|name| *name == r.category));
    sorted
}

/// Writes one category; returns its `<desc>` sentence.
fn write_row(
    out: &mut String,
    row: &CategoryAttribution,
    top: f64,
    [share_scale, exclusive_scale]: [&LinearScale; 2],
    resource: Option<(&'static str, &'static str)>,
) -> String {
    let bar_y = top + 3.0;
    let text_y = bar_y + 11.0;
    write_text(
        out,
        MARGIN_PX,
        text_y,
        TextStyle::BODY.bold(),
        Some("category-name"),
        &ellipsize(&row.category, SHARE_X0_PX - MARGIN_PX - 8.0, 12.0),
    );
    write_text(
        out,
        MARGIN_PX,
        text_y + 15.0,
        TextStyle::CAPTION,
        None,
        &format!("{:.0} samples · {:.1} s", row.samples, row.time_s),
    );

    let share_pct = row.time_share * 100.0;
    let share = finite(Some(share_pct));
    write_rect(
        out,
        [SHARE_X0_PX, bar_y, SHARE_X1_PX - SHARE_X0_PX, BAR_HEIGHT_PX],
        Fill::Solid(TRACK),
        Some(AXIS),
        None,
    );
    if let Some(share) = share {
        write_rect(
            out,
            [
                SHARE_X0_PX,
                bar_y,
                share_scale.map_clamped(share) - SHARE_X0_PX,
                BAR_HEIGHT_PX,
            ],
            Fill::Solid(SHARE_COLOUR),
            None,
            Some("share-bar"),
        );
    }
    write_text(
        out,
        SHARE_X1_PX + 6.0,
        text_y,
        TextStyle::CAPTION.filled(INK).bold(),
        Some("share-figure"),
        &share.map_or("no data".to_string(), |s| Pct(s).to_string()),
    );

    write_rect(
        out,
        [
            EXCLUSIVE_X0_PX,
            bar_y,
            EXCLUSIVE_X1_PX - EXCLUSIVE_X0_PX,
            BAR_HEIGHT_PX,
        ],
        Fill::Solid(TRACK),
        Some(AXIS),
        None,
    );
    let ceiling = row.ceiling.as_deref().unwrap_or("no ceiling");
    let mut caption = match resource {
        Some((_, label)) => format!("÷ {ceiling} ({label}, {})", row.bound),
        None => format!("÷ {ceiling} ({})", row.bound),
    };
    let sentence = match finite(row.sol_pct_if_exclusive) {
        Some(exclusive) => {
            let end = exclusive_scale.map_clamped(exclusive);
            write_rect(
                out,
                [EXCLUSIVE_X0_PX, bar_y, end - EXCLUSIVE_X0_PX, BAR_HEIGHT_PX],
                Fill::Solid(resource.map_or(SHARE_COLOUR, |(c, _)| c)),
                None,
                Some("exclusive-bar"),
            );
            let ceiling_x = exclusive_scale.map(100.0);
            write_dashed_line(
                out,
                [ceiling_x, bar_y - 2.0],
                [ceiling_x, bar_y + BAR_HEIGHT_PX + 2.0],
                INK,
                "3 2",
            );
            if exclusive > exclusive_scale.domain()[1] {
                // A white break mark: the bar goes on beyond the axis.
                for dx in [10.0, 6.0] {
                    write_line(
                        out,
                        [end - dx, bar_y + BAR_HEIGHT_PX + 1.0],
                        [end - dx + 4.0, bar_y - 1.0],
                        "#ffffff",
                        1.5,
                    );
                }
                caption.push_str(" · off scale");
            } else if exclusive > 100.0 {
                caption.push_str(" · above 100 %");
            }
            write_text(
                out,
                EXCLUSIVE_X1_PX + 6.0,
                text_y,
                TextStyle::CAPTION.filled(INK).bold(),
                Some("exclusive-figure"),
                &Pct(exclusive).to_string(),
            );
            format!(
                "{}: {} of profiler time, {} of {ceiling} if exclusive.",
                row.category,
                Pct(share_pct),
                Pct(exclusive)
            )
        }
        None => {
            let reason = if row.samples <= 0.0 {
                "no profiler samples"
            } else {
                row.notes.first().map_or("not computed", String::as_str)
            };
            write_text(
                out,
                EXCLUSIVE_X0_PX + 6.0,
                text_y,
                TextStyle::CAPTION.filled(INK),
                Some("no-data"),
                &ellipsize(
                    &format!("no data — {reason}"),
                    EXCLUSIVE_X1_PX - EXCLUSIVE_X0_PX - 12.0,
                    SMALL_FONT_PX,
                ),
            );
            format!(
                "{}: {} of profiler time, no %SoL if exclusive ({reason}).",
                row.category,
                Pct(share_pct)
            )
        }
    };
    write_text(
        out,
        EXCLUSIVE_X0_PX,
        bar_y + BAR_HEIGHT_PX + 11.0,
        TextStyle::CAPTION.filled(MUTED_INK),
        Some("exclusive-caption"),
        &ellipsize(
            &caption,
            WIDTH_PX - MARGIN_PX - EXCLUSIVE_X0_PX,
            SMALL_FONT_PX,
        ),
    );
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::testing::{
        assert_self_contained, attribute, c008, c064, elements_with_class, texts_with_class,
    };

    #[test]
    fn only_cells_with_attribution_get_the_chart() {
        assert!(attribution(&c008()).is_none());
        let svg = attribution(&c064()).expect("c064 has attribution");
        assert_self_contained(&svg);
    }

    #[test]
    fn c064_rows_in_canonical_order_with_hand_computed_bars() {
        let svg = attribution(&c064()).unwrap();
        let names: Vec<String> = texts_with_class(&svg, "category-name")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(names, ["GEMM", "Attention", "MoE", "NCCL", "Other"]);
        // GEMM: time share 412 / 900 = 0.457778 → 180 px × 0.457778 = 82.40 px, "45.8 %".
        let share = elements_with_class(&svg, "share-bar")[0];
        assert!((attribute(share, "width") - 82.4).abs() < 0.005, "{share}");
        assert_eq!(texts_with_class(&svg, "share-figure")[0].1, "45.8 %");
        // Largest exclusive value 772.9 % → axis capped at 200 %; GEMM 133.1948 % →
        // 290 px × 133.1948 / 200 = 193.13 px.
        let exclusive = elements_with_class(&svg, "exclusive-bar")[0];
        assert!(
            (attribute(exclusive, "width") - 193.13).abs() < 0.005,
            "{exclusive}"
        );
        let figures: Vec<String> = texts_with_class(&svg, "exclusive-figure")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(figures, ["133.2 %", "232.5 %", "45.6 %", "772.9 %"]);
        // MoE has no samples: "no data", never a zero-length bar.
        let no_data = texts_with_class(&svg, "no-data");
        assert_eq!(no_data.len(), 1);
        assert_eq!(no_data[0].1, "no data — no profiler samples");
        // NCCL goes to the NVLink ceiling (and NVLink's colour), Other is off scale.
        let captions: Vec<String> = texts_with_class(&svg, "exclusive-caption")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert!(captions[3].starts_with("÷ h200_sxm.nvlink4_tbps (NVLink, bandwidth)"));
        assert!(captions[4].contains("off scale"));
        assert!(elements_with_class(&svg, "exclusive-bar")[2].contains("#009E73"));
    }

    #[test]
    fn unknown_categories_follow_the_canonical_ones() {
        let mut cell = c064();
        let mut extra = cell.per_category_attribution[0].clone();
        extra.category = "Zeta <custom>".into();
        cell.per_category_attribution.insert(0, extra.clone());
        extra.category = "Custom".into();
        cell.per_category_attribution.push(extra);
        let svg = attribution(&cell).unwrap();
        assert_self_contained(&svg);
        let names: Vec<String> = texts_with_class(&svg, "category-name")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            names,
            [
                "GEMM",
                "Attention",
                "MoE",
                "NCCL",
                "Other",
                "Custom",
                "Zeta <custom>"
            ]
        );
    }
}
