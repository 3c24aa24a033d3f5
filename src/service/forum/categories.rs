//! Forum categories: staff create, edit and order them and choose their moderators. Each
//! category is a public `Group` actor at `/forum/{slug}` (followable from Lemmy, Mbin,
//! PieFed as a community and from Mastodon as an account), with its own keys.

use super::moderates;
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::{DbActor, NewActor},
        forum::{DbCategory, NewCategory},
    },
    error::{AppError, AppResult, FieldErrors},
    sanitize::SafeHtml,
    service::{
        accounts::is_staff,
        actors::generate_keypair,
        outbound::{self, OutboundEvent},
        publishing::slugify,
    },
};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Longest name of a category (characters).
pub const MAX_NAME_CHARS: usize = 80;
/// Longest description (characters of Markdown).
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest slug.
pub const MAX_SLUG_CHARS: usize = 40;
/// Path segments under `/forum` that are pages, not categories.
pub const RESERVED_SLUGS: &[&str] = &[
    "sujets",
    "recherche",
    "nouvelle-categorie",
    "categories",
    "abonnements",
    "admin",
];

/// A category as typed (form or API).
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Empty: made from the name.
    pub slug: String,
}

/// 403 unless `account` is staff (or an admin).
fn require_staff(account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_none() && is_staff(account) {
        Ok(())
    } else {
        Err(
            AppError::forbidden("only staff manage the forum's categories")
                .with_message("forum.error.staff_only"),
        )
    }
}

struct Checked {
    name: String,
    description_markdown: String,
    description_html: String,
    slug: String,
}

fn check(input: &CategoryInput, with_slug: bool) -> AppResult<Checked> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "field.required");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add("name", "field.too_long");
    }
    let description = input.description.replace("\r\n", "\n").trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add("description", "field.too_long");
    }
    let mut slug = String::new();
    if with_slug {
        let typed = input.slug.trim();
        slug = slugify(if typed.is_empty() { &name } else { typed })
            .chars()
            .take(MAX_SLUG_CHARS)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string();
        if (!typed.is_empty() && slug != typed) || (slug.is_empty() && !name.is_empty()) {
            errors.add("slug", "forum.field.slug_shape");
        } else if RESERVED_SLUGS.contains(&slug.as_str()) {
            errors.add("slug", "forum.field.slug_taken");
        }
    }
    errors.into_result()?;
    let description_html = SafeHtml::from_markdown(&description).into_string();
    Ok(Checked {
        name,
        description_markdown: description,
        description_html,
        slug,
    })
}

fn new_group_actor(
    ctx: &AppContext,
    checked: &Checked,
    keypair: activitypub_federation::http_signatures::Keypair,
) -> NewActor {
    let now = Utc::now();
    let slug = &checked.slug;
    NewActor {
        ap_id: ctx.urls.forum_category(slug),
        kind: "Group".to_string(),
        username: slug.clone(),
        domain: ctx.config.domain(),
        local: true,
        name: checked.name.clone(),
        summary_html: checked.description_html.clone(),
        icon_url: None,
        url: Some(ctx.urls.forum_category(slug)),
        inbox_url: ctx.urls.forum_category_part(slug, "inbox"),
        shared_inbox_url: Some(ctx.urls.shared_inbox()),
        outbox_url: Some(ctx.urls.forum_category_part(slug, "outbox")),
        followers_url: Some(ctx.urls.forum_category_part(slug, "followers")),
        following_url: None,
        public_key_pem: keypair.public_key,
        private_key_pem: Some(keypair.private_key),
        manually_approves_followers: false,
        discoverable: true,
        published: now,
        last_refreshed_at: now,
    }
}

/// Creates a category (staff): its `Group` actor and its row, last in the order. A slug
/// taken by another category or by any local account is refused on the `slug` field.
pub async fn create(
    ctx: &AppContext,
    account: &DbAccount,
    input: CategoryInput,
) -> AppResult<DbCategory> {
    require_staff(account)?;
    let checked = check(&input, true)?;
    let keypair = generate_keypair().await?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbCategory, AppError, _>(async |conn| {
        if db::actors::local_by_username(conn, &checked.slug)
            .await?
            .is_some()
            || db::forum::category_by_slug(conn, &checked.slug)
                .await?
                .is_some()
        {
            return Err(AppError::field("slug", "forum.field.slug_taken"));
        }
        let actor = db::actors::insert(conn, &new_group_actor(ctx, &checked, keypair)).await?;
        let position = db::forum::next_position(conn).await?;
        db::forum::insert_category(
            conn,
            &NewCategory {
                slug: checked.slug.clone(),
                actor_id: actor.id,
                name: checked.name.clone(),
                description_markdown: checked.description_markdown.clone(),
                description_html: checked.description_html.clone(),
                position,
            },
        )
        .await?
        .ok_or_else(|| AppError::field("slug", "forum.field.slug_taken"))
    })
    .await
}

/// Changes a category's name and description (staff); its followers get an `Update` of the
/// `Group`. The slug, part of its address, never changes.
pub async fn edit(
    ctx: &AppContext,
    account: &DbAccount,
    slug: &str,
    input: CategoryInput,
) -> AppResult<DbCategory> {
    require_staff(account)?;
    let checked = check(&input, false)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbCategory, AppError, _>(async |conn| {
        let category = db::forum::category_by_slug(conn, slug)
            .await?
            .ok_or_else(AppError::not_found)?;
        let category = db::forum::update_category(
            conn,
            category.id,
            &checked.name,
            &checked.description_markdown,
            &checked.description_html,
        )
        .await?;
        if db::actors::set_name_and_summary_if_changed(
            conn,
            category.actor_id,
            &checked.name,
            &checked.description_html,
        )
        .await?
        {
            let actor = db::actors::by_id(conn, category.actor_id).await?;
            outbound::record(
                ctx,
                conn,
                OutboundEvent::ProfileUpdated {
                    actor: Box::new(actor),
                },
            )
            .await?;
        }
        Ok(category)
    })
    .await
}

/// Which way a category moves in the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Moves a category one place up or down (staff); at either end, nothing changes.
pub async fn reorder(
    ctx: &AppContext,
    account: &DbAccount,
    slug: &str,
    direction: Direction,
) -> AppResult<()> {
    require_staff(account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| {
        let all = db::forum::categories(conn).await?;
        let i = all
            .iter()
            .position(|c| c.slug == slug)
            .ok_or_else(AppError::not_found)?;
        let j = match direction {
            Direction::Up if i > 0 => i - 1,
            Direction::Down if i + 1 < all.len() => i + 1,
            _ => return Ok(()),
        };
        let mut order: Vec<i64> = all.iter().map(|c| c.id).collect();
        order.swap(i, j);
        for (position, id) in order.into_iter().enumerate() {
            db::forum::set_position(conn, id, i32::try_from(position).unwrap_or(i32::MAX)).await?;
        }
        Ok(())
    })
    .await
}

/// Makes the member `username` a moderator of the category (staff). Unknown or remote
/// members: 422 on `username`.
pub async fn add_moderator(
    ctx: &AppContext,
    account: &DbAccount,
    slug: &str,
    username: &str,
) -> AppResult<DbActor> {
    require_staff(account)?;
    let mut conn = ctx.conn().await?;
    let category = db::forum::category_by_slug(&mut conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    let member = db::accounts::by_login(&mut conn, username.trim().trim_start_matches('@'))
        .await?
        .filter(|a| a.suspended_at.is_none())
        .ok_or_else(|| AppError::field("username", "forum.field.unknown_member"))?;
    db::forum::add_moderator(&mut conn, category.id, member.actor_id).await?;
    Ok(db::actors::by_id(&mut conn, member.actor_id).await?)
}

/// Withdraws a member's moderation of the category (staff).
pub async fn remove_moderator(
    ctx: &AppContext,
    account: &DbAccount,
    slug: &str,
    actor_id: i64,
) -> AppResult<()> {
    require_staff(account)?;
    let mut conn = ctx.conn().await?;
    let category = db::forum::category_by_slug(&mut conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    if !db::forum::remove_moderator(&mut conn, category.id, actor_id).await? {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// A category with its figures, for the forum's front page and the API.
#[derive(Debug, Clone)]
pub struct CategorySummary {
    pub category: DbCategory,
    pub threads: i64,
    pub last_activity_at: Option<DateTime<Utc>>,
}

/// Every category in staff's order, with its number of live threads and latest activity.
pub async fn list(conn: &mut AsyncPgConnection) -> AppResult<Vec<CategorySummary>> {
    let stats = db::forum::category_stats(conn).await?;
    Ok(db::forum::categories(conn)
        .await?
        .into_iter()
        .map(|category| {
            let (threads, last) = stats
                .iter()
                .find(|(id, _, _)| *id == category.id)
                .map_or((0, None), |(_, n, last)| (*n, *last));
            CategorySummary {
                category,
                threads,
                last_activity_at: last,
            }
        })
        .collect())
}

/// One category by its slug (404 when unknown), with its actor.
pub async fn by_slug(conn: &mut AsyncPgConnection, slug: &str) -> AppResult<(DbCategory, DbActor)> {
    let category = db::forum::category_by_slug(conn, slug)
        .await?
        .ok_or_else(AppError::not_found)?;
    let actor = db::actors::by_id(conn, category.actor_id).await?;
    Ok((category, actor))
}

/// The category's moderators: those staff chose (the instance's moderators moderate every
/// category and are not listed).
pub async fn moderators(
    conn: &mut AsyncPgConnection,
    category: &DbCategory,
) -> AppResult<Vec<DbActor>> {
    Ok(db::forum::moderators(conn, category.id).await?)
}

/// Whether `account` may moderate `category` (for showing the moderation forms).
pub async fn may_moderate(
    conn: &mut AsyncPgConnection,
    account: Option<&DbAccount>,
    category: &DbCategory,
) -> AppResult<bool> {
    match account {
        Some(a) => moderates(conn, a, category).await,
        None => Ok(false),
    }
}
