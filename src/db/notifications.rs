//! Notifications: one row per event for one member (see `service::notifications`).

use super::schema::notifications;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::sync::LazyLock;

/// Also read by name from raw SQL (a `RETURNING` or a `SELECT n.*`).
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName, PartialEq)]
#[diesel(table_name = notifications)]
pub struct DbNotification {
    pub id: i64,
    pub account_id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub object_ap_id: Option<String>,
    pub alert_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub delivery: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub digested_at: Option<DateTime<Utc>>,
    /// The report it is about (moderators' and reporters' notifications).
    pub report_id: Option<i64>,
    /// The moderation decision it is about (statements of reasons, appeals).
    pub moderation_action_id: Option<i64>,
    /// The loan request it is about (a new request for the owner, the answer for the
    /// requester).
    pub loan_request_id: Option<i64>,
    /// The venue it is about (a new follower, for its managers).
    pub venue_id: Option<i64>,
    /// The workspace it is about, and within it the message, document, meeting or
    /// invitation.
    pub workspace_id: Option<uuid::Uuid>,
    pub workspace_message_id: Option<uuid::Uuid>,
    pub workspace_document_id: Option<uuid::Uuid>,
    pub workspace_meeting_id: Option<uuid::Uuid>,
    pub workspace_invitation_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification {
    pub account_id: i64,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub object_ap_id: Option<String>,
    pub alert_id: Option<i64>,
    pub dedupe_key: Option<String>,
    pub delivery: String,
    pub report_id: Option<i64>,
    pub moderation_action_id: Option<i64>,
    pub loan_request_id: Option<i64>,
    pub venue_id: Option<i64>,
    pub workspace_id: Option<uuid::Uuid>,
    pub workspace_message_id: Option<uuid::Uuid>,
    pub workspace_document_id: Option<uuid::Uuid>,
    pub workspace_meeting_id: Option<uuid::Uuid>,
    pub workspace_invitation_id: Option<uuid::Uuid>,
}

/// Records notifications; a row whose `(account_id, dedupe_key)` exists already is skipped.
/// Returns the rows written.
pub async fn insert_many(
    conn: &mut AsyncPgConnection,
    new: &[NewNotification],
) -> QueryResult<Vec<DbNotification>> {
    if new.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(notifications::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(DbNotification::as_returning())
        .get_results(conn)
        .await
}

/// SQL condition on a notification `n` (joined as in [`FROM_VISIBLE`]): what it is about can
/// still be seen by its member — the actor is not deleted nor on a blocked domain (either
/// severity), the post is published and not deleted and its author is neither, the comment is
/// not deleted or removed; nor is any of them withheld by the moderators (hidden, a suspended
/// author, a blocked actor) — except in the moderators' own notifications (a report, a
/// decision), which must still reach them. Checked when reading, so a block or a deletion
/// made later hides notifications already recorded.
pub fn visible_sql() -> &'static str {
    use super::actors::sanctioned_sql;
    use super::domain_blocks::covered_by_any_sql;
    // Built once: the header counter runs it on every page.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "(n.actor_id IS NULL OR (a.deleted_at IS NULL AND NOT {actor_blocked})) \
             AND (n.post_id IS NULL OR (p.id IS NOT NULL AND p.deleted_at IS NULL AND NOT p.draft \
                  AND pa.deleted_at IS NULL AND NOT {author_blocked})) \
             AND (n.comment_id IS NULL OR (c.id IS NOT NULL AND c.deleted_at IS NULL)) \
             AND (n.moderation_action_id IS NOT NULL OR n.report_id IS NOT NULL \
                  OR ((n.actor_id IS NULL OR NOT {actor_sanctioned}) \
                      AND (n.post_id IS NULL OR (p.hidden_at IS NULL AND NOT {author_sanctioned})) \
                      AND (n.comment_id IS NULL OR (c.hidden_at IS NULL \
                           AND NOT {commenter_sanctioned}))))",
            actor_blocked = covered_by_any_sql("a.domain"),
            author_blocked = covered_by_any_sql("pa.domain"),
            actor_sanctioned = sanctioned_sql("n.actor_id"),
            author_sanctioned = sanctioned_sql("p.author_actor_id"),
            commenter_sanctioned = sanctioned_sql("c.author_actor_id"),
        )
    });
    &SQL
}

/// The notifications of member `$1`, with what decides their visibility.
const FROM_VISIBLE: &str = "FROM notifications n \
     LEFT JOIN actors a ON a.id = n.actor_id \
     LEFT JOIN posts p ON p.id = n.post_id \
     LEFT JOIN actors pa ON pa.id = p.author_actor_id \
     LEFT JOIN comments c ON c.id = n.comment_id \
     WHERE n.account_id = $1";

/// Likes and boosts of one object form one group; every other notification is its own.
const GROUP_KEY: &str = "CASE WHEN n.kind IN ('like', 'boost') AND n.object_ap_id IS NOT NULL \
     THEN n.kind || ' ' || n.object_ap_id ELSE n.id::text END";

/// One group of the centre: its newest row, how many rows it has, whether any is unread.
#[derive(Debug, Clone, QueryableByName)]
pub struct GroupRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub unread: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A page of the visible groups of `account_id`, newest first.
pub async fn groups(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<GroupRow>> {
    let sql = format!(
        "SELECT max(n.id) AS id, count(*) AS members, bool_or(n.read_at IS NULL) AS unread \
         {FROM_VISIBLE} AND {visible}{unread} \
         GROUP BY {GROUP_KEY} ORDER BY max(n.id) DESC LIMIT $2 OFFSET $3",
        visible = visible_sql(),
        unread = unread_condition(unread_only),
    );
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(account_id)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .bind::<diesel::sql_types::BigInt, _>(offset)
        .load(conn)
        .await
}

/// How many visible groups `account_id` has (only unread ones with `unread_only`): the
/// unread counter of the header (served by the partial index on unread rows) and the
/// number of pages.
pub async fn count_groups(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    unread_only: bool,
) -> QueryResult<i64> {
    let row: Count = diesel::sql_query(count_sql(unread_only))
        .bind::<diesel::sql_types::BigInt, _>(account_id)
        .get_result(conn)
        .await?;
    Ok(row.n)
}

/// The statement [`count_groups`] runs (`$1`: the member's account id); public so that a
/// test can check its plan.
pub fn count_sql(unread_only: bool) -> &'static str {
    // Built once each: the header counter runs one on every page.
    static UNREAD: LazyLock<String> = LazyLock::new(|| count_sql_for(true));
    static ALL: LazyLock<String> = LazyLock::new(|| count_sql_for(false));
    if unread_only { &UNREAD } else { &ALL }
}

fn count_sql_for(unread_only: bool) -> String {
    format!(
        "SELECT count(DISTINCT {GROUP_KEY}) AS n {FROM_VISIBLE} AND {visible}{unread}",
        visible = visible_sql(),
        unread = unread_condition(unread_only),
    )
}

/// The extra condition that keeps unread rows only, when asked.
fn unread_condition(unread_only: bool) -> &'static str {
    if unread_only {
        " AND n.read_at IS NULL"
    } else {
        ""
    }
}

/// The rows with these ids (any order).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<DbNotification>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    notifications::table
        .filter(notifications::id.eq_any(ids))
        .select(DbNotification::as_select())
        .load(conn)
        .await
}

/// Marks read the notifications `ids` of `account_id` and, for a like or boost, every like or
/// boost of the same object (the group it stands for). Returns how many rows changed.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    account_id: i64,
    ids: &[i64],
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::sql_query(
        "UPDATE notifications SET read_at = now() \
         WHERE account_id = $1 AND read_at IS NULL AND (id = ANY($2) OR (kind, object_ap_id) IN \
           (SELECT kind, object_ap_id FROM notifications \
            WHERE account_id = $1 AND id = ANY($2) AND kind IN ('like', 'boost') \
              AND object_ap_id IS NOT NULL))",
    )
    .bind::<diesel::sql_types::BigInt, _>(account_id)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .execute(conn)
    .await
}

/// Marks every notification of `account_id` read.
pub async fn mark_all_read(conn: &mut AsyncPgConnection, account_id: i64) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::account_id.eq(account_id))
            .filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// A member a notification or digest mail may go to.
#[derive(Debug, Clone, Queryable)]
pub struct MailRecipient {
    pub id: i64,
    pub email: String,
    pub language: Option<String>,
    pub display_name: String,
    pub username: String,
}

/// Who among members may receive a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipients {
    /// Address confirmed and not suspended: notifications and digests.
    Active,
    /// Address confirmed, suspended or not: a statement of reasons is owed to its author even
    /// when the decision is their suspension.
    Owed,
}

/// Those of these members who may receive mail (see [`Recipients`]).
pub async fn mail_recipients(
    conn: &mut AsyncPgConnection,
    members: &[i64],
    who: Recipients,
) -> QueryResult<Vec<MailRecipient>> {
    use super::schema::accounts;
    let mut query = accounts::table
        .filter(accounts::id.eq_any(members))
        .filter(accounts::email_confirmed_at.is_not_null())
        .into_boxed();
    if who == Recipients::Active {
        query = query.filter(accounts::suspended_at.is_null());
    }
    query
        .select((
            accounts::id,
            accounts::email,
            accounts::language,
            accounts::display_name,
            accounts::username,
        ))
        .load(conn)
        .await
}
