//! Rendering: the cells' results become the section body (lead, table, unreadable cells).

use std::fmt::Write;

use crate::context::{Context, RequestRate};
use crate::correlation::{Correlation, EnergyInfo, ResourceRow};
use crate::measure::{Resource, Tier};

/// Words of an untagged warning shown as its flag.
const UNTAGGED_FLAG_WORDS: usize = 4;

/// What a reader needs before the table: where the numbers come from and how to read them.
const LEAD: &str = "Written by `dcgm-sol summary` from each cell's `dcgm_correlation.json` \
(linked in the first column); everything between the dcgm-sol markers is replaced on the next \
run. Each figure is the full-window %SoL, with the steady-state %SoL in parentheses, of the \
ceiling `<hw_key>.<peak_key>` it names; counter-tier figures are busy-time upper bounds, never \
%SoL. ⚠ flags name the result's warnings: read them in full in the JSON.";

/// One cell's row source: its id, the path its numbers come from (cited in the table, e.g.
/// `cells/c128/dcgm_correlation.json`), and its result.
#[derive(Debug, Clone, Copy)]
pub struct SummaryCell<'a> {
    /// Cell id (`c128`).
    pub cell_id: &'a str,
    /// Path of the result the row cites, relative to `sol-summary.md`.
    pub result_path: &'a str,
    /// The cell's result.
    pub result: &'a Correlation,
}

/// The section body: a short lead sentence, then a Markdown table, one row per cell (in the order
/// given): cell (linked to its result path), context descriptor (model, quant, TP×DP×PP,
/// concurrency, ISL/OSL — whatever the context has), hw_key and GPUs, rigor and tier, one column
/// per resource any cell has, tokens/J, the verdict (bounding resource) and the warnings flagged
/// by their tag (`⚠ UNSTEADY WINDOW`).
///
/// A resource figure is never a bare number: `69.7 % (steady 77.7 %) of h200_sxm.hbm3e_tbps`;
/// a counter-tier busy share reads `≤ X % busy (counter bound, not %SoL) for <ceiling>`; a
/// resource without a figure says why. Percentages carry 1 decimal, tokens/J 3 significant
/// digits. Cells whose result could not be read are listed below the table with the reason.
pub fn render_section(cells: &[SummaryCell], unreadable: &[(String, String)]) -> String {
    let mut out = format!("{LEAD}\n\n");
    if cells.is_empty() {
        out.push_str("No readable cell result, so there is no table.\n");
    } else {
        let resources = resource_columns(cells);
        let mut header: Vec<String> = ["Cell", "Context", "Hardware", "Rigor · tier"]
            .map(String::from)
            .to_vec();
        header.extend(resources.iter().map(|r| r.label().to_string()));
        header.extend(["tokens/J", "Bound / verdict", "Warnings"].map(String::from));
        out.push_str(&table_line(&header));
        out.push_str(&table_line(&vec!["---".to_string(); header.len()]));
        for cell in cells {
            out.push_str(&table_line(&row_cells(cell, &resources)));
        }
    }
    if !unreadable.is_empty() {
        out.push_str("\nNot in the table, because the result could not be read:\n\n");
        for (cell_id, reason) in unreadable {
            let _ = writeln!(out, "- {}: {}", escape_cell(cell_id), escape_cell(reason));
        }
    }
    out
}

/// The resources any cell has a row for, in report order.
fn resource_columns(cells: &[SummaryCell]) -> Vec<Resource> {
    Resource::ALL
        .into_iter()
        .filter(|resource| {
            cells
                .iter()
                .any(|c| c.result.resources.iter().any(|r| r.resource == *resource))
        })
        .collect()
}

fn table_line(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

fn row_cells(cell: &SummaryCell, resources: &[Resource]) -> Vec<String> {
    let result = cell.result;
    let mut row = vec![
        format!(
            "[{}]({})",
            escape_cell(cell.cell_id),
            link_destination(cell.result_path)
        ),
        escape_cell(&context_descriptor(&result.context)),
        escape_cell(&hardware(result)),
        escape_cell(&format!(
            "{} · {}",
            result.sol_rigor, result.dcgm_group_level
        )),
    ];
    row.extend(resources.iter().map(|resource| {
        let figure = result
            .resources
            .iter()
            .find(|r| r.resource == *resource)
            .map_or_else(
                || format!("no {} ceiling in {}", resource.label(), result.hw_key),
                resource_figure,
            );
        escape_cell(&figure)
    }));
    row.push(escape_cell(&tokens_per_joule(&result.energy)));
    row.push(if result.next_lever.verdict.is_empty() {
        "—".to_string()
    } else {
        escape_cell(&result.next_lever.verdict)
    });
    row.push(escape_cell(&warning_flags(&result.warnings)));
    row
}

/// Model · precision · parallelism · load · sequence lengths, as far as the context knows them.
fn context_descriptor(ctx: &Context) -> String {
    let mut parts: Vec<String> = ctx.model.iter().cloned().collect();
    let precision: Vec<String> = ctx
        .quant
        .iter()
        .cloned()
        .chain(ctx.kv_cache_dtype.iter().map(|kv| format!("kv {kv}")))
        .collect();
    if !precision.is_empty() {
        parts.push(precision.join(", "));
    }
    let parallel: Vec<String> = [
        ("TP", ctx.tensor_parallel),
        ("DP", ctx.data_parallel),
        ("PP", ctx.pipeline_parallel),
    ]
    .iter()
    .filter_map(|(name, degree)| degree.map(|d| format!("{name}{d}")))
    .collect();
    if !parallel.is_empty() {
        parts.push(parallel.join("×"));
    }
    if let Some(ep) = ctx.expert_parallel {
        parts.push(format!("EP{ep}"));
    }
    if let Some(concurrency) = ctx.concurrency {
        parts.push(format!("concurrency {concurrency}"));
    }
    if let Some(RequestRate::PerSecond(rate)) = ctx.request_rate {
        parts.push(format!("{rate} req/s"));
    }
    match (ctx.input_len_tokens, ctx.output_len_tokens) {
        (Some(isl), Some(osl)) => parts.push(format!("ISL/OSL {}/{}", tokens(isl), tokens(osl))),
        (Some(isl), None) => parts.push(format!("ISL {}", tokens(isl))),
        (None, Some(osl)) => parts.push(format!("OSL {}", tokens(osl))),
        (None, None) => {}
    }
    if parts.is_empty() {
        "context not recorded".to_string()
    } else {
        parts.join(" · ")
    }
}

fn hardware(result: &Correlation) -> String {
    let plural = if result.n_gpus == 1 { "" } else { "s" };
    let missing = if result.gpus.missing > 0 {
        format!(" ({} missing)", result.gpus.missing)
    } else {
        String::new()
    };
    format!("{} × {} GPU{plural}{missing}", result.hw_key, result.n_gpus)
}

/// One resource's figure, always with the ceiling it is measured against.
fn resource_figure(row: &ResourceRow) -> String {
    let ceiling = &row.ceiling;
    if let Some(sol_pct) = row.sol_pct {
        let steady = row.steady_state_sol_pct.map_or_else(
            || "no steady span".to_string(),
            |s| format!("steady {}", pct(s)),
        );
        // NVLink's counter tier still counts bytes: a true %SoL, but from the coarser field.
        let tier = if row.tier == Tier::Counter {
            ", counter-tier bytes"
        } else {
            ""
        };
        return format!("{} ({steady}{tier}) of {ceiling}", pct(sol_pct));
    }
    if let Some(busy_pct) = row.busy_time_upper_bound_pct {
        return format!(
            "≤ {} busy (counter bound, not %SoL) for {ceiling}",
            pct(busy_pct)
        );
    }
    let why = match row.tier {
        Tier::Absent => "nothing exported in scope",
        Tier::Invalid => "PROF data invalid (all-zero while the GPU was busy)",
        Tier::Prof | Tier::Counter => "no usable samples",
    };
    format!("no figure for {ceiling}: {why}")
}

fn tokens_per_joule(energy: &EnergyInfo) -> String {
    if let Some(value) = energy.tokens_per_joule {
        return significant3(value);
    }
    let mut reasons = Vec::new();
    if energy.output_tokens.is_none() {
        reasons.push("no output-token count");
    }
    if energy.energy_j_total.is_none() {
        reasons.push("no energy data");
    }
    if reasons.is_empty() {
        "—".to_string()
    } else {
        format!("— ({})", reasons.join("; "))
    }
}

/// Each warning's tag once, with a count when it repeats: `⚠ UNSTEADY WINDOW · ⚠ STRAGGLER ×2`.
fn warning_flags(warnings: &[String]) -> String {
    let mut tags: Vec<(String, usize)> = Vec::new();
    for warning in warnings {
        let tag = warning_tag(warning);
        match tags.iter_mut().find(|(seen, _)| *seen == tag) {
            Some((_, count)) => *count += 1,
            None => tags.push((tag, 1)),
        }
    }
    if tags.is_empty() {
        return "—".to_string();
    }
    tags.iter()
        .map(|(tag, count)| match count {
            1 => format!("⚠ {tag}"),
            _ => format!("⚠ {tag} ×{count}"),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The capitalised tag a warning starts with (`UNSTEADY WINDOW: …` → `UNSTEADY WINDOW`), or
/// `<resource> <TAG>` for a resource note lifted into the warnings (`NVLink: INCOMPLETE: …`), or
/// its first few words when it has no tag.
fn warning_tag(warning: &str) -> String {
    if let Some(tag) = capitalised_tag(warning) {
        return tag;
    }
    if let Some((subject, rest)) = warning.split_once(": ")
        && !subject.contains(char::is_whitespace)
        && let Some(tag) = capitalised_tag(rest)
    {
        return format!("{subject} {tag}");
    }
    let words: Vec<&str> = warning.split_whitespace().collect();
    if words.len() <= UNTAGGED_FLAG_WORDS {
        words.join(" ")
    } else {
        format!("{}…", words[..UNTAGGED_FLAG_WORDS].join(" "))
    }
}

/// Leading all-caps words, up to and including one that ends in `:` (dropped) or `?` (kept).
fn capitalised_tag(text: &str) -> Option<String> {
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.strip_suffix(':').unwrap_or(word);
        let capitalised =
            bare.chars().any(char::is_uppercase) && !bare.chars().any(char::is_lowercase);
        if !capitalised {
            break;
        }
        words.push(bare);
        if word.ends_with(':') || word.ends_with('?') {
            break;
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// Makes free text safe inside a table cell: `|` would split the cell, `\` would escape the next
/// character, `<` could open raw HTML (a comment would hide the rest of the file), backticks
/// could pair into a code span and brackets into a link; a line break would end the row.
fn escape_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' | '|' | '<' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters and `/`, so spaces, parentheses or pipes
/// in a path cannot end the link or the cell.
fn link_destination(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn pct(value: f64) -> String {
    format!("{value:.1} %")
}

/// Token counts: whole numbers as such, measured means with one decimal.
fn tokens(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// Three significant digits (0.172556 → `0.173`, 1234.5 → `1230`).
fn significant3(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let scale = 10f64.powi(value.abs().log10().floor() as i32 - 2);
    let rounded = (value / scale).round() * scale;
    // Rounding can carry into the next decade (0.9996 → 1.00): count decimals after it.
    let decimals = (2 - rounded.abs().log10().floor() as i32).max(0);
    format!("{rounded:.prec$}", prec = decimals as usize)
}

#[cfg(test)]
mod tests {
    use super::super::patch::split_cells;
    use super::*;

    const C008: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/report/h200-tp8-sweep/c008.json"
    ));
    const C032: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/report/h200-tp8-sweep/c032.json"
    ));
    const C064: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/report/h200-tp8-sweep/c064.json"
    ));
    const C128: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/report/h200-tp8-sweep/c128.json"
    ));
    const VGPU: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/report/counter-tier-vgpu.json"
    ));

    fn parse(json: &str) -> Correlation {
        serde_json::from_str(json).unwrap()
    }

    fn cell<'a>(result: &'a Correlation, result_path: &'a str) -> SummaryCell<'a> {
        SummaryCell {
            cell_id: &result.cell_id,
            result_path,
            result,
        }
    }

    /// The table cells of the row whose first cell links `cell_id`.
    fn row<'a>(section: &'a str, cell_id: &str) -> Vec<&'a str> {
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("| [{cell_id}](")))
            .unwrap();
        line.strip_prefix("| ")
            .and_then(|l| l.strip_suffix(" |"))
            .unwrap()
            .split(" | ")
            .collect()
    }

    fn header(section: &str) -> Vec<&str> {
        let line = section.lines().find(|l| l.starts_with("| Cell |")).unwrap();
        line[2..line.len() - 2].split(" | ").collect()
    }

    #[test]
    fn c128_row_matches_the_json_by_hand() {
        let c128 = parse(C128);
        let section = render_section(&[cell(&c128, "cells/c128/dcgm_correlation.json")], &[]);
        assert_eq!(
            header(&section),
            [
                "Cell",
                "Context",
                "Hardware",
                "Rigor · tier",
                "HBM",
                "Tensor",
                "NVLink",
                "PCIe",
                "tokens/J",
                "Bound / verdict",
                "Warnings"
            ]
        );
        // From c128.json, rounded by hand to one decimal:
        //   hbm    sol_pct 69.6808 → 69.7, steady 77.7395 → 77.7, ceiling h200_sxm.hbm3e_tbps
        //   tensor sol_pct 34.9029 → 34.9, steady 38.7506 → 38.8 (…06 > …05, rounds up)
        //   nvlink sol_pct 14.1295 → 14.1, steady 15.7714 → 15.8
        //   pcie   sol_pct  2.1009 →  2.1, steady  2.3456 →  2.3
        // tokens/J: 102400 output tokens / 593431.805 J = 0.17256 → 3 significant digits 0.173
        //   (check: 0.1725 × 593431.805 = 102366.99; 33.01 / 593431.8 = 0.0000556).
        // Warnings: one "UNSTEADY WINDOW: …" (num_prompts 200 < 2 × 128) and two "STRAGGLER: …".
        assert_eq!(
            row(&section, "c128"),
            [
                "[c128](cells/c128/dcgm_correlation.json)",
                "meta-llama/Llama-3.3-70B-Instruct · fp8, kv fp8 · TP8×DP1 · concurrency 128 · ISL/OSL 2048/512",
                "h200_sxm × 8 GPUs",
                "L3 · prof",
                "69.7 % (steady 77.7 %) of h200_sxm.hbm3e_tbps",
                "34.9 % (steady 38.8 %) of h200_sxm.fp8_dense_pflops",
                "14.1 % (steady 15.8 %) of h200_sxm.nvlink4_tbps",
                "2.1 % (steady 2.3 %) of h200_sxm.pcie5_gbps",
                "0.173",
                "HBM-bound at 77.7 % of h200_sxm.hbm3e_tbps (steady state)",
                "⚠ UNSTEADY WINDOW · ⚠ STRAGGLER ×2",
            ]
        );
    }

    #[test]
    fn counter_tier_cell_reads_busy_never_sol() {
        let vgpu = parse(VGPU);
        let section = render_section(&[cell(&vgpu, "cells/vgpu/dcgm_correlation.json")], &[]);
        let cells = row(&section, "vgpu");
        // counter-tier-vgpu.json: hbm and tensor are counter rows with busy_time_upper_bound_pct
        // 0.0 and sol_pct null; nvlink and pcie are absent; no energy, no output tokens.
        assert_eq!(
            cells[4],
            "≤ 0.0 % busy (counter bound, not %SoL) for a100_sxm4_40gb.hbm2_tbps"
        );
        assert_eq!(
            cells[5],
            "≤ 0.0 % busy (counter bound, not %SoL) for a100_sxm4_40gb.bf16_dense_pflops"
        );
        assert_eq!(
            cells[6],
            "no figure for a100_sxm4_40gb.nvlink3_tbps: nothing exported in scope"
        );
        assert_eq!(
            cells[7],
            "no figure for a100_sxm4_40gb.pcie4_gbps: nothing exported in scope"
        );
        assert_eq!(cells[8], "— (no output-token count; no energy data)");
        assert_eq!(cells[1], "context not recorded");
        assert_eq!(cells[2], "a100_sxm4_40gb × 1 GPU");
        // No figure in the row is presented as a %SoL: none is followed by "(steady".
        assert!(cells.iter().all(|c| !c.contains("% (steady")));
    }

    #[test]
    fn sweep_rows_keep_the_given_order_and_list_unreadable_cells() {
        let results = [parse(C064), parse(C008), parse(C128), parse(C032)];
        let paths = ["p/c064", "p/c008", "p/c128", "p/c032"];
        let cells: Vec<SummaryCell> = results.iter().zip(paths).map(|(r, p)| cell(r, p)).collect();
        let unreadable = [(
            "c256".to_string(),
            "cells/c256/dcgm_correlation.json: expected value at line 1 column 1".to_string(),
        )];
        let section = render_section(&cells, &unreadable);
        let order: Vec<&str> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| ["))
            .map(|l| &l[..4])
            .collect();
        assert_eq!(order, ["c064", "c008", "c128", "c032"]);
        // c032 hbm: 49.4533 → 49.5, steady 54.9843 → 55.0; tokens/J 0.577372 → 0.577.
        let c032 = row(&section, "c032");
        assert_eq!(c032[4], "49.5 % (steady 55.0 %) of h200_sxm.hbm3e_tbps");
        assert_eq!(c032[8], "0.577");
        assert_eq!(c032[10], "—");
        assert!(section.ends_with(
            "\nNot in the table, because the result could not be read:\n\n\
             - c256: cells/c256/dcgm_correlation.json: expected value at line 1 column 1\n"
        ));
        // No cell → no table, but the reason is still there.
        let empty = render_section(&[], &unreadable);
        assert!(!empty.contains("| Cell |"));
        assert!(empty.contains("- c256: "));
    }

    #[test]
    fn cell_values_cannot_break_the_table() {
        let mut result = parse(C008);
        result.cell_id = "c[8]".into();
        result.context.model = Some("org/model|v2 `x` <!-- y".into());
        result.next_lever.verdict = "a\\|b\nc".into();
        let section = render_section(&[cell(&result, "cells/c 8 (x)/r|.json")], &[]);
        let line = section.lines().find(|l| l.starts_with("| [c")).unwrap();
        assert!(line.starts_with("| [c\\[8\\]](cells/c%208%20%28x%29/r%7C.json) | "));
        assert!(line.contains("org/model\\|v2 \\`x\\` \\<!-- y · fp8"));
        // `\` is escaped before `|`, so `a\|b` stays text; the line break becomes a space.
        assert!(line.contains("| a\\\\\\|b c |"));
        // Exactly 12 unescaped pipes for 11 columns.
        assert_eq!(split_cells(line).len(), 11);
    }

    #[test]
    fn three_significant_digits() {
        assert_eq!(significant3(0.172556), "0.173");
        assert_eq!(significant3(0.382169), "0.382");
        assert_eq!(significant3(12.345), "12.3");
        // 1234.5 → 1.23 × 10³, no decimals left to show.
        assert_eq!(significant3(1234.5), "1230");
        // 0.9996 rounds up into the next decade: 1.00, not 1.000.
        assert_eq!(significant3(0.9996), "1.00");
        assert_eq!(significant3(0.0), "0");
    }

    #[test]
    fn warnings_are_flagged_by_their_tag() {
        let tag = |w: &str| warning_tag(w);
        assert_eq!(tag("SHORT WINDOW: 40.0 s is below …"), "SHORT WINDOW");
        assert_eq!(
            tag("WINDOW MISALIGNED? DramActive averages …"),
            "WINDOW MISALIGNED?"
        );
        assert_eq!(tag("INVALID PROF DATA on h/GPU-1: …"), "INVALID PROF DATA");
        assert_eq!(
            tag("NVLink: INCOMPLETE: RX is not exported"),
            "NVLink INCOMPLETE"
        );
        assert_eq!(
            tag("something odd happened here today"),
            "something odd happened here…"
        );
        assert_eq!(
            warning_flags(&["A: x".into(), "B: y".into(), "A: z".into()]),
            "⚠ A ×2 · ⚠ B"
        );
    }
}
