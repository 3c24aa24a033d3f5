//! The charts' markup: well-formed, labelled, escaped, contrasted, and honest about withheld
//! figures, for every kind of chart and the edge cases the diagnosis pages can produce.

use super::bars::STUB;
use super::map::R_SUPPRESSED;
use super::*;
use quick_xml::{Reader, XmlVersion, events::Event};
use std::collections::{BTreeMap, HashSet};

/// One element of a parsed chart.
#[derive(Debug)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    depth: usize,
    /// Its direct text content, entities resolved.
    text: String,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }
}

/// Parses `svg` to the end with quick-xml, failing on anything not well-formed (unbalanced or
/// mismatched tags, duplicate attributes, unknown entities, more than one root).
fn parse(svg: &str) -> Vec<Node> {
    let mut reader = Reader::from_str(svg);
    reader.config_mut().check_comments = true;
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut roots = 0;
    let fail = |what: String| -> ! { panic!("not well-formed: {what}\n{svg}") };
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => fail(format!("at {}: {e}", reader.error_position())),
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if stack.is_empty() {
                roots += 1;
            }
            let mut attrs = BTreeMap::new();
            for a in e.attributes() {
                let a = a.unwrap_or_else(|err| fail(format!("attribute: {err}")));
                let value = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .unwrap_or_else(|err| fail(format!("attribute value: {err}")));
                attrs.insert(
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    value.into_owned(),
                );
            }
            nodes.push(Node {
                name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                attrs,
                depth: stack.len(),
                text: String::new(),
            });
            if !empty {
                stack.push(nodes.len() - 1);
            }
            continue;
        }
        match event {
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let t = t
                    .xml10_content()
                    .unwrap_or_else(|err| fail(format!("text: {err}")));
                match stack.last() {
                    Some(i) => nodes[*i].text.push_str(&t),
                    None if t.trim().is_empty() => {}
                    None => fail(format!("text outside the root: {t:?}")),
                }
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| fail("bad character reference".into()))
                } else {
                    match r.decode().as_deref() {
                        Ok("lt") => '<',
                        Ok("gt") => '>',
                        Ok("amp") => '&',
                        Ok("quot") => '"',
                        Ok("apos") => '\'',
                        other => fail(format!("unknown entity {other:?}")),
                    }
                };
                if let Some(i) = stack.last() {
                    nodes[*i].text.push(c);
                }
            }
            Event::Eof => break,
            Event::CData(_) | Event::DocType(_) | Event::PI(_) | Event::Decl(_) => {
                fail("unexpected CDATA, doctype, PI or declaration".into())
            }
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements\n{svg}");
    assert_eq!(roots, 1, "one root element\n{svg}");
    nodes
}

/// Parses `svg` and checks what every chart owes its readers; returns its elements.
fn check(svg: &str, id: &str) -> Vec<Node> {
    let nodes = parse(svg);
    let root = &nodes[0];
    assert_eq!(root.name, "svg");
    assert_eq!(root.attr("role"), Some("img"));
    assert_eq!(root.attr("width"), Some("100%"));
    assert!(root.attr("viewBox").is_some());
    assert_eq!(
        root.attr("aria-labelledby"),
        Some(format!("{id}-title {id}-desc").as_str())
    );
    // The title and the description come first, and carry the referenced ids.
    assert_eq!(
        (nodes[1].name.as_str(), nodes[1].depth),
        ("title", 1),
        "{svg}"
    );
    assert_eq!(nodes[1].attr("id"), Some(format!("{id}-title").as_str()));
    assert_eq!((nodes[2].name.as_str(), nodes[2].depth), ("desc", 1));
    assert_eq!(nodes[2].attr("id"), Some(format!("{id}-desc").as_str()));
    assert!(!nodes[1].text.is_empty() && !nodes[2].text.is_empty());
    // Ids unique, all with the prefix; every reference points to one of them.
    let mut ids = HashSet::new();
    for id_value in nodes.iter().filter_map(|n| n.attr("id")) {
        assert!(id_value.starts_with(id), "{id_value} without prefix {id}");
        assert!(ids.insert(id_value.to_string()), "duplicate id {id_value}");
    }
    for node in &nodes {
        for value in node.attrs.values() {
            if let Some(rest) = value.strip_prefix("url(#") {
                let target = rest.trim_end_matches(')');
                assert!(ids.contains(target), "url(#{target}) points nowhere");
            }
        }
        if let Some(size) = node.attr("font-size") {
            let size: f64 = size.parse().expect("font-size");
            assert!(size >= 12.0, "font-size {size} under 12");
        }
    }
    for referenced in root.attr("aria-labelledby").unwrap_or_default().split(' ') {
        assert!(ids.contains(referenced));
    }
    // Explicit paint only: nothing that vanishes in print, no animation.
    for banned in ["var(", "<animate", "<script", "<set", "style="] {
        assert!(!svg.contains(banned), "{banned} in\n{svg}");
    }
    nodes
}

fn chart<'a>(id: &'a str) -> Chart<'a> {
    Chart::new(
        id,
        "Membres par type",
        "Les associations sont les plus nombreuses.",
    )
}

fn bar(label: &str, value: Value, shown: &str) -> Bar {
    Bar {
        label: label.into(),
        value,
        shown: shown.into(),
    }
}

fn place(label: &str, latitude: f64, longitude: f64, value: Value, shown: &str) -> Place {
    Place {
        label: label.into(),
        latitude,
        longitude,
        value,
        shown: shown.into(),
    }
}

fn months(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}-{:02}", 2024 + i / 12, i % 12 + 1))
        .collect()
}

/// The elements with `class` among `nodes`.
fn with_class<'n>(nodes: &'n [Node], class: &str) -> Vec<&'n Node> {
    nodes
        .iter()
        .filter(|n| n.attr("class") == Some(class))
        .collect()
}

const HOSTILE: &str = "<script>alert(\"x\")</script> & 'Théâtre' ]]> \u{1}";

// ---------------------------------------------------------------------------------------------
// Palette and numbers

/// WCAG 2.1 relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast_with_white(hex: &str) -> f64 {
    1.05 / (luminance(hex) + 0.05)
}

#[test]
fn every_colour_contrasts_enough_with_white() {
    assert!((contrast_with_white("#000000") - 21.0).abs() < 1e-9);
    assert!((contrast_with_white("#ffffff") - 1.0).abs() < 1e-9);
    for colour in PALETTE {
        let ratio = contrast_with_white(colour);
        assert!(
            ratio >= 3.0,
            "{colour}: {ratio:.2}:1 under 3:1 (WCAG 1.4.11)"
        );
    }
    for colour in [INK, MUTED] {
        let ratio = contrast_with_white(colour);
        assert!(ratio >= 4.5, "{colour}: {ratio:.2}:1 under 4.5:1 (text)");
    }
    let distinct: HashSet<_> = PALETTE.iter().collect();
    assert_eq!(distinct.len(), PALETTE.len());
}

#[test]
fn ticks_are_nice_and_cover_the_maximum() {
    assert_eq!(nice_ticks(1250.0, 5), vec![0.0, 500.0, 1000.0, 1500.0]);
    assert_eq!(nice_ticks(7.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    assert_eq!(
        nice_ticks(100.0, 5),
        vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    );
    assert_eq!(nice_ticks(1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    // Counts never get a tick between two whole numbers.
    assert_eq!(
        ticks_for([1.0, 3.0].into_iter(), 5),
        vec![0.0, 1.0, 2.0, 3.0]
    );
    assert_eq!(ticks_for([1.0].into_iter(), 5), vec![0.0, 1.0]);
    assert_eq!(
        ticks_for([0.5, 1.0].into_iter(), 5),
        vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    );
    assert_eq!(nice_ticks(0.3, 3), vec![0.0, 0.1, 0.2, 0.3]);
    assert_eq!(nice_ticks(3.0, 5), vec![0.0, 1.0, 2.0, 3.0]);
    for degenerate in [0.0, -4.0, f64::NAN, f64::INFINITY] {
        assert_eq!(nice_ticks(degenerate, 5), vec![0.0, 1.0]);
    }
    for max in [0.004, 0.7, 1.0, 3.3, 9.99, 42.0, 1001.0, 87_654.0, 3.2e9] {
        let ticks = nice_ticks(max, 5);
        let step = ticks[1];
        let mantissa = step / 10f64.powf(step.log10().floor());
        assert!(
            [1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-6),
            "{max}: step {step}"
        );
        assert!(*ticks.last().expect("ticks") >= max, "{max}: {ticks:?}");
        assert!(ticks.len() <= 11, "{max}: {ticks:?}");
    }
}

#[test]
fn numbers_are_formatted_the_french_and_english_way() {
    assert_eq!(format_fr(0.0), "0");
    assert_eq!(format_fr(5.0), "5");
    assert_eq!(format_fr(1250.0), "1\u{202f}250");
    assert_eq!(format_fr(1_234_567.5), "1\u{202f}234\u{202f}567,5");
    assert_eq!(format_fr(12.5), "12,5");
    assert_eq!(format_fr(0.2), "0,2");
    assert_eq!(format_fr(-3.0), "-3");
    assert_eq!(format_fr(-0.0001), "0");
    assert_eq!(format_fr(f64::NAN), "–");
    assert_eq!(format_en(1250.75), "1,250.75");
}

// ---------------------------------------------------------------------------------------------
// Bars

#[test]
fn bars_are_labelled_well_formed_and_to_scale() {
    let svg = bars(
        &chart("members-kind"),
        &[
            bar("Associations", Value::Number(1250.0), "1 250"),
            bar("Compagnies", Value::Number(625.0), "625"),
            bar("Lieux", Value::Suppressed, "< 5"),
        ],
    );
    let nodes = check(&svg, "members-kind");
    assert_eq!(nodes[1].text, "Membres par type");
    assert_eq!(nodes[2].text, "Les associations sont les plus nombreuses.");
    let rects: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.name == "rect" && n.attr("fill") == Some(PALETTE[0]))
        .collect();
    assert_eq!(rects.len(), 2);
    let width = |n: &Node| n.attr("width").and_then(|w| w.parse::<f64>().ok());
    let (a, b) = (width(rects[0]).expect("w"), width(rects[1]).expect("w"));
    assert!((a - 2.0 * b).abs() < 0.02, "{a} vs {b}");
    // Value labels at the end of the bars, the full label and value in each bar's title.
    assert!(svg.contains(">1 250</text>"), "{svg}");
    assert!(svg.contains("<title>Associations : 1 250</title>"));
    assert!(svg.contains("<title>Lieux : &lt; 5</title>"));
    // Ticks: French numbers.
    assert!(svg.contains(">1\u{202f}000</text>"), "{svg}");
    // Deterministic.
    assert_eq!(
        svg,
        bars(
            &chart("members-kind"),
            &[
                bar("Associations", Value::Number(1250.0), "1 250"),
                bar("Compagnies", Value::Number(625.0), "625"),
                bar("Lieux", Value::Suppressed, "< 5"),
            ],
        )
    );
}

#[test]
fn a_withheld_bar_is_a_hatched_stub_whatever_the_scale() {
    let mut stubs = Vec::new();
    for max in [3.0, 40.0, 1_000_000.0] {
        let svg = bars(
            &chart("c"),
            &[
                bar("Grand", Value::Number(max), "max"),
                bar("Petit", Value::Suppressed, "< 5"),
            ],
        );
        let nodes = check(&svg, "c");
        let stub = with_class(&nodes, "chart-suppressed");
        assert_eq!(stub.len(), 1, "{svg}");
        assert_eq!(stub[0].attr("fill"), Some("url(#c-hatch)"));
        assert_eq!(stub[0].attr("width"), Some(STUB.to_string().as_str()));
        stubs.push(stub[0].attrs.clone());
        assert!(
            svg.contains(">&lt; 5</text>"),
            "the stub is labelled: {svg}"
        );
    }
    assert!(stubs.windows(2).all(|w| w[0] == w[1]), "{stubs:?}");
    // Only withheld figures: stubs and labels, an axis of 0 to 1, no division by zero.
    let svg = bars(&chart("c"), &[bar("Petit", Value::Suppressed, "< 5")]);
    assert_eq!(with_class(&check(&svg, "c"), "chart-suppressed").len(), 1);
}

#[test]
fn bars_survive_edge_cases() {
    // Empty: a valid chart saying so, in the caller's words.
    let english = Chart {
        empty: "No data",
        number: format_en,
        ..chart("empty")
    };
    let svg = bars(&english, &[]);
    let nodes = check(&svg, "empty");
    assert!(
        nodes
            .iter()
            .any(|n| n.name == "text" && n.text == "No data")
    );
    assert!(bars(&chart("e"), &[]).contains(">Aucune donnée</text>"));

    // All zero, one value, negative, NaN, infinite: no panic, nothing drawn below 0.
    let cases: Vec<Vec<Bar>> = vec![
        vec![
            bar("a", Value::Number(0.0), "0"),
            bar("b", Value::Number(0.0), "0"),
        ],
        vec![bar("seul", Value::Number(12.5), "12,5")],
        vec![
            bar("négatif", Value::Number(-40.0), "-40"),
            bar("nan", Value::Number(f64::NAN), "?"),
            bar("infini", Value::Number(f64::INFINITY), "∞"),
            bar("normal", Value::Number(3.0), "3"),
        ],
    ];
    for case in cases {
        let svg = bars(&chart("edge"), &case);
        let nodes = check(&svg, "edge");
        for n in nodes.iter().filter(|n| n.name == "rect") {
            let w: f64 = n.attr("width").unwrap_or("0").parse().expect("width");
            assert!(w.is_finite() && w >= 0.0, "{svg}");
        }
        assert!(!svg.contains("NaN") && !svg.contains("\"inf"), "{svg}");
    }

    // A very long label: shortened on screen, whole in the title.
    let long = "Fédération départementale des associations d'éducation populaire et de loisirs";
    let svg = bars(&chart("long"), &[bar(long, Value::Number(8.0), "8")]);
    let nodes = check(&svg, "long");
    let label = nodes
        .iter()
        .find(|n| n.name == "text" && n.attr("text-anchor") == Some("end"))
        .expect("label");
    assert!(label.text.ends_with('…') && label.text.chars().count() <= 28);
    assert!(
        nodes
            .iter()
            .any(|n| n.name == "title" && n.text == format!("{long} : 8"))
    );

    // Two hundred bars.
    let many: Vec<Bar> = (0..200)
        .map(|i| bar(&format!("Commune {i}"), Value::Number(f64::from(i)), "x"))
        .collect();
    let svg = bars(&chart("many"), &many);
    let nodes = check(&svg, "many");
    assert_eq!(with_class(&nodes, "chart-bar").len(), 200);
}

#[test]
fn hostile_labels_and_ids_are_escaped() {
    let hostile = Chart::new("x\" onload=\"alert(1)", HOSTILE, HOSTILE);
    let svg = bars(&hostile, &[bar(HOSTILE, Value::Number(1.0), HOSTILE)]);
    let nodes = check(&svg, "x--onload--alert-1-");
    assert!(!svg.contains("<script"), "{svg}");
    assert!(!svg.contains("onload="), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; 'Théâtre' ]]&gt;"));
    // The text survives the round trip (the control character dropped).
    let expected = HOSTILE.replace('\u{1}', "");
    assert_eq!(nodes[1].text, expected);
    assert!(
        nodes
            .iter()
            .any(|n| n.name == "title" && n.text == format!("{expected} : {expected}"))
    );
    // An id starting with a digit gets a letter first.
    let svg = bars(&Chart::new("2026", "t", "d"), &[]);
    check(&svg, "chart-2026");

    let series = time_series(
        &hostile,
        &[HOSTILE.to_string()],
        &[Line {
            name: HOSTILE.into(),
            points: vec![Value::Number(1.0)],
        }],
    );
    check(&series, "x--onload--alert-1-");
    assert!(!series.contains("<script"));
    let map = symbol_map(
        &hostile,
        &[place(HOSTILE, 44.35, 2.57, Value::Number(3.0), HOSTILE)],
    );
    check(&map, "x--onload--alert-1-");
    assert!(!map.contains("<script"));
}

// ---------------------------------------------------------------------------------------------
// Time series

fn line(name: &str, points: Vec<Value>) -> Line {
    Line {
        name: name.into(),
        points,
    }
}

#[test]
fn lines_differ_by_colour_dash_and_marker() {
    let x = months(6);
    let lines: Vec<Line> = ["Emploi", "Résidence", "Appel à projets", "Bénévolat"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            line(
                name,
                (0..6).map(|m| Value::Number((i * 10 + m) as f64)).collect(),
            )
        })
        .collect();
    let svg = time_series(&chart("announcements"), &x, &lines);
    let nodes = check(&svg, "announcements");
    let paths: Vec<&Node> = nodes.iter().filter(|n| n.name == "path").collect();
    assert_eq!(paths.len(), 4);
    let strokes: HashSet<_> = paths.iter().map(|p| p.attr("stroke")).collect();
    let dashes: HashSet<_> = paths.iter().map(|p| p.attr("stroke-dasharray")).collect();
    assert_eq!((strokes.len(), dashes.len()), (4, 4), "{svg}");
    // Markers: one shape per line (the first element of each line group after its path).
    let shapes: Vec<String> = with_class(&nodes, "chart-line")
        .iter()
        .map(|g| {
            let at = nodes
                .iter()
                .position(|n| std::ptr::eq(n, *g))
                .expect("group");
            let first_mark = nodes[at + 1..]
                .iter()
                .find(|n| n.name != "path" && n.depth == g.depth + 1)
                .expect("marker");
            format!(
                "{}{}",
                first_mark.name,
                first_mark
                    .attr("points")
                    .map_or(0, |p| p.split(' ').count())
            )
        })
        .collect();
    assert_eq!(shapes.iter().collect::<HashSet<_>>().len(), 4, "{shapes:?}");
    // A legend names every line, inside the SVG.
    for name in ["Emploi", "Résidence", "Appel à projets", "Bénévolat"] {
        assert!(nodes.iter().any(|n| n.name == "text" && n.text == name));
    }
    assert!(svg.contains("<title>Emploi, 2024-03 : 2</title>"), "{svg}");
    assert!(svg.contains("<title>Bénévolat, 2024-06 : 35</title>"));
}

#[test]
fn a_withheld_point_breaks_the_line_and_sits_hollow_on_the_axis() {
    let x = months(5);
    let svg = time_series(
        &chart("forum"),
        &x,
        &[line(
            "Messages",
            vec![
                Value::Number(100.0),
                Value::Number(120.0),
                Value::Suppressed,
                Value::Number(90.0),
                Value::Number(80.0),
            ],
        )],
    );
    let nodes = check(&svg, "forum");
    let path = nodes.iter().find(|n| n.name == "path").expect("path");
    let d = path.attr("d").expect("d");
    assert_eq!(d.matches('M').count(), 2, "two runs: {d}");
    let hollow: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.attr("fill") == Some("#ffffff") && n.name == "circle")
        .collect();
    // The point, and its key in the legend.
    assert_eq!(hollow.len(), 2, "{svg}");
    assert!(svg.contains("<title>Messages, 2024-03 : &lt; 5</title>"));
    assert!(nodes.iter().any(|n| n.name == "text" && n.text == "< 5"));
    // Same position whatever the other values: the x axis.
    let other = time_series(
        &chart("forum"),
        &x,
        &[line(
            "Messages",
            vec![
                Value::Number(1.0),
                Value::Number(2.0),
                Value::Suppressed,
                Value::Number(9000.0),
                Value::Number(8.0),
            ],
        )],
    );
    let cy = |svg: &str| {
        let nodes = parse(svg);
        nodes
            .iter()
            .filter(|n| n.name == "circle" && n.attr("fill") == Some("#ffffff"))
            .map(|n| n.attrs.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(cy(&svg), cy(&other));
}

#[test]
fn time_series_survive_edge_cases() {
    let one = time_series(
        &chart("one"),
        &months(1),
        &[line("Taux", vec![Value::Number(0.5)])],
    );
    let nodes = check(&one, "one");
    assert!(nodes.iter().any(|n| n.name == "circle"), "{one}");
    assert!(!one.contains("<path"), "a single point draws no line");

    for svg in [
        time_series(&chart("e"), &[], &[line("x", vec![])]),
        time_series(&chart("e"), &months(3), &[]),
    ] {
        assert!(check(&svg, "e").iter().any(|n| n.text == "Aucune donnée"));
    }

    // All zero, NaN, negative, missing and extra points; more lines than styles.
    let lines: Vec<Line> = (0..9)
        .map(|i| {
            line(
                &format!("Série {i}"),
                vec![
                    Value::Number(0.0),
                    Value::Number(f64::NAN),
                    Value::Number(-1.0),
                    Value::Number(0.0),
                    Value::Number(0.0),
                ][..(i % 5)]
                    .to_vec(),
            )
        })
        .collect();
    let svg = time_series(&chart("z"), &months(4), &lines);
    check(&svg, "z");
    assert!(!svg.contains("NaN"));

    // Four years of months: labels thinned out so they do not overlap.
    let x = months(48);
    let svg = time_series(
        &chart("long"),
        &x,
        &[line(
            "Adhésions",
            (0..48).map(|i| Value::Number(f64::from(i))).collect(),
        )],
    );
    check(&svg, "long");
    let shown = x
        .iter()
        .filter(|l| svg.contains(&format!(">{l}</text>")))
        .count();
    assert!((4..48).contains(&shown), "{shown} labels");
    assert!(svg.contains(">2024-01</text>"));
    assert!(svg.contains("<title>Adhésions, 2027-12 : 47</title>"));
}

// ---------------------------------------------------------------------------------------------
// Map

#[test]
fn symbols_have_areas_proportional_to_values() {
    let svg = symbol_map(
        &chart("communes"),
        &[
            place("Rodez", 44.3506, 2.5750, Value::Number(400.0), "400"),
            place("Millau", 44.0986, 3.0783, Value::Number(100.0), "100"),
            place("Espalion", 44.5236, 2.7636, Value::Suppressed, "< 5"),
            place("Nulle part", f64::NAN, 2.0, Value::Number(7.0), "7"),
        ],
    );
    let nodes = check(&svg, "communes");
    let circle = |label: &str| {
        let i = nodes
            .iter()
            .position(|n| n.name == "title" && n.text.starts_with(label))
            .expect(label);
        &nodes[i - 1]
    };
    let r = |n: &Node| n.attr("r").and_then(|r| r.parse::<f64>().ok()).expect("r");
    assert!((r(circle("Rodez")) - 2.0 * r(circle("Millau"))).abs() < 0.02);
    assert!(svg.contains("<title>Millau : 100</title>"));
    assert!(svg.contains("<title>Espalion : &lt; 5</title>"));
    assert!(!svg.contains("Nulle part"), "no coordinates, no symbol");
    // West is left, north is up.
    let cx = |n: &Node| {
        n.attr("cx")
            .and_then(|v| v.parse::<f64>().ok())
            .expect("cx")
    };
    let cy = |n: &Node| {
        n.attr("cy")
            .and_then(|v| v.parse::<f64>().ok())
            .expect("cy")
    };
    assert!(cx(circle("Rodez")) < cx(circle("Millau")));
    assert!(cy(circle("Espalion")) < cy(circle("Rodez")));
    // Withheld: a small hollow circle, the same whatever the other values.
    let hollow = with_class(&nodes, "chart-suppressed");
    assert_eq!(hollow.len(), 1);
    assert_eq!(hollow[0].attr("fill"), Some("#ffffff"));
    assert_eq!(hollow[0].attr("r"), Some(R_SUPPRESSED.to_string().as_str()));
    // A legend with reference sizes and the withheld mark.
    assert!(nodes.iter().any(|n| n.name == "text" && n.text == "200"));
    assert!(nodes.iter().any(|n| n.name == "text" && n.text == "< 5"));
}

#[test]
fn maps_survive_edge_cases() {
    for svg in [
        symbol_map(&chart("e"), &[]),
        symbol_map(
            &chart("e"),
            &[place("x", f64::NAN, f64::NAN, Value::Number(1.0), "1")],
        ),
    ] {
        assert!(check(&svg, "e").iter().any(|n| n.text == "Aucune donnée"));
    }
    // Every place at one point, one place, all zero, a north-south line, a pole.
    let cases = [
        vec![
            place("a", 44.0, 2.0, Value::Number(3.0), "3"),
            place("b", 44.0, 2.0, Value::Number(9.0), "9"),
            place("c", 44.0, 2.0, Value::Suppressed, "< 5"),
        ],
        vec![place("seule", 44.0, 2.0, Value::Number(3.0), "3")],
        vec![
            place("a", 44.0, 2.0, Value::Number(0.0), "0"),
            place("b", 45.0, 3.0, Value::Number(-2.0), "-2"),
        ],
        vec![
            place("a", 44.0, 2.0, Value::Number(1.0), "1"),
            place("b", 45.0, 2.0, Value::Number(f64::NAN), "?"),
        ],
        vec![place("pôle", 90.0, 0.0, Value::Number(1.0), "1")],
    ];
    for places in cases {
        let svg = symbol_map(&chart("m"), &places);
        let nodes = check(&svg, "m");
        for n in nodes.iter().filter(|n| n.name == "circle") {
            for a in ["cx", "cy", "r"] {
                let v: f64 = n.attr(a).unwrap_or("0").parse().expect("number");
                assert!(v.is_finite() && v >= 0.0, "{svg}");
            }
        }
        assert!(!svg.contains("NaN"));
    }
}
