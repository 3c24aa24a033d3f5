//! The notification centre and the preferences: what the page `/notifications`, the settings
//! page and their API twins call.

use super::{Delivery, Described, NotificationKind, describe_grouped};
use crate::{
    context::AppContext,
    db::{self, schema::notification_preferences},
    error::{AppError, AppResult, FieldErrors},
    i18n::Lang,
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Notifications per page (likes and boosts of one object count as one).
pub const PAGE_SIZE: i64 = 20;
/// Most ids one "mark read" request may name.
pub const MAX_IDS: usize = 500;

/// One page of the centre.
#[derive(Debug, Clone)]
pub struct CentrePage {
    pub items: Vec<Described>,
    /// Unread notifications in all (groups count once).
    pub unread: i64,
    /// The page shown, from 1.
    pub page: i64,
    /// How many pages there are (at least 1).
    pub pages: i64,
}

/// A page of `account_id`'s notifications, newest first; `unread_only` leaves out the read
/// ones. A page past the end is empty.
pub async fn list(
    ctx: &AppContext,
    account_id: i64,
    lang: Lang,
    unread_only: bool,
    page: i64,
) -> AppResult<CentrePage> {
    let page = page.max(1);
    let mut conn = ctx.conn().await?;
    let total = db::notifications::count_groups(&mut conn, account_id, unread_only).await?;
    let unread = if unread_only {
        total
    } else {
        db::notifications::count_groups(&mut conn, account_id, true).await?
    };
    let groups = db::notifications::groups(
        &mut conn,
        account_id,
        unread_only,
        PAGE_SIZE,
        (page - 1).saturating_mul(PAGE_SIZE),
    )
    .await?;
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let mut rows = db::notifications::by_ids(&mut conn, &ids).await?;
    // Newest first, as the groups; a group is unread while any of its rows is.
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    let mut grouped = Vec::with_capacity(rows.len());
    for row in &mut rows {
        if let Some(g) = groups.iter().find(|g| g.id == row.id) {
            if g.unread {
                row.read_at = None;
            } else if row.read_at.is_none() {
                row.read_at = Some(row.created_at);
            }
            grouped.push((g.members - 1).max(0));
        }
    }
    let pairs: Vec<(&db::notifications::DbNotification, i64)> = rows.iter().zip(grouped).collect();
    let items = describe_grouped(ctx, &mut conn, &pairs, lang).await?;
    Ok(CentrePage {
        items,
        unread,
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
    })
}

/// The unread counter of the header.
pub async fn unread_count(ctx: &AppContext, account_id: i64) -> AppResult<i64> {
    let mut conn = ctx.conn().await?;
    Ok(db::notifications::count_groups(&mut conn, account_id, true).await?)
}

/// Marks read the notifications `ids` of `account_id` (a like or boost with its whole
/// group), or all of them when `ids` is `None`. Ids of someone else's notifications change
/// nothing. Returns how many were marked.
pub async fn mark_read(ctx: &AppContext, account_id: i64, ids: Option<&[i64]>) -> AppResult<usize> {
    if ids.is_some_and(|ids| ids.len() > MAX_IDS) {
        return Err(AppError::field("ids", "field.ids.too_many"));
    }
    let mut conn = ctx.conn().await?;
    Ok(match ids {
        Some(ids) => db::notifications::mark_read(&mut conn, account_id, ids).await?,
        None => db::notifications::mark_all_read(&mut conn, account_id).await?,
    })
}

/// The member's choice for every type they can receive, in [`NotificationKind::ALL`] order
/// (the moderators' types only for moderators and admins).
pub async fn preferences(
    ctx: &AppContext,
    account: &crate::db::accounts::DbAccount,
) -> AppResult<Vec<(NotificationKind, Delivery)>> {
    let account_id = account.id;
    let moderator = crate::service::accounts::is_moderator(account);
    let mut conn = ctx.conn().await?;
    let stored: Vec<(String, String)> = notification_preferences::table
        .filter(notification_preferences::account_id.eq(account_id))
        .select((
            notification_preferences::kind,
            notification_preferences::delivery,
        ))
        .load(&mut conn)
        .await?;
    Ok(NotificationKind::ALL
        .iter()
        .filter(|k| moderator || !k.moderators_only())
        .map(|k| {
            let chosen = stored
                .iter()
                .find(|(kind, _)| kind == k.as_str())
                .and_then(|(_, d)| Delivery::parse(d));
            (*k, chosen.unwrap_or_else(|| k.default_delivery()))
        })
        .collect())
}

/// Reads `{type: delivery, …}` pairs: every unknown type or value is a field error naming
/// the type.
pub fn parse_preferences(
    pairs: &[(String, String)],
) -> AppResult<Vec<(NotificationKind, Delivery)>> {
    let mut errors = FieldErrors::default();
    let mut out = Vec::new();
    for (kind, delivery) in pairs {
        match (NotificationKind::parse(kind), Delivery::parse(delivery)) {
            (None, _) => errors.add(kind, "field.notification_type.unknown"),
            (Some(_), None) => errors.add(kind, "field.delivery.unknown"),
            (Some(k), Some(d)) if !k.choices().contains(&d) => {
                errors.add(kind, "field.delivery.announcement")
            }
            (Some(k), Some(d)) => out.push((k, d)),
        }
    }
    errors.into_result()?;
    Ok(out)
}

/// Saves the choices given (the other types keep theirs), all or none.
pub async fn set_preferences(
    ctx: &AppContext,
    account_id: i64,
    choices: &[(NotificationKind, Delivery)],
) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    conn.transaction::<(), AppError, _>(async |conn| save(conn, account_id, choices).await)
        .await
}

async fn save(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    choices: &[(NotificationKind, Delivery)],
) -> AppResult<()> {
    for (kind, delivery) in choices {
        super::set_delivery(conn, account_id, *kind, *delivery).await?;
    }
    Ok(())
}
