//! Administration: the overview moderators see, and role changes by admins.

use crate::{
    context::AppContext,
    db::moderation_actions::NewModerationAction,
    db::{self, accounts::DbAccount, schema::accounts},
    error::{AppError, AppResult, ErrorKind},
    service::{
        accounts::{ROLES, is_admin},
        moderation::ActionKind,
    },
};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

/// Figures for the administration home page.
#[derive(Debug, Clone)]
pub struct Overview {
    pub accounts_total: i64,
    /// (role, count), in the order of [`ROLES`].
    pub accounts_by_role: Vec<(&'static str, i64)>,
    pub structures: i64,
    pub suspended: i64,
    pub new_last_7_days: i64,
    pub active_sessions: i64,
    pub failed_logins_24h: i64,
    pub recent: Vec<DbAccount>,
}

pub async fn overview(ctx: &AppContext) -> AppResult<Overview> {
    let mut conn = ctx.conn().await?;
    let by_role: Vec<(String, i64)> = accounts::table
        .group_by(accounts::role)
        .select((accounts::role, diesel::dsl::count_star()))
        .load(&mut conn)
        .await?;
    let accounts_by_role = ROLES
        .iter()
        .map(|role| {
            let n = by_role
                .iter()
                .find(|(r, _)| r == role)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (*role, n)
        })
        .collect();
    let accounts_total = db::accounts::count(&mut conn).await?;
    let structures = accounts::table
        .filter(accounts::kind.eq("structure"))
        .count()
        .get_result(&mut conn)
        .await?;
    let suspended = accounts::table
        .filter(accounts::suspended_at.is_not_null())
        .count()
        .get_result(&mut conn)
        .await?;
    let new_last_7_days = accounts::table
        .filter(accounts::created_at.gt(Utc::now() - Duration::days(7)))
        .count()
        .get_result(&mut conn)
        .await?;
    let active_sessions = db::sessions::count_active(&mut conn).await?;
    // Each failure is recorded once for the address (and once more for the account when the
    // name exists): count the address rows to count attempts.
    let failed_logins_24h = db::login_failures::count_scope_since(
        &mut conn,
        db::login_failures::SCOPE_IP,
        Utc::now() - Duration::hours(24),
    )
    .await?;
    let recent = list_accounts(&mut conn, 0, 10).await?;
    Ok(Overview {
        accounts_total,
        accounts_by_role,
        structures,
        suspended,
        new_last_7_days,
        active_sessions,
        failed_logins_24h,
        recent,
    })
}

/// Accounts, newest first.
pub async fn list_accounts(
    conn: &mut diesel_async::AsyncPgConnection,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<DbAccount>> {
    Ok(accounts::table
        .order((accounts::created_at.desc(), accounts::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(DbAccount::as_select())
        .load(conn)
        .await?)
}

/// One page of the account list, and whether another page follows.
pub async fn accounts_page(
    ctx: &AppContext,
    page: i64,
    per_page: i64,
) -> AppResult<(Vec<DbAccount>, bool)> {
    let page = page.max(1);
    let mut conn = ctx.conn().await?;
    let mut rows = list_accounts(&mut conn, (page - 1) * per_page, per_page + 1).await?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(0));
    Ok((rows, more))
}

/// `by` (an admin) gives `username` the role `role`. The last admin cannot lose the role, so
/// the instance always keeps someone able to manage it. A change is written to the moderators'
/// log in the same transaction.
pub async fn change_role(
    ctx: &AppContext,
    by: &DbAccount,
    username: &str,
    role: &str,
) -> AppResult<DbAccount> {
    if !is_admin(by) {
        return Err(AppError::forbidden("only admins change roles"));
    }
    if !ROLES.contains(&role) {
        return Err(AppError::field("role", "field.role.invalid"));
    }
    let username = username.trim().to_lowercase();
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAccount, AppError, _>(async |conn| {
        // Lock the admins' rows so two demotions at once cannot remove the last two admins.
        let admins: Vec<i64> = accounts::table
            .filter(accounts::role.eq("admin"))
            .select(accounts::id)
            .for_update()
            .load(conn)
            .await?;
        let target = accounts::table
            .filter(accounts::username.eq(&username))
            .select(DbAccount::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or_else(AppError::not_found)?;
        if target.role == "admin" && role != "admin" && admins.len() <= 1 {
            return Err(
                AppError::new(ErrorKind::Conflict, "the last admin keeps the role")
                    .with_message("admin.roles.last_admin"),
            );
        }
        let changed = db::accounts::set_role(conn, target.id, role).await?;
        if target.role != changed.role {
            crate::service::moderation::log(
                conn,
                NewModerationAction {
                    moderator_account_id: Some(by.id),
                    action: ActionKind::RoleChange.as_str().to_string(),
                    target: changed.username.clone(),
                    details: serde_json::json!({"from": target.role, "to": changed.role}),
                    ..Default::default()
                },
            )
            .await?;
        }
        Ok(changed)
    })
    .await
}
