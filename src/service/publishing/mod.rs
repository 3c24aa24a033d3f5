//! Blog posts and announcements: one domain function per action (create, edit, publish a
//! draft, delete), shared by the web forms and the JSON API. Each validates everything first,
//! then writes its rows and records the outbound event (published, updated, deleted) in one
//! transaction, so a refused input writes nothing and a written post is always federated.
//!
//! - `kinds.rs`: blog post or announcement, and the kinds of announcement;
//! - `validation.rs`: the input, its rules and the checked values;
//! - `text.rs`: hashtags and slugs;
//! - `links.rs`: ids and page addresses;
//! - `cover_files.rs`: the cover image file around the transaction.
//!
//! The ActivityStreams form of a post is `federation`'s (`federation::outbox`).

mod cover_files;
mod kinds;
mod links;
mod text;
mod validation;

pub use kinds::{AnnouncementKind, Category};
pub use links::{anchor_at, ap_id, comment_anchor, image_media_type, page_url, page_url_of};
pub use text::{MAX_HASHTAGS, extract_hashtags, slugify};
pub use validation::{
    CoverChange, MAX_BODY_CHARS, MAX_COMMUNE_CHARS, MAX_DISCIPLINE_CHARS, MAX_DISCIPLINES,
    MAX_SUMMARY_CHARS, MAX_TITLE_CHARS, PostInput, PostPatch, parse_deadline, today,
};

use crate::{
    context::{AppContext, Data},
    db::{
        self,
        accounts::DbAccount,
        actors::DbActor,
        posts::{DbPost, NewPost, PostChanges, PostExtras},
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::{ensure_can_publish, is_staff},
        alerts, communes, covers, mentions, notifications,
        outbound::{self, OutboundEvent},
    },
};
use chrono::Utc;
use cover_files::{removing_on_error, write_new_cover};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use validation::{CoverPlan, check};

/// The actor a post goes out as: the member's own, or the département page for staff.
async fn publishing_actor(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    as_page: bool,
) -> AppResult<DbActor> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    if as_page {
        if !is_staff(account) {
            return Err(
                AppError::forbidden("only staff and admins may publish as the page")
                    .with_message("publishing.as_page_forbidden"),
            );
        }
        return db::actors::by_ap_id(conn, &ctx.urls.user(&ctx.config.instance.page_actor))
            .await?
            .ok_or_else(|| AppError::internal("the page actor is missing"));
    }
    Ok(db::actors::by_id(conn, account.actor_id).await?)
}

/// The announcement channel boosts every local announcement when it becomes public (once:
/// at creation or when its draft is published, never on an edit). Blog posts are not boosted.
async fn boost_on_channel(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    post: &DbPost,
) -> AppResult<()> {
    if post.local && post.is_announcement() && post.is_public() {
        let event = OutboundEvent::ChannelBoosted {
            post: Box::new(post.clone()),
        };
        outbound::record(ctx, conn, event).await?;
    }
    Ok(())
}

/// Whether `account` may change `post`: its author, or staff for the page's posts.
pub fn can_edit(account: &DbAccount, post: &DbPost) -> bool {
    account.suspended_at.is_none()
        && (post.account_id == Some(account.id) || (post.as_page && is_staff(account)))
}

/// The actor ids a post mentions (its stored mentions).
fn mentioned_hrefs(post: &DbPost) -> Vec<String> {
    mentions::stored(post).into_iter().map(|m| m.href).collect()
}

/// Publishes (or saves as a draft) a new blog post or announcement.
pub async fn create(
    data: &Data,
    account: &DbAccount,
    category: Category,
    input: PostInput,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    ensure_can_publish(ctx, account)?;
    let checked = check(
        category,
        &input,
        None,
        false,
        covers::max_cover_bytes(ctx),
        &ctx.config.instance.departement,
    )?;
    let (body_html, found) = mentions::resolve_and_link(data, checked.body_html, &[]).await?;
    let written = write_new_cover(ctx, &checked.cover).await?;
    let extras = PostExtras {
        cover_image_path: written.as_ref().map(|w| w.rel.clone()),
        cover_image_alt: checked.cover.alt().map(str::to_string),
        mentions: mentions::to_json(&found),
    };
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<DbPost, AppError, _>(async |conn| {
            let author = publishing_actor(ctx, conn, account, input.as_page).await?;
            let id = db::posts::next_id(conn).await?;
            let now = Utc::now();
            let post = db::posts::insert(
                conn,
                &NewPost {
                    id,
                    category: category.as_str().into(),
                    ap_id: ap_id(ctx, category, id),
                    author_actor_id: author.id,
                    account_id: Some(account.id),
                    as_page: input.as_page,
                    title: checked.title,
                    slug: checked.slug,
                    summary: checked.summary,
                    body_markdown: checked.body_markdown,
                    body_html: body_html.into_string(),
                    hashtags: checked.hashtags,
                    kind: checked.kind.map(|k| k.as_str().to_string()),
                    deadline: checked.deadline,
                    disciplines: checked.disciplines,
                    commune: checked.commune,
                    commune_code: checked.commune_code,
                    draft: input.draft,
                    published_at: (!input.draft).then_some(now),
                },
            )
            .await?;
            let post = db::posts::set_extras(conn, post.id, &extras).await?;
            if !post.draft {
                let event = OutboundEvent::PostPublished {
                    post: Box::new(post.clone()),
                    author: Box::new(author),
                };
                outbound::record(ctx, conn, event).await?;
                boost_on_channel(ctx, conn, &post).await?;
                alerts::on_published(ctx, conn, &post).await?;
            }
            notifications::events::post_written(ctx, conn, &post, &mentioned_hrefs(&post)).await?;
            Ok(post)
        })
        .await
    }
    .await;
    removing_on_error(&written, result).await
}

/// Loads a post of `category` that `account` may change, locked for the transaction.
async fn editable(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    let post = db::posts::by_id_for_update(conn, id).await?;
    changeable(account, category, post)
}

/// `post` when it is a live post of `category` that `account` may change: 404 when it is
/// missing, deleted or of another category, 403 when it is someone else's.
fn changeable(account: &DbAccount, category: Category, post: Option<DbPost>) -> AppResult<DbPost> {
    let post = post
        .filter(|p| p.category == category.as_str())
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    if !can_edit(account, &post) {
        return Err(
            AppError::forbidden("this is someone else's post").with_message("publishing.not_yours")
        );
    }
    Ok(post)
}

/// Edits a post; a published one is federated again as `Update`. A new cover replaces the old
/// file, which is removed once the change is committed.
pub async fn edit(
    data: &Data,
    account: &DbAccount,
    category: Category,
    id: i64,
    patch: PostPatch,
) -> AppResult<DbPost> {
    let ctx = data.app_data();
    // Read without a lock first: the checks and the mention look-ups (network) must happen
    // before the transaction; the row is read again, locked, inside it.
    let post = {
        let mut conn = ctx.conn().await?;
        editable_unlocked(&mut conn, account, category, id).await?
    };
    let input = PostInput {
        title: patch.title.unwrap_or_else(|| post.title.clone()),
        body: patch.body.unwrap_or_else(|| post.body_markdown.clone()),
        summary: patch.summary.unwrap_or_else(|| post.summary.clone()),
        kind: patch
            .kind
            .unwrap_or_else(|| post.kind.clone().unwrap_or_default()),
        deadline: patch.deadline.unwrap_or_else(|| {
            post.deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        }),
        disciplines: patch
            .disciplines
            .unwrap_or_else(|| post.disciplines.clone()),
        // The stored commune, as the form shows it (its code resolves to itself); a commune
        // typed before the official list and never matched stays as it was typed.
        commune: patch.commune.unwrap_or_else(|| match &post.commune_code {
            Some(code) => communes::field_value(Some(code), &ctx.config.instance.departement),
            None => post.commune.clone(),
        }),
        as_page: post.as_page,
        draft: post.draft,
        cover: patch.cover,
        cover_alt: patch.cover_alt.or_else(|| post.cover_image_alt.clone()),
    };
    let has_cover = post.cover_image_path.is_some();
    let checked = check(
        category,
        &input,
        post.deadline,
        has_cover,
        covers::max_cover_bytes(ctx),
        &ctx.config.instance.departement,
    )?;
    let known = mentions::stored(&post);
    let (body_html, found) = if checked.body_markdown == post.body_markdown {
        // Same text: the same mentions, no look-up.
        let html = mentions::link_html(&checked.body_html, &known, &ctx.config.domain());
        (html, known)
    } else {
        mentions::resolve_and_link(data, checked.body_html, &known).await?
    };
    let written = write_new_cover(ctx, &checked.cover).await?;
    let result = async {
        let mut conn = ctx.conn().await?;
        conn.transaction::<(DbPost, Option<String>), AppError, _>(async |conn| {
            let locked = editable(conn, account, category, id).await?;
            let extras = PostExtras {
                cover_image_path: match &checked.cover {
                    CoverPlan::None => None,
                    // What the row holds now, under the lock (another edit may have changed it
                    // since the checks).
                    CoverPlan::Keep { .. } => locked.cover_image_path.clone(),
                    CoverPlan::New { .. } => written.as_ref().map(|w| w.rel.clone()),
                },
                cover_image_alt: checked.cover.alt().map(str::to_string),
                mentions: mentions::to_json(&found),
            };
            let updated = db::posts::update(
                conn,
                locked.id,
                &PostChanges {
                    title: checked.title,
                    slug: checked.slug,
                    summary: checked.summary,
                    body_markdown: checked.body_markdown,
                    body_html: body_html.into_string(),
                    hashtags: checked.hashtags,
                    kind: checked.kind.map(|k| k.as_str().to_string()),
                    deadline: checked.deadline,
                    disciplines: checked.disciplines,
                    commune: checked.commune,
                    commune_code: checked.commune_code,
                    updated_at: Utc::now(),
                },
            )
            .await?;
            let updated = db::posts::set_extras(conn, updated.id, &extras).await?;
            if !updated.draft {
                let author = db::actors::by_id(conn, updated.author_actor_id).await?;
                let event = OutboundEvent::PostUpdated {
                    post: Box::new(updated.clone()),
                    author: Box::new(author),
                };
                outbound::record(ctx, conn, event).await?;
            }
            // Members newly mentioned hear of it; the others were told already.
            notifications::events::post_written(ctx, conn, &updated, &mentioned_hrefs(&updated))
                .await?;
            // The file the row pointed at under the lock, if it no longer does.
            let replaced = locked
                .cover_image_path
                .filter(|old| updated.cover_image_path.as_ref() != Some(old));
            Ok((updated, replaced))
        })
        .await
    }
    .await;
    let (updated, replaced) = removing_on_error(&written, result).await?;
    if let Some(old) = replaced {
        covers::remove_stored_cover(ctx, &old).await;
    }
    Ok(updated)
}

/// Like [`editable`], without the lock (for the checks made before a transaction).
async fn editable_unlocked(
    conn: &mut AsyncPgConnection,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    let post = db::posts::by_id(conn, id).await?;
    changeable(account, category, post)
}

/// Publishes a draft: from now on public, and federated as `Create`.
pub async fn publish_draft(
    ctx: &AppContext,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<DbPost> {
    ensure_can_publish(ctx, account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbPost, AppError, _>(async |conn| {
        let post = editable(conn, account, category, id).await?;
        if !post.draft {
            return Err(AppError::new(ErrorKind::Conflict, "already published")
                .with_message("publishing.already_published"));
        }
        // The deadline may have passed while it was a draft.
        if post.deadline.is_some_and(|d| d < today()) {
            return Err(AppError::field("deadline", "field.deadline.past"));
        }
        let published = db::posts::mark_published(conn, post.id, Utc::now()).await?;
        let author = db::actors::by_id(conn, published.author_actor_id).await?;
        let event = OutboundEvent::PostPublished {
            post: Box::new(published.clone()),
            author: Box::new(author),
        };
        outbound::record(ctx, conn, event).await?;
        notifications::events::post_written(ctx, conn, &published, &mentioned_hrefs(&published))
            .await?;
        boost_on_channel(ctx, conn, &published).await?;
        alerts::on_published(ctx, conn, &published).await?;
        Ok(published)
    })
    .await
}

/// Deletes a post; a published one is federated as `Delete` of a Tombstone (to its followers
/// and the actors it mentioned), and its id answers 410 from then on. Its cover file goes.
pub async fn delete(
    ctx: &AppContext,
    account: &DbAccount,
    category: Category,
    id: i64,
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let cover = conn
        .transaction::<Option<String>, AppError, _>(async |conn| {
            let post = editable(conn, account, category, id).await?;
            remove(ctx, conn, post).await
        })
        .await?;
    remove_cover_file(ctx, cover).await;
    Ok(())
}

/// Removes `post` in the caller's transaction: the one deletion, by its author ([`delete`])
/// or by a moderator (`service::moderation::resolve`). A local published post records
/// `PostDeleted` (and `ChannelBoostWithdrawn` for an announcement) so `Delete` federates to
/// every server that received it; a remote post kept here is only marked deleted (its
/// server is not ours to tell). Returns the stored cover file to remove once committed
/// ([`remove_cover_file`]).
pub async fn remove(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    mut post: DbPost,
) -> AppResult<Option<String>> {
    let now = Utc::now();
    db::posts::mark_deleted(conn, post.id, now).await?;
    let cover = post.cover_image_path.clone();
    if cover.is_some() {
        db::posts::set_extras(
            conn,
            post.id,
            &PostExtras {
                cover_image_path: None,
                cover_image_alt: None,
                mentions: post.mentions.clone(),
            },
        )
        .await?;
    }
    if post.draft || !post.local {
        return Ok(cover);
    }
    post.deleted_at = Some(now);
    let author = db::actors::by_id(conn, post.author_actor_id).await?;
    let announcement = post.is_announcement();
    let event = OutboundEvent::PostDeleted {
        post: Box::new(post.clone()),
        author: Box::new(author),
    };
    outbound::record(ctx, conn, event).await?;
    if announcement {
        let event = OutboundEvent::ChannelBoostWithdrawn {
            post: Box::new(post),
        };
        outbound::record(ctx, conn, event).await?;
    }
    Ok(cover)
}

/// Removes the cover file a committed [`remove`] returned.
pub async fn remove_cover_file(ctx: &AppContext, cover: Option<String>) {
    if let Some(path) = cover {
        covers::remove_stored_cover(ctx, &path).await;
    }
}

/// What a reader finds at a post's address.
pub enum Lookup {
    Found(Box<DbPost>, Box<DbActor>),
    /// Deleted after publication: 410 with a Tombstone.
    Gone(Box<DbPost>),
}

/// A post of `category` as `viewer` may see it: drafts, and posts the moderators withhold
/// (hidden, or by a suspended or blocked author), only for those who may edit them (and
/// moderators for the latter), deleted ones as [`Lookup::Gone`], anything else 404.
pub async fn lookup(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    category: Category,
    id: i64,
) -> AppResult<Lookup> {
    let mut conn = ctx.conn().await?;
    let post = db::posts::by_id(&mut conn, id)
        .await?
        .filter(|p| p.category == category.as_str())
        .ok_or_else(AppError::not_found)?;
    if post.deleted_at.is_some() {
        if post.published_at.is_some() {
            return Ok(Lookup::Gone(Box::new(post)));
        }
        return Err(AppError::not_found());
    }
    if post.draft && !viewer.is_some_and(|v| can_edit(v, &post)) {
        return Err(AppError::not_found());
    }
    // Withheld by the moderators (hidden, or by a suspended or blocked author): its author
    // and the moderators still see it, everyone else finds nothing, as for a missing post.
    if (post.hidden_at.is_some()
        || db::actors::is_sanctioned(&mut conn, post.author_actor_id).await?)
        && !viewer.is_some_and(|v| can_edit(v, &post) || crate::service::accounts::is_moderator(v))
    {
        return Err(AppError::not_found());
    }
    let author = db::actors::by_id(&mut conn, post.author_actor_id).await?;
    Ok(Lookup::Found(Box::new(post), Box::new(author)))
}

/// Like [`lookup`], but a deleted post is `410 Gone` (for pages and the API).
pub async fn visible(
    ctx: &AppContext,
    viewer: Option<&DbAccount>,
    category: Category,
    id: i64,
) -> AppResult<(DbPost, DbActor)> {
    match lookup(ctx, viewer, category, id).await? {
        Lookup::Found(post, author) => Ok((*post, *author)),
        Lookup::Gone(_) => Err(AppError::new(ErrorKind::Gone, "this was deleted")),
    }
}
