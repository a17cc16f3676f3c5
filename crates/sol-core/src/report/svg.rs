//! SVG building blocks shared by the report charts: the document wrapper, XML escaping, fixed
//! number formatting, the Okabe–Ito palette with one colour, marker shape and dash per resource,
//! linear scales with round ticks, text-width estimates for label thinning, hatch patterns and a
//! wrapping legend.
//!
//! Everything writes into a caller's `String` so a chart is built in one pass (no quadratic
//! concatenation), and every number goes through one formatter so output is byte-stable.

use std::fmt::{self, Write};

use crate::measure::Resource;

/// Font stack: DejaVu Sans first because headless renderers (resvg, Chromium on Debian) have it;
/// a bare `sans-serif` rendered invisible in resvg.
pub const FONT_FAMILY: &str = "DejaVu Sans, Arial, sans-serif";
/// Body text size, px.
pub const FONT_PX: f64 = 12.0;
/// Captions, tick labels and legends, px.
pub const SMALL_FONT_PX: f64 = 10.0;
/// Chart titles, px.
pub const TITLE_FONT_PX: f64 = 14.0;
/// Main text colour.
pub const INK: &str = "#1a1a1a";
/// Secondary text (captions, ticks).
pub const MUTED_INK: &str = "#555555";
/// Caveat text: dark enough to print, and always prefixed with words, never colour alone.
pub const CAVEAT_INK: &str = "#8a3b00";
/// Grid lines.
pub const GRID: &str = "#d9d9d9";
/// Empty bar tracks and no-data bands.
pub const TRACK: &str = "#f3f3f3";
/// Track outlines and axis lines.
pub const AXIS: &str = "#8c8c8c";
/// Steady-state span shading.
pub const SHADE: &str = "#e6e6e6";

/// Okabe–Ito colour of a resource (colour-blind safe; yellow and sky blue left out because they
/// wash out on white paper).
pub fn resource_colour(resource: Resource) -> &'static str {
    match resource {
        Resource::Hbm => "#0072B2",
        Resource::Tensor => "#D55E00",
        Resource::Nvlink => "#009E73",
        Resource::Pcie => "#CC79A7",
        Resource::C2c => "#E69F00",
    }
}

/// Marker shape of a resource, so series stay distinguishable without colour.
pub fn resource_marker(resource: Resource) -> MarkerShape {
    match resource {
        Resource::Hbm => MarkerShape::Circle,
        Resource::Tensor => MarkerShape::Square,
        Resource::Nvlink => MarkerShape::TriangleUp,
        Resource::Pcie => MarkerShape::Diamond,
        Resource::C2c => MarkerShape::TriangleDown,
    }
}

/// Stroke dash of a resource's line (`None`: solid).
pub fn resource_dash(resource: Resource) -> Option<&'static str> {
    match resource {
        Resource::Hbm => None,
        Resource::Tensor => Some("7 3"),
        Resource::Nvlink => Some("2 2"),
        Resource::Pcie => Some("8 3 2 3"),
        Resource::C2c => Some("4 4"),
    }
}

/// A point marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerShape {
    /// ●
    Circle,
    /// ■
    Square,
    /// ▲
    TriangleUp,
    /// ◆
    Diamond,
    /// ▼
    TriangleDown,
    /// ×, always drawn as strokes.
    Cross,
}

/// XML-escaped text for `write!`: `& < > " '` become entities and the control characters XML 1.0
/// forbids become U+FFFD, so any user string is safe in text and attribute values.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| {
            matches!(c, '&' | '<' | '>' | '"' | '\'') || (c.is_control() && !"\t\n\r".contains(c))
        }) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{FFFD}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                _ => "\u{FFFD}",
            })?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// A coordinate or length: two decimals with trailing zeros dropped (`306.6`, `12`), `-0` written
/// as `0`. Non-finite values, which the charts never map, write `0` rather than `NaN`.
#[derive(Debug, Clone, Copy)]
pub struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Integer hundredths: no allocation, and the charts write tens of thousands of these.
        let hundredths = (self.0 * 100.0).round();
        if !hundredths.is_finite() || hundredths.abs() >= 1e17 {
            return f.write_str("0");
        }
        let hundredths = hundredths as i64;
        if hundredths < 0 {
            f.write_str("-")?;
        }
        let (whole, frac) = (
            hundredths.unsigned_abs() / 100,
            hundredths.unsigned_abs() % 100,
        );
        match frac {
            0 => write!(f, "{whole}"),
            f10 if f10 % 10 == 0 => write!(f, "{whole}.{}", f10 / 10),
            _ => write!(f, "{whole}.{frac:02}"),
        }
    }
}

/// A percentage as the report prints it: one decimal, a space, `%` (`69.7 %`).
#[derive(Debug, Clone, Copy)]
pub struct Pct(pub f64);

impl fmt::Display for Pct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 10.0).round() / 10.0;
        let value = if rounded == 0.0 { 0.0 } else { rounded };
        write!(f, "{value:.1} %")
    }
}

/// `Some(v)` only for a finite value: a missing or broken number is drawn as "no data", never 0.
pub fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// Maps a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    domain: [f64; 2],
    range_px: [f64; 2],
}

impl LinearScale {
    /// `domain` (data units) onto `range_px` (either direction, so y axes can point up).
    pub fn new(domain: [f64; 2], range_px: [f64; 2]) -> LinearScale {
        LinearScale { domain, range_px }
    }

    /// Pixel position of `value`; a degenerate domain maps everything to the range start.
    pub fn map(&self, value: f64) -> f64 {
        let span = self.domain[1] - self.domain[0];
        if span == 0.0 || !span.is_finite() {
            return self.range_px[0];
        }
        let t = (value - self.domain[0]) / span;
        self.range_px[0] + t * (self.range_px[1] - self.range_px[0])
    }

    /// Pixel position of `value` clamped to the domain (off-scale values sit at the edge).
    pub fn map_clamped(&self, value: f64) -> f64 {
        let (lo, hi) = (
            self.domain[0].min(self.domain[1]),
            self.domain[0].max(self.domain[1]),
        );
        self.map(value.clamp(lo, hi))
    }

    /// The data interval.
    pub fn domain(&self) -> [f64; 2] {
        self.domain
    }
}

/// A round tick step (1, 2, 2.5 or 5 × 10ⁿ) giving at most `max_ticks` intervals over `span`.
pub fn nice_step(span: f64, max_ticks: usize) -> f64 {
    if !span.is_finite() || span <= 0.0 {
        return 1.0;
    }
    let raw = span / max_ticks.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// Ticks from 0 to the first multiple of the step at or above `max`, with the step from
/// [`nice_step`]: the axis always starts at zero and ends on a labelled round number.
pub fn zero_based_ticks(max: f64, max_ticks: usize) -> Vec<f64> {
    let top = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let step = nice_step(top, max_ticks);
    let count = (top / step - 1e-9).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Estimated rendered width of `text` in DejaVu Sans at `font_px`, from per-character advance
/// widths rounded up (Arial is narrower, so the estimate errs on the wide side).
pub fn text_width_px(text: &str, font_px: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            ' ' | 'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 0.34,
            'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '/' | '-' | 'I' => 0.42,
            '0'..='9' | '–' | '≤' | '÷' | '×' => 0.64,
            'm' | 'w' => 0.98,
            'M' | 'W' | '%' | '@' | '—' => 1.0,
            'a'..='z' | '_' | '#' | '?' => 0.63,
            'A'..='Z' | '&' => 0.76,
            c if c.is_ascii() => 0.64,
            _ => 1.0,
        })
        .sum();
    em * font_px
}

/// `text` cut to fit `max_px` with a trailing `…`; unchanged when it fits.
pub fn ellipsize(text: &str, max_px: f64, font_px: f64) -> String {
    if text_width_px(text, font_px) <= max_px {
        return text.to_string();
    }
    let budget = max_px - text_width_px("…", font_px);
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        let mut buf = [0u8; 4];
        let w = text_width_px(c.encode_utf8(&mut buf), font_px);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Gap kept between neighbouring axis labels, px.
pub const LABEL_GAP_PX: f64 = 6.0;

/// Every how many evenly spaced slots a label can be written without overlapping its neighbour:
/// the smallest stride whose spacing covers the widest label plus [`LABEL_GAP_PX`].
pub fn label_stride(slot_px: f64, widest_label_px: f64) -> usize {
    if slot_px <= 0.0 || !slot_px.is_finite() {
        return usize::MAX;
    }
    ((widest_label_px + LABEL_GAP_PX) / slot_px).ceil().max(1.0) as usize
}

/// A stable 32-bit FNV-1a hash, so element ids differ between charts inlined in one HTML page
/// yet stay the same from run to run.
pub fn stable_id(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("sol{hash:08x}")
}

/// Horizontal text alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

/// How a piece of text looks.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    /// Size, px.
    pub font_px: f64,
    /// Bold.
    pub bold: bool,
    /// Fill colour.
    pub fill: &'static str,
    /// Alignment.
    pub anchor: Anchor,
}

impl TextStyle {
    /// Body text, left-aligned.
    pub const BODY: TextStyle = TextStyle {
        font_px: FONT_PX,
        bold: false,
        fill: INK,
        anchor: Anchor::Start,
    };
    /// Small muted text, left-aligned.
    pub const CAPTION: TextStyle = TextStyle {
        font_px: SMALL_FONT_PX,
        bold: false,
        fill: MUTED_INK,
        anchor: Anchor::Start,
    };

    /// The same style with another alignment.
    pub const fn anchored(self, anchor: Anchor) -> TextStyle {
        TextStyle { anchor, ..self }
    }

    /// The same style in bold.
    pub const fn bold(self) -> TextStyle {
        TextStyle { bold: true, ..self }
    }

    /// The same style in another colour.
    pub const fn filled(self, fill: &'static str) -> TextStyle {
        TextStyle { fill, ..self }
    }
}

/// Writes `<text>`; `class` (a static identifier) lets tests and the report's CSS find it.
pub fn write_text(
    out: &mut String,
    x: f64,
    y: f64,
    style: TextStyle,
    class: Option<&str>,
    content: &str,
) {
    let anchor = match style.anchor {
        Anchor::Start => "",
        Anchor::Middle => " text-anchor=\"middle\"",
        Anchor::End => " text-anchor=\"end\"",
    };
    let weight = if style.bold {
        " font-weight=\"bold\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{anchor}{weight}",
        Px(x),
        Px(y),
        Px(style.font_px),
        style.fill
    );
    if let Some(class) = class {
        let _ = write!(out, " class=\"{}\"", Escaped(class));
    }
    let _ = write!(out, ">{}</text>", Escaped(content));
}

/// Writes a straight line.
pub fn write_line(out: &mut String, from: [f64; 2], to: [f64; 2], stroke: &str, width_px: f64) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"/>",
        Px(from[0]),
        Px(from[1]),
        Px(to[0]),
        Px(to[1]),
        Px(width_px)
    );
}

/// Writes a dashed line.
pub fn write_dashed_line(out: &mut String, from: [f64; 2], to: [f64; 2], stroke: &str, dash: &str) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"1\" stroke-dasharray=\"{dash}\"/>",
        Px(from[0]),
        Px(from[1]),
        Px(to[0]),
        Px(to[1]),
    );
}

/// A rectangle's paint.
#[derive(Debug, Clone, Copy)]
pub enum Fill<'a> {
    /// A solid colour.
    Solid(&'a str),
    /// A pattern defined in the document (`url(#id)`).
    Pattern(&'a str),
}

/// Writes a rectangle with an optional outline; `class` as in [`write_text`].
pub fn write_rect(
    out: &mut String,
    [x, y, width, height]: [f64; 4],
    fill: Fill<'_>,
    outline: Option<&str>,
    class: Option<&str>,
) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
        Px(x),
        Px(y),
        Px(width.max(0.0)),
        Px(height.max(0.0))
    );
    let _ = match fill {
        Fill::Solid(colour) => write!(out, " fill=\"{colour}\""),
        Fill::Pattern(id) => write!(out, " fill=\"url(#{})\"", Escaped(id)),
    };
    if let Some(stroke) = outline {
        let _ = write!(out, " stroke=\"{stroke}\" stroke-width=\"1\"");
    }
    if let Some(class) = class {
        let _ = write!(out, " class=\"{}\"", Escaped(class));
    }
    out.push_str("/>");
}

/// A point marker's look.
#[derive(Debug, Clone, Copy)]
pub struct Marker<'a> {
    /// Shape.
    pub shape: MarkerShape,
    /// Half-size, px.
    pub radius_px: f64,
    /// Outline (and fill when filled).
    pub colour: &'a str,
    /// Filled, or hollow (white inside).
    pub filled: bool,
}

impl Marker<'_> {
    /// Writes the marker centred on (`x`, `y`); `class` as in [`write_text`].
    pub fn write(&self, out: &mut String, [x, y]: [f64; 2], class: Option<&str>) {
        let (r, colour) = (self.radius_px, self.colour);
        let fill = if self.filled { colour } else { "#ffffff" };
        let class = class.map_or(String::new(), |c| format!(" class=\"{}\"", Escaped(c)));
        let paint = format!("fill=\"{fill}\" stroke=\"{colour}\" stroke-width=\"1.5\"{class}");
        let polygon = |corners: &[[f64; 2]]| {
            corners
                .iter()
                .map(|[a, b]| format!("{},{}", Px(*a), Px(*b)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let s = r * 1.15;
        let _ = match self.shape {
            MarkerShape::Circle => write!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {paint}/>",
                Px(x),
                Px(y),
                Px(r)
            ),
            MarkerShape::Square => write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}/>",
                Px(x - 0.9 * r),
                Px(y - 0.9 * r),
                Px(1.8 * r),
                Px(1.8 * r)
            ),
            MarkerShape::TriangleUp => write!(
                out,
                "<polygon points=\"{}\" {paint}/>",
                polygon(&[[x, y - s], [x + s, y + s * 0.8], [x - s, y + s * 0.8]])
            ),
            MarkerShape::TriangleDown => write!(
                out,
                "<polygon points=\"{}\" {paint}/>",
                polygon(&[[x, y + s], [x + s, y - s * 0.8], [x - s, y - s * 0.8]])
            ),
            MarkerShape::Diamond => write!(
                out,
                "<polygon points=\"{}\" {paint}/>",
                polygon(&[[x, y - s], [x + s, y], [x, y + s], [x - s, y]])
            ),
            MarkerShape::Cross => write!(
                out,
                "<path d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{colour}\" stroke-width=\"1.8\" fill=\"none\"{class}/>",
                Px(x - r),
                Px(y - r),
                Px(x + r),
                Px(y + r),
                Px(x - r),
                Px(y + r),
                Px(x + r),
                Px(y - r)
            ),
        };
    }
}

/// Writes the grid and labels of a horizontal value axis: a vertical grid line from `y_top` to
/// `y_bottom` at each tick and its label (from `label`) centred below.
pub fn write_x_ticks(
    out: &mut String,
    scale: &LinearScale,
    ticks: &[f64],
    [y_top, y_bottom]: [f64; 2],
    label: impl Fn(f64) -> String,
) {
    for &tick in ticks {
        let x = scale.map(tick);
        write_line(out, [x, y_top], [x, y_bottom], GRID, 1.0);
        write_text(
            out,
            x,
            y_bottom + 13.0,
            TextStyle::CAPTION.anchored(Anchor::Middle),
            Some("x-tick"),
            &label(tick),
        );
    }
}

/// Writes the grid and labels of a vertical value axis: a horizontal grid line from `x_left` to
/// `x_right` at each tick (when `grid`) and its label outside the plot on `side` (`Start`: left
/// of `x_left`, `End`: right of `x_right`).
pub fn write_y_ticks(
    out: &mut String,
    scale: &LinearScale,
    ticks: &[f64],
    [x_left, x_right]: [f64; 2],
    side: Anchor,
    grid: bool,
    label: impl Fn(f64) -> String,
) {
    for &tick in ticks {
        let y = scale.map(tick);
        if grid {
            write_line(out, [x_left, y], [x_right, y], GRID, 1.0);
        }
        let (x, anchor) = match side {
            Anchor::End => (x_right + 5.0, Anchor::Start),
            _ => (x_left - 5.0, Anchor::End),
        };
        write_text(
            out,
            x,
            y + 3.5,
            TextStyle::CAPTION.anchored(anchor),
            Some("y-tick"),
            &label(tick),
        );
    }
}

/// Writes an axis title rotated to run up the page, centred on (`x`, `y_mid`).
pub fn write_vertical_title(out: &mut String, x: f64, y_mid: f64, content: &str) {
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"{y}\" font-size=\"{}\" fill=\"{MUTED_INK}\" text-anchor=\"middle\" transform=\"rotate(-90 {x} {y})\">{}</text>",
        Px(SMALL_FONT_PX),
        Escaped(content),
        x = Px(x),
        y = Px(y_mid),
    );
}

/// Writes an open polyline through `points`, dashed when `dash` is set.
pub fn write_polyline(out: &mut String, points: &[[f64; 2]], colour: &str, dash: Option<&str>) {
    out.push_str("<polyline points=\"");
    for (i, [x, y]) in points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{},{}", Px(*x), Px(*y));
    }
    let _ = write!(
        out,
        "\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\" stroke-linejoin=\"round\""
    );
    if let Some(dash) = dash {
        let _ = write!(out, " stroke-dasharray=\"{dash}\"");
    }
    out.push_str("/>");
}

/// The steady-state marker on a bar: a black tick with a white halo, visible on any bar colour.
pub fn write_steady_tick(out: &mut String, x: f64, y_top: f64, y_bottom: f64) {
    write_line(out, [x, y_top], [x, y_bottom], "#ffffff", 4.0);
    write_line(out, [x, y_top], [x, y_bottom], INK, 2.0);
    Marker {
        shape: MarkerShape::TriangleDown,
        radius_px: 3.5,
        colour: INK,
        filled: true,
    }
    .write(out, [x, y_top - 3.0], None);
}

/// An interval whisker: a thin horizontal line with end caps of height `cap_px`.
pub fn write_whisker(out: &mut String, x_from: f64, x_to: f64, y: f64, cap_px: f64) {
    write_line(out, [x_from, y], [x_to, y], INK, 1.2);
    for x in [x_from, x_to] {
        write_line(out, [x, y - cap_px / 2.0], [x, y + cap_px / 2.0], INK, 1.2);
    }
}

/// Writes a `<pattern>` of diagonal `colour` stripes on white, for "bound, not a measurement"
/// bars; wrap in `<defs>` (see [`document`]).
pub fn write_hatch_pattern(out: &mut String, id: &str, colour: &str) {
    let _ = write!(
        out,
        "<pattern id=\"{}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{colour}\" stroke-width=\"3\"/></pattern>",
        Escaped(id)
    );
}

/// What a legend entry shows before its words.
#[derive(Debug, Clone, Copy)]
pub enum LegendSymbol<'a> {
    /// A filled square.
    Swatch(&'a str),
    /// A square painted with a pattern id.
    Hatch(&'a str),
    /// A lone marker.
    Marker {
        /// Shape.
        shape: MarkerShape,
        /// Colour.
        colour: &'a str,
        /// Filled or hollow.
        filled: bool,
    },
    /// A line sample with a marker on it.
    Line {
        /// Colour.
        colour: &'a str,
        /// Dash pattern.
        dash: Option<&'a str>,
        /// Marker.
        shape: MarkerShape,
    },
    /// A dashed reference line.
    Rule,
    /// [`write_steady_tick`].
    SteadyTick,
    /// [`write_whisker`].
    Whisker,
    /// A shaded span.
    Shade,
    /// Words only.
    None,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct LegendItem<'a> {
    /// Symbol.
    pub symbol: LegendSymbol<'a>,
    /// Words.
    pub label: String,
}

const LEGEND_SYMBOL_PX: f64 = 22.0;
const LEGEND_LINE_PX: f64 = 16.0;

/// Writes the legend in rows from (`x`, `y_top`), wrapping before `max_x`; returns its height.
pub fn write_legend(
    out: &mut String,
    items: &[LegendItem<'_>],
    x: f64,
    y_top: f64,
    max_x: f64,
) -> f64 {
    let mut cursor = x;
    let mut row = 0.0;
    for item in items {
        let symbol_px = match item.symbol {
            LegendSymbol::None => 0.0,
            _ => LEGEND_SYMBOL_PX + 4.0,
        };
        let label = ellipsize(&item.label, max_x - x - symbol_px, SMALL_FONT_PX);
        let width = symbol_px + text_width_px(&label, SMALL_FONT_PX);
        if cursor > x && cursor + width > max_x {
            cursor = x;
            row += 1.0;
        }
        let mid_y = y_top + row * LEGEND_LINE_PX + LEGEND_LINE_PX / 2.0;
        write_legend_symbol(out, item.symbol, cursor, mid_y);
        write_text(
            out,
            cursor + symbol_px,
            mid_y + 3.5,
            TextStyle::CAPTION.filled(INK),
            None,
            &label,
        );
        cursor += width + 14.0;
    }
    if items.is_empty() {
        0.0
    } else {
        (row + 1.0) * LEGEND_LINE_PX
    }
}

fn write_legend_symbol(out: &mut String, symbol: LegendSymbol<'_>, x: f64, mid_y: f64) {
    let centre = [x + LEGEND_SYMBOL_PX / 2.0, mid_y];
    let box_px = [x + 4.0, mid_y - 6.0, LEGEND_SYMBOL_PX - 8.0, 12.0];
    match symbol {
        LegendSymbol::Swatch(colour) => write_rect(out, box_px, Fill::Solid(colour), None, None),
        LegendSymbol::Hatch(id) => write_rect(out, box_px, Fill::Pattern(id), Some(AXIS), None),
        LegendSymbol::Marker {
            shape,
            colour,
            filled,
        } => Marker {
            shape,
            radius_px: 4.0,
            colour,
            filled,
        }
        .write(out, centre, None),
        LegendSymbol::Line {
            colour,
            dash,
            shape,
        } => {
            write_polyline(
                out,
                &[[x, mid_y], [x + LEGEND_SYMBOL_PX, mid_y]],
                colour,
                dash,
            );
            Marker {
                shape,
                radius_px: 3.5,
                colour,
                filled: true,
            }
            .write(out, centre, None);
        }
        LegendSymbol::Rule => {
            write_dashed_line(out, [x, mid_y], [x + LEGEND_SYMBOL_PX, mid_y], INK, "4 3")
        }
        LegendSymbol::SteadyTick => write_steady_tick(out, centre[0], mid_y - 3.0, mid_y + 7.0),
        LegendSymbol::Whisker => {
            write_whisker(out, x + 4.0, x + LEGEND_SYMBOL_PX - 4.0, mid_y, 8.0)
        }
        LegendSymbol::Shade => write_rect(out, box_px, Fill::Solid(SHADE), Some(AXIS), None),
        LegendSymbol::None => {}
    }
}

/// What goes around a chart's body.
#[derive(Debug, Clone, Copy)]
pub struct DocumentHead<'a> {
    /// Width, px.
    pub width_px: f64,
    /// Height, px.
    pub height_px: f64,
    /// `<title>`: the chart's name.
    pub title: &'a str,
    /// `<desc>`: the data in words, for screen readers and text-only readers.
    pub desc: &'a str,
    /// Contents of `<defs>` (patterns), empty for none.
    pub defs: &'a str,
}

/// A complete standalone SVG document: root element with `viewBox`, `role="img"`, `<title>`,
/// `<desc>`, defs, a white background (prints well, readable on dark pages) and the body.
pub fn document(head: DocumentHead<'_>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + head.desc.len() + head.defs.len() + 512);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" font-family=\"{FONT_FAMILY}\" font-size=\"{}\">",
        Px(FONT_PX),
        w = Px(head.width_px),
        h = Px(head.height_px),
    );
    let _ = write!(
        out,
        "<title>{}</title><desc>{}</desc>",
        Escaped(head.title),
        Escaped(head.desc)
    );
    if !head.defs.is_empty() {
        let _ = write!(out, "<defs>{}</defs>", head.defs);
    }
    write_rect(
        &mut out,
        [0.0, 0.0, head.width_px, head.height_px],
        Fill::Solid("#ffffff"),
        None,
        None,
    );
    out.push_str(body);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        let text = Escaped("a<b>&\"c\"'d'\u{1}e\tf").to_string();
        assert_eq!(
            text,
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\u{FFFD}e\tf"
        );
        assert_eq!(Escaped("ümlaut 🙂").to_string(), "ümlaut 🙂");
    }

    #[test]
    fn pixel_numbers_are_short_and_never_nan() {
        assert_eq!(Px(306.59552).to_string(), "306.6");
        assert_eq!(Px(12.0).to_string(), "12");
        assert_eq!(Px(0.125).to_string(), "0.13");
        assert_eq!(Px(-0.001).to_string(), "0");
        assert_eq!(Px(-3.5).to_string(), "-3.5");
        assert_eq!(Px(f64::NAN).to_string(), "0");
        assert_eq!(Px(-0.05).to_string(), "-0.05");
        assert_eq!(Px(7.0499).to_string(), "7.05");
        assert_eq!(Pct(69.6808).to_string(), "69.7 %");
        assert_eq!(Pct(-0.01).to_string(), "0.0 %");
    }

    #[test]
    fn scales_map_both_directions_and_clamp() {
        // x: 0..100 → 190..630: 50 → 190 + 0.5 × 440 = 410.
        let x = LinearScale::new([0.0, 100.0], [190.0, 630.0]);
        assert_eq!(x.map(50.0), 410.0);
        assert_eq!(x.map_clamped(150.0), 630.0);
        // y points up: 0..100 → 300..100: 25 → 300 − 0.25 × 200 = 250.
        let y = LinearScale::new([0.0, 100.0], [300.0, 100.0]);
        assert_eq!(y.map(25.0), 250.0);
        assert_eq!(LinearScale::new([5.0, 5.0], [1.0, 9.0]).map(7.0), 1.0);
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        // 100 in ≤ 5 intervals: raw step 100 / 5 = 20 = 2 × 10, a round step; 0, 20, …, 100.
        assert_eq!(
            zero_based_ticks(100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        // 2195 tokens/s in ≤ 5: raw 439 → 500; top = 2500.
        assert_eq!(
            zero_based_ticks(2195.0, 5),
            vec![0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]
        );
        // 125 s in ≤ 6: raw 20.8 → 25; 125 is itself a multiple, so it ends there.
        assert_eq!(*zero_based_ticks(125.0, 6).last().unwrap(), 125.0);
        // No data (max 0) still draws an axis: 0..1 in steps of 1 / 5 = 0.2 → six ticks.
        let empty = zero_based_ticks(0.0, 5);
        assert_eq!(empty.len(), 6);
        assert!((empty[5] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn text_width_estimate_and_ellipsis() {
        // "100 %" at 10 px: 3 digits × 0.64 + space 0.34 + % 1.0 = 3.26 em = 32.6 px.
        assert!((text_width_px("100 %", 10.0) - 32.6).abs() < 1e-9);
        let cut = ellipsize("no DCGM NVLink data in scope for this window", 100.0, 10.0);
        assert!(cut.ends_with('…'));
        assert!(text_width_px(&cut, 10.0) <= 100.0);
        assert_eq!(ellipsize("short", 100.0, 10.0), "short");
    }

    #[test]
    fn label_stride_keeps_labels_apart() {
        // 72 slots over 700 px = 9.72 px each; labels "71" = 2 × 6.4 = 12.8 px + 6 gap = 18.8
        // → ceil(18.8 / 9.72) = 2.
        assert_eq!(label_stride(700.0 / 72.0, 12.8), 2);
        assert_eq!(label_stride(100.0, 12.8), 1);
        assert_eq!(label_stride(0.0, 12.8), usize::MAX);
    }

    #[test]
    fn stable_ids_differ_by_input_and_are_reproducible() {
        assert_eq!(stable_id(&["bars", "c128"]), stable_id(&["bars", "c128"]));
        assert_ne!(stable_id(&["bars", "c128"]), stable_id(&["bars", "c064"]));
        // Part boundaries count: ("ab", "c") is not ("a", "bc").
        assert_ne!(stable_id(&["ab", "c"]), stable_id(&["a", "bc"]));
    }
}
