//! Charts drawn on the server as inline SVG, for the territorial diagnosis pages: horizontal
//! bars, time series and a proportional-symbol map. No script, no tiles, no web font: the
//! markup is a `String` the page inserts with askama's `|safe`, next to the data table that
//! remains the reference (the chart is a picture of it).
//!
//! Accessibility (RGAA / WCAG 2.1 AA):
//! - every chart is `<svg role="img" aria-labelledby="{id}-title {id}-desc">` whose first
//!   children are `<title>` and `<desc>` (the caller's sentence summarising the chart);
//! - drawn marks contrast at least 3:1 with white and text at least 4.5:1 ([`PALETTE`],
//!   [`INK`], [`MUTED`]; a unit test enforces it);
//! - colour never carries meaning alone: the lines of a time series also differ by dash pattern
//!   and marker shape, and a figure withheld on the public page ([`Value::Suppressed`]) is a
//!   hatched or hollow mark labelled with its text (e.g. "< 5"), never drawn at a size derived
//!   from a number;
//! - everything the caller passes is XML-escaped; fills and strokes are explicit attributes (no
//!   CSS variable that a printer drops), fonts are at least 12 units at the natural width.
//!
//! The output is deterministic: the same input gives the same bytes.

mod bars;
mod map;
mod series;
mod svg;
#[cfg(test)]
mod tests;

pub use bars::bars;
pub use map::symbol_map;
pub use series::time_series;

/// Colours of marks (bars, lines, symbols), in the order series take them. Each contrasts at
/// least 4.5:1 with white, more than the 3:1 non-text contrast WCAG 1.4.11 asks.
pub const PALETTE: [&str; 7] = [
    "#0b5394", "#a84300", "#1e6b35", "#6a3d9a", "#a3195b", "#00676b", "#6b5200",
];
/// Colour of labels and axes' text (17:1 on white).
pub const INK: &str = "#1b1b1b";
/// Colour of secondary text, axis lines and hatching (8.9:1 on white).
pub const MUTED: &str = "#4a4a4a";

/// One value of a chart: a number, or a figure withheld on the public page (drawn as a hatched
/// stub or a hollow mark labelled with its text, e.g. "< 5").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A figure drawn to scale. Negative, infinite or NaN numbers are drawn as 0.
    Number(f64),
    /// A figure withheld (small counts on the public page): never drawn to scale.
    Suppressed,
}

impl Value {
    /// The number to draw: `None` when suppressed, otherwise a finite value clamped to ≥ 0.
    pub fn drawn(self) -> Option<f64> {
        match self {
            Value::Number(v) if v.is_finite() && v > 0.0 => Some(v),
            Value::Number(_) => Some(0.0),
            Value::Suppressed => None,
        }
    }
}

/// One bar of [`bars`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What the bar counts (a kind, a discipline, a commune…); long labels are shortened with
    /// an ellipsis on screen and kept whole in the bar's `<title>`.
    pub label: String,
    /// The figure.
    pub value: Value,
    /// The figure as the data table prints it ("1 250", "12,5", "< 5"), written at the bar's end.
    pub shown: String,
}

/// One line of [`time_series`].
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The series' name, shown in the legend.
    pub name: String,
    /// One value per x label, in the same order; missing points leave a gap.
    pub points: Vec<Value>,
}

/// One place of [`symbol_map`].
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The place's name, in the circle's `<title>`.
    pub label: String,
    /// WGS84 latitude in degrees (places with a non-finite coordinate are left out).
    pub latitude: f64,
    /// WGS84 longitude in degrees.
    pub longitude: f64,
    /// The figure: the circle's area is proportional to it.
    pub value: Value,
    /// The figure as the data table prints it, in the `<title>` ("label : shown").
    pub shown: String,
}

/// What every chart needs besides its data. Build it with [`Chart::new`] (French defaults) and
/// change fields with struct update syntax: `Chart { empty: "No data", number: format_en,
/// ..Chart::new(id, title, description) }`.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    /// Prefix of every id in the chart, unique in the page (e.g. "chart-members-kind").
    /// Characters other than ASCII letters, digits, `-` and `_` become `-`.
    pub id: &'a str,
    /// The chart's title (its accessible name).
    pub title: &'a str,
    /// Text alternative: a sentence summarising what the chart shows, written by the caller.
    pub description: &'a str,
    /// Shown instead of a chart when there is nothing to draw ("Aucune donnée").
    pub empty: &'a str,
    /// How a withheld figure reads where the chart has no `shown` text of its own (points of a
    /// time series, the map's legend): "< 5".
    pub suppressed: &'a str,
    /// Formats axis ticks, legend values and time-series points ([`format_fr`], [`format_en`]).
    pub number: fn(f64) -> String,
}

impl<'a> Chart<'a> {
    /// A chart with French defaults: "Aucune donnée", "< 5" and [`format_fr`].
    pub fn new(id: &'a str, title: &'a str, description: &'a str) -> Self {
        Chart {
            id,
            title,
            description,
            empty: "Aucune donnée",
            suppressed: "< 5",
            number: format_fr,
        }
    }
}

/// A number the French way: a narrow no-break space (U+202F) between thousands, a decimal
/// comma, at most three decimals and no trailing zeros ("1 250", "12,5", "-3").
pub fn format_fr(value: f64) -> String {
    format_number(value, '\u{202f}', ',')
}

/// A number the English way: "1,250", "12.5".
pub fn format_en(value: f64) -> String {
    format_number(value, ',', '.')
}

fn format_number(value: f64, thousands: char, decimal: char) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let fixed = format!("{:.3}", value.abs());
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if value < 0.0 && (int != "0" || !frac.is_empty()) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(frac);
    }
    out
}

/// The step of "nice" ticks: 1, 2 or 5 × 10^n, the smallest not under `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// [`nice_ticks`] for `values`: steps of at least 1 when every value is a whole number (a
/// count of 1 or 3 has no tick at 0.2).
pub fn ticks_for(values: impl Iterator<Item = f64> + Clone, target: usize) -> Vec<f64> {
    let max = values.clone().fold(0.0, f64::max);
    let whole = values.into_iter().all(|v| v.fract() == 0.0);
    let ticks = nice_ticks(max, target);
    if whole && ticks.get(1).is_some_and(|step| *step < 1.0) {
        let top = max.ceil().max(1.0) as usize;
        return (0..=top).map(|i| i as f64).collect();
    }
    ticks
}

/// Ticks of a value axis from 0 up to the first nice value at or above `max`, about `target`
/// intervals, each a multiple of 1, 2 or 5 × 10^n. An empty, zero or non-finite `max` gives
/// `[0, 1]`.
pub fn nice_ticks(max: f64, target: usize) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let step = nice_step(max / target.max(1) as f64);
    let count = (max / step - 1e-9).ceil().max(1.0) as usize;
    // Multiply by an integer then round to the step's decimals, so 0.1 × 3 prints as 0.3.
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    let scale = 10f64.powi(decimals);
    (0..=count)
        .map(|i| (i as f64 * step * scale).round() / scale)
        .collect()
}
