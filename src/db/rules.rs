//! The instance's rules: what a report's reason and a statement of reasons refer to.

use super::schema::instance_rules;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = instance_rules)]
pub struct DbRule {
    pub id: i64,
    pub position: i32,
    pub text_fr: String,
    /// Empty: the French text is shown in English too.
    pub text_en: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A withdrawn rule stays readable from the decisions that cited it.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl DbRule {
    /// The rule's text in `lang` (`fr` or `en`).
    pub fn text(&self, lang: &str) -> &str {
        if lang == "en" && !self.text_en.trim().is_empty() {
            &self.text_en
        } else {
            &self.text_fr
        }
    }
}

/// The rules in force, in their order.
pub async fn current(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DbRule>> {
    instance_rules::table
        .filter(instance_rules::deleted_at.is_null())
        .order((instance_rules::position, instance_rules::id))
        .select(DbRule::as_select())
        .load(conn)
        .await
}

/// The rules with these ids, withdrawn ones included (a decision shows what it cited).
pub async fn by_ids(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<DbRule>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    instance_rules::table
        .filter(instance_rules::id.eq_any(ids))
        .order((instance_rules::position, instance_rules::id))
        .select(DbRule::as_select())
        .load(conn)
        .await
}

/// One rule, withdrawn or not.
pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<DbRule>> {
    instance_rules::table
        .find(id)
        .select(DbRule::as_select())
        .first(conn)
        .await
        .optional()
}

/// A rule as written by an admin.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = instance_rules)]
pub struct NewRule<'a> {
    pub position: i32,
    pub text_fr: &'a str,
    pub text_en: &'a str,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewRule<'_>) -> QueryResult<DbRule> {
    diesel::insert_into(instance_rules::table)
        .values(new)
        .returning(DbRule::as_returning())
        .get_result(conn)
        .await
}

/// Rewrites a rule's texts.
pub async fn set_texts(
    conn: &mut AsyncPgConnection,
    id: i64,
    text_fr: &str,
    text_en: &str,
) -> QueryResult<DbRule> {
    diesel::update(instance_rules::table.find(id))
        .set((
            instance_rules::text_fr.eq(text_fr),
            instance_rules::text_en.eq(text_en),
            instance_rules::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbRule::as_returning())
        .get_result(conn)
        .await
}

pub async fn set_position(conn: &mut AsyncPgConnection, id: i64, position: i32) -> QueryResult<()> {
    diesel::update(instance_rules::table.find(id))
        .set(instance_rules::position.eq(position))
        .execute(conn)
        .await?;
    Ok(())
}

/// Withdraws a rule (it stays readable by id).
pub async fn withdraw(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<DbRule> {
    diesel::update(instance_rules::table.find(id))
        .set((
            instance_rules::deleted_at.eq(diesel::dsl::now),
            instance_rules::updated_at.eq(diesel::dsl::now),
        ))
        .returning(DbRule::as_returning())
        .get_result(conn)
        .await
}

/// Serialises the changes of the rules' order: two admins reordering at once cannot interleave.
pub async fn lock(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("LOCK TABLE instance_rules IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await?;
    Ok(())
}
