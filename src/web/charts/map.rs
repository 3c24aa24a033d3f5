//! Proportional-symbol map: one circle per place, no boundaries.

use super::svg::{FONT, GRID, WIDTH, empty, n, open, prefix, text, text_width};
use super::{Chart, MUTED, PALETTE, Place};
use std::fmt::Write as _;

/// Height of the map area; the legend sits below it.
const MAP_HEIGHT: f64 = 400.0;
/// Radius of the circle of the largest value.
const R_MAX: f64 = 30.0;
/// Smallest radius of a non-zero value, so it stays visible.
const R_MIN: f64 = 2.0;
/// Radius of the hollow circle of a withheld figure: the same whatever the values.
pub(super) const R_SUPPRESSED: f64 = 5.0;
const LEGEND_HEIGHT: f64 = 2.0 * R_MAX + 24.0;

/// The largest 1, 2 or 5 × 10^n not above `v` (0 when `v` is not positive).
fn nice_floor(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 0.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|c| *c <= v * (1.0 + 1e-9))
        .unwrap_or(magnitude)
}

/// A proportional-symbol map: one circle per place at its coordinates (WGS84, equirectangular
/// projection with longitudes scaled by the cosine of the mean latitude, fitted to the
/// drawing), its area proportional to the value (non-zero values at least 2 units in radius;
/// zero values draw nothing). A withheld figure is a small hollow circle of fixed radius.
/// Each circle has a `<title>` "label : shown"; a legend below gives two reference sizes and
/// the withheld mark. Places with non-finite coordinates are left out; none left: the empty
/// text.
pub fn symbol_map(chart: &Chart, places: &[Place]) -> String {
    let places: Vec<&Place> = places
        .iter()
        .filter(|p| {
            p.latitude.is_finite()
                && p.longitude.is_finite()
                && (-90.0..=90.0).contains(&p.latitude)
        })
        .collect();
    if places.is_empty() {
        return empty(chart);
    }
    let pre = prefix(chart.id);
    let mean_lat = places.iter().map(|p| p.latitude).sum::<f64>() / places.len() as f64;
    let k = mean_lat.to_radians().cos().abs();
    let projected: Vec<(f64, f64)> = places
        .iter()
        .map(|p| (p.longitude * k, -p.latitude))
        .collect();
    let (min_x, max_x, min_y, max_y) = projected.iter().fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(a, b, c, d), (x, y)| (a.min(*x), b.max(*x), c.min(*y), d.max(*y)),
    );
    let pad = R_MAX + 6.0;
    let fit = |extent: f64, room: f64| (extent > 1e-9).then(|| room / extent);
    // Places all at one point (or on one line) give no extent: no division by zero.
    let scale = match (
        fit(max_x - min_x, WIDTH - 2.0 * pad),
        fit(max_y - min_y, MAP_HEIGHT - 2.0 * pad),
    ) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 0.0,
    };
    let (mid_x, mid_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
    let at = |(x, y): (f64, f64)| {
        (
            WIDTH / 2.0 + (x - mid_x) * scale,
            MAP_HEIGHT / 2.0 + (y - mid_y) * scale,
        )
    };
    let vmax = places
        .iter()
        .filter_map(|p| p.value.drawn())
        .fold(0.0, f64::max);
    let radius = |v: f64| {
        if v <= 0.0 || vmax <= 0.0 {
            0.0
        } else {
            (R_MAX * (v / vmax).sqrt()).max(R_MIN)
        }
    };

    let mut out = open(chart, &pre, MAP_HEIGHT + LEGEND_HEIGHT);
    let _ = write!(
        out,
        "<rect aria-hidden=\"true\" x=\"0.5\" y=\"0.5\" width=\"{w}\" height=\"{h}\" fill=\"none\" \
         stroke=\"{GRID}\"/>",
        w = n(WIDTH - 1.0),
        h = n(MAP_HEIGHT - 1.0),
    );
    // Largest circles first, so small ones stay on top; withheld marks last.
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by(|a, b| {
        let r = |i: usize| places[i].value.drawn().map_or(-1.0, radius);
        r(*b).total_cmp(&r(*a))
    });
    let colour = PALETTE[0];
    for i in order {
        let p = places[i];
        let (x, y) = at(projected[i]);
        let title = format!("<title>{} : {}</title>", text(&p.label), text(&p.shown));
        match p.value.drawn() {
            Some(v) => {
                let r = radius(v);
                if r > 0.0 {
                    let _ = write!(
                        out,
                        "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" fill=\"{colour}\" \
                         fill-opacity=\"0.45\" stroke=\"{colour}\" stroke-width=\"1.5\">{title}</circle>",
                        x = n(x),
                        y = n(y),
                        r = n(r),
                    );
                }
            }
            None => {
                let _ = write!(
                    out,
                    "<circle class=\"chart-suppressed\" cx=\"{x}\" cy=\"{y}\" r=\"{R_SUPPRESSED}\" \
                     fill=\"#ffffff\" stroke=\"{MUTED}\" stroke-width=\"1.5\">{title}</circle>",
                    x = n(x),
                    y = n(y),
                );
            }
        }
    }

    // Legend: reference sizes, then the withheld mark.
    out.push_str("<g class=\"chart-legend\">");
    let bottom = MAP_HEIGHT + LEGEND_HEIGHT - 10.0;
    let mut x = 12.0;
    let big = nice_floor(vmax);
    let small = nice_floor(big / 5.0);
    for v in [big, small] {
        if v <= 0.0 || (v == small && small >= big) {
            continue;
        }
        let r = radius(v);
        let label = (chart.number)(v);
        let _ = write!(
            out,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"{colour}\" fill-opacity=\"0.45\" \
             stroke=\"{colour}\" stroke-width=\"1.5\"/>\
             <text x=\"{tx}\" y=\"{ty}\">{label}</text>",
            cx = n(x + r),
            cy = n(bottom - r),
            r = n(r),
            tx = n(x + 2.0 * r + 6.0),
            ty = n(bottom - r + FONT * 0.35),
            label = text(&label),
        );
        x += 2.0 * r + 6.0 + text_width(&label, FONT) + 24.0;
    }
    if places.iter().any(|p| p.value.drawn().is_none()) {
        let _ = write!(
            out,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{R_SUPPRESSED}\" fill=\"#ffffff\" stroke=\"{MUTED}\" \
             stroke-width=\"1.5\"/><text x=\"{tx}\" y=\"{ty}\">{label}</text>",
            cx = n(x + R_SUPPRESSED),
            cy = n(bottom - R_SUPPRESSED),
            tx = n(x + 2.0 * R_SUPPRESSED + 6.0),
            ty = n(bottom - R_SUPPRESSED + FONT * 0.35),
            label = text(chart.suppressed),
        );
    }
    out.push_str("</g></svg>");
    out
}
