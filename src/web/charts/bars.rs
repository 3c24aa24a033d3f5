//! Horizontal bars.

use super::svg::{FONT, GRID, SMALL_FONT, WIDTH, attr, empty, n, open, prefix, shorten, text};
use super::{Bar, Chart, MUTED, PALETTE, ticks_for};
use std::fmt::Write as _;

/// Labels longer than this many characters are shortened with an ellipsis.
const LABEL_CHARS: usize = 28;
/// Right edge of the label column (labels end here).
const LABEL_END: f64 = 212.0;
/// Where bars start (the value 0).
const X0: f64 = 220.0;
/// Where the largest tick ends; the rest is room for value labels.
const X1: f64 = WIDTH - 80.0;
/// Height of one row and of one bar.
const ROW: f64 = 28.0;
const BAR: f64 = 18.0;
const TOP: f64 = 8.0;
/// Width of the hatched stub standing for a withheld figure: the same whatever the scale.
pub(super) const STUB: f64 = 24.0;

/// Horizontal bars, in the given order (the caller sorts), each labelled on its left and
/// ending with its `shown` text; a value axis with nice ticks below. A withheld figure is a
/// hatched stub of fixed width followed by its `shown` text ("< 5"). No bars: the empty text.
pub fn bars(chart: &Chart, bars: &[Bar]) -> String {
    if bars.is_empty() {
        return empty(chart);
    }
    let pre = prefix(chart.id);
    let ticks = ticks_for(bars.iter().filter_map(|b| b.value.drawn()), 5);
    let top_tick = ticks.last().copied().unwrap_or(1.0);
    let scale = (X1 - X0) / top_tick;
    let axis_y = TOP + bars.len() as f64 * ROW + 4.0;
    let height = axis_y + 28.0;
    let mut out = open(chart, &pre, height);

    // Grid and axis: decorative, the ticks' labels say it all.
    out.push_str("<g aria-hidden=\"true\">");
    for t in &ticks {
        let x = X0 + t * scale;
        let _ = write!(
            out,
            "<line x1=\"{x}\" y1=\"{TOP}\" x2=\"{x}\" y2=\"{y}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"{SMALL_FONT}\" fill=\"{MUTED}\">{label}</text>",
            x = n(x),
            y = n(axis_y),
            ty = n(axis_y + 18.0),
            label = text(&(chart.number)(*t)),
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{X0}\" y1=\"{TOP}\" x2=\"{X0}\" y2=\"{y}\" stroke=\"{MUTED}\" stroke-width=\"1\"/></g>",
        y = n(axis_y),
    );

    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + i as f64 * ROW + (ROW - BAR) / 2.0;
        let baseline = n(y + BAR / 2.0 + FONT * 0.35);
        let (label, _) = shorten(&bar.label, LABEL_CHARS);
        let _ = write!(
            out,
            "<g class=\"chart-bar\"><title>{full} : {shown}</title>\
             <text x=\"{LABEL_END}\" y=\"{baseline}\" text-anchor=\"end\">{label}</text>",
            full = text(&bar.label),
            shown = text(&bar.shown),
            label = text(&label),
        );
        let end = match bar.value.drawn() {
            Some(v) => {
                let w = v * scale;
                if w > 0.0 {
                    let _ = write!(
                        out,
                        "<rect x=\"{X0}\" y=\"{y}\" width=\"{w}\" height=\"{BAR}\" fill=\"{fill}\"/>",
                        y = n(y),
                        w = n(w),
                        fill = PALETTE[0],
                    );
                }
                X0 + w
            }
            None => {
                let _ = write!(
                    out,
                    "<rect class=\"chart-suppressed\" x=\"{X0}\" y=\"{y}\" width=\"{STUB}\" \
                     height=\"{BAR}\" fill=\"url(#{hatch})\" stroke=\"{MUTED}\" stroke-width=\"1\"/>",
                    y = n(y),
                    hatch = attr(&format!("{pre}-hatch")),
                );
                X0 + STUB
            }
        };
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{baseline}\">{shown}</text></g>",
            x = n(end + 6.0),
            shown = text(&bar.shown),
        );
    }
    out.push_str("</svg>");
    out
}
