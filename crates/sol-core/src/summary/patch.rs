//! Patching: the section body goes into the file's text; everything outside the markers stays.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::ops::Range;

use super::{BEGIN_MARKER, END_MARKER, SECTION_HEADING};

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
pub(super) fn split_cells(line: &str) -> Vec<&str> {
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
}
