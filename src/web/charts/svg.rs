//! The pieces every chart shares: the `<svg>` element with its title and description, escaping,
//! coordinates, shortened labels, the hatch pattern and marker shapes.

use super::{Chart, INK, MUTED};
use crate::web::feeds::{escape_attr, escape_text};
use std::fmt::Write as _;

/// Natural width of every chart, in user units: fonts below are sized for it.
pub(super) const WIDTH: f64 = 640.0;
/// Font size of labels.
pub(super) const FONT: f64 = 14.0;
/// Font size of ticks and secondary text (never under 12).
pub(super) const SMALL_FONT: f64 = 13.0;
/// Light grid lines (decorative: they carry nothing the tick labels do not).
pub(super) const GRID: &str = "#d9d9d9";

/// `text` escaped for element content.
pub(super) fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_text(text, &mut out);
    out
}

/// `value` escaped for a double-quoted attribute.
pub(super) fn attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_attr(value, &mut out);
    out
}

/// A coordinate with at most two decimals, without trailing zeros ("12", "12.5", "-0.25").
pub(super) fn n(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The chart's id prefix made safe for `id` and `url(#…)`: ASCII letters, digits, `-`, `_`.
pub(super) fn prefix(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.starts_with(|c: char| c.is_ascii_alphabetic()) {
        clean
    } else {
        format!("chart-{clean}")
    }
}

/// `label` cut to `max` characters, the last replaced by an ellipsis; whether it was cut.
pub(super) fn shorten(label: &str, max: usize) -> (String, bool) {
    if label.chars().count() <= max {
        return (label.to_string(), false);
    }
    let mut out: String = label.chars().take(max.saturating_sub(1)).collect();
    out = out.trim_end().to_string();
    out.push('…');
    (out, true)
}

/// A rough width of `label` in user units at `font` size (sans-serif averages about 0.55 em).
pub(super) fn text_width(label: &str, font: f64) -> f64 {
    label.chars().count() as f64 * font * 0.55
}

/// Opens the `<svg>` element with its `<title>` and `<desc>`, and the hatch pattern that
/// withheld figures use (`url(#{id}-hatch)`). `pre` is [`prefix`]`(chart.id)`.
pub(super) fn open(chart: &Chart, pre: &str, height: f64) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-svg\" role=\"img\" \
         aria-labelledby=\"{pre}-title {pre}-desc\" viewBox=\"0 0 {w} {h}\" width=\"100%\" \
         font-family=\"sans-serif\" font-size=\"{FONT}\" fill=\"{INK}\">\
         <title id=\"{pre}-title\">{title}</title><desc id=\"{pre}-desc\">{desc}</desc>\
         <defs aria-hidden=\"true\"><pattern id=\"{pre}-hatch\" patternUnits=\"userSpaceOnUse\" \
         width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{MUTED}\" stroke-width=\"2.5\"/>\
         </pattern></defs>",
        w = n(WIDTH),
        h = n(height),
        title = text(chart.title),
        desc = text(chart.description),
    );
    out
}

/// A whole chart saying there is nothing to draw (`chart.empty`).
pub(super) fn empty(chart: &Chart) -> String {
    let pre = prefix(chart.id);
    let mut out = open(chart, &pre, 60.0);
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"36\" text-anchor=\"middle\" fill=\"{INK}\">{t}</text></svg>",
        x = n(WIDTH / 2.0),
        t = text(chart.empty),
    );
    out
}

/// Shapes of time-series markers, in the order lines take them (all closed, so they can be
/// drawn filled or hollow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
    TriangleDown,
    Plus,
    Star,
}

pub(super) const SHAPES: [Shape; 7] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Plus,
    Shape::Star,
];

/// Dash patterns of lines, in the order lines take them (the first is solid).
pub(super) const DASHES: [&str; 7] = ["", "8 4", "2 3", "12 4 2 4", "4 4", "14 3 3 3 3 3", "1 5"];

/// A marker of `shape` centred on (`x`, `y`), about `r` units in radius, with `fill` and a
/// `stroke`; `inner` goes inside the element (a `<title>`).
pub(super) fn marker(
    shape: Shape,
    x: f64,
    y: f64,
    r: f64,
    fill: &str,
    stroke: &str,
    inner: &str,
) -> String {
    let paint = format!("fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"");
    let polygon = |points: &[(f64, f64)]| {
        let pts: Vec<String> = points
            .iter()
            .map(|(dx, dy)| format!("{},{}", n(x + dx * r), n(y + dy * r)))
            .collect();
        format!(
            "<polygon points=\"{}\" {paint}>{inner}</polygon>",
            pts.join(" ")
        )
    };
    match shape {
        Shape::Circle => format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {paint}>{inner}</circle>",
            n(x),
            n(y),
            n(r)
        ),
        Shape::Square => {
            let s = r * 0.9;
            format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}>{inner}</rect>",
                n(x - s),
                n(y - s),
                n(2.0 * s),
                n(2.0 * s)
            )
        }
        Shape::Triangle => polygon(&[(0.0, -1.2), (1.1, 0.8), (-1.1, 0.8)]),
        Shape::TriangleDown => polygon(&[(0.0, 1.2), (1.1, -0.8), (-1.1, -0.8)]),
        Shape::Diamond => polygon(&[(0.0, -1.3), (1.1, 0.0), (0.0, 1.3), (-1.1, 0.0)]),
        Shape::Plus => {
            let (a, b) = (0.4, 1.2);
            polygon(&[
                (-a, -b),
                (a, -b),
                (a, -a),
                (b, -a),
                (b, a),
                (a, a),
                (a, b),
                (-a, b),
                (-a, a),
                (-b, a),
                (-b, -a),
                (-a, -a),
            ])
        }
        Shape::Star => {
            // Five points, angles from the top; cos/sin rounded by `n` so output is stable.
            let points: Vec<(f64, f64)> = (0..10)
                .map(|i| {
                    let angle = std::f64::consts::PI * (i as f64) / 5.0;
                    let radius = if i % 2 == 0 { 1.35 } else { 0.6 };
                    (radius * angle.sin(), -radius * angle.cos())
                })
                .collect();
            polygon(&points)
        }
    }
}
