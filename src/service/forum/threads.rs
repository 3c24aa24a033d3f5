//! Threads: started by a member here or by a remote actor (a Lemmy `Page` addressed to the
//! category, or a Mastodon `Note` that mentions it), edited and deleted by their author,
//! locked, pinned, moved and deleted by the category's moderators. Replies are comments
//! (`service::comments`), which call [`reply_stored`] once a reply to a thread is written.

use super::{MAX_BODY_CHARS, MAX_TITLE_CHARS, THREADS_PER_PAGE, require_moderator};
use crate::{
    context::{AppContext, Data},
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        comments::DbComment,
        forum::{DbCategory, DbThread, Followed, ListedThread},
        posts::{CATEGORY_THREAD, DbPost, NewPost, NewRemotePost, PostChanges, PostExtras},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::{SafeHtml, excerpt, plain_text},
    service::{
        accounts::ensure_can_publish,
        comments::IncomingNote,
        mentions, notifications,
        outbound::{self, ForumRelayKind, OutboundEvent},
        publishing::slugify,
    },
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use std::collections::HashMap;

/// Characters of the body kept as a thread's summary (lists, the `Page`'s `summary`).
const SUMMARY_CHARS: usize = 280;

/// A thread as typed (form or API).
#[derive(Debug, Clone, Default)]
pub struct ThreadInput {
    pub title: String,
    /// Markdown.
    pub body: String,
}

struct Checked {
    title: String,
    body: String,
    html: SafeHtml,
}

fn check(input: &ThreadInput) -> AppResult<Checked> {
    let mut errors = FieldErrors::default();
    let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        errors.add("title", "forum.field.title_required");
    } else if title.chars().count() > MAX_TITLE_CHARS {
        errors.add("title", "forum.field.title_too_long");
    }
    let body = input.body.replace("\r\n", "\n").trim().to_string();
    if body.is_empty() {
        errors.add("body", "forum.field.body_required");
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", "forum.field.body_too_long");
    }
    errors.into_result()?;
    let html = SafeHtml::from_markdown(&body);
    Ok(Checked { title, body, html })
}

fn summary_of(html: &str) -> String {
    excerpt(&plain_text(html), SUMMARY_CHARS)
}

/// The category of `slug`, 404 when unknown.
async fn category(conn: &mut AsyncPgConnection, slug: &str) -> AppResult<DbCategory> {
    db::forum::category_by_slug(conn, slug)
        .await?
        .ok_or_else(AppError::not_found)
}

/// A member starts a thread in the category `slug`: the `Page` is public at once (moderation
/// comes after publication), its author follows it, the category's followers here are told
/// and the category announces it to its followers on other servers.
pub async fn start(
    data: &Data,
    account: &DbAccount,
    slug: &str,
    input: ThreadInput,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    ensure_can_publish(ctx, account)?;
    let checked = check(&input)?;
    {
        let mut conn = ctx.conn().await?;
        category(&mut conn, slug).await?;
    }
    // Mentions are looked up (network) before the transaction.
    let (html, found) = mentions::resolve_and_link(data, checked.html.clone(), &[]).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbPost, AppError, _>(async |conn| {
        let category = category(conn, slug).await?;
        let author = db::actors::by_id(conn, account.actor_id).await?;
        let id = db::posts::next_id(conn).await?;
        let now = Utc::now();
        let html = html.into_string();
        let post = db::posts::insert(
            conn,
            &NewPost {
                id,
                category: CATEGORY_THREAD.into(),
                ap_id: ctx.urls.forum_thread(id),
                author_actor_id: author.id,
                account_id: Some(account.id),
                as_page: false,
                slug: slugify(&checked.title),
                title: checked.title.clone(),
                summary: summary_of(&html),
                body_markdown: checked.body.clone(),
                body_html: html,
                hashtags: Vec::new(),
                kind: None,
                deadline: None,
                disciplines: Vec::new(),
                commune: String::new(),
                commune_code: None,
                draft: false,
                published_at: Some(now),
            },
        )
        .await?;
        let post = db::posts::set_extras(
            conn,
            post.id,
            &PostExtras {
                cover_image_path: None,
                cover_image_alt: None,
                mentions: mentions::to_json(&found),
            },
        )
        .await?;
        db::forum::insert_thread(conn, &post, category.id).await?;
        db::forum::subscribe(conn, account.id, Followed::Thread(post.id)).await?;
        db::forum::mark_read(conn, account.id, post.id, now).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::PostPublished {
                post: Box::new(post.clone()),
                author: Box::new(author),
            },
        )
        .await?;
        let mentioned: Vec<String> = found.iter().map(|m| m.href.clone()).collect();
        notifications::events::post_written(ctx, conn, &post, &mentioned).await?;
        notifications::events::forum_thread_started(ctx, conn, &post, category.id).await?;
        Ok(post)
    })
    .await
}

/// A thread the viewer may act on: 404 when it is not a live thread.
pub async fn live_thread(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> AppResult<(DbPost, DbThread, DbCategory)> {
    let (post, thread) = db::forum::thread_with_post(conn, post_id)
        .await?
        .filter(|(p, _)| p.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let category = db::forum::category_by_id(conn, thread.category_id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its category"))?;
    Ok((post, thread, category))
}

/// Its author changes a thread's title and body (an `Update` of the `Page`, announced by the
/// category). Someone else: 403.
pub async fn edit(
    data: &Data,
    account: &DbAccount,
    post_id: i64,
    input: ThreadInput,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    ensure_can_publish(ctx, account)?;
    let checked = check(&input)?;
    let known = {
        let mut conn = ctx.conn().await?;
        let (post, _, _) = live_thread(&mut conn, post_id).await?;
        if post.account_id != Some(account.id) {
            return Err(not_yours());
        }
        mentions::stored(&post)
    };
    let (html, found) = mentions::resolve_and_link(data, checked.html.clone(), &known).await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbPost, AppError, _>(async |conn| {
        let post = db::posts::by_id_for_update(conn, post_id)
            .await?
            .filter(|p| p.deleted_at.is_none() && p.category == CATEGORY_THREAD)
            .ok_or_else(AppError::not_found)?;
        if post.account_id != Some(account.id) {
            return Err(not_yours());
        }
        let html = html.into_string();
        let post = db::posts::update(
            conn,
            post.id,
            &PostChanges {
                slug: slugify(&checked.title),
                title: checked.title.clone(),
                summary: summary_of(&html),
                body_markdown: checked.body.clone(),
                body_html: html,
                hashtags: Vec::new(),
                kind: None,
                deadline: None,
                disciplines: Vec::new(),
                commune: String::new(),
                commune_code: None,
                updated_at: Utc::now(),
            },
        )
        .await?;
        let post = db::posts::set_extras(
            conn,
            post.id,
            &PostExtras {
                cover_image_path: None,
                cover_image_alt: None,
                mentions: mentions::to_json(&found),
            },
        )
        .await?;
        let author = db::actors::by_id(conn, post.author_actor_id).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::PostUpdated {
                post: Box::new(post.clone()),
                author: Box::new(author),
            },
        )
        .await?;
        let mentioned: Vec<String> = found.iter().map(|m| m.href.clone()).collect();
        notifications::events::post_written(ctx, conn, &post, &mentioned).await?;
        Ok(post)
    })
    .await
}

fn not_yours() -> AppError {
    AppError::forbidden("this is someone else's thread").with_message("forum.error.not_yours")
}

/// Its author, or a moderator of its category, deletes a thread: its `Delete` is announced
/// by the category. Its replies go with it from every page.
pub async fn delete(ctx: &AppContext, account: &DbAccount, post_id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let (post, _, category) = live_thread(conn, post_id).await?;
        if post.account_id != Some(account.id) || account.suspended_at.is_some() {
            require_moderator(conn, account, &category).await?;
        }
        let now = Utc::now();
        db::posts::mark_deleted(conn, post.id, now).await?;
        let post = db::posts::by_id(conn, post.id)
            .await?
            .ok_or_else(AppError::not_found)?;
        // A thread of another server is deleted here only: its author's server is not ours
        // to tell; the category still tells its followers it is gone.
        let author = if post.local {
            db::actors::by_id(conn, post.author_actor_id).await?
        } else {
            db::actors::by_id(conn, category.actor_id).await?
        };
        outbound::record(
            ctx,
            conn,
            OutboundEvent::PostDeleted {
                post: Box::new(post),
                author: Box::new(author),
            },
        )
        .await
    })
    .await
}

/// What a moderator switches on a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    /// No more replies.
    Locked,
    /// At the top of its category, and in its `featured` collection.
    Pinned,
}

/// A moderator locks (no more replies) or unlocks a thread.
pub async fn set_locked(
    ctx: &AppContext,
    account: &DbAccount,
    post_id: i64,
    locked: bool,
) -> AppResult<DbThread> {
    set_flag(ctx, account, post_id, Flag::Locked, locked).await
}

/// A moderator pins a thread at the top of its category (and in its `featured` collection),
/// or unpins it.
pub async fn set_pinned(
    ctx: &AppContext,
    account: &DbAccount,
    post_id: i64,
    pinned: bool,
) -> AppResult<DbThread> {
    set_flag(ctx, account, post_id, Flag::Pinned, pinned).await
}

/// Switches `flag` to `on` (nothing happens when it already is), and tells the category's
/// followers (`ThreadLocked`, `ThreadPinned`).
async fn set_flag(
    ctx: &AppContext,
    account: &DbAccount,
    post_id: i64,
    flag: Flag,
    on: bool,
) -> AppResult<DbThread> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbThread, AppError, _>(async |conn| {
        let (post, thread, category) = live_thread(conn, post_id).await?;
        require_moderator(conn, account, &category).await?;
        let current = match flag {
            Flag::Locked => thread.is_locked(),
            Flag::Pinned => thread.is_pinned(),
        };
        if current == on {
            return Ok(thread);
        }
        let at = on.then(Utc::now);
        let thread = match flag {
            Flag::Locked => db::forum::set_locked(conn, post.id, at).await?,
            Flag::Pinned => db::forum::set_pinned(conn, post.id, at).await?,
        };
        let (post, category) = (Box::new(post), Box::new(category));
        let moderator = Box::new(db::actors::by_id(conn, account.actor_id).await?);
        let event = match flag {
            Flag::Locked => OutboundEvent::ThreadLocked {
                post,
                category,
                moderator,
                locked: on,
            },
            Flag::Pinned => OutboundEvent::ThreadPinned {
                post,
                category,
                moderator,
                pinned: on,
            },
        };
        outbound::record(ctx, conn, event).await?;
        Ok(thread)
    })
    .await
}

/// A moderator of both categories moves a thread to the category `to_slug` (its address
/// stays; it is unpinned). Unknown category: 422 on `category`.
pub async fn move_to(
    ctx: &AppContext,
    account: &DbAccount,
    post_id: i64,
    to_slug: &str,
) -> AppResult<DbThread> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbThread, AppError, _>(async |conn| {
        let (post, thread, from) = live_thread(conn, post_id).await?;
        require_moderator(conn, account, &from).await?;
        let to = db::forum::category_by_slug(conn, to_slug.trim())
            .await?
            .ok_or_else(|| AppError::field("category", "forum.field.unknown_category"))?;
        require_moderator(conn, account, &to).await?;
        if to.id == from.id {
            return Ok(thread);
        }
        db::forum::set_pinned(conn, post.id, None).await?;
        let thread = db::forum::set_category(conn, post.id, to.id).await?;
        let moderator = db::actors::by_id(conn, account.actor_id).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::ThreadMoved {
                post: Box::new(post),
                from: Box::new(from),
                to: Box::new(to),
                moderator: Box::new(moderator),
            },
        )
        .await?;
        Ok(thread)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// From other servers

/// The title of a thread that came as a `Note` (Mastodon's shape): its first line, cut at
/// the title's length; `None` when there is no text.
pub fn title_from_first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let title = excerpt(line, MAX_TITLE_CHARS);
    Some(title.trim().to_string()).filter(|t| !t.is_empty())
}

/// The text of `html` one line per paragraph, line break or list item (a Note's first
/// line is the title of the thread it starts).
fn html_lines(html: &str) -> String {
    let mut marked = html.to_string();
    for end in [
        "</p>", "<br>", "<br/>", "<br />", "</li>", "</h2>", "</h3>", "</h4>",
    ] {
        marked = marked.replace(end, &format!("{end}\u{1}"));
    }
    marked
        .split('\u{1}')
        .map(plain_text)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A remote actor started a thread in `category`: a `Page` addressed to it (its `name` is
/// the title) or a `Note` mentioning it (the title is its first line). Stored like a local
/// thread, the category's followers here told, and relayed by the category to its
/// followers. A thread with no title is refused (422 on `name`), nothing stored; a replay
/// stores nothing more.
pub async fn receive_remote(
    ctx: &AppContext,
    activity_id: &str,
    actor: &DbActor,
    category: &DbCategory,
    note: &IncomingNote,
    html: SafeHtml,
) -> AppResult<Option<DbPost>> {
    let title = if note.name.trim().is_empty() {
        if note.kind == "Note" {
            title_from_first_line(&html_lines(html.as_str()))
        } else {
            None
        }
    } else {
        Some(excerpt(note.name.trim(), MAX_TITLE_CHARS))
    };
    let Some(title) = title else {
        let mut refused = AppError::field("name", "forum.field.thread_without_title");
        refused.detail = "name: a thread needs a title (the Page's name)".into();
        return Err(refused);
    };
    let mut conn = ctx.conn().await?;
    conn.transaction::<Option<DbPost>, AppError, _>(async |conn| {
        if !db::received_activities::mark_received(conn, activity_id).await? {
            return Ok(None);
        }
        if db::posts::by_ap_id(conn, note.id.as_str()).await?.is_some() {
            return Ok(None);
        }
        let now = Utc::now();
        let published = note.published.filter(|p| *p < now).unwrap_or(now);
        let id = db::posts::next_id(conn).await?;
        let html = html.into_string();
        let Some(post) = db::posts::insert_remote(
            conn,
            &NewRemotePost {
                id,
                category: CATEGORY_THREAD.into(),
                ap_id: note.id.to_string(),
                author_actor_id: actor.id,
                slug: slugify(&title),
                title,
                summary: summary_of(&html),
                body_markdown: String::new(),
                body_html: html,
                hashtags: Vec::new(),
                kind: None,
                published_at: Some(published),
                local: false,
                url: note.url.as_ref().map(ToString::to_string),
                content_warning: note.content_warning.clone(),
            },
        )
        .await?
        else {
            return Ok(None);
        };
        db::forum::insert_thread(conn, &post, category.id).await?;
        notifications::events::forum_thread_started(ctx, conn, &post, category.id).await?;
        outbound::record(
            ctx,
            conn,
            OutboundEvent::ForumRelayed {
                category: Box::new(category.clone()),
                kind: ForumRelayKind::Create,
                activity_id: activity_id.to_string(),
                actor: Box::new(actor.clone()),
                object_ap_id: post.ap_id.clone(),
            },
        )
        .await?;
        Ok(Some(post))
    })
    .await
}

/// A reply to `comment.post_id` was stored (by `service::comments`, in its transaction):
/// when that post is a thread, the members following it are told, its author (a local one)
/// now follows it, and a reply from another server (`remote`: the activity's id and actor)
/// is relayed by the category to its followers.
pub async fn reply_stored(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    comment: &DbComment,
    remote: Option<(&str, &DbActor)>,
) -> AppResult<()> {
    let Some(thread) = db::forum::thread(conn, comment.post_id).await? else {
        return Ok(());
    };
    if let Some(account_id) = comment.account_id {
        db::forum::subscribe(conn, account_id, Followed::Thread(comment.post_id)).await?;
        db::forum::mark_read(conn, account_id, comment.post_id, comment.published_at).await?;
    }
    notifications::events::forum_reply_written(ctx, conn, comment).await?;
    if let Some((activity_id, actor)) = remote {
        relay(
            ctx,
            conn,
            &thread,
            ForumRelayKind::Create,
            activity_id,
            actor,
            &comment.ap_id,
        )
        .await?;
    }
    Ok(())
}

/// An activity of another server about a thread of ours or one of its replies was applied
/// (an edit, a deletion, a like): the thread's category relays it to its followers.
/// Anything that is not about a thread: nothing.
pub async fn relay_if_thread(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post_id: i64,
    kind: ForumRelayKind,
    activity_id: &str,
    actor: &DbActor,
    object_ap_id: &str,
) -> AppResult<()> {
    match db::forum::thread(conn, post_id).await? {
        Some(thread) => relay(ctx, conn, &thread, kind, activity_id, actor, object_ap_id).await,
        None => Ok(()),
    }
}

/// [`relay_if_thread`] for an activity naming its object by AP id (a like, its undoing):
/// a thread of ours or a reply of one.
pub async fn relay_about_object(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    object_ap_id: &str,
    kind: ForumRelayKind,
    activity_id: &str,
    actor: &DbActor,
) -> AppResult<()> {
    let post_id = match db::posts::by_ap_id(conn, object_ap_id).await? {
        Some(post) => post.id,
        None => match db::comments::by_ap_id(conn, object_ap_id).await? {
            Some(comment) => comment.post_id,
            None => return Ok(()),
        },
    };
    relay_if_thread(ctx, conn, post_id, kind, activity_id, actor, object_ap_id).await
}

async fn relay(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    thread: &DbThread,
    kind: ForumRelayKind,
    activity_id: &str,
    actor: &DbActor,
    object_ap_id: &str,
) -> AppResult<()> {
    if actor.local {
        return Ok(());
    }
    let category = db::forum::category_by_id(conn, thread.category_id)
        .await?
        .ok_or_else(|| AppError::internal("a thread without its category"))?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::ForumRelayed {
            category: Box::new(category),
            kind,
            activity_id: activity_id.to_string(),
            actor: Box::new(actor.clone()),
            object_ap_id: object_ap_id.to_string(),
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A thread of a category's list, for a viewer.
#[derive(Debug, Clone)]
pub struct ThreadRow {
    pub post: DbPost,
    pub thread: DbThread,
    pub author: DbActor,
    /// Activity since the viewer last read it (always false for visitors).
    pub unread: bool,
}

/// One page (from 1) of a category's threads, pinned first then by last activity, with the
/// viewer's unread markers; and the number of pages.
pub async fn list(
    conn: &mut AsyncPgConnection,
    category: &DbCategory,
    viewer: Option<&DbAccount>,
    page: i64,
) -> AppResult<(Vec<ThreadRow>, i64)> {
    let total = db::forum::count_threads(conn, category.id).await?;
    let pages = ((total + THREADS_PER_PAGE - 1) / THREADS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let rows: Vec<ListedThread> = db::forum::list_threads(
        conn,
        category.id,
        (page - 1) * THREADS_PER_PAGE,
        THREADS_PER_PAGE,
    )
    .await?;
    let reads = match viewer {
        Some(v) => {
            let ids: Vec<i64> = rows.iter().map(|(p, _, _)| p.id).collect();
            db::forum::read_at(conn, v.id, &ids)
                .await?
                .into_iter()
                .collect::<HashMap<i64, DateTime<Utc>>>()
        }
        None => HashMap::new(),
    };
    let rows = rows
        .into_iter()
        .map(|(post, thread, author)| {
            let unread = viewer.is_some()
                && reads
                    .get(&post.id)
                    .is_none_or(|read| thread.last_activity_at > *read);
            ThreadRow {
                post,
                thread,
                author,
                unread,
            }
        })
        .collect();
    Ok((rows, pages))
}

/// A thread as shown to a viewer: 404 when it is deleted or withheld (its author still sees
/// a thread the moderators hid). Reading it marks it read for a member, and tells when they
/// had last read it (the replies after that are new to them).
pub async fn show(
    ctx: &AppContext,
    post_id: i64,
    viewer: Option<&DbAccount>,
) -> AppResult<ShownThread> {
    let mut conn = ctx.conn().await?;
    let (post, thread, category) = live_thread(&mut conn, post_id).await?;
    let withheld = post.hidden_at.is_some()
        || db::actors::is_sanctioned(&mut conn, post.author_actor_id).await?;
    if withheld && viewer.is_none_or(|v| post.account_id != Some(v.id)) {
        return Err(AppError::not_found());
    }
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    let mut previously_read = None;
    let mut subscribed = false;
    if let Some(v) = viewer {
        previously_read = db::forum::read_at(&mut conn, v.id, &[post.id])
            .await?
            .first()
            .map(|(_, at)| *at);
        db::forum::mark_read(&mut conn, v.id, post.id, Utc::now()).await?;
        subscribed = db::forum::is_subscribed(&mut conn, v.id, Followed::Thread(post.id)).await?;
    }
    Ok(ShownThread {
        post,
        thread,
        category,
        author,
        previously_read,
        subscribed,
    })
}

#[derive(Debug, Clone)]
pub struct ShownThread {
    pub post: DbPost,
    pub thread: DbThread,
    pub category: DbCategory,
    pub author: DbActor,
    /// When the viewer had last read it before this visit (`None`: never, or a visitor).
    pub previously_read: Option<DateTime<Utc>>,
    /// Whether the viewer follows it.
    pub subscribed: bool,
}

/// Whether a `Gone` or `Conflict` error is one of the forum's reply refusals (locked or
/// deleted thread), for pages that show it next to the form.
pub fn is_reply_refusal(e: &AppError) -> bool {
    matches!(e.kind, ErrorKind::Gone | ErrorKind::Conflict)
        && matches!(
            e.message_key,
            Some("forum.error.locked" | "forum.error.thread_deleted")
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notes_first_line_is_its_first_paragraph() {
        let html = "<p>Qui joue samedi ?</p><p>Nous avons <b>deux</b> places.</p>";
        assert_eq!(
            title_from_first_line(&html_lines(html)).as_deref(),
            Some("Qui joue samedi ?")
        );
        let broken = "<p>Ligne un<br>ligne deux</p>";
        assert_eq!(
            title_from_first_line(&html_lines(broken)).as_deref(),
            Some("Ligne un")
        );
        assert_eq!(title_from_first_line(&html_lines("<p> </p>")), None);
    }
}
