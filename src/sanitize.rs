//! The one HTML allow-list, shared by Markdown written here and HTML arriving by federation.
//!
//! [`SafeHtml`] can only be built by cleaning, so a template that renders it unescaped can
//! never output HTML that did not go through ammonia.

use ammonia::Builder;
use std::{collections::HashSet, sync::LazyLock};

/// Input larger than this is cut before parsing: html5ever is linear, but a bound keeps the
/// worst case of hostile documents (deep nesting, huge attributes) predictable.
pub const MAX_HTML_INPUT: usize = 200_000;

static CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&'static str> = [
        "p",
        "br",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "s",
        "del",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "span",
        "hr",
    ]
    .into_iter()
    .collect();
    let mut b = Builder::default();
    b.tags(tags)
        .clean_content_tags(["script", "style", "iframe", "object", "embed", "template"].into())
        .generic_attributes(HashSet::new())
        .tag_attributes(
            [
                ("a", ["href", "title"].into_iter().collect()),
                ("ol", ["start"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        // Mastodon marks mentions and hashtags with these classes; keep only them (our own
        // mention links use `u-url mention` too, see `service::mentions`).
        .allowed_classes(
            [
                (
                    "span",
                    ["h-card", "invisible", "ellipsis"].into_iter().collect(),
                ),
                ("a", ["mention", "hashtag", "u-url"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Custom(Box::new(relative_link)))
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true);
    b
});

/// What a relative link becomes. A scheme-relative one (`//evil.example/x`, or the same
/// written with backslashes, tabs or newlines that browsers ignore) leads to another site
/// under our page's scheme: its `href` is dropped (the text stays), rather than guessing a
/// scheme for it. Path-relative links (`/annonces`, `#notes`) stay as they are.
fn relative_link(url: &str) -> Option<std::borrow::Cow<'_, str>> {
    // What the URL parser of a browser does first: trim C0 controls and spaces, then remove
    // tabs and newlines anywhere.
    let mut start = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    let scheme_relative = matches!(
        (start.next(), start.next()),
        (Some('/' | '\\'), Some('/' | '\\'))
    );
    (!scheme_relative).then_some(std::borrow::Cow::Borrowed(url))
}

/// HTML that went through the allow-list. Render with `|safe` in templates.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(transparent)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// Cleans untrusted HTML (a federated `content`, a stored legacy value).
    pub fn clean(untrusted: &str) -> SafeHtml {
        let input = truncate_at_char_boundary(untrusted, MAX_HTML_INPUT);
        SafeHtml(CLEANER.clean(input).to_string())
    }

    /// Renders CommonMark, then cleans the result: raw HTML inside Markdown is cleaned too.
    pub fn from_markdown(markdown: &str) -> SafeHtml {
        use pulldown_cmark::{Options, Parser, html};
        let input = truncate_at_char_boundary(markdown, MAX_HTML_INPUT);
        let mut options = Options::empty();
        options.insert(Options::ENABLE_STRIKETHROUGH);
        let parser = Parser::new_ext(input, options).map(|event| match event {
            // h1 is the page title's: demote Markdown headings into the allowed h2–h4 range.
            pulldown_cmark::Event::Start(pulldown_cmark::Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => pulldown_cmark::Event::Start(pulldown_cmark::Tag::Heading {
                level: demote(level),
                id,
                classes,
                attrs,
            }),
            pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Heading(level)) => {
                pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Heading(demote(level)))
            }
            other => other,
        });
        let mut out = String::with_capacity(input.len() * 3 / 2);
        html::push_html(&mut out, parser);
        SafeHtml::clean(&out)
    }

    /// Plain text, escaped: for places where no markup is wanted at all.
    pub fn from_text(text: &str) -> SafeHtml {
        SafeHtml(escape_text(text))
    }

    /// Wraps HTML that was cleaned earlier and stored as such in the database.
    /// Only for columns written exclusively from a `SafeHtml`.
    pub fn from_trusted_storage(html: String) -> SafeHtml {
        SafeHtml(html)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same HTML with its headings fitted under a page heading of level `top - 1`: the
    /// first becomes `h{top}`, and each next one keeps its place relative to the first but
    /// never goes more than one level below the one before (WCAG 1.3.1: a body written
    /// `##` then `####`, or a remote reply opening with an `h4`, must not skip levels on our
    /// page). Levels stop at `h6`. The HTML is ours (cleaned), so its tags are well formed
    /// and a `<h` in text is escaped.
    pub fn nest_headings(self, top: u8) -> SafeHtml {
        let top = top.clamp(1, 6);
        let level_at = |s: &str, i: usize| -> Option<u8> {
            let b = s.as_bytes();
            let n = *b.get(i + 2)?;
            let after = *b.get(i + 3)?;
            ((b'1'..=b'6').contains(&n) && (after == b'>' || after.is_ascii_whitespace()))
                .then_some(n - b'0')
        };
        let html = self.0;
        if !html.contains("<h") {
            return SafeHtml(html);
        }
        let mut out = String::with_capacity(html.len());
        let (mut first, mut previous): (Option<u8>, u8) = (None, top - 1);
        let mut open: Option<u8> = None;
        let mut rest = 0;
        let mut i = 0;
        while let Some(off) = html[i..].find('<') {
            let at = i + off;
            let closing = html[at..].starts_with("</h");
            let level = if closing {
                level_at(&html, at + 1)
            } else if html[at..].starts_with("<h") {
                level_at(&html, at)
            } else {
                None
            };
            match level {
                Some(_) if closing => {
                    let new = open.take().unwrap_or(top);
                    out.push_str(&html[rest..at]);
                    out.push_str(&format!("</h{new}"));
                    rest = at + 4;
                }
                Some(level) => {
                    let base = *first.get_or_insert(level);
                    let wanted = (i16::from(level) - i16::from(base) + i16::from(top))
                        .clamp(i16::from(top), i16::from(previous) + 1)
                        .min(6);
                    let new = u8::try_from(wanted).unwrap_or(top);
                    previous = new;
                    open = Some(new);
                    out.push_str(&html[rest..at]);
                    out.push_str(&format!("<h{new}"));
                    rest = at + 3;
                }
                None => {}
            }
            i = at + 1;
        }
        out.push_str(&html[rest..]);
        SafeHtml(out)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn demote(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 | H2 => H2,
        H3 => H3,
        _ => H4,
    }
}

/// Escapes the five HTML-significant characters.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The plain text of sanitised HTML, whitespace collapsed: for excerpts.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max` characters of `text`, cut at a word and ended with "…" when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_neutralised() {
        let dirty = r#"<p onclick="x()">hi<script>alert(1)</script><style>p{}</style>
            <iframe src="https://evil"></iframe><img src=x onerror=alert(1)>
            <a href="javascript:alert(1)">j</a><a href="data:text/html,x">d</a>
            <a href="https://ok.example/">ok</a><div><b>unclosed"#;
        let clean = SafeHtml::clean(dirty).into_string();
        for bad in [
            "script",
            "style",
            "iframe",
            "onerror",
            "onclick",
            "javascript:",
            "data:",
            "<img",
            "<div",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains(r#"href="https://ok.example/""#), "{clean}");
        assert!(
            clean.contains(r#"rel="nofollow noopener noreferrer""#),
            "{clean}"
        );
        assert!(clean.contains("<b>unclosed</b>"), "{clean}");
    }

    #[test]
    fn scheme_relative_links_lose_their_href() {
        for href in [
            "//evil.example/x",
            "\\\\evil.example",
            "/\\evil.example",
            "\\/evil.example",
            " //evil.example",
            "/\t/evil.example",
            "/&#10;/evil.example",
            "&#x2F;&#x2F;evil.example",
        ] {
            let clean = SafeHtml::clean(&format!(r#"<a href="{href}">lien</a>"#)).into_string();
            assert!(!clean.contains("href"), "{href:?} kept: {clean}");
            assert!(!clean.contains("evil"), "{href:?} kept: {clean}");
            assert!(clean.contains("lien"), "{href:?}: text lost in {clean}");
        }
        for (href, kept) in [
            ("/annonces?kind=emploi", "/annonces?kind=emploi"),
            ("#notes", "#notes"),
            ("https://ok.example/", "https://ok.example/"),
        ] {
            let clean = SafeHtml::clean(&format!(r#"<a href="{href}">x</a>"#)).into_string();
            assert!(
                clean.contains(&format!(r#"href="{kept}""#)),
                "{href}: {clean}"
            );
        }
        // Markdown goes through the same cleaning.
        let md = SafeHtml::from_markdown("[x](//evil.example/y)").into_string();
        assert!(!md.contains("evil"), "{md}");
    }

    #[test]
    fn links_keep_only_the_mention_and_hashtag_classes() {
        let clean = SafeHtml::clean(
            r#"<a href="https://m.example/@bob" class="u-url mention big-red">@<span class="h-card x">bob</span></a><p class="mention">p</p>"#,
        )
        .into_string();
        assert!(clean.contains(r#"class="u-url mention""#), "{clean}");
        assert!(
            !clean.contains("big-red") && !clean.contains(" x\""),
            "{clean}"
        );
        assert!(clean.contains("<p>p</p>"), "{clean}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let dirty = "<div>".repeat(10_000) + "x" + &"</div>".repeat(10_000);
        let clean = SafeHtml::clean(&dirty).into_string();
        assert!(!clean.contains("<div"));
        assert!(clean.contains('x'));
    }

    #[test]
    fn markdown_renders_and_cleans() {
        let html = SafeHtml::from_markdown(
            "# Titre\n\n*un* [lien](https://a.example) <script>x</script> [j](javascript:alert(1))",
        )
        .into_string();
        assert!(html.contains("<h2>Titre</h2>"), "{html}");
        assert!(html.contains("<em>un</em>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn headings_are_fitted_under_the_page_heading_without_skipping_levels() {
        let nest = |html: &str, top| SafeHtml(html.into()).nest_headings(top).into_string();
        assert_eq!(
            nest("<h2>A</h2><p>x</p><h4>B</h4><h3>C</h3><h2>D</h2>", 2),
            "<h2>A</h2><p>x</p><h3>B</h3><h3>C</h3><h2>D</h2>"
        );
        // A reply opening with an h4, under a comment list headed h2: h3.
        assert_eq!(
            nest("<h4>Vu</h4><p>J'y étais &lt;h2&gt;</p>", 3),
            "<h3>Vu</h3><p>J'y étais &lt;h2&gt;</p>"
        );
        // Nothing goes above the first, nor past h6.
        assert_eq!(
            nest("<h3>A</h3><h2>B</h2><h4>C</h4><h4>D</h4>", 5),
            "<h5>A</h5><h5>B</h5><h6>C</h6><h6>D</h6>"
        );
        assert_eq!(nest("<p>Sans titre</p><hr>", 2), "<p>Sans titre</p><hr>");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            SafeHtml::from_text("<b>&'\"").as_str(),
            "&lt;b&gt;&amp;&#39;&quot;"
        );
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        assert_eq!(excerpt("court", 10), "court");
        let long = "un deux trois quatre cinq six sept";
        let e = excerpt(long, 15);
        assert!(e.ends_with('…'), "{e}");
        assert!(e.chars().count() <= 16, "{e}");
        assert!(!e.contains("qua…"), "{e}");
    }

    #[test]
    fn plain_text_strips_tags_and_entities() {
        assert_eq!(
            plain_text("<p>Bonjour <em>à</em> &amp; vous</p><p>Suite</p>"),
            "Bonjour à & vous Suite"
        );
    }
}
