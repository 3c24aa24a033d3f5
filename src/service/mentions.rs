//! Mentions in what members write: `@user` (a local member) and `@user@host` (anyone on the
//! fediverse, found by WebFinger). They are looked for in the sanitised HTML — text outside
//! links, code and preformatted blocks — so a mention inside code stays code. Resolution
//! happens before the writing transaction (it may need the network, bounded by a timeout); an
//! unresolvable mention stays plain text. Resolved mentions are stored with the post, so page
//! renders, edits and the federated object (`Mention` tags, `cc`, delivery) need no network.

use crate::{
    context::{AppContext, Data},
    db::{self, actors::DbActor, posts::DbPost},
    error::AppResult,
    sanitize::{SafeHtml, escape_text},
    service::follows::resolve_target,
};
use serde::{Deserialize, Serialize};
use std::{collections::HashSet, time::Duration};

/// At most this many mentions are resolved per text; later ones stay plain text.
pub const MAX_MENTIONS: usize = 20;
/// Time allowed for resolving all the remote mentions of one text.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_USER_CHARS: usize = 64;
const MAX_HOST_CHARS: usize = 253;

/// A mention as written: `@user` (host `None`) or `@user@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    pub user: String,
    pub host: Option<String>,
}

impl Handle {
    /// The comparison key: lower-case, with the local domain filled in.
    fn key(&self, local_domain: &str) -> String {
        format!(
            "{}@{}",
            self.user.to_lowercase(),
            self.host.as_deref().unwrap_or(local_domain).to_lowercase()
        )
    }
}

/// A resolved mention, as stored in `posts.mentions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// The actor's ActivityPub id (`href` of the `Mention` tag, and the `cc` entry).
    pub href: String,
    /// `@user@host`.
    pub name: String,
    /// The profile page the link in the HTML points to.
    pub url: String,
}

impl Mention {
    pub fn of(actor: &DbActor) -> Mention {
        Mention {
            href: actor.ap_id.clone(),
            name: format!("@{}@{}", actor.username, actor.domain),
            url: actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()),
        }
    }

    fn key(&self) -> String {
        self.name.trim_start_matches('@').to_lowercase()
    }

    fn user(&self) -> &str {
        let name = self.name.trim_start_matches('@');
        name.split_once('@').map_or(name, |(user, _)| user)
    }
}

/// The mentions stored with a post (an unreadable value counts as none).
pub fn stored(post: &DbPost) -> Vec<Mention> {
    serde_json::from_value(post.mentions.clone()).unwrap_or_default()
}

/// The value to store.
pub fn to_json(mentions: &[Mention]) -> serde_json::Value {
    serde_json::to_value(mentions).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}

fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')
}

/// One mention found in a text: its byte range and what it names.
struct Found {
    start: usize,
    end: usize,
    handle: Handle,
}

/// The mentions in one run of plain text. `@` must not follow a word character (so e-mail
/// addresses are not mentions); trailing dots, hyphens and colons end the sentence, not the
/// name.
fn scan_text(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'@' {
            i += 1;
            continue;
        }
        let prev = text[..i].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '@' | '/' | '.')) {
            i += 1;
            continue;
        }
        let user_start = i + 1;
        let mut user_end = user_start;
        while user_end < bytes.len() && is_user_char(bytes[user_end] as char) {
            user_end += 1;
        }
        while user_end > user_start && matches!(bytes[user_end - 1], b'.' | b'-') {
            user_end -= 1;
        }
        let user = &text[user_start..user_end];
        if user.is_empty() || user.len() > MAX_USER_CHARS {
            i = user_end.max(i + 1);
            continue;
        }
        let mut end = user_end;
        let mut host = None;
        if bytes.get(user_end) == Some(&b'@') {
            let host_start = user_end + 1;
            let mut host_end = host_start;
            while host_end < bytes.len() && is_host_char(bytes[host_end] as char) {
                host_end += 1;
            }
            while host_end > host_start && matches!(bytes[host_end - 1], b'.' | b'-' | b':') {
                host_end -= 1;
            }
            let h = &text[host_start..host_end];
            if h.is_empty() || h.len() > MAX_HOST_CHARS || h.starts_with(['.', '-', ':']) {
                // `@user@` followed by nothing usable: not a mention at all.
                i = host_end.max(user_end + 1);
                continue;
            }
            host = Some(h.to_ascii_lowercase());
            end = host_end;
        }
        out.push(Found {
            start: i,
            end,
            handle: Handle {
                user: user.to_string(),
                host,
            },
        });
        i = end;
    }
    out
}

/// Calls `visit(piece, true)` for each run of text of sanitised HTML that may hold mentions
/// (outside tags, links, code and pre), and `visit(piece, false)` for everything else, in
/// order: concatenating the pieces gives the input back.
fn walk_html(html: &str, mut visit: impl FnMut(&str, bool)) {
    let bytes = html.as_bytes();
    let mut skip_depth = 0usize;
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        if text_start < i {
            visit(&html[text_start..i], skip_depth == 0);
        }
        // The tag runs to the first `>` outside a double-quoted attribute value (the
        // serialiser quotes every value with `"` and escapes `"` inside it).
        let mut j = i + 1;
        let mut quoted = false;
        while j < bytes.len() && (quoted || bytes[j] != b'>') {
            if bytes[j] == b'"' {
                quoted = !quoted;
            }
            j += 1;
        }
        let end = (j + 1).min(bytes.len());
        let tag = &html[i..end];
        let closing = tag.starts_with("</");
        let name = tag
            .trim_start_matches("</")
            .trim_start_matches('<')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if matches!(name.as_str(), "a" | "code" | "pre") {
            if closing {
                skip_depth = skip_depth.saturating_sub(1);
            } else {
                skip_depth += 1;
            }
        }
        visit(tag, false);
        i = end;
        text_start = end;
    }
    if text_start < bytes.len() {
        visit(&html[text_start..], skip_depth == 0);
    }
}

/// The mentions written in sanitised HTML, in order, without duplicates, at most
/// [`MAX_MENTIONS`].
pub fn handles_in_html(html: &str, local_domain: &str) -> Vec<Handle> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    walk_html(html, |text, is_text| {
        if !is_text {
            return;
        }
        for found in scan_text(text) {
            if out.len() < MAX_MENTIONS && seen.insert(found.handle.key(local_domain)) {
                out.push(found.handle);
            }
        }
    });
    out
}

/// Turns the resolved mentions of sanitised HTML into links
/// (`<a href="{profile}" class="u-url mention">@<span>user</span></a>`); the result goes through
/// the allow-list again, so it is as safe as its input.
pub fn link_html(html: &SafeHtml, mentions: &[Mention], local_domain: &str) -> SafeHtml {
    if mentions.is_empty() {
        return html.clone();
    }
    let mut out = String::with_capacity(html.as_str().len() + mentions.len() * 80);
    walk_html(html.as_str(), |text, is_text| {
        if !is_text {
            out.push_str(text);
            return;
        }
        let mut last = 0;
        for found in scan_text(text) {
            let key = found.handle.key(local_domain);
            let Some(m) = mentions.iter().find(|m| m.key() == key) else {
                continue;
            };
            out.push_str(&text[last..found.start]);
            out.push_str(&format!(
                r#"<a href="{}" class="u-url mention">@<span>{}</span></a>"#,
                escape_text(&m.url),
                escape_text(m.user())
            ));
            last = found.end;
        }
        out.push_str(&text[last..]);
    });
    SafeHtml::clean(&out)
}

/// The mentions of freshly rendered HTML, resolved (before any transaction: this may use the
/// network), and the HTML with them linked. `known` are the mentions of the previous version.
pub async fn resolve_and_link(
    data: &Data,
    html: SafeHtml,
    known: &[Mention],
) -> AppResult<(SafeHtml, Vec<Mention>)> {
    let found = resolve(data, &html, known).await?;
    let linked = link_html(&html, &found, &data.app_data().config.domain());
    Ok((linked, found))
}

/// Resolves the mentions of sanitised HTML: mentions already resolved in `known` (the previous
/// version of the text) and actors already in the database need no network; the others are
/// looked up by WebFinger, all together within [`RESOLVE_TIMEOUT`]. Unresolvable ones are left
/// out (they stay plain text).
pub async fn resolve(data: &Data, html: &SafeHtml, known: &[Mention]) -> AppResult<Vec<Mention>> {
    let ctx: &AppContext = data.app_data();
    let local_domain = ctx.config.domain().to_lowercase();
    let handles = handles_in_html(html.as_str(), &local_domain);
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let mut resolved: Vec<Option<Mention>> = vec![None; handles.len()];
    let mut remote = Vec::new();
    {
        let mut conn = ctx.conn().await?;
        for (i, handle) in handles.iter().enumerate() {
            let key = handle.key(&local_domain);
            if let Some(m) = known.iter().find(|m| m.key() == key) {
                resolved[i] = Some(m.clone());
                continue;
            }
            let host = handle.host.as_deref().unwrap_or(&local_domain);
            let actor = if host == local_domain {
                db::actors::local_by_username(&mut conn, &handle.user).await?
            } else {
                db::actors::remote_by_handle(&mut conn, host, &handle.user).await?
            };
            match actor {
                Some(actor) => resolved[i] = usable(&actor).then(|| Mention::of(&actor)),
                None if host != local_domain => remote.push(i),
                None => {}
            }
        }
    }
    if !remote.is_empty() {
        let lookups = remote.iter().map(|&i| {
            let handle = &handles[i];
            let target = format!("{}@{}", handle.user, handle.host.as_deref().unwrap_or(""));
            async move {
                match resolve_target(data, &target).await {
                    Ok(actor) => (i, usable(&actor).then(|| Mention::of(&actor))),
                    Err(e) => {
                        tracing::info!("mention @{target} left as text: {e}");
                        (i, None)
                    }
                }
            }
        });
        match tokio::time::timeout(RESOLVE_TIMEOUT, futures::future::join_all(lookups)).await {
            Ok(results) => {
                for (i, mention) in results {
                    resolved[i] = mention;
                }
            }
            Err(_) => tracing::info!("mentions left as text: WebFinger look-ups timed out"),
        }
    }
    let mut seen = HashSet::new();
    Ok(resolved
        .into_iter()
        .flatten()
        .filter(|m| seen.insert(m.href.clone()))
        .collect())
}

/// Actors a mention may name: not deleted, and not the instance's own service actor.
fn usable(actor: &DbActor) -> bool {
    actor.deleted_at.is_none() && actor.kind != "Application"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handles(html: &str) -> Vec<String> {
        handles_in_html(html, "culture.example")
            .into_iter()
            .map(|h| match h.host {
                Some(host) => format!("{}@{host}", h.user),
                None => h.user,
            })
            .collect()
    }

    #[test]
    fn mentions_are_found_in_text_but_not_in_code_links_or_addresses() {
        let html = "<p>Merci @alice et @bob@masto.example, écrivez à contact@lieu.example. \
                    Vu <code>@code</code> <a href=\"https://x.example/@lien\">@lien</a> \
                    <pre>@pre</pre> puis @Alice encore, et @carol@localhost:8081.</p>";
        assert_eq!(
            handles(html),
            vec!["alice", "bob@masto.example", "carol@localhost:8081"]
        );
        assert!(handles("<p>@ seul, @@double, @x@</p>").len() <= 1);
    }

    #[test]
    fn at_most_twenty_mentions() {
        let html: String = (0..30).map(|i| format!("@u{i} ")).collect();
        assert_eq!(handles(&html).len(), MAX_MENTIONS);
    }

    #[test]
    fn resolved_mentions_become_links_and_others_stay_text() {
        let html =
            SafeHtml::from_markdown("Avec @bob@masto.example et @inconnu, `@bob@masto.example`");
        let m = Mention {
            href: "https://masto.example/users/bob".into(),
            name: "@bob@masto.example".into(),
            url: "https://masto.example/@bob".into(),
        };
        let linked = link_html(&html, &[m], "culture.example");
        let s = linked.as_str();
        assert!(
            s.contains(r#"<a href="https://masto.example/@bob" class="u-url mention""#),
            "{s}"
        );
        assert!(s.contains("@<span>bob</span></a>"), "{s}");
        assert!(s.contains("@inconnu"), "{s}");
        assert!(s.contains("<code>@bob@masto.example</code>"), "{s}");
    }

    #[test]
    fn a_hostile_profile_url_cannot_inject_markup() {
        let html = SafeHtml::from_markdown("Salut @eve@evil.example");
        let m = Mention {
            href: "https://evil.example/users/eve".into(),
            name: "@eve@evil.example".into(),
            url: "javascript:alert(1)\"><script>x</script>".into(),
        };
        let s = link_html(&html, &[m], "culture.example").into_string();
        assert!(!s.contains("<script") && !s.contains("javascript:"), "{s}");
    }
}
