//! The "Workload-level SoL" section of a campaign's `sol-summary.md`: [`render_section`] turns
//! the cells' results into the section body and [`patch`] puts that body into the file's text.
//!
//! Ownership rule: the tool owns only the lines between [`BEGIN_MARKER`] and [`END_MARKER`],
//! which sit under the first `## Workload-level SoL` heading (an ATX heading outside fenced code).
//! Everything else in the file is a human's and is kept byte for byte. See [`patch`] for how the
//! marked part is found or first placed.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::ops::Range;

use crate::context::{Context, RequestRate};
use crate::correlation::{Correlation, EnergyInfo, ResourceRow};
use crate::measure::{Resource, Tier};

/// Heading of the section the tool owns (level 2).
pub const SECTION_HEADING: &str = "## Workload-level SoL";
/// First line of the tool's part (an HTML comment: invisible when rendered).
pub const BEGIN_MARKER: &str = "<!-- dcgm-sol:workload-sol begin -->";
/// Last line of the tool's part.
pub const END_MARKER: &str = "<!-- dcgm-sol:workload-sol end -->";

/// Words of an untagged warning shown as its flag.
const UNTAGGED_FLAG_WORDS: usize = 4;

/// What a reader needs before the table: where the numbers come from and how to read them.
const LEAD: &str = "Written by `dcgm-sol summary` from each cell's `dcgm_correlation.json` \
(linked in the first column); everything between the dcgm-sol markers is replaced on the next \
run. Each figure is the full-window %SoL, with the steady-state %SoL in parentheses, of the \
ceiling `<hw_key>.<peak_key>` it names; counter-tier figures are busy-time upper bounds, never \
%SoL. ⚠ flags name the result's warnings: read them in full in the JSON.";

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Patching
// ---------------------------------------------------------------------------------------------

/// Where [`patch`] put the section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// There was no file (or an empty one): the new text holds only the section.
    Created,
    /// The file had no section heading: the section was appended at the end.
    Appended,
    /// The marked part under the heading (markers from line `begin_line`, 1-based) was replaced.
    ReplacedMarked {
        /// Line of the begin marker.
        begin_line: usize,
    },
    /// The first table under a hand-written heading (lines `first_line..=last_line`) was replaced
    /// by the marked part.
    ReplacedTable {
        /// First line of the table.
        first_line: usize,
        /// Last line of the table.
        last_line: usize,
    },
    /// The heading had no table under it: the marked part was inserted right after it.
    InsertedUnderHeading {
        /// Line of the heading.
        heading_line: usize,
    },
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Created => write!(f, "created the file with the section"),
            Placement::Appended => {
                write!(f, "no '{SECTION_HEADING}' heading: appended the section")
            }
            Placement::ReplacedMarked { begin_line } => {
                write!(
                    f,
                    "replaced the marked table (markers from line {begin_line})"
                )
            }
            Placement::ReplacedTable {
                first_line,
                last_line,
            } => write!(
                f,
                "replaced the hand-written table on lines {first_line}–{last_line} under '{SECTION_HEADING}'"
            ),
            Placement::InsertedUnderHeading { heading_line } => write!(
                f,
                "inserted the table right under '{SECTION_HEADING}' (line {heading_line})"
            ),
        }
    }
}

/// What [`patch_with_outcome`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOutcome {
    /// The new file text.
    pub text: String,
    /// Where the section went.
    pub placement: Placement,
    /// Stray markers or fences found and how they were treated (for the user to tidy up).
    pub notes: Vec<String>,
}

/// `existing` (the file's text, or None when there is no file) with the section replaced or
/// added; [`patch_with_outcome`] also says where and what it noticed. Everything outside the
/// tool's part is kept byte for byte (line endings, trailing whitespace, no trailing newline…);
/// the inserted lines use the file's dominant line ending (CRLF when most lines end in CRLF).
/// Idempotent: `patch(Some(&patch(x, s)), s) == patch(x, s)`, and the last body wins.
///
/// The section is the first level-2 ATX heading `## Workload-level SoL` outside fenced code; it
/// ends at the next level-1/2 heading or `---`/`===`-style line. In it:
/// 1. a begin marker followed by an end marker (the first end marker that has a begin marker
///    before it, paired with the nearest such begin): the lines between them are replaced;
/// 2. otherwise — no markers, or a begin marker whose end marker is missing, which is treated
///    as no markers so the rest of the file is never eaten (noted; the stray marker stays) —
///    the first Markdown table directly under the heading (before any other heading or break
///    line) is replaced, and only it, by the marked part;
/// 3. with no such table, the marked part is inserted right after the heading line.
///
/// A file without the heading gets the section appended at the end after one blank line (an
/// unclosed code fence at the end is closed first, so the heading is not read as code); no file
/// gives the section alone. Lines of `section_body` that Markdown would read as a heading, a
/// break, a code fence or a marker get a leading backslash, so they cannot end the tool's part.
pub fn patch(existing: Option<&str>, section_body: &str) -> String {
    patch_with_outcome(existing, section_body).text
}

/// [`patch`], with where the section went and notes on stray markers.
pub fn patch_with_outcome(existing: Option<&str>, section_body: &str) -> PatchOutcome {
    let text = existing.unwrap_or_default();
    let eol = dominant_line_ending(text);
    let body = MarkedBody::new(section_body, eol);
    if text.is_empty() {
        return PatchOutcome {
            text: format!("{SECTION_HEADING}{eol}{eol}{}{eol}", body.block()),
            placement: Placement::Created,
            notes: Vec::new(),
        };
    }
    let scan = scan_lines(text);
    let lines = &scan.lines;
    let Some(heading) = lines
        .iter()
        .position(|l| !l.in_fence && is_section_heading(l.text))
    else {
        return append_section(text, &scan, &body);
    };
    let section = heading + 1..boundary_after(lines, heading, ends_section);
    let mut notes = Vec::new();
    if let Some((begin, end)) = marked_pair(lines, section.clone(), &mut notes) {
        return PatchOutcome {
            text: splice(text, lines[begin].end..lines[end].start, &body.inner()),
            placement: Placement::ReplacedMarked {
                begin_line: begin + 1,
            },
            notes,
        };
    }
    let direct = heading + 1..boundary_after(lines, heading, ends_direct_content);
    if let Some(table) = first_table(lines, direct) {
        let last = &lines[table.end - 1];
        let replacement = format!("{}{}", body.block(), last.eol);
        return PatchOutcome {
            text: splice(text, lines[table.start].start..last.end, &replacement),
            placement: Placement::ReplacedTable {
                first_line: table.start + 1,
                last_line: table.end,
            },
            notes,
        };
    }
    let heading_line = &lines[heading];
    let insertion = if heading_line.eol.is_empty() {
        format!("{eol}{eol}{}", body.block())
    } else {
        let next_is_blank = lines
            .get(heading + 1)
            .is_none_or(|l| l.text.trim().is_empty());
        let gap = if next_is_blank { "" } else { eol };
        format!("{eol}{}{eol}{gap}", body.block())
    };
    PatchOutcome {
        text: splice(text, heading_line.end..heading_line.end, &insertion),
        placement: Placement::InsertedUnderHeading {
            heading_line: heading + 1,
        },
        notes,
    }
}

/// The section body laid out for the file: its lines with the file's line ending, made inert.
struct MarkedBody<'a> {
    lines: Vec<Cow<'a, str>>,
    eol: &'static str,
}

impl<'a> MarkedBody<'a> {
    fn new(body: &'a str, eol: &'static str) -> Self {
        let mut lines: Vec<Cow<str>> = body
            .split('\n')
            .map(|l| inert(l.strip_suffix('\r').unwrap_or(l)))
            .collect();
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        MarkedBody { lines, eol }
    }

    /// The lines between the markers; the blank line before the end marker ends the table.
    fn inner(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(line);
            out.push_str(self.eol);
        }
        out.push_str(self.eol);
        out
    }

    /// Begin marker, inner lines, end marker (without a final line ending).
    fn block(&self) -> String {
        format!("{BEGIN_MARKER}{}{}{END_MARKER}", self.eol, self.inner())
    }
}

/// A body line that would change the file's structure gets a backslash before its first
/// character, which Markdown shows literally.
fn inert(line: &str) -> Cow<'_, str> {
    let structural = atx_heading(line).is_some()
        || is_break_line(line)
        || Fence::opened_by(line).is_some()
        || is_marker(line, BEGIN_MARKER)
        || is_marker(line, END_MARKER);
    if !structural {
        return Cow::Borrowed(line);
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    Cow::Owned(format!("{}\\{}", &line[..indent], &line[indent..]))
}

/// `\r\n` when most line endings are CRLF, else `\n`.
fn dominant_line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf_only = text.matches('\n').count() - crlf;
    if crlf > lf_only { "\r\n" } else { "\n" }
}

fn splice(text: &str, range: Range<usize>, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len() + replacement.len());
    out.push_str(&text[..range.start]);
    out.push_str(replacement);
    out.push_str(&text[range.end..]);
    out
}

fn append_section(text: &str, scan: &Scan, body: &MarkedBody) -> PatchOutcome {
    let eol = body.eol;
    let mut out = text.to_string();
    let mut notes = Vec::new();
    if !text.ends_with('\n') {
        out.push_str(eol);
    }
    let mut last_line_blank = scan.lines.last().is_none_or(|l| l.text.trim().is_empty());
    if let Some((line, fence)) = &scan.open_fence {
        notes.push(format!(
            "the file ends inside the code fence opened on line {line}: closed it before appending the section, so the heading is not read as code"
        ));
        out.push_str(&fence.closing());
        out.push_str(eol);
        last_line_blank = false;
    }
    if !last_line_blank {
        out.push_str(eol);
    }
    let _ = write!(out, "{SECTION_HEADING}{eol}{eol}{}{eol}", body.block());
    PatchOutcome {
        text: out,
        placement: Placement::Appended,
        notes,
    }
}

/// The first end marker that has a begin marker before it, with the nearest such begin marker.
/// Markers that do not pair up are noted and left in place.
fn marked_pair(
    lines: &[Line],
    section: Range<usize>,
    notes: &mut Vec<String>,
) -> Option<(usize, usize)> {
    let mut begin: Option<usize> = None;
    for index in section {
        let line = &lines[index];
        if line.in_fence {
            continue;
        }
        if is_marker(line.text, BEGIN_MARKER) {
            if let Some(stray) = begin {
                notes.push(format!(
                    "line {}: begin marker followed by another begin marker on line {}: left in place; the later one is used",
                    stray + 1,
                    index + 1
                ));
            }
            begin = Some(index);
        } else if is_marker(line.text, END_MARKER) {
            match begin {
                Some(start) => return Some((start, index)),
                None => notes.push(format!(
                    "line {}: end marker without a begin marker before it: left in place and ignored",
                    index + 1
                )),
            }
        }
    }
    if let Some(stray) = begin {
        notes.push(format!(
            "line {}: begin marker without an end marker in the section: treated as no markers (nothing after it is removed); delete the stray marker and any stale table under it",
            stray + 1
        ));
    }
    None
}

/// The first GFM table (header row, delimiter row with as many cells, then rows) in `range`.
/// Rows continue while lines hold a `|`; prose right after a table is never taken.
fn first_table(lines: &[Line], range: Range<usize>) -> Option<Range<usize>> {
    let end = range.end;
    let start = (range.start..end.saturating_sub(1)).find(|&index| {
        let (header, delimiter) = (&lines[index], &lines[index + 1]);
        !header.in_fence
            && !delimiter.in_fence
            && is_table_row(header.text)
            && delimiter_cells(delimiter.text) == Some(split_cells(header.text).len())
    })?;
    let rows_end = (start + 2..end)
        .find(|&index| lines[index].in_fence || !is_table_row(lines[index].text))
        .unwrap_or(end);
    Some(start..rows_end)
}

fn is_table_row(line: &str) -> bool {
    unindented(line).is_some_and(|rest| rest.contains('|'))
}

/// The cells of a table row (outer pipes optional), counting `\|` as text.
fn split_cells(line: &str) -> Vec<&str> {
    let trimmed = line.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = match inner.strip_suffix('|') {
        Some(rest) if !rest.ends_with('\\') => rest,
        _ => inner,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (index, ch) in inner.char_indices() {
        match ch {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => {
                out.push(&inner[start..index]);
                start = index + 1;
            }
            _ => escaped = false,
        }
    }
    out.push(&inner[start..]);
    out
}

/// Number of cells when `line` is a delimiter row (`|---|:-:|`), else None.
fn delimiter_cells(line: &str) -> Option<usize> {
    if !is_table_row(line) {
        return None;
    }
    let parts = split_cells(line);
    parts
        .iter()
        .all(|cell| {
            let core = cell.trim();
            let core = core.strip_prefix(':').unwrap_or(core);
            let core = core.strip_suffix(':').unwrap_or(core);
            !core.is_empty() && core.chars().all(|c| c == '-')
        })
        .then_some(parts.len())
}

/// The first line after `heading`, outside fences, for which `stops` holds (or the end).
fn boundary_after(lines: &[Line], heading: usize, stops: fn(&str) -> bool) -> usize {
    lines
        .iter()
        .enumerate()
        .skip(heading + 1)
        .find(|(_, l)| !l.in_fence && stops(l.text))
        .map_or(lines.len(), |(index, _)| index)
}

/// Where the section ends: a heading of level 1 or 2, or a setext underline / thematic break.
fn ends_section(line: &str) -> bool {
    atx_heading(line).is_some_and(|(level, _)| level <= 2) || is_break_line(line)
}

/// Where the content directly under the heading ends: any heading or break line.
fn ends_direct_content(line: &str) -> bool {
    atx_heading(line).is_some() || is_break_line(line)
}

fn is_section_heading(line: &str) -> bool {
    atx_heading(line).is_some_and(|heading| Some(heading) == atx_heading(SECTION_HEADING))
}

fn is_marker(line: &str, marker: &str) -> bool {
    unindented(line).is_some_and(|rest| rest.trim_end() == marker)
}

/// The line without its up-to-three-space indent; None when indented as code (4+ columns).
fn unindented(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(' ');
    (line.len() - rest.len() <= 3 && !rest.starts_with('\t')).then_some(rest)
}

/// Level and title of an ATX heading (`## Title ##` → `(2, "Title")`).
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let rest = unindented(line)?;
    let level = rest.len() - rest.trim_start_matches('#').len();
    let after = &rest[level..];
    if !(1..=6).contains(&level) || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let title = after.trim();
    let without_closing = title.trim_end_matches('#');
    let title = if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        title
    };
    Some((level, title))
}

/// A line of three or more `-`, `=`, `*` or `_` (spaces allowed): a setext underline or a
/// thematic break, both of which end what sits under a heading.
fn is_break_line(line: &str) -> bool {
    let Some(rest) = unindented(line) else {
        return false;
    };
    let mut marks = rest.chars().filter(|c| !matches!(c, ' ' | '\t'));
    let Some(first) = marks.next() else {
        return false;
    };
    matches!(first, '-' | '=' | '*' | '_')
        && marks.clone().all(|c| c == first)
        && marks.count() >= 2
}

/// A fenced code block's opening fence.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fence {
    mark: char,
    len: usize,
}

impl Fence {
    fn opened_by(line: &str) -> Option<Fence> {
        let rest = unindented(line)?;
        let mark = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
        let len = rest.len() - rest.trim_start_matches(mark).len();
        // A backtick fence's info string cannot contain a backtick (it would be inline code).
        let info_ok = mark == '~' || !rest[len..].contains('`');
        (len >= 3 && info_ok).then_some(Fence { mark, len })
    }

    fn closed_by(&self, line: &str) -> bool {
        unindented(line).is_some_and(|rest| {
            let after = rest.trim_start_matches(self.mark);
            rest.len() - after.len() >= self.len && after.trim().is_empty()
        })
    }

    fn closing(&self) -> String {
        self.mark.to_string().repeat(self.len)
    }
}

/// One line of the file: its Markdown text, its line ending (`\n`, `\r\n`, or nothing on a last
/// line without one), its byte span including both, and whether it belongs to fenced code (the
/// fence lines included).
#[derive(Debug)]
struct Line<'a> {
    text: &'a str,
    eol: &'a str,
    start: usize,
    end: usize,
    in_fence: bool,
}

/// The file's lines, and the fence still open at the end (with its 1-based line), if any.
struct Scan<'a> {
    lines: Vec<Line<'a>>,
    open_fence: Option<(usize, Fence)>,
}

fn scan_lines(text: &str) -> Scan<'_> {
    let mut lines = Vec::new();
    let mut open_fence: Option<(usize, Fence)> = None;
    let mut start = 0;
    while start < text.len() {
        let end = text[start..]
            .find('\n')
            .map_or(text.len(), |i| start + i + 1);
        let raw = &text[start..end];
        let without_lf = raw.strip_suffix('\n').unwrap_or(raw);
        let with_bom = without_lf.strip_suffix('\r').unwrap_or(without_lf);
        // A byte-order mark (Windows editors start files with one) is not Markdown.
        let content = with_bom.strip_prefix('\u{feff}').unwrap_or(with_bom);
        let in_fence = match &open_fence {
            Some((_, fence)) => {
                if fence.closed_by(content) {
                    open_fence = None;
                }
                true
            }
            None => {
                open_fence = Fence::opened_by(content).map(|f| (lines.len() + 1, f));
                open_fence.is_some()
            }
        };
        lines.push(Line {
            text: content,
            eol: &raw[with_bom.len()..],
            start,
            end,
            in_fence,
        });
        start = end;
    }
    Scan { lines, open_fence }
}

#[cfg(test)]
mod tests {
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

    // ---- patching ----

    const BODY: &str = "Lead.\n\n| a |\n| --- |\n| 1 |\n";
    const BLOCK: &str = "<!-- dcgm-sol:workload-sol begin -->\nLead.\n\n| a |\n| --- |\n| 1 |\n\n<!-- dcgm-sol:workload-sol end -->";

    /// A campaign summary with prose around the section, a hand-written table under the heading
    /// and another table in the next section.
    const HUMAN: &str = "# Campaign h200-tp8-sweep  \n\nIntro prose.\n\n## Workload-level SoL\n\nHand-written note.\n\n| cell | HBM |\n|:-----|----:|\n| c1   | 50  |\nProse right after the table.\n\n## Other section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";

    fn expected_human_patched() -> String {
        format!(
            "# Campaign h200-tp8-sweep  \n\nIntro prose.\n\n## Workload-level SoL\n\nHand-written note.\n\n{BLOCK}\nProse right after the table.\n\n## Other section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        )
    }

    #[test]
    fn creates_the_section_from_nothing() {
        let expected = format!("## Workload-level SoL\n\n{BLOCK}\n");
        assert_eq!(patch(None, BODY), expected);
        assert_eq!(patch(Some(""), BODY), expected);
    }

    #[test]
    fn appends_after_one_blank_line_to_a_file_without_the_section() {
        let section = format!("## Workload-level SoL\n\n{BLOCK}\n");
        assert_eq!(
            patch(Some("# T\n\nProse.\n"), BODY),
            format!("# T\n\nProse.\n\n{section}")
        );
        assert_eq!(
            patch(Some("# T\nProse."), BODY),
            format!("# T\nProse.\n\n{section}")
        );
        assert_eq!(patch(Some("# T\n\n"), BODY), format!("# T\n\n{section}"));
        // A level-3 heading of the same title is not the section.
        let outcome = patch_with_outcome(Some("### Workload-level SoL\n"), BODY);
        assert_eq!(outcome.placement, Placement::Appended);
    }

    #[test]
    fn replaces_only_the_first_table_under_the_heading() {
        let outcome = patch_with_outcome(Some(HUMAN), BODY);
        assert_eq!(outcome.text, expected_human_patched());
        // Lines 9–11 of HUMAN are the hand-written table.
        assert_eq!(
            outcome.placement,
            Placement::ReplacedTable {
                first_line: 9,
                last_line: 11
            }
        );
        assert!(outcome.notes.is_empty());
        // A byte-order mark before the heading does not hide it.
        assert_eq!(
            patch(
                Some("\u{feff}## Workload-level SoL\n| a |\n| --- |\n| 0 |\n"),
                BODY
            ),
            format!("\u{feff}## Workload-level SoL\n{BLOCK}\n")
        );
    }

    #[test]
    fn keeps_crlf_everywhere() {
        let crlf = HUMAN.replace('\n', "\r\n");
        assert_eq!(
            patch(Some(&crlf), BODY),
            expected_human_patched().replace('\n', "\r\n")
        );
        let created_then_crlf = format!(
            "# T\r\n\r\n## Workload-level SoL\r\n\r\n{}\r\n",
            BLOCK.replace('\n', "\r\n")
        );
        assert_eq!(patch(Some("# T\r\n"), BODY), created_then_crlf);
    }

    #[test]
    fn replaces_between_markers_and_keeps_the_rest_byte_for_byte() {
        let text = "intro\t \n\n## Workload-level SoL ##\n\n<!-- dcgm-sol:workload-sol begin -->\nstale\n| x |\n<!-- dcgm-sol:workload-sol end -->\ntrailing  \nno newline at end";
        let outcome = patch_with_outcome(Some(text), BODY);
        assert_eq!(
            outcome.text,
            format!(
                "intro\t \n\n## Workload-level SoL ##\n\n{BLOCK}\ntrailing  \nno newline at end"
            )
        );
        assert_eq!(
            outcome.placement,
            Placement::ReplacedMarked { begin_line: 5 }
        );
    }

    #[test]
    fn a_heading_inside_a_code_fence_is_not_the_section() {
        let text = "# Notes\n\n```markdown\n## Workload-level SoL\n\n| x | y |\n|---|---|\n| 1 | 2 |\n```\n\nTail.\n";
        assert_eq!(
            patch(Some(text), BODY),
            format!("{text}\n## Workload-level SoL\n\n{BLOCK}\n")
        );
        // Markers inside a fence under the real heading are not the tool's either.
        let fenced_markers = "## Workload-level SoL\n\n~~~\n<!-- dcgm-sol:workload-sol begin -->\n<!-- dcgm-sol:workload-sol end -->\n~~~\n";
        assert_eq!(
            patch(Some(fenced_markers), BODY),
            format!(
                "## Workload-level SoL\n\n{BLOCK}\n\n~~~\n<!-- dcgm-sol:workload-sol begin -->\n<!-- dcgm-sol:workload-sol end -->\n~~~\n"
            )
        );
    }

    #[test]
    fn an_unclosed_fence_at_the_end_is_closed_before_appending() {
        let outcome = patch_with_outcome(Some("# Notes\n\n~~~~\n## Workload-level SoL\n"), BODY);
        assert_eq!(
            outcome.text,
            format!(
                "# Notes\n\n~~~~\n## Workload-level SoL\n~~~~\n\n## Workload-level SoL\n\n{BLOCK}\n"
            )
        );
        assert!(outcome.notes[0].contains("line 3"));
    }

    #[test]
    fn a_begin_marker_without_end_does_not_eat_the_rest() {
        let text = "## Workload-level SoL\n\n<!-- dcgm-sol:workload-sol begin -->\nOld lead.\n\n| a |\n| --- |\n| 0 |\n\n## Next\n\nkeep me\n";
        let outcome = patch_with_outcome(Some(text), BODY);
        assert_eq!(
            outcome.text,
            format!(
                "## Workload-level SoL\n\n<!-- dcgm-sol:workload-sol begin -->\nOld lead.\n\n{BLOCK}\n\n## Next\n\nkeep me\n"
            )
        );
        assert_eq!(outcome.notes.len(), 1);
        assert!(outcome.notes[0].starts_with("line 3: begin marker without an end marker"));
        // The next run pairs the new end marker with the nearest begin marker: the new one
        // (line 6), not the stray one, so nothing more is removed.
        let again = patch_with_outcome(Some(&outcome.text), BODY);
        assert_eq!(again.text, outcome.text);
        assert_eq!(again.placement, Placement::ReplacedMarked { begin_line: 6 });
    }

    #[test]
    fn an_end_marker_without_begin_is_ignored() {
        let text =
            "## Workload-level SoL\n<!-- dcgm-sol:workload-sol end -->\n\n| a |\n| --- |\n| 0 |\n";
        let outcome = patch_with_outcome(Some(text), BODY);
        assert_eq!(
            outcome.text,
            format!("## Workload-level SoL\n<!-- dcgm-sol:workload-sol end -->\n\n{BLOCK}\n")
        );
        assert!(outcome.notes[0].starts_with("line 2: end marker without a begin marker"));
    }

    #[test]
    fn without_a_table_under_the_heading_the_part_goes_right_after_it() {
        // The table under the level-3 subheading is not directly under the section heading.
        let text = "## Workload-level SoL\nHuman note.\n\n### Details\n\n| a |\n| --- |\n| 9 |\n";
        let outcome = patch_with_outcome(Some(text), BODY);
        assert_eq!(
            outcome.text,
            format!(
                "## Workload-level SoL\n\n{BLOCK}\n\nHuman note.\n\n### Details\n\n| a |\n| --- |\n| 9 |\n"
            )
        );
        assert_eq!(
            outcome.placement,
            Placement::InsertedUnderHeading { heading_line: 1 }
        );
        // Heading on the last line without a newline: the file still ends without one.
        assert_eq!(
            patch(Some("# T\n## Workload-level SoL"), BODY),
            format!("# T\n## Workload-level SoL\n\n{BLOCK}")
        );
    }

    #[test]
    fn of_two_tables_under_the_heading_only_the_first_is_replaced() {
        let text = "## Workload-level SoL\n\n| a |\n| --- |\n| 1 |\n\n| b |\n| --- |\n| 2 |\n";
        assert_eq!(
            patch(Some(text), BODY),
            format!("## Workload-level SoL\n\n{BLOCK}\n\n| b |\n| --- |\n| 2 |\n")
        );
    }

    #[test]
    fn body_lines_cannot_end_the_tools_part() {
        let body = "## Sneaky\n```\n<!-- dcgm-sol:workload-sol end -->\n---\nok\n";
        let created = patch(None, body);
        assert_eq!(
            created,
            "## Workload-level SoL\n\n<!-- dcgm-sol:workload-sol begin -->\n\\## Sneaky\n\\```\n\\<!-- dcgm-sol:workload-sol end -->\n\\---\nok\n\n<!-- dcgm-sol:workload-sol end -->\n"
        );
        assert_eq!(patch(Some(&created), body), created);
    }

    #[test]
    fn two_runs_give_one_diff_and_the_last_body_wins() {
        let inputs = [
            None,
            Some(""),
            Some("# T\nProse."),
            Some(HUMAN),
            Some(&*HUMAN.replace('\n', "\r\n")),
            Some("# Notes\n\n```\n## Workload-level SoL\n```\n"),
            Some("# Notes\n\n~~~~\n## Workload-level SoL\n"),
            Some(
                "## Workload-level SoL\n\n<!-- dcgm-sol:workload-sol begin -->\n| a |\n| --- |\n| 0 |\n",
            ),
            Some(
                "## Workload-level SoL\n<!-- dcgm-sol:workload-sol end -->\n| a |\n| --- |\n| 0 |\n",
            ),
            Some("## Workload-level SoL"),
            Some("## Workload-level SoL\ntext\n## Next\n"),
        ];
        let other_body = "Other lead.\n\n| b |\n| --- |\n| 2 |\n";
        for input in inputs {
            let once = patch(input, BODY);
            assert_eq!(patch(Some(&once), BODY), once, "not idempotent: {input:?}");
            assert_eq!(
                patch(Some(&once), other_body),
                patch(input, other_body),
                "last body does not win: {input:?}"
            );
        }
    }

    #[test]
    fn a_rendered_section_survives_patching_twice() {
        let results = [parse(C008), parse(C128), parse(VGPU)];
        let cells: Vec<SummaryCell> = results.iter().map(|r| cell(r, "x.json")).collect();
        let body = render_section(&cells, &[("c256".into(), "unreadable".into())]);
        let once = patch(Some(HUMAN), &body);
        assert_eq!(patch(Some(&once), &body), once);
        assert!(once.ends_with("## Other section\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"));
    }
}
