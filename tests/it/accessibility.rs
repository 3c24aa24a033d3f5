//! Accessibility of this round's pages (RGAA / WCAG 2.1 AA), checked mechanically on pages
//! rendered with realistic content: Actualités with two pages of items, a post with a cover,
//! threaded comments (local and remote, one deleted) and reactions seen by its author, a
//! member and a moderator, an announcement, /fil, /annonces with filters and with a filter
//! error, the post and announcement forms with errors, the reply and comment-edit forms, the
//! home page, a profile and a blog.
//!
//! A small tag scanner (no HTML parser dependency) checks on each page: one `h1`, heading
//! levels never jumping by more than one, unique ids, every visible form control labelled,
//! every `img` with an `alt`, `for`/`aria-*`/`#fragment` references pointing to existing ids,
//! `<time datetime>` parseable, no positive `tabindex`, and links or buttons that say where they
//! go or what they do: each has a name, and one name never leads to two different places; every
//! inline `<svg>` either hidden (`aria-hidden="true"`) or an image (`role="img"`) with a name and
//! a `<title>` first.

use crate::{
    common::{TestApp, TestResponse},
    covers_mentions::png,
    federation_inbox::{deliver, remote_actor},
    helpers::{Browser, Part, api, create, enc, follow, local_actor, path_of, token},
};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};

// ---------------------------------------------------------------------------------------------
// The scanner

/// An opening tag: its name (lower case), attributes (names lower case, entities left as
/// they are) and where it sits in the page.
#[derive(Debug, Clone)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    /// Byte offset of `<`.
    start: usize,
    /// Byte offset just after `>`.
    end: usize,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

/// The opening tags of `html`, in order (comments, doctype and closing tags skipped; the
/// content of `script`, `style` and `textarea` is text).
fn scan(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = start + rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("</") {
            i = start + rest.find('>').map_or(rest.len(), |e| e + 1);
            continue;
        }
        let mut j = start + 1;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        let name = html[start + 1..j].to_ascii_lowercase();
        if name.is_empty() {
            i = start + 1;
            continue;
        }
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= bytes.len() {
                break;
            }
            if bytes[j] == b'>' {
                j += 1;
                break;
            }
            if bytes[j] == b'/' {
                j += 1;
                continue;
            }
            let a = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let attr = html[a..j].to_ascii_lowercase();
            let mut value = String::new();
            if j < bytes.len() && bytes[j] == b'=' {
                j += 1;
                if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                    let quote = bytes[j];
                    let v = j + 1;
                    j = v;
                    while j < bytes.len() && bytes[j] != quote {
                        j += 1;
                    }
                    value = html[v..j].to_string();
                    j += 1;
                } else {
                    let v = j;
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    value = html[v..j].to_string();
                }
            }
            attrs.push((attr, value));
        }
        let tag = Tag {
            name,
            attrs,
            start,
            end: j,
        };
        i = j;
        if matches!(tag.name.as_str(), "script" | "style" | "textarea") {
            let close = format!("</{}", tag.name);
            i = html[j..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(html.len(), |e| j + e);
        }
        tags.push(tag);
    }
    tags
}

/// Text of an HTML fragment: tags dropped (an `img` counts as its alt), whitespace collapsed,
/// the usual entities decoded.
fn text_of(fragment: &str) -> String {
    let mut out = String::new();
    let mut rest = fragment;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tail = &rest[lt..];
        let gt = tail.find('>').map_or(tail.len(), |g| g + 1);
        if let Some(img) = scan(&tail[..gt]).first()
            && img.name == "img"
        {
            out.push_str(img.attr("alt").unwrap_or_default());
        }
        out.push(' ');
        rest = &tail[gt..];
    }
    out.push_str(rest);
    let out = out
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The accessible name of a link or button: its `aria-label`, else its content's text.
fn name_of(html: &str, tag: &Tag) -> String {
    if let Some(label) = tag.attr("aria-label") {
        return text_of(label);
    }
    let close = format!("</{}", tag.name);
    let end = html[tag.end..]
        .find(&close)
        .map_or(html.len(), |e| tag.end + e);
    text_of(&html[tag.end..end])
}

/// Where a button leads: its form's method, action and the values of its hidden fields
/// (the CSRF token aside), so two "Supprimer" buttons for two comments differ.
fn button_target(html: &str, tags: &[Tag], button: &Tag) -> String {
    let Some(form) = tags
        .iter()
        .rev()
        .filter(|t| t.start < button.start && t.name == "form")
        .find(|f| {
            html[f.end..]
                .find("</form")
                .is_some_and(|e| f.end + e > button.start)
        })
    else {
        return format!("(no form) {}", button.attr("name").unwrap_or_default());
    };
    let hidden: Vec<String> = tags
        .iter()
        .filter(|t| t.start > form.start && t.start < button.start)
        .filter(|t| t.name == "input" && t.attr("type") == Some("hidden"))
        .filter(|t| t.attr("name") != Some("csrf_token"))
        .map(|t| {
            format!(
                "{}={}",
                t.attr("name").unwrap_or_default(),
                t.attr("value").unwrap_or_default()
            )
        })
        .collect();
    format!(
        "{} {} {}",
        form.attr("method").unwrap_or("get"),
        form.attr("action").unwrap_or_default(),
        hidden.join("&")
    )
}

fn is_rfc3339_or_date(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Every rule, on one page; returns what it breaks (empty when none).
pub(crate) fn problems(html: &str) -> Vec<String> {
    let tags = scan(html);
    let mut out = Vec::new();

    // <html lang>.
    match tags.iter().find(|t| t.name == "html") {
        Some(root) if root.attr("lang").is_some_and(|l| !l.is_empty()) => {}
        _ => out.push("the <html> element has no lang".into()),
    }
    for t in tags.iter().filter(|t| t.has("lang")) {
        let l = t.attr("lang").unwrap_or_default();
        if l.len() < 2 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            out.push(format!("<{} lang=\"{l}\">: not a language tag", t.name));
        }
    }

    // Headings: one h1, first, and no level skipped on the way down.
    let headings: Vec<(u8, String)> = tags
        .iter()
        .filter_map(|t| {
            let b = t.name.as_bytes();
            (b.len() == 2 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]))
                .then(|| (b[1] - b'0', name_of(html, t)))
        })
        .collect();
    let h1 = headings.iter().filter(|(l, _)| *l == 1).count();
    if h1 != 1 {
        out.push(format!("{h1} h1 elements: {headings:?}"));
    }
    if headings.first().is_some_and(|(l, _)| *l != 1) {
        out.push(format!("the first heading is not the h1: {headings:?}"));
    }
    for pair in headings.windows(2) {
        if pair[1].0 > pair[0].0 + 1 {
            out.push(format!(
                "heading level jumps from h{} \"{}\" to h{} \"{}\"",
                pair[0].0, pair[0].1, pair[1].0, pair[1].1
            ));
        }
    }

    // Ids: unique, and every reference to one exists.
    let mut ids = HashSet::new();
    for t in &tags {
        if let Some(id) = t.attr("id") {
            if id.is_empty() {
                out.push(format!("<{}> with an empty id", t.name));
            } else if !ids.insert(id.to_string()) {
                out.push(format!("duplicate id \"{id}\""));
            }
        }
    }
    for t in &tags {
        for attr in [
            "for",
            "aria-describedby",
            "aria-labelledby",
            "aria-controls",
        ] {
            for id in t.attr(attr).unwrap_or_default().split_whitespace() {
                if !ids.contains(id) {
                    out.push(format!("<{} {attr}=\"{id}\">: no such id", t.name));
                }
            }
        }
        if t.name == "a"
            && let Some(fragment) = t.attr("href").and_then(|h| h.strip_prefix('#'))
            && !fragment.is_empty()
            && !ids.contains(fragment)
        {
            out.push(format!("<a href=\"#{fragment}\">: no such id"));
        }
    }

    // Form controls: each labelled.
    let label_for: HashSet<&str> = tags
        .iter()
        .filter(|t| t.name == "label")
        .filter_map(|t| t.attr("for"))
        .collect();
    for t in tags
        .iter()
        .filter(|t| matches!(t.name.as_str(), "input" | "select" | "textarea"))
    {
        let kind = t.attr("type").unwrap_or("text");
        if t.name == "input" && matches!(kind, "hidden" | "submit" | "button" | "reset" | "image") {
            continue;
        }
        let labelled = t.attr("id").is_some_and(|id| label_for.contains(id))
            || t.attr("aria-label").is_some_and(|l| !l.trim().is_empty())
            || t.has("aria-labelledby");
        if !labelled {
            out.push(format!(
                "<{} name=\"{}\"> has no label",
                t.name,
                t.attr("name").unwrap_or_default()
            ));
        }
    }

    // Inline SVG: decorative (`aria-hidden="true"`), or an image with a name and a title.
    for (n, t) in tags.iter().filter(|t| t.name == "svg").enumerate() {
        if t.attr("aria-hidden") == Some("true") {
            continue;
        }
        let which = format!(
            "<svg> #{} (viewBox \"{}\")",
            n + 1,
            t.attr("viewbox").unwrap_or_default()
        );
        if t.attr("role") != Some("img") {
            out.push(format!("{which} without role=\"img\""));
        }
        let labelled = t
            .attr("aria-labelledby")
            .is_some_and(|ids| !ids.trim().is_empty())
            || t.attr("aria-label").is_some_and(|l| !l.trim().is_empty());
        if !labelled {
            out.push(format!("{which} without an accessible name"));
        }
        // Its first element is its <title> (what assistive technologies read first).
        let end = html[t.end..]
            .find("</svg")
            .map_or(html.len(), |e| t.end + e);
        let first = tags.iter().find(|c| c.start >= t.end);
        if !first.is_some_and(|c| c.name == "title" && c.start < end) {
            out.push(format!("{which} without a <title> first"));
        }
    }

    // Images: an alt, empty when decorative.
    for t in tags.iter().filter(|t| t.name == "img") {
        if !t.has("alt") {
            out.push(format!(
                "<img src=\"{}\"> has no alt",
                t.attr("src").unwrap_or_default()
            ));
        }
    }

    // Dates: machine-readable.
    for t in tags.iter().filter(|t| t.name == "time") {
        if !t.attr("datetime").is_some_and(is_rfc3339_or_date) {
            out.push(format!(
                "<time> \"{}\" without a valid datetime",
                name_of(html, t)
            ));
        }
    }
    // Dates shown without <time>: dd/mm/yyyy outside of one.
    let mut in_time = html.to_string();
    for t in tags.iter().filter(|t| t.name == "time").rev() {
        let end = html[t.end..]
            .find("</time>")
            .map_or(html.len(), |e| t.end + e);
        in_time.replace_range(t.start..end, "");
    }
    let visible = text_of(&strip_head(&in_time));
    if let Some(date) = visible.split_whitespace().find(|w| looks_like_date(w)) {
        out.push(format!("a date outside <time>: {date}"));
    }

    // Focus order follows the document: no positive tabindex.
    for t in &tags {
        if let Some(n) = t.attr("tabindex").and_then(|v| v.parse::<i32>().ok())
            && n > 0
        {
            out.push(format!("<{} tabindex=\"{n}\">", t.name));
        }
    }

    // Links and buttons: a name, and one name for one destination.
    let mut destinations: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in &tags {
        let target = match t.name.as_str() {
            "a" if t.has("href") => t.attr("href").unwrap_or_default().to_string(),
            "button" => button_target(html, &tags, t),
            _ => continue,
        };
        let name = name_of(html, t);
        if name.is_empty() {
            out.push(format!("<{}> to {target} has no text", t.name));
            continue;
        }
        destinations
            .entry(name.to_lowercase())
            .or_default()
            .insert(target);
    }
    for (name, targets) in destinations {
        if targets.len() > 1 {
            out.push(format!(
                "\"{name}\" names {} different destinations: {targets:?}",
                targets.len()
            ));
        }
    }
    out
}

/// The page without its `<head>` (meta values are not shown text).
fn strip_head(html: &str) -> String {
    match (html.find("<head"), html.find("</head>")) {
        (Some(a), Some(b)) if b > a => format!("{}{}", &html[..a], &html[b + 7..]),
        _ => html.to_string(),
    }
}

/// `31/12/2026` or `2026-12-31` (a date a reader sees, that a machine cannot read).
fn looks_like_date(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_digit());
    let parts: Vec<&str> = w.split(['/', '-']).collect();
    parts.len() == 3
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        && matches!(
            (parts[0].len(), parts[1].len(), parts[2].len()),
            (2, 2, 4) | (4, 2, 2)
        )
}

/// Fails with every problem of every page at once.
pub(crate) fn assert_accessible(pages: &[(String, TestResponse)]) {
    let mut report = Vec::new();
    for (what, page) in pages {
        assert_eq!(
            page.status,
            if what.contains("(errors)") {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            },
            "{what}: {}",
            page.body
        );
        for p in problems(&page.body) {
            report.push(format!("{what}: {p}"));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The scanner catches what it should

#[test]
fn the_scanner_reports_each_kind_of_problem() {
    let bad = r##"<!DOCTYPE html><html><head><title>x</title></head><body>
<h2>Avant</h2><h1>Un</h1><h1>Deux</h1><h4>Saut</h4>
<p id="a">x</p><p id="a">y</p>
<label for="nope">Nom</label><input type="text" name="nom">
<select name="choix"></select><input type="hidden" name="ok">
<img src="/x.png"><a href="#absent">Lien</a><a href="/p"><img src="/i.png" alt=""></a>
<span aria-describedby="ghost">s</span><time>hier</time> le 31/12/2026
<div tabindex="3">z</div>
<a href="/un">Lire la suite</a><a href="/deux">Lire la suite</a>
<form method="post" action="/c/1/supprimer"><button type="submit">Supprimer</button></form>
<form method="post" action="/c/2/supprimer"><button type="submit">Supprimer</button></form>
<form method="post" action="/r"><input type="hidden" name="object" value="o1"><button>J'aime</button></form>
<form method="post" action="/r"><input type="hidden" name="object" value="o2"><button>J&#39;aime</button></form>
<svg viewBox="0 0 1 1"><circle r="1"></circle></svg>
<svg viewBox="0 0 2 2" role="img" aria-label="Graphique"><rect width="2" height="2"/><title>Tard</title></svg>
<svg viewBox="0 0 3 3" role="presentation" aria-labelledby=" "><title>T</title></svg>
</body></html>"##;
    let found = problems(bad).join("\n");
    for expected in [
        "no lang",
        "2 h1 elements",
        "the first heading is not the h1",
        "from h1 \"Deux\" to h4",
        "duplicate id \"a\"",
        "<label for=\"nope\">: no such id",
        "<input name=\"nom\"> has no label",
        "<select name=\"choix\"> has no label",
        "<img src=\"/x.png\"> has no alt",
        "<a href=\"#absent\">: no such id",
        "<a> to /p has no text",
        "aria-describedby=\"ghost\"",
        "<time> \"hier\" without a valid datetime",
        "a date outside <time>: 31/12/2026",
        "tabindex=\"3\"",
        "\"lire la suite\" names 2",
        "\"supprimer\" names 2",
        "\"j'aime\" names 2",
        "<svg> #1 (viewBox \"0 0 1 1\") without role=\"img\"",
        "<svg> #1 (viewBox \"0 0 1 1\") without an accessible name",
        "<svg> #1 (viewBox \"0 0 1 1\") without a <title> first",
        "<svg> #2 (viewBox \"0 0 2 2\") without a <title> first",
        "<svg> #3 (viewBox \"0 0 3 3\") without role=\"img\"",
        "<svg> #3 (viewBox \"0 0 3 3\") without an accessible name",
    ] {
        assert!(
            found.contains(expected),
            "missing {expected:?} in:\n{found}"
        );
    }
    assert!(!found.contains("ok\"> has no label"), "{found}");
    assert!(
        !found.contains("#2 (viewBox \"0 0 2 2\") without an"),
        "{found}"
    );
    assert!(
        !found.contains("#3 (viewBox \"0 0 3 3\") without a <title>"),
        "{found}"
    );

    let good = r##"<!DOCTYPE html><html lang="fr"><head><title>x</title></head><body>
<a href="#main">Aller au contenu</a><main id="main"><h1>Titre</h1><h2>Section</h2><h3>Sous</h3>
<h2>Autre</h2><label for="f-nom">Nom</label><input type="text" id="f-nom" name="nom"
 aria-describedby="f-nom-hint"><p id="f-nom-hint">Aide</p>
<img src="/deco.png" alt=""><time datetime="2026-12-31T10:00:00+00:00">31/12/2026</time>
<button type="submit" lang="en">English</button>
<svg aria-hidden="true" viewBox="0 0 4 4"><path d="M0 0h4"></path></svg>
<svg role="img" aria-labelledby="g-t g-d" viewBox="0 0 5 5"><title id="g-t">Carte</title>
<desc id="g-d">Deux lieux</desc><circle r="1"><title>Rodez</title></circle></svg>
<svg role="img" aria-label="Icône" viewBox="0 0 6 6"><title>Icône</title></svg></main></body></html>"##;
    assert_eq!(problems(good), Vec::<String>::new());
}

/// The diagnosis pages' charts pass the scanner: several on one page (ids stay unique),
/// hostile labels, withheld figures and an empty chart included.
#[test]
fn charts_pass_the_scanner() {
    use culturecnous::web::charts::{
        Bar, Chart, Line, Place, Value, bars, symbol_map, time_series,
    };
    let hostile = "<b>Théâtre</b> & \"danse\" 'rue'";
    let kinds = Chart::new(
        "chart-kinds",
        "Membres par type",
        "Les associations dominent.",
    );
    let months = Chart::new("chart-months", "Annonces par mois", "En hausse.");
    let communes = Chart::new("chart-communes", "Membres par commune", "Rodez en tête.");
    let nothing = Chart::new("chart-empty", "Abonnés par serveur", "Aucun abonné.");
    let body = [
        bars(
            &kinds,
            &[
                Bar {
                    label: hostile.into(),
                    value: Value::Number(1250.0),
                    shown: "1 250".into(),
                },
                Bar {
                    label: "Lieux".into(),
                    value: Value::Suppressed,
                    shown: "< 5".into(),
                },
            ],
        ),
        time_series(
            &months,
            &["2026-01".into(), "2026-02".into(), "2026-03".into()],
            &[
                Line {
                    name: hostile.into(),
                    points: vec![Value::Number(3.0), Value::Suppressed, Value::Number(8.0)],
                },
                Line {
                    name: "Emploi".into(),
                    points: vec![Value::Number(1.0), Value::Number(2.0)],
                },
            ],
        ),
        symbol_map(
            &communes,
            &[
                Place {
                    label: "Rodez".into(),
                    latitude: 44.35,
                    longitude: 2.57,
                    value: Value::Number(40.0),
                    shown: "40".into(),
                },
                Place {
                    label: hostile.into(),
                    latitude: 44.1,
                    longitude: 3.08,
                    value: Value::Suppressed,
                    shown: "< 5".into(),
                },
            ],
        ),
        bars(&nothing, &[]),
    ]
    .map(|svg| format!("<figure>{svg}</figure>"))
    .join("\n");
    let page = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><title>Diagnostic</title></head><body>\
         <main><h1>Diagnostic</h1>{body}</main></body></html>"
    );
    assert_eq!(problems(&page), Vec::<String>::new());
    assert_eq!(page.matches("role=\"img\"").count(), 4);
}

// ---------------------------------------------------------------------------------------------
// The pages

const REMOTE: &str = "http://remote.example:1234";

/// A remote reply to `in_reply_to`, delivered to the inbox.
async fn remote_reply(
    app: &TestApp,
    from: &crate::federation_inbox::Remote,
    n: u32,
    in_reply_to: &str,
    content: &str,
    extra: Value,
) -> String {
    let id = format!("{}/statuses/{n}", from.id());
    let mut note = json!({
        "id": id,
        "type": "Note",
        "attributedTo": from.id(),
        "inReplyTo": in_reply_to,
        "content": content,
        "url": format!("{REMOTE}/@{}/{n}", from.actor.username),
        "published": "2026-01-02T10:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", from.id())],
    });
    if let (Some(note), Value::Object(extra)) = (note.as_object_mut(), extra) {
        note.extend(extra);
    }
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": from.id(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": note,
    });
    assert_eq!(deliver(app, from, &create).await, StatusCode::ACCEPTED);
    id
}

async fn comment(app: &TestApp, token: &str, in_reply_to: &str, body: &str) -> (i64, String) {
    let c = create(
        app,
        token,
        "/api/v1/comments",
        json!({"in_reply_to": in_reply_to, "body": body}),
    )
    .await;
    (
        c["id"].as_i64().expect("id"),
        c["ap_id"].as_str().expect("ap_id").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn this_rounds_pages_pass_the_mechanical_accessibility_checks() {
    let app = TestApp::new().await;
    let alice_account = app.create_user("alice", "member").await;
    let dave_account = app.create_user("dave", "member").await;
    app.create_user("carol", "member").await;
    let moderator_account = app.create_user("margot", "moderator").await;
    let alice = Browser::with_session(&app, &alice_account).await;
    let dave = Browser::with_session(&app, &dave_account).await;
    let moderator = Browser::with_session(&app, &moderator_account).await;
    let alice_t = token(&app, "alice").await;
    let dave_t = token(&app, "dave").await;
    let carol_t = token(&app, "carol").await;

    // A blog post with a cover, Markdown headings (one skipping a level), a list and a link.
    let r = alice
        .submit_multipart(
            "/articles/nouveau",
            vec![
                Part::text("title", "Soirée de clôture du festival"),
                Part::text("summary", "Retour sur une semaine de théâtre."),
                Part::text(
                    "body",
                    "# Le programme\n\nTrois pièces, **deux** concerts.\n\n\
                     #### Samedi\n\n- Ouverture\n- Bal\n\n## Merci\n\n\
                     Voir [le site](https://festival.example/) #theatre",
                ),
                Part::png("cover_image", "scene.png", png(3, 0)),
                Part::text("cover_image_alt", "La troupe salue devant le rideau rouge"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post_page = path_of(r.header("location").expect("location"));
    let post_id: i64 = post_page
        .split('/')
        .nth(2)
        .and_then(|s| s.parse().ok())
        .expect("post id");
    let post = format!("http://localhost:8080/posts/{post_id}");

    // Threaded comments: a member's, a remote reply to it (with a content warning and a
    // heading), a reply to that, a second remote author, one deleted.
    let (dave_comment_id, dave_comment) =
        comment(&app, &dave_t, &post, "Superbe soirée, **bravo** !").await;
    let bob = remote_actor(&app, REMOTE, "bob", 0).await;
    let eve = remote_actor(&app, REMOTE, "eve", 1).await;
    let bob_reply = remote_reply(
        &app,
        &bob,
        1,
        &dave_comment,
        "<h4>Vu samedi</h4><p>J'y étais aussi.</p>",
        json!({"summary": "Spoiler de la pièce"}),
    )
    .await;
    comment(&app, &carol_t, &bob_reply, "Moi aussi, quelle fin !").await;
    remote_reply(
        &app,
        &eve,
        2,
        &post,
        "<p>Merci pour le compte rendu.</p>",
        json!({}),
    )
    .await;
    let (gone_id, _) = comment(&app, &alice_t, &post, "Un message supprimé ensuite.").await;
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/comments/{gone_id}"),
        &alice_t,
        None,
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);
    // Reactions: a remote like and boost, a member's like.
    for (n, kind) in [(1, "Like"), (2, "Announce")] {
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#reaction-{n}", bob.id()),
            "type": kind,
            "actor": bob.id(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": post,
        });
        assert_eq!(deliver(&app, &bob, &activity).await, StatusCode::ACCEPTED);
    }
    let r = api(
        &app,
        Method::POST,
        "/api/v1/likes",
        &dave_t,
        Some(json!({"object": dave_comment})),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.body);

    // Announcements and more posts, for two pages of Actualités and a filtered list.
    let kinds = ["emploi", "appel_a_projets", "residence", "benevolat"];
    let mut announcement_page = String::new();
    for n in 0..12 {
        let body = json!({
            "title": format!("Annonce n°{n}"),
            "body": "Détails et contact.",
            "kind": kinds[n % kinds.len()],
            "commune": if n % 2 == 0 { "Rodez" } else { "Millau" },
            "disciplines": ["théâtre", "musique"],
            "deadline": "2099-12-31",
        });
        let created = create(&app, &dave_t, "/api/v1/announcements", body).await;
        announcement_page = path_of(created["url"].as_str().expect("url"));
    }
    for n in 0..10 {
        create(
            &app,
            &alice_t,
            "/api/v1/posts",
            json!({"title": format!("Carnet de tournée {n}"), "body": "Une étape de plus."}),
        )
        .await;
    }
    create(
        &app,
        &alice_t,
        "/api/v1/posts",
        json!({"title": "Brouillon en cours", "body": "À finir.", "draft": true}),
    )
    .await;
    // Alice follows Dave: his announcements reach her /fil.
    let (alice_actor, dave_actor) = (
        local_actor(&app, "alice").await,
        local_actor(&app, "dave").await,
    );
    follow(&app, &alice_actor, &dave_actor, "accepted").await;

    let reply_to_comment = format!(
        "/commentaires/repondre?cible={}",
        enc(&format!("http://localhost:8080/comments/{dave_comment_id}"))
    );
    let reply_to_post = format!("/commentaires/repondre?cible={}", enc(&post));

    let mut pages: Vec<(String, TestResponse)> = vec![
        ("home (anonymous)".into(), app.get_html("/").await),
        ("home (alice)".into(), alice.get("/").await),
        ("/actualites".into(), app.get_html("/actualites").await),
        (
            "/actualites page 2".into(),
            app.get_html("/actualites?page=2").await,
        ),
        ("post (anonymous)".into(), app.get_html(&post_page).await),
        ("post (author)".into(), alice.get(&post_page).await),
        ("post (member)".into(), dave.get(&post_page).await),
        ("post (moderator)".into(), moderator.get(&post_page).await),
        (
            "announcement (member)".into(),
            alice.get(&announcement_page).await,
        ),
        ("/fil".into(), alice.get("/fil").await),
        ("/annonces".into(), alice.get("/annonces").await),
        (
            "/annonces filtered".into(),
            app.get_html(
                "/annonces?kind=emploi&discipline=th%C3%A9%C3%A2tre&commune=Rodez&open=true",
            )
            .await,
        ),
        ("new post form".into(), alice.get("/articles/nouveau").await),
        (
            "new announcement form".into(),
            alice.get("/annonces/nouvelle").await,
        ),
        (
            "reply to a comment".into(),
            alice.get(&reply_to_comment).await,
        ),
        ("reply to the post".into(), alice.get(&reply_to_post).await),
        (
            "comment edit".into(),
            dave.get(&format!("/commentaires/{dave_comment_id}/modifier"))
                .await,
        ),
        ("blog (own)".into(), alice.get("/blog/alice").await),
        ("profile".into(), app.get_html("/users/alice").await),
        ("/notifications".into(), alice.get("/notifications").await),
        (
            "notification preferences".into(),
            alice.get("/parametres/notifications").await,
        ),
    ];

    // Forms sent back with errors.
    pages.push((
        "new post (errors)".into(),
        alice
            .submit_multipart(
                "/articles/nouveau",
                vec![
                    Part::text("title", "  "),
                    Part::text("body", "x".repeat(100_001)),
                    Part::png("cover_image", "scene.png", png(3, 0)),
                ],
            )
            .await,
    ));
    pages.push((
        "new announcement (errors)".into(),
        alice
            .submit_multipart(
                "/annonces/nouvelle",
                vec![
                    Part::text("title", "Stage"),
                    Part::text("body", "Texte"),
                    Part::text("kind", "inconnu"),
                    Part::text("deadline", "2000-01-01"),
                ],
            )
            .await,
    ));
    pages.push((
        "reply (errors)".into(),
        alice
            .submit_form(
                "/commentaires",
                &[("target", &dave_comment), ("body", "   ")],
            )
            .await,
    ));
    pages.push((
        "notification preferences (errors)".into(),
        alice
            .submit_form("/parametres/notifications", &[("like", "parfois")])
            .await,
    ));
    pages.push((
        "/annonces (errors)".into(),
        app.get_html("/annonces?kind=inconnu").await,
    ));

    // The pages show what they should, so the checks ran on real content.
    let by_name = |name: &str| &pages.iter().find(|(n, _)| n == name).expect("page").1.body;
    let author_view = by_name("post (moderator)");
    for expected in [
        "La troupe salue devant le rideau rouge",
        "<p>J'y étais aussi.</p>",
        "Moi aussi, quelle fin !",
        "Merci pour le compte rendu.",
        "aria-pressed",
    ] {
        assert!(author_view.contains(expected), "{expected}: {author_view}");
    }
    assert!(
        by_name("/actualites").contains("aria-current=\"page\""),
        "pagination"
    );
    assert!(by_name("/fil").contains("Annonce n°"), "/fil");
    assert!(
        by_name("/annonces filtered").contains("Annonce n°4"),
        "{}",
        by_name("/annonces filtered")
    );
    assert!(by_name("/actualites page 2").contains("news-item"));
    assert!(by_name("blog (own)").contains("Brouillon en cours"));
    assert!(by_name("new post (errors)").contains("error-summary"));
    assert!(by_name("/annonces (errors)").contains("error-summary"));
    assert!(by_name("/notifications").contains("notification-unread"));
    assert!(by_name("notification preferences (errors)").contains("error-summary"));

    assert_accessible(&pages);
}
