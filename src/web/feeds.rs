//! RSS 2.0 and Atom 1.0 documents, written with a small XML writer of our own: the feeds need a
//! handful of elements, and one escaping routine that is tested hard is easier to trust than a
//! dependency. Everything that comes from users (titles, names, HTML bodies) goes through
//! [`escape_text`] / [`escape_attr`]; element and attribute names are literals of this file.
//!
//! Bodies are escaped, never wrapped in CDATA, so a `]]>` in a post cannot end anything early.
//! Characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) are dropped: one of them
//! would make the whole feed unreadable for every reader.

use chrono::{DateTime, SecondsFormat, Utc};

/// Whether XML 1.0 allows `c` in a document (the `Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || ('\u{10000}'..='\u{10FFFF}').contains(&c)
}

/// Appends `text` escaped for element content. `>` is escaped too, so `]]>` never appears.
pub fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// Appends `value` escaped for a double-quoted attribute. Whitespace other than spaces is
/// written as character references: a parser would otherwise normalise it to spaces.
pub fn escape_attr(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// Plain text made safe to be read as HTML: RSS readers treat `<description>` as HTML, so a
/// plain-text summary is HTML-escaped (the one rule of [`crate::sanitize`]) before it is
/// XML-escaped.
pub use crate::sanitize::escape_text as html_escape;

/// A well-formed XML document built element by element; every open element is closed by
/// [`XmlWriter::finish`], so the output is balanced whatever the caller forgets.
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn start_tag(&mut self, name: &'static str, attrs: &[(&'static str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_attr(value, &mut self.out);
            self.out.push('"');
        }
    }

    /// Opens `<name attrs…>`; closed by [`XmlWriter::close`].
    pub fn open(&mut self, name: &'static str, attrs: &[(&'static str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push_str(">\n");
        self.open.push(name);
    }

    /// Closes the innermost open element (nothing when none is open).
    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
    }

    /// `<name attrs…/>`.
    pub fn empty(&mut self, name: &'static str, attrs: &[(&'static str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// `<name attrs…>text</name>`, the text escaped.
    pub fn text(&mut self, name: &'static str, attrs: &[(&'static str, &str)], text: &str) {
        self.start_tag(name, attrs);
        self.out.push('>');
        escape_text(text, &mut self.out);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// The document, every element still open closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// A category of an entry: `term` is machine-readable (`emploi`, `theatre`), `label` is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedCategory {
    pub term: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enclosure {
    pub url: String,
    pub media_type: String,
    /// Size in bytes (RSS requires the attribute; 0 when unknown).
    pub length: u64,
}

/// One entry, the same for both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// The ActivityPub id: stable, unique, and it answers with the page in a browser.
    pub id: String,
    /// The HTML page.
    pub url: String,
    pub title: String,
    pub author_name: String,
    pub author_url: String,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub categories: Vec<FeedCategory>,
    /// Plain text.
    pub summary: String,
    /// Sanitised HTML (it came out of `SafeHtml`).
    pub content_html: String,
    pub enclosure: Option<Enclosure>,
}

/// A feed: its own address, the page it mirrors, and its entries newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub title: String,
    pub description: String,
    /// The HTML page the feed mirrors.
    pub page_url: String,
    /// The absolute URL of this very document.
    pub self_url: String,
    /// `fr` or `en`.
    pub language: &'static str,
    /// The newest change among the entries (a fixed date when there are none), so the same
    /// entries always give the same bytes and the same ETag.
    pub updated: DateTime<Utc>,
    pub items: Vec<FeedItem>,
}

pub const GENERATOR: &str = "cultureCnous";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const CONTENT_NS: &str = "http://purl.org/rss/1.0/modules/content/";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// RSS 2.0 dates are RFC 822 (`Tue, 02 Dec 2026 10:00:00 +0000`).
pub fn rfc822(date: DateTime<Utc>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Atom dates are RFC 3339 (`2026-12-02T10:00:00Z`).
pub fn rfc3339(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The RSS 2.0 document, with `content:encoded` for the full HTML and `dc:creator` for the
/// author (RSS's own `<author>` must be an e-mail address, which we never publish).
pub fn rss(feed: &Feed) -> String {
    let mut w = XmlWriter::new();
    w.open(
        "rss",
        &[
            ("version", "2.0"),
            ("xmlns:atom", ATOM_NS),
            ("xmlns:content", CONTENT_NS),
            ("xmlns:dc", DC_NS),
        ],
    );
    w.open("channel", &[]);
    w.text("title", &[], &feed.title);
    w.text("link", &[], &feed.page_url);
    w.text("description", &[], &html_escape(&feed.description));
    w.text("language", &[], feed.language);
    w.text("generator", &[], GENERATOR);
    w.text("lastBuildDate", &[], &rfc822(feed.updated));
    w.empty(
        "atom:link",
        &[
            ("href", &feed.self_url),
            ("rel", "self"),
            ("type", "application/rss+xml"),
        ],
    );
    for item in &feed.items {
        w.open("item", &[]);
        w.text("title", &[], &item.title);
        w.text("link", &[], &item.url);
        w.text("guid", &[("isPermaLink", "true")], &item.id);
        w.text("pubDate", &[], &rfc822(item.published));
        w.text("dc:creator", &[], &item.author_name);
        for category in &item.categories {
            w.text("category", &[], &category.label);
        }
        w.text("description", &[], &html_escape(&item.summary));
        w.text("content:encoded", &[], &item.content_html);
        if let Some(enclosure) = &item.enclosure {
            w.empty(
                "enclosure",
                &[
                    ("url", &enclosure.url),
                    ("length", &enclosure.length.to_string()),
                    ("type", &enclosure.media_type),
                ],
            );
        }
        w.close();
    }
    w.finish()
}

/// The Atom 1.0 document. Every entry has its author, so the feed needs none of its own.
pub fn atom(feed: &Feed) -> String {
    let mut w = XmlWriter::new();
    w.open("feed", &[("xmlns", ATOM_NS), ("xml:lang", feed.language)]);
    w.text("id", &[], &feed.self_url);
    w.text("title", &[("type", "text")], &feed.title);
    w.text("subtitle", &[("type", "text")], &feed.description);
    w.text("updated", &[], &rfc3339(feed.updated));
    w.empty(
        "link",
        &[
            ("rel", "self"),
            ("type", "application/atom+xml"),
            ("href", &feed.self_url),
        ],
    );
    w.empty(
        "link",
        &[
            ("rel", "alternate"),
            ("type", "text/html"),
            ("href", &feed.page_url),
        ],
    );
    w.text("generator", &[], GENERATOR);
    for item in &feed.items {
        w.open("entry", &[]);
        w.text("id", &[], &item.id);
        w.text("title", &[("type", "text")], &item.title);
        w.empty(
            "link",
            &[
                ("rel", "alternate"),
                ("type", "text/html"),
                ("href", &item.url),
            ],
        );
        w.text("published", &[], &rfc3339(item.published));
        w.text("updated", &[], &rfc3339(item.updated));
        w.open("author", &[]);
        w.text("name", &[], &item.author_name);
        w.text("uri", &[], &item.author_url);
        w.close();
        for category in &item.categories {
            w.empty(
                "category",
                &[("term", &category.term), ("label", &category.label)],
            );
        }
        w.text("summary", &[("type", "text")], &item.summary);
        w.text("content", &[("type", "html")], &item.content_html);
        if let Some(enclosure) = &item.enclosure {
            w.empty(
                "link",
                &[
                    ("rel", "enclosure"),
                    ("type", &enclosure.media_type),
                    ("length", &enclosure.length.to_string()),
                    ("href", &enclosure.url),
                ],
            );
        }
        w.close();
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        escape_text(s, &mut out);
        out
    }

    fn esc_attr(s: &str) -> String {
        let mut out = String::new();
        escape_attr(s, &mut out);
        out
    }

    #[test]
    fn text_escaping_covers_markup_and_cdata_ends() {
        assert_eq!(
            esc("</title><script>alert(1)</script> & co"),
            "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
        );
        assert_eq!(esc("a ]]> b"), "a ]]&gt; b");
        // Already-escaped text is escaped again: the reader gets back exactly what we had.
        assert_eq!(esc("&amp;"), "&amp;amp;");
        assert_eq!(esc("é — 𝄞 \"quotes\" 'x'"), "é — 𝄞 \"quotes\" 'x'");
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(esc("a\u{0}b\u{1}c\u{8}d\u{B}e\u{C}f\u{1F}g"), "abcdefg");
        assert_eq!(esc("x\u{FFFE}y\u{FFFF}z"), "xyz");
        assert_eq!(esc("tab\there\nnew\rline"), "tab\there\nnew\rline");
        assert_eq!(esc_attr("a\u{0}b"), "ab");
    }

    #[test]
    fn attribute_escaping_covers_quotes_and_whitespace() {
        assert_eq!(
            esc_attr("\"><x a='1'>&\t\n\r"),
            "&quot;&gt;&lt;x a=&apos;1&apos;&gt;&amp;&#9;&#10;&#13;"
        );
    }

    #[test]
    fn the_writer_balances_and_escapes() {
        let mut w = XmlWriter::new();
        w.open("a", &[("href", "x?a=1&b=\"2\"")]);
        w.text("b", &[], "<i>");
        w.empty("c", &[("v", "<")]);
        w.open("d", &[]);
        // `d` and `a` are left open on purpose.
        let out = w.finish();
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a href=\"x?a=1&amp;b=&quot;2&quot;\">\n\
             <b>&lt;i&gt;</b>\n<c v=\"&lt;\"/>\n<d>\n</d>\n</a>\n"
        );
        let mut w = XmlWriter::new();
        w.close(); // nothing open: nothing written
        assert_eq!(w.finish(), "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    }

    #[test]
    fn html_escape_neutralises_markup_in_plain_text() {
        assert_eq!(
            html_escape("<b>a</b> & \"q\" 'p'"),
            "&lt;b&gt;a&lt;/b&gt; &amp; &quot;q&quot; &#39;p&#39;"
        );
    }

    fn sample() -> Feed {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 2, 10, 5, 9)
            .single()
            .expect("date");
        Feed {
            title: "Actualités & co".into(),
            description: "Les <dernières> nouvelles".into(),
            page_url: "https://c.example/actualites".into(),
            self_url: "https://c.example/actualites/rss.xml".into(),
            language: "fr",
            updated: at,
            items: vec![FeedItem {
                id: "https://c.example/posts/1".into(),
                url: "https://c.example/posts/1/titre".into(),
                title: "</title><script>x</script>".into(),
                author_name: "Zoé & Cie".into(),
                author_url: "https://c.example/users/zoe".into(),
                published: at,
                updated: at,
                categories: vec![FeedCategory {
                    term: "emploi".into(),
                    label: "Emploi".into(),
                }],
                summary: "1 < 2".into(),
                content_html: "<p>a ]]> b</p>".into(),
                enclosure: Some(Enclosure {
                    url: "https://c.example/media/covers/a.png".into(),
                    media_type: "image/png".into(),
                    length: 42,
                }),
            }],
        }
    }

    #[test]
    fn rss_has_the_channel_and_escaped_items() {
        let xml = rss(&sample());
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"")
        );
        assert!(xml.contains("<title>Actualités &amp; co</title>"));
        assert!(xml.contains("<description>Les &amp;lt;dernières&amp;gt; nouvelles</description>"));
        assert!(xml.contains("<lastBuildDate>Wed, 02 Dec 2026 10:05:09 +0000</lastBuildDate>"));
        assert!(xml.contains("<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>"));
        assert!(xml.contains("<guid isPermaLink=\"true\">https://c.example/posts/1</guid>"));
        assert!(xml.contains("<pubDate>Wed, 02 Dec 2026 10:05:09 +0000</pubDate>"));
        assert!(xml.contains("<dc:creator>Zoé &amp; Cie</dc:creator>"));
        assert!(xml.contains("<category>Emploi</category>"));
        assert!(xml.contains("<description>1 &amp;lt; 2</description>"));
        assert!(xml.contains("<content:encoded>&lt;p&gt;a ]]&gt; b&lt;/p&gt;</content:encoded>"));
        assert!(xml.contains(
            "<enclosure url=\"https://c.example/media/covers/a.png\" length=\"42\" type=\"image/png\"/>"
        ));
        assert!(!xml.contains("<script"));
        assert!(!xml.contains("]]>"));
        assert!(xml.ends_with("</item>\n</channel>\n</rss>\n"));
    }

    #[test]
    fn atom_has_ids_dates_authors_and_html_content() {
        let xml = atom(&sample());
        assert!(xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">"));
        assert!(xml.contains("<id>https://c.example/actualites/rss.xml</id>"));
        assert!(xml.contains("<updated>2026-12-02T10:05:09Z</updated>"));
        assert!(xml.contains("<id>https://c.example/posts/1</id>"));
        assert!(
            xml.contains(
                "<title type=\"text\">&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;</title>"
            )
        );
        assert!(xml.contains("<author>\n<name>Zoé &amp; Cie</name>\n<uri>https://c.example/users/zoe</uri>\n</author>"));
        assert!(xml.contains("<category term=\"emploi\" label=\"Emploi\"/>"));
        assert!(xml.contains("<summary type=\"text\">1 &lt; 2</summary>"));
        assert!(xml.contains("<content type=\"html\">&lt;p&gt;a ]]&gt; b&lt;/p&gt;</content>"));
        assert!(xml.contains("rel=\"enclosure\" type=\"image/png\" length=\"42\""));
        assert!(!xml.contains("]]>"));
        assert!(xml.ends_with("</entry>\n</feed>\n"));
    }
}
