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
