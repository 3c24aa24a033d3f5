//! Announcements on the wire: a `Note` whose content opens with the title and states the kind,
//! deadline and commune in words, because Mastodon shows a Note in full but an Article as a
//! title and a link only. The kind is also a hashtag (`#appelAProjets`) people can follow.

use crate::{
    context::AppContext,
    db::{actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::objects::{
        article::{
            Hashtag, ImageAttachment, Source, audience_of, cover_image, hashtags, mention_tags,
        },
        counts::{CountCollection, RepliesCollection},
    },
    i18n::Lang,
    sanitize::{SafeHtml, escape_text},
    service::{
        publishing::{AnnouncementKind, page_url},
        reactions::Counts,
    },
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub attributed_to: Url,
    /// Plain-text title, for software that shows it (Mastodon ignores `name` on a Note).
    pub name: String,
    pub content: String,
    pub media_type: String,
    pub source: Source,
    pub url: Url,
    pub published: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// The deadline, for software that understands it (`endTime` of the offer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub tag: Vec<Hashtag>,
    /// The cover image as a `Document` (Mastodon shows a Note's attachments).
    pub attachment: Vec<ImageAttachment>,
    pub sensitive: bool,
    /// How many likes and boosts it has (Mastodon 4.3+ shows them).
    pub likes: CountCollection,
    pub shares: CountCollection,
    /// Its direct replies (comments), with their count.
    pub replies: RepliesCollection,
}

/// The sentence under the title: "Appel à projets · Date limite : 31/12/2026 · Commune : Rodez".
pub fn facts_line(lang: Lang, post: &DbPost) -> String {
    let mut parts = Vec::new();
    if let Some(kind) = post.kind.as_deref().and_then(AnnouncementKind::parse) {
        parts.push(format!(
            "{} {}",
            lang.t("announcement.fact.kind"),
            lang.t(kind.label_key())
        ));
    }
    if let Some(deadline) = post.deadline {
        parts.push(format!(
            "{} {}",
            lang.t("announcement.fact.deadline"),
            deadline.format("%d/%m/%Y")
        ));
    }
    if !post.commune.is_empty() {
        parts.push(format!(
            "{} {}",
            lang.t("announcement.fact.commune"),
            post.commune
        ));
    }
    if !post.disciplines.is_empty() {
        parts.push(format!(
            "{} {}",
            lang.t("announcement.fact.disciplines"),
            post.disciplines.join(", ")
        ));
    }
    parts.join(" · ")
}

/// An announcement as a `Note`, written in the instance's language, with its likes and boosts
/// `counts`.
pub fn note(ctx: &AppContext, post: &DbPost, author: &DbActor, counts: Counts) -> AppResult<Note> {
    if !post.is_announcement() {
        return Err(AppError::internal("a blog post is an Article, not a Note"));
    }
    let lang = ctx.default_lang;
    let id = Url::parse(&post.ap_id)?;
    let attributed_to = Url::parse(&author.ap_id)?;
    let (to, cc) = audience_of(author, post)?;
    let url = Url::parse(&page_url(post))?;
    let tags = hashtags(ctx, post);
    let tag_links = tags
        .iter()
        .map(|t| match &t.href {
            Some(href) => format!(
                r#"<a href="{}" class="mention hashtag" rel="tag">{}</a>"#,
                escape_text(href.as_str()),
                escape_text(&t.name)
            ),
            None => escape_text(&t.name),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let content = format!(
        "<p><strong>{}</strong></p><p>{}</p>{}<p>{}</p>",
        escape_text(&post.title),
        escape_text(&facts_line(lang, post)),
        SafeHtml::from_trusted_storage(post.body_html.clone()),
        tag_links,
    );
    let published = post.published_at.unwrap_or(post.created_at);
    let (likes, shares) = CountCollection::pair(&post.ap_id, counts)?;
    let replies = RepliesCollection::of(&post.ap_id, counts)?;
    Ok(Note {
        kind: "Note".into(),
        id,
        attributed_to,
        name: post.title.clone(),
        content,
        media_type: "text/html".into(),
        source: Source {
            content: post.body_markdown.clone(),
            media_type: "text/markdown".into(),
        },
        url,
        published,
        updated: (post.updated_at > published).then_some(post.updated_at),
        end_time: post
            .deadline
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .map(|d| d.and_utc()),
        to,
        cc,
        tag: tags.into_iter().chain(mention_tags(post)).collect(),
        attachment: cover_image(ctx, post, "Document").into_iter().collect(),
        sensitive: false,
        likes,
        shares,
        replies,
    })
}
