//! The moderators' log: every action, who took it, when, on what and why. An entry with an
//! affected actor is also that author's statement of reasons; an author may appeal it once.

use super::schema::{appeals, moderation_actions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = moderation_actions)]
pub struct DbModerationAction {
    pub id: i64,
    /// `None` for actions taken from the command line or by the system.
    pub moderator_account_id: Option<i64>,
    pub report_id: Option<i64>,
    /// See `service::moderation::ActionKind`.
    pub action: String,
    /// The author whose content or account it touched (a statement of reasons goes to them).
    pub affected_actor_id: Option<i64>,
    /// What it was done to: a URL, a domain, a username, a rule number.
    pub target: String,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub rule_ids: Vec<i64>,
    /// Shown to the author.
    pub statement: String,
    /// Moderators only.
    pub note: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub reverted_at: Option<DateTime<Utc>>,
    pub reverted_by: Option<i64>,
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = moderation_actions)]
pub struct NewModerationAction {
    pub moderator_account_id: Option<i64>,
    pub report_id: Option<i64>,
    pub action: String,
    pub affected_actor_id: Option<i64>,
    pub target: String,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub rule_ids: Vec<i64>,
    pub statement: String,
    pub note: String,
    pub details: serde_json::Value,
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = appeals)]
pub struct DbAppeal {
    pub id: i64,
    pub action_id: i64,
    pub account_id: i64,
    pub text: String,
    /// `open`, `granted`, `rejected`.
    pub state: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_text: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewModerationAction,
) -> QueryResult<DbModerationAction> {
    let mut new = new.clone();
    if new.details.is_null() {
        new.details = serde_json::json!({});
    }
    diesel::insert_into(moderation_actions::table)
        .values(&new)
        .returning(DbModerationAction::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> QueryResult<Option<DbModerationAction>> {
    moderation_actions::table
        .find(id)
        .select(DbModerationAction::as_select())
        .first(conn)
        .await
        .optional()
}

/// The actions taken about `actor_id` (their history), newest first.
pub async fn affecting(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    limit: i64,
) -> QueryResult<Vec<DbModerationAction>> {
    moderation_actions::table
        .filter(moderation_actions::affected_actor_id.eq(actor_id))
        .order((
            moderation_actions::created_at.desc(),
            moderation_actions::id.desc(),
        ))
        .limit(limit)
        .select(DbModerationAction::as_select())
        .load(conn)
        .await
}

pub async fn of_report(
    conn: &mut AsyncPgConnection,
    report_id: i64,
) -> QueryResult<Vec<DbModerationAction>> {
    moderation_actions::table
        .filter(moderation_actions::report_id.eq(report_id))
        .order((moderation_actions::created_at, moderation_actions::id))
        .select(DbModerationAction::as_select())
        .load(conn)
        .await
}

pub async fn appeal_of(
    conn: &mut AsyncPgConnection,
    action_id: i64,
) -> QueryResult<Option<DbAppeal>> {
    appeals::table
        .filter(appeals::action_id.eq(action_id))
        .select(DbAppeal::as_select())
        .first(conn)
        .await
        .optional()
}

/// The latest `hide` entry about post `post_id` or comment `comment_id` (one of them): the
/// decision its author is pointed to while it stays hidden.
pub async fn latest_hide(
    conn: &mut AsyncPgConnection,
    post_id: Option<i64>,
    comment_id: Option<i64>,
) -> QueryResult<Option<DbModerationAction>> {
    let mut query = moderation_actions::table
        .filter(moderation_actions::action.eq("hide"))
        .into_boxed();
    query = match (post_id, comment_id) {
        (_, Some(c)) => query.filter(moderation_actions::comment_id.eq(c)),
        (Some(p), None) => query
            .filter(moderation_actions::post_id.eq(p))
            .filter(moderation_actions::comment_id.is_null()),
        (None, None) => return Ok(None),
    };
    query
        .order((
            moderation_actions::created_at.desc(),
            moderation_actions::id.desc(),
        ))
        .select(DbModerationAction::as_select())
        .first(conn)
        .await
        .optional()
}

/// The latest entry of kind `action` affecting `actor_id` (e.g. its suspension).
pub async fn latest_affecting(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    action: &str,
) -> QueryResult<Option<DbModerationAction>> {
    moderation_actions::table
        .filter(moderation_actions::affected_actor_id.eq(actor_id))
        .filter(moderation_actions::action.eq(action))
        .order((
            moderation_actions::created_at.desc(),
            moderation_actions::id.desc(),
        ))
        .select(DbModerationAction::as_select())
        .first(conn)
        .await
        .optional()
}

/// Marks entry `id` as undone by `by` (a lifted suspension or block, content shown again, an
/// appeal granted).
pub async fn mark_reverted(conn: &mut AsyncPgConnection, id: i64, by: i64) -> QueryResult<()> {
    diesel::update(moderation_actions::table.find(id))
        .set((
            moderation_actions::reverted_at.eq(Some(Utc::now())),
            moderation_actions::reverted_by.eq(Some(by)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
