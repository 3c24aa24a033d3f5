//! Comments: one domain function per action, shared by the web form, the JSON API and the
//! inbox. A local member comments a post, an announcement or a comment (federated as
//! `Create(Note)` to the parent's author and audience), edits or deletes it; a remote reply
//! to something of ours becomes a comment; a public post of an actor our members follow is
//! kept as a remote post. Each action writes its rows (and its outbound event, or the
//! received-activity mark) in one transaction.

use crate::{
    context::{AppContext, Data},
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        comments::{CommentAuthor, CommentBody, DbComment, NewComment, NewRemoteComment},
        posts::{CATEGORY_ANNOUNCEMENT, CATEGORY_POST, DbPost, NewRemotePost, PostChanges},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::{SafeHtml, excerpt, plain_text},
    service::{
        accounts::is_moderator,
        forum,
        mentions::{self, Mention},
        notifications,
        outbound::{self, ForumRelayKind, OutboundEvent},
        publishing::{AnnouncementKind, MAX_HASHTAGS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, slugify},
    },
    urls::same_origin,
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use std::collections::{HashMap, HashSet};
use url::Url;

/// Longest comment, in characters of Markdown.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Deepest nesting shown; deeper replies are shown at this depth.
pub const MAX_DISPLAY_DEPTH: usize = 6;
/// Title length of a remote post that has no `name` (an excerpt of its text).
const REMOTE_TITLE_CHARS: usize = 80;

/// What a comment hangs under: the root post, and the comment replied to (if any).
#[derive(Debug, Clone)]
pub struct Parent {
    pub post: DbPost,
    pub comment: Option<DbComment>,
}

impl Parent {
    pub fn ap_id(&self) -> &str {
        match &self.comment {
            Some(c) => &c.ap_id,
            None => &self.post.ap_id,
        }
    }

    /// The actor whose post or comment this is.
    pub fn author_actor_id(&self) -> i64 {
        match &self.comment {
            Some(c) => c.author_actor_id,
            None => self.post.author_actor_id,
        }
    }

    /// Published, not deleted: it can be replied to and its thread shown.
    fn is_open(&self) -> bool {
        self.post.is_public() && self.comment.as_ref().is_none_or(|c| c.deleted_at.is_none())
    }
}

/// What `reference` names: an AP id of a post, announcement or comment we store (local or
/// remote), or one of our own page URLs (`/posts/{id}/{slug}`, `/comments/{id}`…).
pub async fn find_parent(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    reference: &str,
) -> AppResult<Option<Parent>> {
    let reference = reference.trim();
    if let Some(post) = db::posts::by_ap_id(conn, reference).await? {
        return Ok(Some(Parent {
            post,
            comment: None,
        }));
    }
    if let Some(comment) = db::comments::by_ap_id(conn, reference).await? {
        return with_root(conn, comment).await;
    }
    let Some(path) = reference.strip_prefix(ctx.urls.base()) else {
        return Ok(None);
    };
    let path = path.split(['#', '?']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (Some(first), Some(id)) = (
        segments.first(),
        segments.get(1).and_then(|s| s.parse::<i64>().ok()),
    ) else {
        return Ok(None);
    };
    match *first {
        "posts" | "announcements" => {
            let category = if *first == "posts" {
                CATEGORY_POST
            } else {
                CATEGORY_ANNOUNCEMENT
            };
            Ok(db::posts::by_id(conn, id)
                .await?
                .filter(|p| p.category == category)
                .map(|post| Parent {
                    post,
                    comment: None,
                }))
        }
        "comments" if segments.len() == 2 => match db::comments::by_id(conn, id).await? {
            Some(comment) => with_root(conn, comment).await,
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

async fn with_root(conn: &mut AsyncPgConnection, comment: DbComment) -> AppResult<Option<Parent>> {
    Ok(db::posts::by_id(conn, comment.post_id)
        .await?
        .map(|post| Parent {
            post,
            comment: Some(comment),
        }))
}

/// The Markdown as it will be stored, and its HTML; field errors on `body`.
fn check_body(body: &str) -> AppResult<(String, SafeHtml)> {
    let body = body.replace("\r\n", "\n");
    let body = body.trim();
    let mut errors = FieldErrors::default();
    if body.is_empty() {
        errors.add("body", "field.required");
    } else if body.chars().count() > MAX_COMMENT_CHARS {
        errors.add("body", "field.comment_body.too_long");
    }
    errors.into_result()?;
    Ok((body.to_string(), SafeHtml::from_markdown(body)))
}

/// The mentions stored with a comment.
pub fn stored_mentions(comment: &DbComment) -> Vec<Mention> {
    serde_json::from_value(comment.mentions.clone()).unwrap_or_default()
}

/// A local member replies to a post, an announcement or a comment (`target`: its AP id or
/// our page URL). Unknown, unpublished or deleted targets are 404. `@user@host` mentions are
/// linked, tagged and delivered to.
pub async fn comment(
    data: &Data,
    account: &DbAccount,
    target: &str,
    body: &str,
) -> AppResult<DbComment> {
    let ctx: &AppContext = data.app_data();
    crate::service::accounts::ensure_can_publish(ctx, account)?;
    let (markdown, html) = check_body(body)?;
    {
        // Checked before any WebFinger look-up: a bad target costs no network.
        let mut conn = ctx.conn().await?;
        find_parent(ctx, &mut conn, target)
            .await?
            .filter(Parent::is_open)
            .ok_or_else(AppError::not_found)?;
    }
    let (html, found) = mentions::resolve_and_link(data, html, &[]).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbComment, AppError, _>(async |conn| {
        let parent = find_parent(ctx, conn, target)
            .await?
            .filter(Parent::is_open)
            .ok_or_else(AppError::not_found)?;
        forum::ensure_open_for_replies(conn, &parent.post).await?;
        let author = db::actors::by_id(conn, account.actor_id).await?;
        let id = db::comments::next_id(conn).await?;
        let comment = db::comments::insert(
            conn,
            &NewComment {
                id,
                ap_id: ctx.urls.absolute(&format!("/comments/{id}")),
                post_id: parent.post.id,
                parent_id: parent.comment.as_ref().map(|c| c.id),
                in_reply_to: parent.ap_id().to_string(),
                author_actor_id: author.id,
                account_id: Some(account.id),
                body_markdown: Some(markdown),
                body_html: html.into_string(),
                url: None,
                published_at: Utc::now(),
                content_warning: None,
                mentions: mentions::to_json(&found),
            },
        )
        .await?
        .ok_or_else(|| AppError::internal("comment id taken"))?;
        let event = OutboundEvent::CommentCreated {
            comment: Box::new(comment.clone()),
            author: Box::new(author),
        };
        outbound::record(ctx, conn, event).await?;
        let mentioned: Vec<String> = found.iter().map(|m| m.href.clone()).collect();
        notifications::events::comment_written(ctx, conn, &comment, &mentioned).await?;
        forum::threads::reply_stored(ctx, conn, &comment, None).await?;
        Ok(comment)
    })
    .await
}

/// Only its author edits a comment.
pub fn can_edit(account: &DbAccount, comment: &DbComment) -> bool {
    account.suspended_at.is_none() && comment.account_id == Some(account.id)
}

/// Its author, or a moderator or admin, deletes a comment.
pub fn can_delete(account: &DbAccount, comment: &DbComment) -> bool {
    account.suspended_at.is_none()
        && (comment.account_id == Some(account.id) || is_moderator(account))
}

fn not_yours() -> AppError {
    AppError::forbidden("this is someone else's comment").with_message("comments.not_yours")
}

/// A local comment its author may edit: 404 when missing or deleted, 403 when not theirs.
pub async fn editable(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<DbComment> {
    let mut conn = ctx.conn().await?;
    let comment = db::comments::by_id(&mut conn, id)
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if !can_edit(account, &comment) {
        return Err(not_yours());
    }
    Ok(comment)
}

/// Edits a local comment (federated as `Update(Note)`, to the mentioned actors too).
pub async fn edit_comment(
    data: &Data,
    account: &DbAccount,
    id: i64,
    body: &str,
) -> AppResult<DbComment> {
    let ctx: &AppContext = data.app_data();
    // Checked without a lock first: the mention look-ups (network) happen outside the
    // transaction, which checks again.
    let before = editable(ctx, account, id).await?;
    let (markdown, html) = check_body(body)?;
    let known = stored_mentions(&before);
    let (html, found) = if before.body_markdown.as_deref() == Some(markdown.as_str()) {
        // Same text: the same mentions, no look-up.
        let linked = mentions::link_html(&html, &known, &ctx.config.domain());
        (linked, known)
    } else {
        mentions::resolve_and_link(data, html, &known).await?
    };
    let found = mentions::to_json(&found);
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbComment, AppError, _>(async |conn| {
        let comment = db::comments::by_id_for_update(conn, id)
            .await?
            .filter(|c| c.deleted_at.is_none())
            .ok_or_else(AppError::not_found)?;
        if !can_edit(account, &comment) {
            return Err(not_yours());
        }
        let updated = db::comments::update_body(
            conn,
            id,
            &CommentBody {
                body_markdown: Some(&markdown),
                body_html: html.as_str(),
                content_warning: comment.content_warning.as_deref(),
                mentions: &found,
                updated_at: Utc::now(),
            },
        )
        .await?;
        let author = db::actors::by_id(conn, updated.author_actor_id).await?;
        let event = OutboundEvent::CommentUpdated {
            comment: Box::new(updated.clone()),
            author: Box::new(author),
            previously_mentioned: stored_mentions(&comment),
        };
        outbound::record(ctx, conn, event).await?;
        // Only members newly mentioned hear of it: the others were told already.
        let mentioned: Vec<String> = stored_mentions(&updated)
            .into_iter()
            .map(|m| m.href)
            .collect();
        notifications::events::comment_written(ctx, conn, &updated, &mentioned).await?;
        Ok(updated)
    })
    .await
}

/// Deletes a comment: by its author, or by a moderator. A local comment is federated as
/// `Delete` of a Tombstone (signed by its author); its id answers 410 from then on.
pub async fn delete_comment(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
) -> AppResult<DbComment> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbComment, AppError, _>(async |conn| {
        let comment = db::comments::by_id_for_update(conn, id)
            .await?
            .filter(|c| c.deleted_at.is_none())
            .ok_or_else(AppError::not_found)?;
        if !can_delete(account, &comment) {
            return Err(not_yours());
        }
        remove(ctx, conn, comment).await
    })
    .await
}

/// Removes `comment` in the caller's transaction: the one deletion, by its author or a
/// moderator ([`delete_comment`]) or by a moderator's decision on a report
/// (`service::moderation::resolve`). A local comment records `CommentDeleted` so `Delete`
/// federates; a remote one is only marked deleted here.
pub async fn remove(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    mut comment: DbComment,
) -> AppResult<DbComment> {
    let now = Utc::now();
    db::comments::mark_deleted(conn, comment.id, now).await?;
    comment.deleted_at = Some(now);
    let author = db::actors::by_id(conn, comment.author_actor_id).await?;
    if !author.local {
        // A moderator removed a remote comment here; its server is not ours to tell.
        return Ok(comment);
    }
    let event = OutboundEvent::CommentDeleted {
        comment: Box::new(comment.clone()),
        author: Box::new(author),
    };
    outbound::record(ctx, conn, event).await?;
    Ok(comment)
}

// ---------------------------------------------------------------------------------------------
// Inbound

/// A remote Note/Article/Page, as the federation layer read it from the activity: what is kept
/// of it, nothing checked yet beyond its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingNote {
    pub id: Url,
    /// Its ActivityStreams type (`Note`, `Article`, `Page`…).
    pub kind: String,
    pub attributed_to: Option<Url>,
    pub in_reply_to: Option<Url>,
    /// Plain-text title (Articles); empty when none.
    pub name: String,
    /// Plain text; a content warning on Mastodon Notes, an abstract on Articles.
    pub summary: String,
    /// The content warning of a Note (its non-empty `summary`), as plain text.
    pub content_warning: Option<String>,
    /// Untrusted HTML: sanitise before storing.
    pub content: String,
    pub url: Option<Url>,
    pub published: Option<DateTime<Utc>>,
    /// Addressed to `as:Public` (any spelling), in `to` or `cc`.
    pub public: bool,
    /// Hashtags, without `#`.
    pub hashtags: Vec<String>,
    /// The actors its `Mention` tags name (their ids).
    pub mentioned: Vec<Url>,
}

/// The actor ids a Note mentions, as strings.
fn mentioned_ids(note: &IncomingNote) -> Vec<String> {
    note.mentioned.iter().map(Url::to_string).collect()
}

/// The object is the actor's own: its id on the actor's origin and, when it names one, its
/// `attributedTo` the actor.
pub fn check_author(note: &IncomingNote, actor: &DbActor) -> AppResult<()> {
    let actor_url = Url::parse(&actor.ap_id)?;
    if !same_origin(&note.id, &actor_url) {
        return Err(AppError::bad_request(format!(
            "object {} is not on the origin of its actor {actor_url}",
            note.id
        )));
    }
    if let Some(author) = &note.attributed_to
        && author != &actor_url
    {
        return Err(AppError::bad_request(format!(
            "object {} is attributed to {author}, not to the actor {actor_url}",
            note.id
        )));
    }
    Ok(())
}

/// Sanitised HTML of an inbound object, `None` when nothing would be left to show.
fn clean_content(note: &IncomingNote) -> Option<SafeHtml> {
    clean_html(&note.content)
}

fn clean_html(content: &str) -> Option<SafeHtml> {
    let html = SafeHtml::clean(content);
    (!plain_text(html.as_str()).is_empty()).then_some(html)
}

/// [`clean_content`] on the blocking pool: ammonia takes a fraction of a millisecond per
/// kilobyte, which would otherwise stall the async workers serving other requests.
async fn clean_content_off_thread(note: &IncomingNote) -> AppResult<Option<SafeHtml>> {
    let content = note.content.clone();
    tokio::task::spawn_blocking(move || clean_html(&content))
        .await
        .map_err(|e| AppError::internal(format!("sanitising task: {e}")))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Title, summary, kind and hashtags of a remote post.
struct RemoteFields {
    title: String,
    summary: String,
    hashtags: Vec<String>,
    kind: Option<AnnouncementKind>,
}

fn remote_fields(note: &IncomingNote, html: &SafeHtml) -> RemoteFields {
    let name = one_line(&note.name);
    // A Note behind a content warning is titled by its warning: its text stays folded.
    let title = if !name.is_empty() {
        excerpt(&name, MAX_TITLE_CHARS)
    } else if let Some(cw) = &note.content_warning {
        excerpt(cw, REMOTE_TITLE_CHARS)
    } else {
        excerpt(&plain_text(html.as_str()), REMOTE_TITLE_CHARS)
    };
    // On a Note, `summary` is a content warning, not an abstract: where an excerpt of the body
    // would be shown (lists, feeds, link previews), the warning is, so the text stays folded.
    let summary = if note.kind == "Note" {
        note.content_warning.clone().unwrap_or_default()
    } else {
        excerpt(
            &plain_text(SafeHtml::clean(&note.summary).as_str()),
            MAX_SUMMARY_CHARS,
        )
    };
    let kind = note.hashtags.iter().find_map(|tag| {
        AnnouncementKind::ALL
            .into_iter()
            .find(|k| k.hashtag().eq_ignore_ascii_case(tag))
    });
    RemoteFields {
        title,
        summary,
        hashtags: note.hashtags.iter().take(MAX_HASHTAGS).cloned().collect(),
        kind,
    }
}

/// Inbound `Create` of a public Note/Article/Page by `actor` (the federation layer passes only
/// objects of those types). A reply to something we store becomes a comment; a public post of
/// an actor a local member follows becomes a remote post; anything else (replies to unknown
/// objects included) is accepted and ignored. Replays (same activity, or the same object
/// again) store nothing more.
pub async fn receive_note(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
    note: &IncomingNote,
) -> AppResult<()> {
    receive_note_relayed(ctx, activity_id, actor, note, false).await
}

/// [`receive_note`], for a `Create` a remote `Group` our members follow announced
/// (`via_followed_group`): a public post is then kept although nobody here follows its
/// author — the members follow the group it was posted in.
pub async fn receive_note_relayed(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
    note: &IncomingNote,
    via_followed_group: bool,
) -> AppResult<()> {
    check_author(note, actor)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        // Followers-only and direct Notes are not ours to show on public pages.
        if !note.public {
            return Ok(());
        }
        let now = Utc::now();
        let published = note.published.filter(|p| *p < now).unwrap_or(now);
        match &note.in_reply_to {
            Some(in_reply_to) => {
                // A reply: its parent (one query for a reply to a post), then the comment,
                // whose unique AP id makes a Note already stored a no-op.
                let Some(parent) = find_parent(ctx, conn, in_reply_to.as_str()).await? else {
                    return Ok(());
                };
                // A forum thread says why it takes no reply (locked, deleted); anything
                // else closed is ignored.
                forum::ensure_open_for_replies(conn, &parent.post).await?;
                if !parent.is_open() {
                    return Ok(());
                }
                let Some(html) = clean_content_off_thread(note).await? else {
                    return Ok(());
                };
                let inserted = db::comments::insert_remote(
                    conn,
                    &NewRemoteComment {
                        ap_id: note.id.to_string(),
                        post_id: parent.post.id,
                        parent_id: parent.comment.as_ref().map(|c| c.id),
                        in_reply_to: parent.ap_id().to_string(),
                        author_actor_id: actor.id,
                        body_html: html.into_string(),
                        url: note.url.as_ref().map(Url::to_string),
                        published_at: published,
                        content_warning: note.content_warning.clone(),
                        mentions: serde_json::Value::Array(Vec::new()),
                    },
                )
                .await?;
                if let Some(id) = inserted
                    && let Some(comment) = db::comments::by_id(conn, id).await?
                {
                    notifications::events::comment_written(
                        ctx,
                        conn,
                        &comment,
                        &mentioned_ids(note),
                    )
                    .await?;
                    forum::threads::reply_stored(
                        ctx,
                        conn,
                        &comment,
                        Some((activity_id.as_str(), actor)),
                    )
                    .await?;
                }
            }
            None => {
                // Kept when a member follows its author, or when it mentions a member (who
                // is told, and whose notification links to it).
                let mentioned = mentioned_ids(note);
                if db::comments::by_ap_id(conn, note.id.as_str())
                    .await?
                    .is_some()
                    || db::posts::by_ap_id(conn, note.id.as_str()).await?.is_some()
                    || (!via_followed_group
                        && !db::comments::followed_locally(conn, actor.id).await?
                        && !notifications::events::mentions_member(conn, &mentioned).await?)
                {
                    return Ok(());
                }
                let Some(html) = clean_content_off_thread(note).await? else {
                    return Ok(());
                };
                let fields = remote_fields(note, &html);
                let id = db::posts::next_id(conn).await?;
                db::posts::insert_remote(
                    conn,
                    &NewRemotePost {
                        id,
                        category: if fields.kind.is_some() {
                            CATEGORY_ANNOUNCEMENT
                        } else {
                            CATEGORY_POST
                        }
                        .into(),
                        ap_id: note.id.to_string(),
                        author_actor_id: actor.id,
                        slug: slugify(&fields.title),
                        title: fields.title,
                        summary: fields.summary,
                        body_markdown: String::new(),
                        body_html: html.into_string(),
                        hashtags: fields.hashtags,
                        kind: fields.kind.map(|k| k.as_str().to_string()),
                        published_at: Some(published),
                        local: false,
                        url: note.url.as_ref().map(Url::to_string),
                        content_warning: note.content_warning.clone(),
                    },
                )
                .await?;
                if let Some(post) = db::posts::by_id(conn, id).await? {
                    notifications::events::post_written(ctx, conn, &post, &mentioned).await?;
                }
            }
        }
        Ok(())
    })
    .await
}

/// Inbound `Update` of a Note/Article we keep: applied when `actor` wrote it, refused (403)
/// otherwise; unknown or deleted objects are ignored.
pub async fn receive_update(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
    note: &IncomingNote,
) -> AppResult<()> {
    check_author(note, actor)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        let Some(html) = clean_content(note) else {
            return Ok(());
        };
        let now = Utc::now();
        if let Some(comment) = db::comments::by_ap_id(conn, note.id.as_str()).await? {
            if comment.author_actor_id != actor.id {
                return Err(AppError::forbidden("only its author may update a comment"));
            }
            if comment.deleted_at.is_none() {
                let updated = db::comments::update_body(
                    conn,
                    comment.id,
                    &CommentBody {
                        body_markdown: None,
                        body_html: html.as_str(),
                        content_warning: note.content_warning.as_deref(),
                        mentions: &comment.mentions,
                        updated_at: now,
                    },
                )
                .await?;
                // Members newly mentioned by the edit hear of it; nobody twice.
                notifications::events::comment_written(ctx, conn, &updated, &mentioned_ids(note))
                    .await?;
                forum::threads::relay_if_thread(
                    ctx,
                    conn,
                    comment.post_id,
                    ForumRelayKind::Update,
                    activity_id.as_str(),
                    actor,
                    &comment.ap_id,
                )
                .await?;
            }
        } else if let Some(post) = db::posts::by_ap_id(conn, note.id.as_str()).await? {
            if post.local || post.author_actor_id != actor.id {
                return Err(AppError::forbidden("only its author may update a post"));
            }
            if post.deleted_at.is_none() {
                let fields = remote_fields(note, &html);
                db::posts::update(
                    conn,
                    post.id,
                    &PostChanges {
                        slug: slugify(&fields.title),
                        title: fields.title,
                        summary: fields.summary,
                        body_markdown: String::new(),
                        body_html: html.into_string(),
                        hashtags: fields.hashtags,
                        // The category cannot change: the kind stays what it was.
                        kind: post.kind.clone(),
                        deadline: None,
                        disciplines: Vec::new(),
                        commune: String::new(),
                        commune_code: None,
                        updated_at: now,
                    },
                )
                .await?;
                db::posts::set_content_warning(conn, post.id, note.content_warning.as_deref())
                    .await?;
                forum::threads::relay_if_thread(
                    ctx,
                    conn,
                    post.id,
                    ForumRelayKind::Update,
                    activity_id.as_str(),
                    actor,
                    &post.ap_id,
                )
                .await?;
            }
        }
        Ok(())
    })
    .await
}

/// Inbound `Delete` of an object (its id, or a Tombstone): a comment or remote post we keep
/// is marked deleted when `actor` wrote it; someone else's is refused (403).
pub async fn receive_delete(
    ctx: &AppContext,
    activity_id: &Url,
    actor: &DbActor,
    object_id: &Url,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id.as_str()).await? {
            return Ok(());
        }
        let now = Utc::now();
        if let Some(comment) = db::comments::by_ap_id(conn, object_id.as_str()).await? {
            if comment.author_actor_id != actor.id {
                return Err(AppError::forbidden("only its author may delete a comment"));
            }
            if comment.deleted_at.is_none() {
                db::comments::mark_deleted(conn, comment.id, now).await?;
                forum::threads::relay_if_thread(
                    ctx,
                    conn,
                    comment.post_id,
                    ForumRelayKind::Delete,
                    activity_id.as_str(),
                    actor,
                    &comment.ap_id,
                )
                .await?;
            }
        } else if let Some(post) = db::posts::by_ap_id(conn, object_id.as_str()).await? {
            if post.local || post.author_actor_id != actor.id {
                return Err(AppError::forbidden("only its author may delete a post"));
            }
            if post.deleted_at.is_none() {
                db::posts::mark_deleted(conn, post.id, now).await?;
                forum::threads::relay_if_thread(
                    ctx,
                    conn,
                    post.id,
                    ForumRelayKind::Delete,
                    activity_id.as_str(),
                    actor,
                    &post.ap_id,
                )
                .await?;
            }
        }
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Reading

/// One comment of a thread, in display order.
#[derive(Debug, Clone)]
pub struct ThreadItem {
    pub comment: DbComment,
    pub author: CommentAuthor,
    /// 0 for a direct reply to the post, capped at [`MAX_DISPLAY_DEPTH`].
    pub depth: usize,
    /// The page (from 1) of the post's page that shows it.
    pub page: usize,
}

/// Comments per page, on a post's page and in `GET /api/v1/comments`. A page holds whole
/// threads (a direct reply to the post and everything below it): it closes before the thread
/// that would take it past this many comments, and a longer thread fills a page alone.
pub const PAGE_COMMENTS: usize = 200;

/// One thread: a direct reply to the post and every comment below it.
#[derive(Debug, Clone, PartialEq)]
struct ThreadSpan {
    root: i64,
    /// Every comment of the thread (deleted ones too), depth first.
    ids: Vec<i64>,
    /// Comments not deleted.
    visible: usize,
}

/// The shape of the threads under a post, from ids alone: how they fall into pages.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    /// Threads with something to show, oldest root first.
    threads: Vec<ThreadSpan>,
    /// The thread (index in `threads`) of each comment shown.
    thread_of: HashMap<i64, usize>,
    /// The pages of the post's page, as ranges of threads (at least one, maybe empty).
    pages: Vec<std::ops::Range<usize>>,
}

impl Outline {
    /// From `(id, parent_id, deleted)` rows, oldest first. A comment whose parent is not
    /// among them starts a thread, like a direct reply.
    fn build(rows: &[(i64, Option<i64>, bool)]) -> Outline {
        let known: HashSet<i64> = rows.iter().map(|(id, _, _)| *id).collect();
        let deleted: HashSet<i64> = rows.iter().filter(|r| r.2).map(|r| r.0).collect();
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut roots = Vec::new();
        for (id, parent, _) in rows {
            match parent.filter(|p| known.contains(p)) {
                Some(p) => children.entry(p).or_default().push(*id),
                None => roots.push(*id),
            }
        }
        let mut outline = Outline::default();
        let mut seen = HashSet::new();
        for root in roots {
            // Depth first without recursion (a hostile thread may be deep).
            let mut ids = Vec::new();
            let mut stack = vec![root];
            while let Some(id) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                ids.push(id);
                if let Some(kids) = children.get(&id) {
                    stack.extend(kids.iter().rev());
                }
            }
            let visible = ids.iter().filter(|id| !deleted.contains(id)).count();
            if visible == 0 {
                continue;
            }
            for id in &ids {
                outline.thread_of.insert(*id, outline.threads.len());
            }
            outline.threads.push(ThreadSpan { root, ids, visible });
        }
        let mut start = 0;
        while start < outline.threads.len() {
            let end = outline.page_end(start);
            outline.pages.push(start..end);
            start = end;
        }
        if outline.pages.is_empty() {
            outline.pages.push(0..0);
        }
        outline
    }

    /// Comments shown under the post, on every page (deleted ones not counted).
    pub fn total(&self) -> usize {
        self.threads.iter().map(|t| t.visible).sum()
    }

    /// Where the page that starts at thread `start` ends (exclusive).
    fn page_end(&self, start: usize) -> usize {
        let mut end = start;
        let mut filled = 0;
        while let Some(thread) = self.threads.get(end) {
            if end > start && filled + thread.visible > PAGE_COMMENTS {
                break;
            }
            filled += thread.visible;
            end += 1;
        }
        end
    }

    /// The page (from 1) that shows thread `index`.
    fn page_of_thread(&self, index: usize) -> usize {
        // Pages are consecutive ranges in thread order.
        self.pages.partition_point(|p| p.end <= index) + 1
    }

    /// The page (from 1) of the post's page that shows comment `id`, if it is shown.
    pub fn page_of(&self, id: i64) -> Option<usize> {
        self.thread_of
            .get(&id)
            .map(|index| self.page_of_thread(*index))
    }

    fn ids(&self, threads: std::ops::Range<usize>) -> Vec<i64> {
        self.threads
            .get(threads)
            .unwrap_or_default()
            .iter()
            .flat_map(|t| t.ids.iter().copied())
            .collect()
    }
}

/// One page of the comments under a post: whole threads, in display order.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    pub items: Vec<ThreadItem>,
    /// Comments shown under the post on all its pages (deleted ones not counted).
    pub total: usize,
    /// This page's number, from 1.
    pub page: usize,
    pub pages: usize,
    /// Where the next page starts, for the API (`None` on the last page).
    pub next_cursor: Option<String>,
}

/// The shape of the threads under `post` (one light query).
pub async fn outline(conn: &mut AsyncPgConnection, post: &DbPost) -> AppResult<Outline> {
    Ok(Outline::build(&db::comments::outline(conn, post.id).await?))
}

/// The comments of the threads `range` of `outline`, in display order.
async fn load_threads(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    outline: &Outline,
    range: std::ops::Range<usize>,
) -> AppResult<Vec<ThreadItem>> {
    let ids = outline.ids(range);
    let rows = db::comments::thread_rows(conn, post.id, &ids).await?;
    let mut items = order_thread(rows);
    for item in &mut items {
        item.page = outline.page_of(item.comment.id).unwrap_or(1);
    }
    Ok(items)
}

/// Page `page` (from 1; past the last page, the last one) of the comments under `post`,
/// depth-first in reply order. Deleted comments stay (shown as "commentaire supprimé") only
/// when a reply below them is still there.
pub async fn thread_page(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    page: usize,
) -> AppResult<ThreadPage> {
    let outline = outline(conn, post).await?;
    let page = page.clamp(1, outline.pages.len());
    let range = outline.pages.get(page - 1).cloned().unwrap_or(0..0);
    let next_cursor = outline.threads.get(range.end).map(|t| t.root.to_string());
    let items = load_threads(conn, post, &outline, range).await?;
    Ok(ThreadPage {
        items,
        total: outline.total(),
        page,
        pages: outline.pages.len(),
        next_cursor,
    })
}

/// The page (from 1) of its post's page that shows comment `comment_id` (1 when it is not
/// shown).
pub async fn page_of(
    conn: &mut AsyncPgConnection,
    post: &DbPost,
    comment_id: i64,
) -> AppResult<usize> {
    Ok(outline(conn, post).await?.page_of(comment_id).unwrap_or(1))
}

fn order_thread(rows: Vec<(DbComment, CommentAuthor)>) -> Vec<ThreadItem> {
    let index: HashMap<i64, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (c.id, i))
        .collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, (c, _)) in rows.iter().enumerate() {
        let parent = c.parent_id.and_then(|p| index.get(&p).copied());
        children.entry(parent).or_default().push(i);
    }
    // Depth-first preorder without recursion (a hostile thread may be deep).
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    let mut visited = vec![false; rows.len()];
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut visited[i], true) {
            continue;
        }
        order.push((i, depth));
        if let Some(kids) = children.get(&Some(i)) {
            for &k in kids.iter().rev() {
                stack.push((k, depth + 1));
            }
        }
    }
    // A deleted comment is kept when something below it is (children come after parents in
    // preorder, so a reverse pass sees them first).
    let mut keep = vec![false; rows.len()];
    for &(i, _) in order.iter().rev() {
        let visible_child = children
            .get(&Some(i))
            .is_some_and(|kids| kids.iter().any(|&k| keep[k]));
        keep[i] = rows[i].0.deleted_at.is_none() || visible_child;
    }
    let mut slots: Vec<Option<(DbComment, CommentAuthor)>> = rows.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter(|(i, _)| keep[*i])
        .filter_map(|(i, depth)| {
            slots[i].take().map(|(comment, author)| ThreadItem {
                comment,
                author,
                depth: depth.min(MAX_DISPLAY_DEPTH),
                page: 1,
            })
        })
        .collect()
}

/// The page of comments under the post or announcement `object` names (AP id or our page
/// URL) that starts at `cursor` (a `next_cursor` given before; none: the first page), for
/// the API; `404` when it names nothing public, 422 naming `cursor` when it is not one.
pub async fn comments_of(
    ctx: &AppContext,
    object: &str,
    cursor: Option<&str>,
) -> AppResult<(DbPost, ThreadPage)> {
    let cursor = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::field("cursor", "field.cursor.invalid"))?,
        ),
    };
    let mut conn = ctx.conn().await?;
    let parent = find_parent(ctx, &mut conn, object)
        .await?
        .filter(|p| p.comment.is_none())
        .ok_or_else(AppError::not_found)?;
    if !parent.post.is_public() {
        return Err(if parent.post.deleted_at.is_some() {
            AppError::new(ErrorKind::Gone, "this was deleted")
        } else {
            AppError::not_found()
        });
    }
    let post = parent.post;
    let outline = outline(&mut conn, &post).await?;
    // The cursor is the root of the page's first thread: the page starts there, or at the
    // next thread when that one has gone since.
    let start = match cursor {
        None => 0,
        Some(root) => outline.threads.partition_point(|t| t.root < root),
    };
    let end = outline.page_end(start);
    let next_cursor = outline.threads.get(end).map(|t| t.root.to_string());
    let items = load_threads(&mut conn, &post, &outline, start..end).await?;
    let found = ThreadPage {
        items,
        total: outline.total(),
        page: outline.page_of_thread(start).min(outline.pages.len()),
        pages: outline.pages.len(),
        next_cursor,
    };
    Ok((post, found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn row(id: i64, parent: Option<i64>, deleted: bool) -> (DbComment, CommentAuthor) {
        let at = DateTime::from_timestamp(1_700_000_000 + id, 0).expect("date");
        (
            DbComment {
                id,
                ap_id: format!("https://a.example/c/{id}"),
                post_id: 1,
                parent_id: parent,
                in_reply_to: String::new(),
                author_actor_id: 1,
                account_id: None,
                body_markdown: None,
                body_html: String::new(),
                url: None,
                published_at: at,
                updated_at: at,
                deleted_at: deleted.then_some(at),
                content_warning: None,
                mentions: serde_json::Value::Array(Vec::new()),
                hidden_at: None,
            },
            CommentAuthor {
                id: 1,
                ap_id: "https://a.example/u/x".into(),
                username: "x".into(),
                domain: "a.example".into(),
                local: false,
                name: "X".into(),
                icon_url: None,
                url: None,
            },
        )
    }

    #[test]
    fn threads_are_depth_first_and_deleted_leaves_vanish() {
        let rows = vec![
            row(1, None, false),
            row(2, None, true),
            row(3, Some(1), false),
            row(4, Some(2), false),
            row(5, None, true),
            row(6, Some(3), false),
            row(7, Some(5), true),
        ];
        let order: Vec<(i64, usize)> = order_thread(rows)
            .iter()
            .map(|t| (t.comment.id, t.depth))
            .collect();
        assert_eq!(order, vec![(1, 0), (3, 1), (6, 2), (2, 0), (4, 1)]);
    }

    #[test]
    fn pages_hold_whole_threads() {
        // Roots 1..=3 of 150, 100 and 80 comments, a root with a reply that is all deleted,
        // then 30 single-comment threads.
        let mut rows = Vec::new();
        let mut next = 1;
        let mut thread = |rows: &mut Vec<(i64, Option<i64>, bool)>, size: usize, deleted| {
            let root = next;
            for i in 0..size {
                rows.push((next, (i > 0).then_some(root), deleted));
                next += 1;
            }
            root
        };
        let a = thread(&mut rows, 150, false);
        let b = thread(&mut rows, 100, false);
        let c = thread(&mut rows, PAGE_COMMENTS + 80, false);
        let gone = thread(&mut rows, 2, true);
        let singles: Vec<i64> = (0..30).map(|_| thread(&mut rows, 1, false)).collect();
        let outline = Outline::build(&rows);
        assert_eq!(outline.total(), 150 + 100 + PAGE_COMMENTS + 80 + 30);
        // 150 then 100 would pass 200: b starts page 2; c is longer than a page: alone.
        assert_eq!(outline.pages, vec![0..1, 1..2, 2..3, 3..33]);
        assert_eq!(outline.page_of(a), Some(1));
        assert_eq!(outline.page_of(a + 149), Some(1));
        assert_eq!(outline.page_of(b + 5), Some(2));
        assert_eq!(outline.page_of(c + 200), Some(3));
        assert_eq!(
            outline.page_of(gone),
            None,
            "an all-deleted thread is not shown"
        );
        assert_eq!(outline.page_of(singles[29]), Some(4));
        assert_eq!(Outline::build(&[]).pages, vec![0..0]);
    }

    #[test]
    fn depth_is_capped() {
        let rows: Vec<_> = (1..=20)
            .map(|i| row(i, (i > 1).then_some(i - 1), false))
            .collect();
        let items = order_thread(rows);
        assert_eq!(items.len(), 20);
        assert_eq!(items[19].depth, MAX_DISPLAY_DEPTH);
    }

    #[test]
    fn body_rules() {
        let e = check_body("   ").expect_err("empty");
        assert_eq!(e.fields[0].field, "body");
        let e = check_body(&"x".repeat(MAX_COMMENT_CHARS + 1)).expect_err("long");
        assert_eq!(e.fields[0].message_key, "field.comment_body.too_long");
        let (md, html) = check_body("Bravo <script>x</script>").expect("ok");
        assert_eq!(md, "Bravo <script>x</script>");
        assert!(!html.as_str().contains("<script"));
    }
}
