//! Time series: lines over shared x labels.

use super::svg::{
    DASHES, FONT, GRID, SHAPES, SMALL_FONT, Shape, WIDTH, empty, marker, n, open, prefix, shorten,
    text, text_width,
};
use super::{Chart, Line, MUTED, PALETTE, ticks_for};
use std::fmt::Write as _;

/// Left edge of the plot (y tick labels end just before it) and right edge.
const PLOT_LEFT: f64 = 64.0;
const PLOT_RIGHT: f64 = WIDTH - 24.0;
/// Room between the plot's edges and the first and last points.
const INSET: f64 = 10.0;
const PLOT_HEIGHT: f64 = 240.0;
const LEGEND_ROW: f64 = 22.0;
/// Legend names longer than this are shortened (the full name is in the entry's `<title>`).
const NAME_CHARS: usize = 32;
/// Radius of markers.
const MARK: f64 = 4.5;

/// The colour, dash pattern and marker shape of the `i`-th line: up to seven lines differ in
/// all three.
fn style(i: usize) -> (&'static str, &'static str, Shape) {
    (
        PALETTE[i % PALETTE.len()],
        DASHES[i % DASHES.len()],
        SHAPES[i % SHAPES.len()],
    )
}

fn dash_attr(dash: &str) -> String {
    if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    }
}

/// A time series: one or more lines over the same x labels (e.g. months "2026-01"). Each line
/// has its own colour, dash pattern and marker shape, named in a legend at the top; every point
/// has a `<title>` ("name, x : value"). A withheld figure breaks its line and is a hollow
/// marker on the x axis (a legend entry says it reads `chart.suppressed`). When the labels
/// would overlap, only every k-th is written. No labels or no lines: the empty text.
pub fn time_series(chart: &Chart, x_labels: &[String], lines: &[Line]) -> String {
    if x_labels.is_empty() || lines.is_empty() {
        return empty(chart);
    }
    let pre = prefix(chart.id);
    let count = x_labels.len();
    let value = |line: &Line, i: usize| line.points.get(i).map(|v| v.drawn());
    let drawn = lines
        .iter()
        .flat_map(|l| (0..count).filter_map(move |i| value(l, i).flatten()));
    let any_suppressed = lines
        .iter()
        .any(|l| (0..count).any(|i| value(l, i) == Some(None)));

    // Legend entries, laid out in rows.
    struct Entry {
        name: String,
        title: String,
        style: Option<usize>,
        x: f64,
        row: usize,
    }
    let mut entries: Vec<Entry> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (name, _) = shorten(&l.name, NAME_CHARS);
            Entry {
                name,
                title: l.name.clone(),
                style: Some(i),
                x: 0.0,
                row: 0,
            }
        })
        .collect();
    if any_suppressed {
        entries.push(Entry {
            name: chart.suppressed.to_string(),
            title: chart.suppressed.to_string(),
            style: None,
            x: 0.0,
            row: 0,
        });
    }
    let (mut x, mut row) = (8.0, 0);
    for e in &mut entries {
        let w = 36.0 + text_width(&e.name, FONT) + 20.0;
        if x > 8.0 && x + w > WIDTH - 8.0 {
            x = 8.0;
            row += 1;
        }
        e.x = x;
        e.row = row;
        x += w;
    }
    let plot_top = 8.0 + (row + 1) as f64 * LEGEND_ROW + 16.0;
    let axis_y = plot_top + PLOT_HEIGHT;
    let height = axis_y + 32.0;
    let ticks = ticks_for(drawn, 5);
    let top_tick = ticks.last().copied().unwrap_or(1.0);
    let y_of = |v: f64| axis_y - v / top_tick * PLOT_HEIGHT;
    let (left, right) = (PLOT_LEFT + INSET, PLOT_RIGHT - INSET);
    let x_of = |i: usize| {
        if count == 1 {
            (left + right) / 2.0
        } else {
            left + i as f64 * (right - left) / (count - 1) as f64
        }
    };
    let mut out = open(chart, &pre, height);

    // Legend.
    out.push_str("<g class=\"chart-legend\">");
    for e in &entries {
        let y = 8.0 + e.row as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
        let _ = write!(out, "<g><title>{}</title>", text(&e.title));
        match e.style {
            Some(i) => {
                let (colour, dash, shape) = style(i);
                let _ = write!(
                    out,
                    "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"{colour}\" \
                     stroke-width=\"2.5\"{dash}/>{mark}",
                    x1 = n(e.x),
                    x2 = n(e.x + 28.0),
                    y = n(y),
                    dash = dash_attr(dash),
                    mark = marker(shape, e.x + 14.0, y, MARK, colour, colour, ""),
                );
            }
            None => out.push_str(&marker(
                Shape::Circle,
                e.x + 14.0,
                y,
                MARK,
                "#ffffff",
                MUTED,
                "",
            )),
        }
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y}\">{name}</text></g>",
            x = n(e.x + 36.0),
            y = n(y + FONT * 0.35),
            name = text(&e.name),
        );
    }
    out.push_str("</g>");

    // Grid, value axis and x axis: decorative apart from their labels.
    out.push_str("<g aria-hidden=\"true\">");
    for t in &ticks {
        let y = y_of(*t);
        let _ = write!(
            out,
            "<line x1=\"{PLOT_LEFT}\" y1=\"{y}\" x2=\"{PLOT_RIGHT}\" y2=\"{y}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"{SMALL_FONT}\" fill=\"{MUTED}\">{label}</text>",
            y = n(y),
            lx = n(PLOT_LEFT - 6.0),
            ty = n(y + SMALL_FONT * 0.35),
            label = text(&(chart.number)(*t)),
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{PLOT_LEFT}\" y1=\"{y}\" x2=\"{PLOT_RIGHT}\" y2=\"{y}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>",
        y = n(axis_y),
    );
    // Only every k-th x label, so they do not overlap.
    let widest = x_labels
        .iter()
        .map(|l| text_width(l, SMALL_FONT))
        .fold(0.0, f64::max)
        + 12.0;
    let spacing = if count > 1 {
        (right - left) / (count - 1) as f64
    } else {
        WIDTH
    };
    let every = ((widest / spacing).ceil() as usize).max(1);
    for (i, label) in x_labels.iter().enumerate() {
        let x = n(x_of(i));
        let _ = write!(
            out,
            "<line x1=\"{x}\" y1=\"{y1}\" x2=\"{x}\" y2=\"{y2}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>",
            y1 = n(axis_y),
            y2 = n(axis_y + 4.0),
        );
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" font-size=\"{SMALL_FONT}\" fill=\"{MUTED}\">{label}</text>",
                y = n(axis_y + 20.0),
                label = text(label),
            );
        }
    }
    out.push_str("</g>");

    // Lines, then their markers.
    for (li, line) in lines.iter().enumerate() {
        let (colour, dash, shape) = style(li);
        let _ = write!(out, "<g class=\"chart-line\">");
        // Runs of consecutive drawn points; a withheld or missing point breaks the line.
        let mut d = String::new();
        let mut run = 0;
        for i in 0..count {
            match value(line, i).flatten() {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{} {} ",
                        if run == 0 { "M" } else { "L" },
                        n(x_of(i)),
                        n(y_of(v))
                    );
                    run += 1;
                }
                None => run = 0,
            }
        }
        if d.contains('L') {
            let _ = write!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\" \
                 stroke-linejoin=\"round\"{dash}/>",
                d = d.trim_end(),
                dash = dash_attr(dash),
            );
        }
        for (i, x_label) in x_labels.iter().enumerate() {
            let Some(point) = value(line, i) else {
                continue;
            };
            let shown = match point {
                Some(v) => (chart.number)(v),
                None => chart.suppressed.to_string(),
            };
            let title = format!(
                "<title>{}, {} : {}</title>",
                text(&line.name),
                text(x_label),
                text(&shown)
            );
            out.push_str(&match point {
                Some(v) => marker(shape, x_of(i), y_of(v), MARK, colour, colour, &title),
                None => marker(shape, x_of(i), axis_y, MARK, "#ffffff", colour, &title),
            });
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}
