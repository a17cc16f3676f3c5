//! The campaign report as one self-contained HTML page (inline CSS and SVG, no script, nothing
//! fetched) plus each chart as its own SVG file, and the `report_status.json` that goes with it.

use std::fmt::Write as _;

use crate::correlation::{Correlation, ResourceRow};
use crate::measure::Tier;
use crate::report::charts;
use crate::report::status::{
    Omission, PageStatus, ReportCell, ReportStatus, cell_omission, page_status, report_status,
};

/// One chart written beside the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File name inside `report/`.
    pub file_name: String,
    /// The standalone SVG document.
    pub svg: String,
}

/// Everything `render` writes.
#[derive(Debug, Clone)]
pub struct RenderedReport {
    /// `report/index.html`.
    pub html: String,
    /// `report/*.svg`.
    pub charts: Vec<ChartFile>,
    /// `report_status.json`.
    pub status: ReportStatus,
}

/// Renders the report of `campaign` from its cells (in display order).
pub fn render_report(campaign: &str, cells: &[ReportCell], tool_version: &str) -> RenderedReport {
    let results: Vec<(&str, &Correlation)> = cells
        .iter()
        .filter_map(|c| c.result().map(|r| (c.cell_id.as_str(), r)))
        .collect();
    let mut page = Page::default();
    let mut sections = String::new();
    for (cell_id, result) in &results {
        sections.push_str(&page.cell_section(cell_id, result));
    }
    let sweep = page.sweep(&results);
    let status = report_status(campaign, cells, page.statuses(&results, cells));
    let mut html = String::with_capacity(64 * 1024 + sections.len());
    html.push_str(&head(campaign));
    let _ = write!(
        html,
        "<h1>DCGM speed-of-light report: {}</h1>\n<p class=\"meta\">dcgm-sol {} · {} of {} cells with a result · DCGM-grounded: {} · rigor {}</p>\n",
        escape(campaign),
        escape(tool_version),
        status.cells_with_result,
        status.cells_total,
        if status.dcgm_grounded { "yes" } else { "no" },
        escape(&status.sol_rigor)
    );
    html.push_str(&overview_table(&results));
    html.push_str(&sweep);
    html.push_str(&sections);
    html.push_str(&completeness(&status.omitted));
    html.push_str("</body>\n</html>\n");
    RenderedReport {
        html,
        charts: page.charts,
        status,
    }
}

/// The charts drawn so far and the omissions met, shared by the page's sections.
#[derive(Default)]
struct Page {
    charts: Vec<ChartFile>,
    attribution_cells: Vec<String>,
    timeseries_cells: Vec<String>,
    sweep_drawn: bool,
}

impl Page {
    /// Keeps `svg` as `<stem>.svg` and returns it inlined in a figure (chart ids are unique per
    /// cell, chart and resource, so inlined charts share a page safely).
    fn figure(&mut self, stem: &str, caption: &str, svg: String) -> String {
        let file_name = format!("{stem}.svg");
        let figure = format!(
            "<figure>{svg}<figcaption>{} · <a href=\"{}\">{}</a></figcaption></figure>\n",
            escape(caption),
            href(&file_name),
            escape(&file_name)
        );
        self.charts.push(ChartFile { file_name, svg });
        figure
    }

    fn cell_section(&mut self, cell_id: &str, result: &Correlation) -> String {
        let slug = file_slug(cell_id);
        let mut out = format!(
            "<section class=\"cell\" id=\"cell-{}\" data-cell=\"{}\">\n<h2>Cell {}</h2>\n<p class=\"context\">{}</p>\n",
            escape(&slug),
            escape(cell_id),
            escape(cell_id),
            escape(&descriptor(result))
        );
        out.push_str(&caveats(result));
        out.push_str("<h3>Page 6 — workload-level %SoL</h3>\n");
        out.push_str(&self.figure(
            &format!("page-6-{slug}"),
            "measured ÷ (peak × duration × GPUs) per resource",
            charts::resource_bars(result),
        ));
        out.push_str(&resource_table(result));
        out.push_str(&energy_line(result));
        out.push_str("<h3>Per-GPU spread</h3>\n");
        out.push_str(&self.figure(
            &format!("gpu-spread-{slug}"),
            "% of peak per GPU; a straggler sits left of the median",
            charts::gpu_spread(result),
        ));
        if result.resources.iter().any(|r| !r.timeseries.is_empty()) {
            out.push_str("<h3>Time series</h3>\n");
            out.push_str(&self.figure(
                &format!("timeseries-{slug}"),
                "% of peak over the window, steady-state span shaded",
                charts::timeseries(result),
            ));
            self.timeseries_cells.push(cell_id.to_string());
        }
        if let Some(svg) = charts::attribution(result) {
            out.push_str("<h3>Page 6b — per-category attribution</h3>\n");
            out.push_str(&self.figure(
                &format!("page-6b-{slug}"),
                "profiler time share per category and %SoL if the category ran alone",
                svg,
            ));
            self.attribution_cells.push(cell_id.to_string());
        }
        out.push_str(&next_lever(result));
        out.push_str("</section>\n");
        out
    }

    fn sweep(&mut self, results: &[(&str, &Correlation)]) -> String {
        let cells: Vec<&Correlation> = results.iter().map(|(_, r)| *r).collect();
        match charts::sweep(&cells) {
            Some(svg) => {
                self.sweep_drawn = true;
                format!(
                    "<section id=\"sweep\">\n<h2>Sweep: %SoL against concurrency</h2>\n{}</section>\n",
                    self.figure("sweep", "where the workload saturates", svg)
                )
            }
            None => String::new(),
        }
    }

    fn statuses(&self, results: &[(&str, &Correlation)], cells: &[ReportCell]) -> Vec<PageStatus> {
        let with_result: Vec<String> = results.iter().map(|(id, _)| id.to_string()).collect();
        let without: Vec<Omission> = cells.iter().filter_map(cell_omission).collect();
        let missing_for = |shown: &[String], what: &str, reason: &str, fix: &str| {
            with_result
                .iter()
                .filter(|id| !shown.contains(id))
                .map(|id| Omission {
                    cell_id: Some(id.clone()),
                    what: format!("{what} of cell {id}"),
                    reason: reason.to_string(),
                    fix: fix.to_string(),
                })
                .chain(without.iter().cloned())
                .collect::<Vec<_>>()
        };
        let sweep_omitted = if self.sweep_drawn {
            Vec::new()
        } else {
            vec![Omission {
                cell_id: None,
                what: "sweep view".into(),
                reason: "fewer than two cells with a concurrency in their bench context".into(),
                fix: "correlate at least two cells whose bench file records the concurrency".into(),
            }]
        };
        vec![
            page_status("6", with_result.clone(), without.clone()),
            page_status(
                "6b",
                self.attribution_cells.clone(),
                missing_for(
                    &self.attribution_cells,
                    "page 6b",
                    "no per-category attribution (no kernels.json profile in the cell)",
                    "put the profiler's kernels.json in the cell and re-run correlate",
                ),
            ),
            page_status(
                "sweep",
                if self.sweep_drawn {
                    with_result.clone()
                } else {
                    Vec::new()
                },
                sweep_omitted,
            ),
            page_status("gpu_spread", with_result.clone(), without.clone()),
            page_status(
                "timeseries",
                self.timeseries_cells.clone(),
                missing_for(
                    &self.timeseries_cells,
                    "time series",
                    "the result carries no time series",
                    "re-run correlate with this dcgm-sol (results folded from a seed snapshot have none)",
                ),
            ),
        ]
    }
}

/// `<!doctype>` to `<body>`, with the inline style sheet.
fn head(campaign: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>dcgm-sol report: {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(campaign)
    )
}

/// Light, print-friendly, no web fonts.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1a1a1a;background:#fff;line-height:1.4}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}h3{font-size:1.05rem;margin-top:1.5rem}
.meta,.context{color:#444}.context{font-size:.9rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.85rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.caveat{border-left:4px solid #d55e00;background:#fff4ec;padding:.4rem .7rem;margin:.4rem 0;font-size:.9rem}
.caveat.info{border-left-color:#0072b2;background:#eef6fb}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#555}
.badge{display:inline-block;border:1px solid #555;border-radius:3px;padding:0 .3rem;font-size:.75rem}
@media print{body{margin:0;max-width:none}section.cell{break-before:page}figure,table{break-inside:avoid}a{color:inherit}}
";

/// The cell's context in one line: what ran, where, how.
pub fn descriptor(result: &Correlation) -> String {
    let c = &result.context;
    let mut parts: Vec<String> = Vec::new();
    let mut push = |part: Option<String>| parts.extend(part);
    push(c.model.clone());
    push(c.quant.as_ref().map(|q| format!("quant {q}")));
    push(c.kv_cache_dtype.as_ref().map(|k| format!("KV {k}")));
    push(c.tensor_parallel.map(|tp| {
        format!(
            "TP{tp}×DP{}×PP{}",
            c.data_parallel.unwrap_or(1),
            c.pipeline_parallel.unwrap_or(1)
        )
    }));
    push(c.engine.as_ref().map(|e| match &c.engine_version {
        Some(v) => format!("{e} {v}"),
        None => e.clone(),
    }));
    push(c.dataset.as_ref().map(|d| format!("dataset {d}")));
    push(match (c.input_len_tokens, c.output_len_tokens) {
        (Some(i), Some(o)) => Some(format!("ISL/OSL {i:.0}/{o:.0}")),
        _ => None,
    });
    push(c.concurrency.map(|n| format!("concurrency {n}")));
    push(c.num_prompts.map(|n| format!("{n} prompts")));
    push(c.cache_state.clone());
    push(Some(format!("{} × {}", result.n_gpus, result.hw_key)));
    push(Some(format!(
        "window {} + {:.0} s ({:?})",
        result.window.start_utc, result.duration_s, result.window.confidence
    )));
    parts.join(" · ")
}

/// Caveat banners: counter tier, then every warning of the result, each tagged with its kind.
fn caveats(result: &Correlation) -> String {
    let mut out = String::new();
    if result.resources.iter().any(|r| r.tier == Tier::Counter) {
        out.push_str("<p class=\"caveat\" data-caveat=\"counter-tier\">COUNTER TIER: no DCGM profiling fields for some resources — their figures are busy-time upper bounds (the share of time the engine did anything), not %SoL.</p>\n");
    }
    for warning in &result.warnings {
        let _ = writeln!(
            out,
            "<p class=\"caveat\" data-caveat=\"{}\">{}</p>",
            caveat_kind(warning),
            escape(warning)
        );
    }
    out
}

/// The banner kind of a warning, from its tag.
fn caveat_kind(warning: &str) -> &'static str {
    const KINDS: [(&str, &str); 6] = [
        ("SHORT WINDOW", "short-window"),
        ("UNSTEADY", "unsteady"),
        ("MISSING GPUS", "missing-gpus"),
        ("LOW COVERAGE", "coverage"),
        ("INCOMPLETE", "coverage"),
        ("STRAGGLER", "straggler"),
    ];
    KINDS
        .iter()
        .find(|(tag, _)| warning.starts_with(tag))
        .map_or("other", |(_, kind)| kind)
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.1} %"))
}

/// What a row measured, in its own units.
fn measured(row: &ResourceRow) -> String {
    match (row.measured_bytes_per_s, row.measured_tflops_avg) {
        (Some(bytes_per_s), _) => format!("{:.3} TB/s per GPU", bytes_per_s / 1e12),
        (None, Some(tflops)) => format!("{tflops:.1} TFLOPS per GPU"),
        (None, None) => "—".to_string(),
    }
}

/// The numbers behind page 6, each with its ceiling key.
fn resource_table(result: &Correlation) -> String {
    let mut out = String::from(
        "<table class=\"resources\">\n<tr><th>resource</th><th>tier</th><th>%SoL</th><th>steady-state</th><th>bounds</th><th>coverage</th><th>measured</th><th>ceiling</th></tr>\n",
    );
    for row in &result.resources {
        let sol = match (row.tier, row.sol_pct, row.busy_time_upper_bound_pct) {
            (Tier::Counter, None, Some(bound)) => format!("≤ {bound:.1} % busy (not %SoL)"),
            (_, sol, _) => pct(sol),
        };
        let bounds = row
            .sol_pct_bounds
            .map_or_else(|| "—".to_string(), |[lo, hi]| format!("{lo:.1}–{hi:.1} %"));
        let _ = writeln!(
            out,
            "<tr data-resource=\"{}\"><td>{}</td><td><span class=\"badge\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1} %</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            row.resource.key(),
            row.resource.label(),
            tier_name(row.tier),
            escape(&sol),
            pct(row.steady_state_sol_pct),
            bounds,
            row.coverage_pct,
            measured(row),
            escape(&row.ceiling)
        );
    }
    out.push_str("</table>\n");
    out
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Prof => "PROF",
        Tier::Counter => "counter",
        Tier::Invalid => "invalid",
        Tier::Absent => "absent",
    }
}

fn energy_line(result: &Correlation) -> String {
    let e = &result.energy;
    let mut parts = Vec::new();
    if let Some(j) = e.energy_j_total {
        parts.push(format!(
            "energy {:.1} kJ ({})",
            j / 1e3,
            e.energy_source.as_deref().unwrap_or("unknown source")
        ));
    }
    if let Some(w) = e.mean_power_w_per_gpu {
        parts.push(format!("{w:.0} W per GPU"));
    }
    if let Some(t) = e.tokens_per_joule {
        parts.push(format!("{t:.3} output tokens/J"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("<p class=\"energy\">{}</p>\n", escape(&parts.join(" · ")))
}

fn next_lever(result: &Correlation) -> String {
    let lever = &result.next_lever;
    let mut out = format!(
        "<h3>Next lever</h3>\n<p class=\"verdict\">{}</p>\n",
        escape(&lever.verdict)
    );
    if lever.frontier.is_empty() {
        return out;
    }
    out.push_str("<table class=\"frontier\">\n<tr><th>#</th><th>lever</th><th>direction</th><th>expected unlock</th><th>gate (the measurement that decides)</th></tr>\n");
    for l in &lever.frontier {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l.rank,
            escape(&l.lever),
            escape(&l.direction),
            escape(&l.expected_unlock),
            escape(&l.gate)
        );
    }
    out.push_str("</table>\n");
    out
}

/// Every cell in one table: the campaign at a glance, each figure with its ceiling key.
fn overview_table(results: &[(&str, &Correlation)]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"overview\">\n<h2>Cells</h2>\n<table class=\"overview\">\n<tr><th>cell</th><th>context</th><th>%SoL per resource (steady-state) — ceiling</th><th>tokens/J</th><th>verdict</th></tr>\n",
    );
    for (cell_id, result) in results {
        let figures: Vec<String> = result
            .resources
            .iter()
            .map(|r| {
                let figure = match (r.sol_pct, r.busy_time_upper_bound_pct) {
                    (Some(sol), _) => format!(
                        "{} {sol:.1} %{}",
                        r.resource.label(),
                        r.steady_state_sol_pct
                            .map_or_else(String::new, |s| format!(" ({s:.1} %)"))
                    ),
                    (None, Some(bound)) => {
                        format!("{} ≤ {bound:.1} % busy", r.resource.label())
                    }
                    (None, None) => format!("{} —", r.resource.label()),
                };
                format!("{} of <code>{}</code>", escape(&figure), escape(&r.ceiling))
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#cell-{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&file_slug(cell_id)),
            escape(cell_id),
            escape(&descriptor(result)),
            figures.join("<br>"),
            result
                .energy
                .tokens_per_joule
                .map_or_else(|| "—".to_string(), |t| format!("{t:.3}")),
            escape(&result.next_lever.verdict)
        );
    }
    out.push_str("</table>\n</section>\n");
    out
}

/// What the report leaves out and how to get it.
fn completeness(omitted: &[Omission]) -> String {
    let mut out = String::from("<section id=\"completeness\">\n<h2>Completeness</h2>\n");
    if omitted.is_empty() {
        out.push_str(
            "<p>Nothing is omitted: every cell has a result and every view is drawn.</p>\n",
        );
    } else {
        out.push_str("<table class=\"omitted\">\n<tr><th>omitted</th><th>why</th><th>how to get it</th></tr>\n");
        for o in omitted {
            let _ = writeln!(
                out,
                "<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>",
                o.cell_id
                    .as_ref()
                    .map_or_else(String::new, |id| format!(" data-cell=\"{}\"", escape(id))),
                escape(&o.what),
                escape(&o.reason),
                escape(&o.fix)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Text for HTML (also safe inside attribute values).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A cell id as a file-name and fragment part: ASCII letters, digits, `-`, `_`, `.` kept, every
/// other character as `_` followed by its code point in hex (distinct ids stay distinct).
pub fn file_slug(cell_id: &str) -> String {
    let mut out = String::with_capacity(cell_id.len());
    for c in cell_id.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}", u32::from(c));
        }
    }
    out
}

/// A relative link to a file made by [`file_slug`] (its characters need no percent-encoding).
fn href(file_name: &str) -> String {
    escape(file_name)
}
