//! Blog posts on the wire: `Article` with a real `summary` (Mastodon shows an Article as name +
//! summary + link) and a FEP-b2b8 `preview` Note for software that renders Notes only.

use crate::{
    context::AppContext,
    db::{actors::DbActor, posts::DbPost},
    error::{AppError, AppResult},
    federation::objects::{
        PUBLIC,
        counts::{CountCollection, RepliesCollection},
    },
    sanitize::{SafeHtml, escape_text, excerpt, plain_text},
    service::reactions::Counts,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// `tag` entry for a hashtag (`type: Hashtag`) or a mention (`type: Mention`, `name`
/// `@user@host`, `href` the actor's id).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Hashtag {
    #[serde(rename = "type")]
    pub kind: String,
    /// With its `#`, as Mastodon expects.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<Url>,
}

/// The `source` of an object: what the author typed.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub content: String,
    pub media_type: String,
}

/// FEP-b2b8 `preview`: a short Note standing in for the Article.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    #[serde(rename = "type")]
    pub kind: String,
    pub attributed_to: Url,
    pub content: String,
}

/// An image: the Article's `image` (`type: Image`) or an attachment (`type: Document`, the
/// way Mastodon sends media); `name` is the alt text.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageAttachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub media_type: String,
    pub url: Url,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Article {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub attributed_to: Url,
    pub name: String,
    pub content: String,
    pub media_type: String,
    pub summary: String,
    pub preview: Preview,
    pub source: Source,
    pub url: Url,
    pub published: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub tag: Vec<Hashtag>,
    /// The cover image (with its alt text in `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageAttachment>,
    pub attachment: Vec<ImageAttachment>,
    pub sensitive: bool,
    /// How many likes and boosts it has (Mastodon 4.3+ shows them).
    pub likes: CountCollection,
    pub shares: CountCollection,
    /// Its direct replies (comments), with their count.
    pub replies: RepliesCollection,
}

/// Longest `summary` excerpt made from the body, in characters.
pub const EXCERPT_CHARS: usize = 400;

/// The summary shown to Mastodon: the author's, else an excerpt of the body. Plain text,
/// escaped into HTML.
pub fn summary_text(post: &DbPost) -> String {
    if post.summary.trim().is_empty() {
        excerpt(&plain_text(&post.body_html), EXCERPT_CHARS)
    } else {
        post.summary.clone()
    }
}

/// The hashtags of a post as `tag` entries. The hashtag of an announcement's kind links to
/// the list of announcements of that kind.
pub fn hashtags(ctx: &AppContext, post: &DbPost) -> Vec<Hashtag> {
    let kind_tag = post
        .kind
        .as_deref()
        .and_then(crate::service::publishing::AnnouncementKind::parse);
    post.hashtags
        .iter()
        .map(|t| Hashtag {
            kind: "Hashtag".into(),
            name: format!("#{t}"),
            href: kind_tag.filter(|k| k.hashtag() == t).and_then(|k| {
                Url::parse(&ctx.urls.absolute(&format!("/annonces?kind={}", k.as_str()))).ok()
            }),
        })
        .collect()
}

/// `to` and `cc` of a public object: Public, and the author's followers.
pub fn audience(author: &DbActor) -> AppResult<(Vec<Url>, Vec<Url>)> {
    let public = Url::parse(PUBLIC)?;
    let cc = match &author.followers_url {
        Some(f) => vec![Url::parse(f)?],
        None => Vec::new(),
    };
    Ok((vec![public], cc))
}

/// `to` and `cc` of a post: [`audience`], plus the actors it mentions in `cc`.
pub fn audience_of(author: &DbActor, post: &DbPost) -> AppResult<(Vec<Url>, Vec<Url>)> {
    let (to, mut cc) = audience(author)?;
    for mention in crate::service::mentions::stored(post) {
        if let Ok(href) = Url::parse(&mention.href)
            && !cc.contains(&href)
        {
            cc.push(href);
        }
    }
    Ok((to, cc))
}

/// The `Mention` tags of a post.
pub fn mention_tags(post: &DbPost) -> Vec<Hashtag> {
    crate::service::mentions::stored(post)
        .into_iter()
        .filter_map(|m| {
            Url::parse(&m.href).ok().map(|href| Hashtag {
                kind: "Mention".into(),
                name: m.name,
                href: Some(href),
            })
        })
        .collect()
}

/// The cover of a post as an image of type `kind` (`Image` or `Document`), when it has one.
pub fn cover_image(ctx: &AppContext, post: &DbPost, kind: &str) -> Option<ImageAttachment> {
    use crate::service::covers;
    let (path, alt) = (
        post.cover_image_path.as_ref()?,
        post.cover_image_alt.as_ref()?,
    );
    let url = Url::parse(&covers::cover_url(ctx, path)?).ok()?;
    Some(ImageAttachment {
        kind: kind.into(),
        media_type: covers::cover_media_type(path).into(),
        url,
        name: alt.clone(),
    })
}

/// A blog post as an `Article`, with its likes and boosts `counts`.
pub fn article(
    ctx: &AppContext,
    post: &DbPost,
    author: &DbActor,
    counts: Counts,
) -> AppResult<Article> {
    if post.is_announcement() {
        return Err(AppError::internal(
            "an announcement is a Note, not an Article",
        ));
    }
    let id = Url::parse(&post.ap_id)?;
    let attributed_to = Url::parse(&author.ap_id)?;
    let (to, cc) = audience_of(author, post)?;
    let summary = summary_text(post);
    let preview = Preview {
        kind: "Note".into(),
        attributed_to: attributed_to.clone(),
        content: format!(
            "<p><strong>{}</strong></p><p>{}</p>",
            escape_text(&post.title),
            escape_text(&summary)
        ),
    };
    let published = post.published_at.unwrap_or(post.created_at);
    let (likes, shares) = CountCollection::pair(&post.ap_id, counts)?;
    let replies = RepliesCollection::of(&post.ap_id, counts)?;
    Ok(Article {
        kind: "Article".into(),
        url: Url::parse(&crate::service::publishing::page_url(post))?,
        id,
        attributed_to,
        name: post.title.clone(),
        content: SafeHtml::from_trusted_storage(post.body_html.clone()).into_string(),
        media_type: "text/html".into(),
        summary: escape_text(&summary),
        preview,
        source: Source {
            content: post.body_markdown.clone(),
            media_type: "text/markdown".into(),
        },
        published,
        updated: (post.updated_at > published).then_some(post.updated_at),
        to,
        cc,
        tag: hashtags(ctx, post)
            .into_iter()
            .chain(mention_tags(post))
            .collect(),
        image: cover_image(ctx, post, "Image"),
        attachment: cover_image(ctx, post, "Document").into_iter().collect(),
        sensitive: false,
        likes,
        shares,
        replies,
    })
}

/// `Tombstone` served (with 410) for a deleted post or announcement, and sent in `Delete`.
pub fn tombstone(post: &DbPost) -> Value {
    let former = if post.is_announcement() {
        "Note"
    } else {
        "Article"
    };
    serde_json::json!({
        "type": "Tombstone",
        "id": post.ap_id,
        "formerType": former,
        "deleted": post.deleted_at.unwrap_or(post.updated_at),
    })
}
