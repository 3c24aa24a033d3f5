//! Feeds and public lists (issue 4, point 5): the "Actualités" page mixing posts and
//! announcements, the RSS 2.0 and Atom feeds (content type, well-formed XML read back by a
//! strict little parser below, order, escaping of hostile titles and bodies, per-kind filter,
//! errors, ETag/304), and what pages put in `<head>` (alternate links, canonical, Open Graph).

use crate::{
    common::{TestApp, TestResponse},
    helpers::{create, post_row, token, unescape},
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use culturecnous::db::schema::posts;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// A strict XML reader: enough of XML 1.0 to refuse anything a feed reader would choke on
// (unbalanced or mismatched tags, bad references, bare `&` or `<`, `]]>` in text, duplicate
// attributes, characters XML forbids, text or a second element after the root).

#[derive(Debug, Clone)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn child(&self, name: &str) -> &El {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }
    fn text_of(&self, name: &str) -> &str {
        &self.child(name).text
    }
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn fail(&self, what: &str) -> ! {
        let around: String = self.rest().chars().take(60).collect();
        panic!(
            "malformed XML at byte {}: {what}; near {around:?}",
            self.pos
        )
    }
    fn skip_ws(&mut self) {
        let n = self.rest().len()
            - self
                .rest()
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .len();
        self.pos += n;
    }
    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }
    fn name(&mut self) -> String {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphabetic()
                    || c == '_'
                    || c == ':'
                    || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.')))
            })
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if end == 0 {
            self.fail("expected a name");
        }
        self.pos += end;
        rest[..end].to_string()
    }
    /// Reads up to `stop` (not included), decoding references.
    fn chars_until(&mut self, stop: char, in_attr: bool) -> String {
        let mut out = String::new();
        loop {
            let Some(c) = self.rest().chars().next() else {
                self.fail("unexpected end");
            };
            if c == stop {
                return out;
            }
            if !is_xml_char(c) {
                self.fail("character not allowed in XML");
            }
            match c {
                '<' => self.fail("bare <"),
                '&' => {
                    let rest = self.rest();
                    let end = rest
                        .find(';')
                        .unwrap_or_else(|| self.fail("unterminated &"));
                    let entity = &rest[1..end];
                    let decoded = match entity {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                            .ok()
                            .and_then(char::from_u32)
                            .filter(|c| is_xml_char(*c))
                            .unwrap_or_else(|| self.fail("bad character reference")),
                        e if e.starts_with('#') => e[1..]
                            .parse::<u32>()
                            .ok()
                            .and_then(char::from_u32)
                            .filter(|c| is_xml_char(*c))
                            .unwrap_or_else(|| self.fail("bad character reference")),
                        _ => self.fail("unknown entity"),
                    };
                    out.push(decoded);
                    self.pos += end + 1;
                }
                _ => {
                    if !in_attr && self.rest().starts_with("]]>") {
                        self.fail("]]> in text");
                    }
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
    fn element(&mut self) -> El {
        if !self.eat("<") {
            self.fail("expected <");
        }
        let name = self.name();
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.eat("/>") {
                return El {
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                };
            }
            if self.eat(">") {
                break;
            }
            if self.pos == before {
                self.fail("expected whitespace before an attribute");
            }
            let key = self.name();
            self.skip_ws();
            if !self.eat("=") {
                self.fail("expected =");
            }
            self.skip_ws();
            let quote = if self.eat("\"") {
                '"'
            } else if self.eat("'") {
                '\''
            } else {
                self.fail("unquoted attribute")
            };
            let value = self.chars_until(quote, true);
            self.pos += 1;
            if attrs.iter().any(|(k, _)| *k == key) {
                self.fail("duplicate attribute");
            }
            attrs.push((key, value));
        }
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            if self.eat("</") {
                let end = self.name();
                if end != name {
                    self.fail(&format!("</{end}> closes <{name}>"));
                }
                self.skip_ws();
                if !self.eat(">") {
                    self.fail("expected >");
                }
                return El {
                    name,
                    attrs,
                    children,
                    text,
                };
            }
            if self.rest().starts_with("<!") || self.rest().starts_with("<?") {
                self.fail("comments, CDATA and processing instructions are not expected");
            }
            if self.rest().starts_with('<') {
                children.push(self.element());
            } else {
                text.push_str(&self.chars_until('<', false));
            }
        }
    }
}

fn parse_xml(s: &str) -> El {
    let mut r = Reader { s, pos: 0 };
    if r.eat("<?xml") {
        let end = r
            .rest()
            .find("?>")
            .unwrap_or_else(|| r.fail("unterminated prolog"));
        r.pos += end + 2;
    }
    r.skip_ws();
    let root = r.element();
    r.skip_ws();
    if !r.rest().is_empty() {
        r.fail("content after the root element");
    }
    root
}

#[test]
fn the_xml_reader_refuses_what_readers_refuse() {
    let ok =
        parse_xml("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; &#233;\"><b>t &lt; &#x41;</b><c/></a>");
    assert_eq!(ok.attr("x"), Some("1 & é"));
    assert_eq!(ok.text_of("b"), "t < A");
    for bad in [
        "<a><b></a></b>",
        "<a>x & y</a>",
        "<a>x < y</a>",
        "<a>]]></a>",
        "<a x=1/>",
        "<a x=\"1\" x=\"2\"/>",
        "<a>&nbsp;</a>",
        "<a>\u{1}</a>",
        "<a/><b/>",
        "<a><![CDATA[x]]></a>",
        "<a>",
    ] {
        let result = std::panic::catch_unwind(|| parse_xml(bad));
        assert!(result.is_err(), "accepted {bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const HOSTILE_TITLE: &str = "</title><script>alert(1)</script> & \"co\" ]]>";
const HOSTILE_BODY: &str =
    "Texte ]]> suite <script>alert(2)</script> <img src=x onerror=alert(3)> & fin";

/// Publishes a blog post through the API and dates it `minutes` after a fixed origin.
async fn blog_post(app: &TestApp, token: &str, title: &str, body: &str, minutes: i64) -> Value {
    let created = create(
        app,
        token,
        "/api/v1/posts",
        json!({"title": title, "body": body}),
    )
    .await;
    set_published(app, &created, minutes).await;
    created
}

async fn announcement(app: &TestApp, token: &str, title: &str, kind: &str, minutes: i64) -> Value {
    let created = create(
        app,
        token,
        "/api/v1/announcements",
        json!({"title": title, "body": "Détails de l'annonce.", "kind": kind, "commune": "Rodez"}),
    )
    .await;
    set_published(app, &created, minutes).await;
    created
}

fn origin() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0)
        .single()
        .expect("date")
}

async fn set_published(app: &TestApp, created: &Value, minutes: i64) {
    let id = created["id"].as_i64().expect("id");
    let at = origin() + Duration::minutes(minutes);
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(posts::table.find(id))
        .set((posts::published_at.eq(at), posts::updated_at.eq(at)))
        .execute(&mut conn)
        .await
        .expect("date the post");
}

async fn update_post(app: &TestApp, created: &Value, f: impl FnOnce(i64) -> String) {
    let id = created["id"].as_i64().expect("id");
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(f(id))
        .execute(&mut conn)
        .await
        .expect("update");
}

fn xml_of(r: &TestResponse, content_type: &str) -> El {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("content-type"), Some(content_type));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    assert!(r.header("etag").is_some_and(|e| e.starts_with('"')));
    assert!(r.header("last-modified").is_some());
    parse_xml(&r.body)
}

const RSS: &str = "application/rss+xml; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";

fn rss_items(root: &El) -> Vec<&El> {
    assert_eq!(root.name, "rss");
    assert_eq!(root.attr("version"), Some("2.0"));
    root.child("channel").all("item")
}

fn rss_titles(root: &El) -> Vec<String> {
    rss_items(root)
        .iter()
        .map(|i| i.text_of("title").to_string())
        .collect()
}

fn atom_titles(root: &El) -> Vec<String> {
    assert_eq!(root.name, "feed");
    assert_eq!(root.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    root.all("entry")
        .iter()
        .map(|e| e.text_of("title").to_string())
        .collect()
}

/// The `<head>` of a page (everything before `</head>`).
fn head_of(r: &TestResponse) -> &str {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.split("</head>").next().expect("head")
}

/// The `<li>` of a list that holds `title`.
fn item_html<'a>(body: &'a str, title: &str) -> &'a str {
    let at = position(body, title);
    let start = body[..at].rfind("<li").expect("item start");
    let end = at + body[at..].find("</li>").expect("item end");
    &body[start..end]
}

fn position(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the page"))
}

// ---------------------------------------------------------------------------------------------
// Actualités

#[tokio::test(flavor = "multi_thread")]
async fn actualites_mixes_local_posts_and_announcements_newest_first_and_paginates() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bruno", "member").await;
    let ta = token(&app, "alice").await;
    let tb = token(&app, "bruno").await;
    blog_post(&app, &ta, "Billet ancien", "Un texte.", 1).await;
    let emploi = announcement(&app, &tb, "Régisseur recherché", "emploi", 3).await;
    blog_post(&app, &tb, "Billet récent", "Un autre texte.", 5).await;
    // A draft, a deleted post and a remote post never show.
    create(
        &app,
        &ta,
        "/api/v1/posts",
        json!({"title": "Brouillon secret", "body": "x", "draft": true}),
    )
    .await;
    let deleted = blog_post(&app, &ta, "Billet supprimé", "x", 6).await;
    let r = app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/api/v1/posts/{}", deleted["id"]))
                .header(header::AUTHORIZATION, format!("Bearer {ta}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let remote = blog_post(&app, &ta, "Billet distant", "x", 7).await;
    update_post(&app, &remote, |id| {
        format!("UPDATE posts SET local = false WHERE id = {id}")
    })
    .await;
    // Closed announcement: deadline passed.
    let closed = announcement(&app, &ta, "Résidence close", "residence", 4).await;
    update_post(&app, &closed, |id| {
        format!("UPDATE posts SET deadline = '2026-01-31' WHERE id = {id}")
    })
    .await;

    let r = app.get_html("/actualites").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = &r.body;
    let recent = position(body, "Billet récent");
    let closed_at = position(body, "Résidence close");
    let job = position(body, "Régisseur recherché");
    let old = position(body, "Billet ancien");
    assert!(
        recent < closed_at && closed_at < job && job < old,
        "newest first"
    );
    for hidden in ["Brouillon secret", "Billet supprimé", "Billet distant"] {
        assert!(!body.contains(hidden), "{hidden} must not be listed");
    }
    // Badges, author, excerpt, closed state, commune, link to the page.
    assert!(body.contains(">Article de blog</span>"));
    let text = unescape(body);
    assert!(text.contains(">Offre d'emploi</span>"), "{body}");
    assert!(text.contains("Détails de l'annonce."));
    assert!(body.contains(&format!(
        "href=\"{}\"",
        culturecnous::service::publishing::page_url(
            &post_row(&app, emploi["id"].as_i64().expect("id")).await
        )
    )));
    let closed_item = item_html(body, "Résidence close");
    assert!(
        closed_item.contains("class=\"badge-closed\""),
        "{closed_item}"
    );
    let job_item = item_html(body, "Régisseur recherché");
    assert!(!job_item.contains("badge-closed"), "{job_item}");
    assert!(job_item.contains("Rodez"), "{job_item}");
    assert!(body.contains(">bruno</a>"));
    assert!(
        body.contains("href=\"/actualites\" aria-current=\"page\""),
        "nav link"
    );
    assert!(body.contains("href=\"/users/departement\""));

    // 20 a page: 23 more posts make two pages.
    for n in 0..20 {
        blog_post(&app, &ta, &format!("Série {n:02}"), "x", 100 + n).await;
    }
    let r = app.get_html("/actualites").await;
    let titles_on_page_1 = r.body.matches("class=\"p-name\"").count();
    assert_eq!(titles_on_page_1, 20);
    assert!(r.body.contains("Série 19") && r.body.contains("Série 00"));
    assert!(!r.body.contains("Billet récent"));
    assert!(r.body.contains("href=\"/actualites?page=2\" rel=\"next\""));
    let r = app.get_html("/actualites?page=2").await;
    assert_eq!(r.body.matches("class=\"p-name\"").count(), 4);
    assert!(r.body.contains("Billet récent") && r.body.contains("Billet ancien"));
    assert!(r.body.contains("href=\"/actualites?page=1\" rel=\"prev\""));
}

// ---------------------------------------------------------------------------------------------
// Feeds

#[tokio::test(flavor = "multi_thread")]
async fn feeds_are_well_formed_ordered_and_escape_hostile_titles_and_bodies() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ta = token(&app, "alice").await;
    blog_post(
        &app,
        &ta,
        "Premier",
        "Bonjour **tout le monde** #theatre",
        1,
    )
    .await;
    let hostile = blog_post(&app, &ta, HOSTILE_TITLE, HOSTILE_BODY, 2).await;
    announcement(&app, &ta, "Appel & projets", "appel_a_projets", 3).await;

    for (path, ct) in [("/actualites/rss.xml", RSS), ("/blog/alice/rss.xml", RSS)] {
        let r = app.get(path, "*/*").await;
        assert!(!r.body.contains("<script"), "{path}: {}", r.body);
        assert!(!r.body.contains("]]>"), "{path}");
        let root = xml_of(&r, ct);
        assert_eq!(
            rss_titles(&root),
            vec!["Appel & projets", HOSTILE_TITLE, "Premier"],
            "{path}"
        );
        let channel = root.child("channel");
        assert!(
            channel
                .text_of("link")
                .starts_with("http://localhost:8080/")
        );
        let self_link = channel.child("atom:link");
        assert_eq!(
            self_link.attr("href"),
            Some(format!("http://localhost:8080{path}").as_str())
        );
        assert_eq!(self_link.attr("rel"), Some("self"));
        let items = rss_items(&root);
        let item = items[1];
        assert_eq!(
            item.text_of("guid"),
            hostile["ap_id"].as_str().expect("ap_id")
        );
        assert_eq!(item.text_of("link"), hostile["url"].as_str().expect("url"));
        assert_eq!(item.text_of("pubDate"), "Thu, 01 Oct 2026 08:02:00 +0000");
        assert_eq!(item.text_of("dc:creator"), "alice");
        // The body is the sanitised HTML: text kept (`]]>` included), scripts and handlers gone.
        let content = item.text_of("content:encoded");
        assert!(content.contains("Texte ]]&gt; suite"), "{content}");
        assert!(
            !content.contains("<script") && !content.contains("onerror"),
            "{content}"
        );
        // The description is plain text made safe for readers that render it as HTML.
        let description = item.text_of("description");
        assert!(!description.contains('<'), "{description}");
        // Hashtags and kinds are categories.
        let first = items[2];
        assert!(first.all("category").iter().any(|c| c.text == "#theatre"));
        let announcement = items[0];
        let categories: Vec<&str> = announcement
            .all("category")
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert!(categories.contains(&"Appel à projets"), "{categories:?}");
        assert!(announcement.text_of("content:encoded").contains("Rodez"));
        assert!(announcement.all("enclosure").is_empty());
    }

    for path in ["/actualites/atom.xml", "/blog/alice/atom.xml"] {
        let r = app.get(path, "application/atom+xml").await;
        assert!(
            !r.body.contains("<script") && !r.body.contains("]]>"),
            "{path}"
        );
        let root = xml_of(&r, ATOM);
        assert_eq!(
            atom_titles(&root),
            vec!["Appel & projets", HOSTILE_TITLE, "Premier"],
            "{path}"
        );
        assert_eq!(root.text_of("id"), format!("http://localhost:8080{path}"));
        assert_eq!(root.text_of("updated"), "2026-10-01T08:03:00Z");
        let entry = root.all("entry")[1];
        assert_eq!(
            entry.text_of("id"),
            hostile["ap_id"].as_str().expect("ap_id")
        );
        assert_eq!(entry.text_of("published"), "2026-10-01T08:02:00Z");
        assert_eq!(entry.child("author").text_of("name"), "alice");
        assert_eq!(
            entry.child("author").text_of("uri"),
            "http://localhost:8080/users/alice"
        );
        assert_eq!(entry.child("content").attr("type"), Some("html"));
        assert!(!entry.text_of("content").contains("<script"));
        assert_eq!(entry.child("link").attr("href"), hostile["url"].as_str());
        let kinds: Vec<_> = root.all("entry")[0]
            .all("category")
            .iter()
            .map(|c| c.attr("term").unwrap_or_default().to_string())
            .collect();
        assert!(kinds.contains(&"appel_a_projets".to_string()), "{kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn announcement_feeds_filter_by_kind_and_refuse_unknown_kinds() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ta = token(&app, "alice").await;
    announcement(&app, &ta, "Poste de médiateur", "emploi", 1).await;
    announcement(&app, &ta, "Résidence d'été", "residence", 2).await;
    announcement(&app, &ta, "Poste de régisseur", "emploi", 3).await;
    blog_post(&app, &ta, "Un billet", "x", 4).await;

    let all = xml_of(&app.get("/annonces/rss.xml", "*/*").await, RSS);
    assert_eq!(
        rss_titles(&all),
        vec![
            "Poste de régisseur",
            "Résidence d'été",
            "Poste de médiateur"
        ],
        "announcements only, newest first"
    );
    let jobs = xml_of(&app.get("/annonces/rss.xml?kind=emploi", "*/*").await, RSS);
    assert_eq!(
        rss_titles(&jobs),
        vec!["Poste de régisseur", "Poste de médiateur"]
    );
    assert_eq!(
        jobs.child("channel").child("atom:link").attr("href"),
        Some("http://localhost:8080/annonces/rss.xml?kind=emploi")
    );
    assert!(
        jobs.child("channel")
            .text_of("title")
            .contains("Offre d'emploi")
    );
    let residencies = xml_of(
        &app.get("/annonces/atom.xml?kind=residence", "*/*").await,
        ATOM,
    );
    assert_eq!(atom_titles(&residencies), vec!["Résidence d'été"]);

    for path in [
        "/annonces/rss.xml?kind=cirque",
        "/annonces/atom.xml?kind=cirque",
    ] {
        let r = app.get(path, "application/json").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        let problem = r.json();
        assert!(
            problem.to_string().contains("kind"),
            "the field is named: {problem}"
        );
        let r = app.get_html(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body.contains("appel_a_projets"),
            "the page lists the kinds"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn blog_feeds_cover_posts_and_announcements_of_one_actor_and_404_for_unknown_members() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    app.create_user("bruno", "member").await;
    app.create_user("sam", "staff").await;
    let ta = token(&app, "alice").await;
    let tb = token(&app, "bruno").await;
    let ts = token(&app, "sam").await;
    blog_post(&app, &ta, "Billet d'Alice", "x", 1).await;
    announcement(&app, &ta, "Annonce d'Alice", "benevolat", 2).await;
    blog_post(&app, &tb, "Billet de Bruno", "x", 3).await;
    let communique = create(
        &app,
        &ts,
        "/api/v1/posts",
        json!({"title": "Communiqué du département", "body": "Texte", "as_page": true}),
    )
    .await;
    set_published(&app, &communique, 4).await;

    let alice = xml_of(&app.get("/blog/alice/rss.xml", "*/*").await, RSS);
    assert_eq!(
        rss_titles(&alice),
        vec!["Annonce d'Alice", "Billet d'Alice"]
    );
    let page = xml_of(&app.get("/blog/departement/atom.xml", "*/*").await, ATOM);
    assert_eq!(atom_titles(&page), vec!["Communiqué du département"]);
    assert!(page.text_of("title").contains("page du département"));
    let sam = xml_of(&app.get("/blog/sam/rss.xml", "*/*").await, RSS);
    assert!(
        rss_titles(&sam).is_empty(),
        "published as the page, not as sam"
    );

    // The département page's blog says whose it is, and lists what staff published as it.
    let r = app.get_html("/blog/departement").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Le blog de la page du département"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Communiqué du département"));

    for path in [
        "/blog/personne/rss.xml",
        "/blog/personne/atom.xml",
        "/blog/actor/rss.xml",
    ] {
        let r = app.get(path, "*/*").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_matching_etag_answers_304_and_a_change_gives_a_new_etag() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ta = token(&app, "alice").await;
    blog_post(&app, &ta, "Premier", "x", 1).await;
    let first = app.get("/actualites/rss.xml", "*/*").await;
    let etag = first.header("etag").expect("etag").to_string();
    assert_eq!(
        first.header("last-modified"),
        Some("Thu, 01 Oct 2026 08:01:00 GMT")
    );
    // Same rows, same bytes.
    let again = app.get("/actualites/rss.xml", "*/*").await;
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.body, first.body);

    let conditional = |value: String| {
        Request::builder()
            .uri("/actualites/rss.xml")
            .header(header::IF_NONE_MATCH, value)
            .body(Body::empty())
            .expect("request")
    };
    let r = app.send(conditional(etag.clone())).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
    let r = app.send(conditional("\"autre\"".into())).await;
    assert_eq!(r.status, StatusCode::OK);

    blog_post(&app, &ta, "Second", "x", 2).await;
    let r = app.send(conditional(etag.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "a new post changes the feed");
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    // The Atom feed has its own ETag.
    let atom = app.get("/actualites/atom.xml", "*/*").await;
    assert_ne!(atom.header("etag"), r.header("etag"));
}

// ---------------------------------------------------------------------------------------------
// <head>: alternate links, canonical, Open Graph

#[tokio::test(flavor = "multi_thread")]
async fn pages_announce_their_feeds_and_post_pages_carry_open_graph() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ta = token(&app, "alice").await;
    let post = create(
        &app,
        &ta,
        "/api/v1/posts",
        json!({"title": "Un \"titre\" <b>gras</b>", "body": "Le corps.", "summary": "Résumé & court"}),
    )
    .await;
    let path = |url: &str| url.trim_start_matches("http://localhost:8080").to_string();
    let url = post["url"].as_str().expect("url").to_string();
    let ap_id = post["ap_id"].as_str().expect("ap_id").to_string();

    let r = app.get_html(&path(&url)).await;
    let head = head_of(&r);
    assert!(
        head.contains(&format!("<link rel=\"canonical\" href=\"{url}\">")),
        "{head}"
    );
    assert!(head.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{ap_id}\">"
    )));
    assert!(head.contains("<meta property=\"og:type\" content=\"article\">"));
    assert!(head.contains(
        "<meta property=\"og:title\" content=\"Un &#34;titre&#34; &#60;b&#62;gras&#60;/b&#62;\">"
    ) || head.contains(
        "<meta property=\"og:title\" content=\"Un &quot;titre&quot; &lt;b&gt;gras&lt;/b&gt;\">"
    ), "{head}");
    assert!(
        head.contains("<meta property=\"og:description\" content=\"Résumé &amp; court\">")
            || head.contains("<meta property=\"og:description\" content=\"Résumé &#38; court\">"),
        "{head}"
    );
    assert!(head.contains(&format!("<meta property=\"og:url\" content=\"{url}\">")));
    assert!(head.contains("<meta property=\"og:site_name\""));
    assert!(head.contains("<meta property=\"og:locale\" content=\"fr_FR\">"));
    assert!(head.contains("<meta property=\"article:published_time\" content=\"20"));
    assert!(head.contains(
        "<meta property=\"article:author\" content=\"http://localhost:8080/users/alice\">"
    ));
    assert!(head.contains("<meta name=\"twitter:card\" content=\"summary\">"));
    assert!(!head.contains("og:image"), "no cover, no og:image");

    // With a cover: og:image (absolute) and its alt text.
    update_post(&app, &post, |id| {
        format!(
            "UPDATE posts SET cover_image_path = 'covers/abcdef.png', \
             cover_image_alt = 'Une scène éclairée' WHERE id = {id}"
        )
    })
    .await;
    let r = app.get_html(&path(&url)).await;
    let head = head_of(&r);
    assert!(
        head.contains(
            "<meta property=\"og:image\" content=\"http://localhost:8080/media/covers/abcdef.png\">"
        ),
        "{head}"
    );
    assert!(head.contains("<meta property=\"og:image:alt\" content=\"Une scène éclairée\">"));
    assert!(head.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
    // …and the feeds carry it as an enclosure.
    let rss = xml_of(&app.get("/blog/alice/rss.xml", "*/*").await, RSS);
    let enclosure = rss_items(&rss)[0].child("enclosure").clone();
    assert_eq!(
        enclosure.attr("url"),
        Some("http://localhost:8080/media/covers/abcdef.png")
    );
    assert_eq!(enclosure.attr("type"), Some("image/png"));
    assert!(enclosure.attr("length").is_some());

    // Lists and the blog announce their feeds.
    let alternates = |head: &str| -> Vec<String> {
        head.lines()
            .filter(|l| l.starts_with("<link rel=\"alternate\" type=\"application/"))
            .map(str::to_string)
            .collect()
    };
    let r = app.get_html("/actualites").await;
    let links = alternates(head_of(&r));
    assert!(
        links
            .iter()
            .any(|l| l.contains("type=\"application/rss+xml\"")
                && l.contains("href=\"/actualites/rss.xml\"")),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("type=\"application/atom+xml\"")
                && l.contains("href=\"/actualites/atom.xml\"")),
        "{links:?}"
    );
    assert!(head_of(&r).contains("<meta property=\"og:type\" content=\"website\">"));

    let r = app.get_html("/blog/alice").await;
    let links = alternates(head_of(&r));
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/blog/alice/rss.xml\"")),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/blog/alice/atom.xml\"")),
        "{links:?}"
    );

    let r = app.get_html("/annonces").await;
    let links = alternates(head_of(&r));
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/annonces/rss.xml\"")),
        "{links:?}"
    );
    let r = app.get_html("/annonces?kind=emploi").await;
    let links = alternates(head_of(&r));
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/annonces/rss.xml?kind=emploi\"")),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/annonces/atom.xml?kind=emploi\"")),
        "{links:?}"
    );

    // The profile: the blog's feeds, the actor for fediverse software, the latest posts.
    let r = app.get_html("/users/alice").await;
    let head = head_of(&r);
    let links = alternates(head);
    assert!(
        links
            .iter()
            .any(|l| l.contains("href=\"/blog/alice/rss.xml\"")),
        "{links:?}"
    );
    assert!(head.contains(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"http://localhost:8080/users/alice\">"
    ), "{head}");
    assert!(head.contains("<meta property=\"og:type\" content=\"profile\">"));
    assert!(r.body.contains("href=\"/blog/alice\">Tout le blog</a>"));
    assert!(
        r.body.contains("gras"),
        "latest posts listed on the profile"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_profile_lists_five_latest_and_the_home_page_three_with_links() {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let ta = token(&app, "alice").await;
    for n in 1..=6 {
        blog_post(&app, &ta, &format!("Billet numéro {n}"), "x", n).await;
    }
    let r = app.get_html("/users/alice").await;
    assert_eq!(r.status, StatusCode::OK);
    for n in 2..=6 {
        assert!(r.body.contains(&format!("Billet numéro {n}")), "{n}");
    }
    assert!(!r.body.contains("Billet numéro 1"), "five only");
    assert!(position(&r.body, "Billet numéro 6") < position(&r.body, "Billet numéro 2"));

    let r = app.get_html("/").await;
    assert_eq!(r.status, StatusCode::OK);
    for n in 4..=6 {
        assert!(r.body.contains(&format!("Billet numéro {n}")), "{n}");
    }
    assert!(!r.body.contains("Billet numéro 3"), "three only");
    assert!(
        r.body
            .contains("href=\"/actualites\">Toutes les actualités</a>")
    );
    assert!(
        r.body
            .contains("href=\"/users/departement\">La page du département</a>")
    );
    assert!(head_of(&r).contains("href=\"/actualites/rss.xml\""));

    // The département's profile page lists what was published as it.
    app.create_user("sam", "staff").await;
    let ts = token(&app, "sam").await;
    create(
        &app,
        &ts,
        "/api/v1/announcements",
        json!({"title": "Appel du département", "body": "x", "kind": "appel_a_projets", "as_page": true}),
    )
    .await;
    let r = app.get_html("/users/departement").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Appel du département"));
    assert!(
        r.body
            .contains("href=\"/blog/departement\">Tout le blog</a>")
    );
    assert!(head_of(&r).contains("href=\"/blog/departement/atom.xml\""));
}
