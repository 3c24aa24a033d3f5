//! Sanctions on accounts: suspending a local account, blocking a remote actor, and lifting
//! either. Called by the moderators' decisions (`resolve`) and the admin pages, in the
//! caller's transaction; each records its outbound event (a suspension federates `Delete` of
//! the actor) but not the log entry, which the caller writes with its reasons.
//!
//! What a sanction does elsewhere is read from the rows, not copied: `accounts.suspended_at`
//! and `actors.blocked_at` are what `db::actors::sanctioned_sql` checks, and every public
//! list, count, feed, notification and object fetch leaves out what a sanctioned actor wrote
//! (see `db::posts::not_withheld`). Lifting the sanction brings it all back, except the
//! follows a block removed.
//!
//! A suspended account: cannot log in, its sessions are closed, its API tokens refuse to
//! work while it lasts (`service::tokens` checks the account), its actor document and
//! profile answer 410, WebFinger knows it no more (404), its posts, announcements and
//! comments answer 404 like missing ones.
//!
//! A blocked remote actor: its activities are dropped in the inbox (202, nothing stored, as
//! for a rejected domain), what it wrote and its likes and boosts are hidden, follows with it
//! are removed both ways and members cannot follow it nor react to it again.

use crate::{
    context::AppContext,
    db::{
        self, Conn, accounts::DbAccount, actors::DbActor, moderation_actions::NewModerationAction,
        schema::accounts,
    },
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::is_admin,
        moderation::{ActionKind, ensure_admin, ensure_moderator, log},
        outbound::{self, OutboundEvent},
    },
};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

/// How long after a suspension an admin may still lift it. Past it, other servers have
/// deleted the account (the `Delete` of the actor) and a restoration would reach nobody.
pub const UNSUSPEND_WINDOW_DAYS: i64 = 30;

/// Whether a suspension made at `suspended_at` can still be lifted at `now`.
pub fn can_unsuspend(suspended_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - suspended_at <= Duration::days(UNSUSPEND_WINDOW_DAYS)
}

fn conflict(detail: &str, key: &'static str) -> AppError {
    AppError::new(ErrorKind::Conflict, detail).with_message(key)
}

/// The local account of actor `actor_id`, locked; 404 when the actor is unknown, 422 naming
/// `actor` when it is a remote one (it is blocked, not suspended).
async fn local_account(conn: &mut Conn, actor_id: i64) -> AppResult<(DbAccount, DbActor)> {
    let actor = db::actors::by_id(conn, actor_id).await?;
    if !actor.local {
        return Err(AppError::field("actor", "field.actor.remote"));
    }
    let account = accounts::table
        .filter(accounts::actor_id.eq(actor_id))
        .select(DbAccount::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| AppError::field("actor", "field.actor.not_member"))?;
    Ok((account, actor))
}

/// Suspends the local account whose actor is `actor_id`, decided by `by`: it can no longer
/// log in, its sessions and tokens stop working, its actor answers 410, its content leaves
/// the public lists, and `Delete` of the actor federates. Only admins suspend staff
/// (moderators, admins, staff). Reversible by admins for 30 days ([`unsuspend`]).
pub async fn suspend(
    ctx: &AppContext,
    conn: &mut Conn,
    by: &DbAccount,
    actor_id: i64,
) -> AppResult<()> {
    ensure_moderator(by)?;
    let (account, actor) = local_account(conn, actor_id).await?;
    if account.id == by.id {
        return Err(AppError::forbidden("nobody suspends their own account")
            .with_message("moderation.suspend.self"));
    }
    if account.role != "member" && !is_admin(by) {
        return Err(AppError::forbidden("only admins suspend staff")
            .with_message("moderation.suspend.staff"));
    }
    if account.suspended_at.is_some() {
        return Err(conflict(
            "this account is already suspended",
            "moderation.suspend.already",
        ));
    }
    if account.role == "admin" {
        // Lock the admins' rows so two suspensions at once cannot leave no admin.
        let active_admins: Vec<i64> = accounts::table
            .filter(accounts::role.eq("admin"))
            .filter(accounts::suspended_at.is_null())
            .select(accounts::id)
            .for_update()
            .load(conn)
            .await?;
        if active_admins.len() <= 1 {
            return Err(conflict(
                "the last admin cannot be suspended",
                "moderation.suspend.last_admin",
            ));
        }
    }
    diesel::update(accounts::table.find(account.id))
        .set(accounts::suspended_at.eq(Some(Utc::now())))
        .execute(conn)
        .await?;
    db::sessions::delete_all_of(conn, account.id).await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::AccountSuspended {
            actor: Box::new(actor),
        },
    )
    .await
}

/// Lifts the suspension of the local account whose actor is `actor_id` (admins only, within
/// 30 days of the suspension).
pub async fn unsuspend(
    ctx: &AppContext,
    conn: &mut Conn,
    by: &DbAccount,
    actor_id: i64,
) -> AppResult<()> {
    ensure_admin(by)?;
    let (account, actor) = local_account(conn, actor_id).await?;
    let Some(suspended_at) = account.suspended_at else {
        return Err(conflict(
            "this account is not suspended",
            "moderation.unsuspend.not_suspended",
        ));
    };
    if !can_unsuspend(suspended_at, Utc::now()) {
        return Err(conflict(
            "the suspension is more than 30 days old: other servers deleted the account",
            "moderation.unsuspend.too_late",
        ));
    }
    diesel::update(accounts::table.find(account.id))
        .set(accounts::suspended_at.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::AccountRestored {
            actor: Box::new(actor),
        },
    )
    .await
}

/// The remote actor `actor_id`; 404 when unknown, 422 naming `actor` when it is local (a
/// local account is suspended, not blocked).
async fn remote_actor(conn: &mut Conn, actor_id: i64) -> AppResult<DbActor> {
    let actor = db::actors::by_id(conn, actor_id).await?;
    if actor.local {
        return Err(AppError::field("actor", "field.actor.local"));
    }
    Ok(actor)
}

/// Blocks the remote actor `actor_id`: its activities are refused from now on, its stored
/// content hidden, follows with it removed.
pub async fn block(
    _ctx: &AppContext,
    conn: &mut Conn,
    by: &DbAccount,
    actor_id: i64,
) -> AppResult<()> {
    ensure_moderator(by)?;
    let actor = remote_actor(conn, actor_id).await?;
    if actor.blocked_at.is_some() {
        return Err(conflict(
            "this actor is already blocked",
            "moderation.block.already",
        ));
    }
    db::actors::set_blocked(conn, actor.id, Some(Utc::now())).await?;
    // Both ways, as a rejected domain's: nothing is sent to it, nothing kept from it. No
    // `Undo`/`Reject` is sent: it hears nothing from us any more.
    db::follows::delete_all_of(conn, actor.id).await?;
    Ok(())
}

/// Lifts the block of the remote actor `actor_id`.
pub async fn unblock(
    _ctx: &AppContext,
    conn: &mut Conn,
    by: &DbAccount,
    actor_id: i64,
) -> AppResult<()> {
    ensure_moderator(by)?;
    let actor = remote_actor(conn, actor_id).await?;
    if actor.blocked_at.is_none() {
        return Err(conflict(
            "this actor is not blocked",
            "moderation.unblock.not_blocked",
        ));
    }
    db::actors::set_blocked(conn, actor.id, None).await?;
    Ok(())
}

/// Marks the latest `action` entry affecting `actor_id` as reverted by `by` (the lift of a
/// suspension or block shows on the entry it undoes).
async fn mark_reverted(
    conn: &mut Conn,
    actor_id: i64,
    action: ActionKind,
    by: &DbAccount,
) -> AppResult<()> {
    if let Some(entry) =
        db::moderation_actions::latest_affecting(conn, actor_id, action.as_str()).await?
        && entry.reverted_at.is_none()
    {
        db::moderation_actions::mark_reverted(conn, entry.id, by.id).await?;
    }
    Ok(())
}

/// An admin lifts the suspension of the member `username` (from the admin page or the API):
/// [`unsuspend`] and its entry in the moderators' log, in one transaction. 404 for an
/// unknown member.
pub async fn lift_suspension(
    ctx: &AppContext,
    by: &DbAccount,
    username: &str,
) -> AppResult<DbAccount> {
    ensure_admin(by)?;
    let username = username.trim().to_lowercase();
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAccount, AppError, _>(async |conn| {
        let account = accounts::table
            .filter(accounts::username.eq(&username))
            .select(DbAccount::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(AppError::not_found)?;
        unsuspend(ctx, conn, by, account.actor_id).await?;
        mark_reverted(conn, account.actor_id, ActionKind::Suspend, by).await?;
        log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                action: ActionKind::Unsuspend.as_str().to_string(),
                affected_actor_id: Some(account.actor_id),
                target: account.username.clone(),
                ..Default::default()
            },
        )
        .await?;
        Ok(db::accounts::by_id(conn, account.id).await?)
    })
    .await
}

/// A moderator lifts the block of the remote actor whose ActivityPub id is `actor` (from the
/// admin page or the API): [`unblock`] and its entry in the moderators' log, in one
/// transaction. 422 naming `actor` when it names no remote actor we know.
pub async fn lift_block(ctx: &AppContext, by: &DbAccount, actor: &str) -> AppResult<DbActor> {
    ensure_moderator(by)?;
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(AppError::field("actor", "field.actor.unknown"));
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbActor, AppError, _>(async |conn| {
        let found = db::actors::by_ap_id(conn, actor)
            .await?
            .ok_or_else(|| AppError::field("actor", "field.actor.unknown"))?;
        unblock(ctx, conn, by, found.id).await?;
        mark_reverted(conn, found.id, ActionKind::Block, by).await?;
        log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                action: ActionKind::Unblock.as_str().to_string(),
                affected_actor_id: Some(found.id),
                target: found.ap_id.clone(),
                ..Default::default()
            },
        )
        .await?;
        Ok(db::actors::by_id(conn, found.id).await?)
    })
    .await
}

/// Whether the suspension of `account` can still be lifted now (the admin account list
/// shows the button while it can).
pub fn liftable(account: &DbAccount) -> bool {
    account
        .suspended_at
        .is_some_and(|at| can_unsuspend(at, Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_thirty_days() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("date");
        assert!(can_unsuspend(at, at));
        assert!(can_unsuspend(at, at + Duration::days(30)));
        assert!(!can_unsuspend(
            at,
            at + Duration::days(30) + Duration::seconds(1)
        ));
    }
}
