//! Sanctions on accounts: suspending a local account, blocking a remote actor, and lifting
//! either. Called by the moderators' decisions (`resolve`) and the admin pages, in the
//! caller's transaction; each records its outbound event (a suspension federates `Delete` of
//! the actor) but not the log entry, which the caller writes with its reasons.

use crate::{
    context::AppContext,
    db::{Conn, accounts::DbAccount},
    error::{AppError, AppResult},
};

// FOUNDATION PLACEHOLDERS: replaced by their owner before the issue is merged. The
// signatures are the contract the decisions (`resolve`) rely on.

/// Suspends the local account whose actor is `actor_id`, decided by `by`: it can no longer
/// log in, its sessions and tokens stop working, its actor answers 410, its content leaves
/// the public lists, and `Delete` of the actor federates. Only admins suspend staff
/// (moderators, admins, staff). Reversible by admins for 30 days ([`unsuspend`]).
pub async fn suspend(
    _ctx: &AppContext,
    _conn: &mut Conn,
    _by: &DbAccount,
    _actor_id: i64,
) -> AppResult<()> {
    Err(AppError::internal("suspension is not built yet"))
}

/// Lifts the suspension of the local account whose actor is `actor_id` (admins only, within
/// 30 days of the suspension).
pub async fn unsuspend(
    _ctx: &AppContext,
    _conn: &mut Conn,
    _by: &DbAccount,
    _actor_id: i64,
) -> AppResult<()> {
    Err(AppError::internal("suspension is not built yet"))
}

/// Blocks the remote actor `actor_id`: its activities are refused from now on, its stored
/// content hidden, follows with it removed.
pub async fn block(
    _ctx: &AppContext,
    _conn: &mut Conn,
    _by: &DbAccount,
    _actor_id: i64,
) -> AppResult<()> {
    Err(AppError::internal("actor blocks are not built yet"))
}

/// Lifts the block of the remote actor `actor_id`.
pub async fn unblock(
    _ctx: &AppContext,
    _conn: &mut Conn,
    _by: &DbAccount,
    _actor_id: i64,
) -> AppResult<()> {
    Err(AppError::internal("actor blocks are not built yet"))
}
