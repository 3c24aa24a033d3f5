//! The instance's rules, edited by admins: what a report's reason and a statement of reasons
//! refer to, shown on the "À propos" page and at registration. A withdrawn rule is only marked
//! (`deleted_at`): the decisions that cited it still show it. Every change is written to the
//! moderators' log in the same transaction.

use crate::{
    context::AppContext,
    db::{self, Conn, accounts::DbAccount, moderation_actions::NewModerationAction, rules::DbRule},
    error::{AppError, AppResult, FieldErrors},
    service::moderation::{self, ActionKind},
};
use diesel_async::AsyncConnection as _;

/// Longest text of a rule, in characters (in each language).
pub const MAX_TEXT: usize = 1000;

/// A rule's texts as typed by an admin.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    /// Required.
    pub text_fr: String,
    /// Optional: empty shows the French text in English too.
    pub text_en: String,
}

impl RuleInput {
    /// Trimmed texts, or the fields at fault.
    fn checked(&self) -> AppResult<(String, String)> {
        let fr = self.text_fr.trim();
        let en = self.text_en.trim();
        let mut errors = FieldErrors::default();
        if fr.is_empty() {
            errors.add("text_fr", "field.required");
        } else if fr.chars().count() > MAX_TEXT {
            errors.add("text_fr", "field.rule_text.too_long");
        }
        if en.chars().count() > MAX_TEXT {
            errors.add("text_en", "field.rule_text.too_long");
        }
        errors.into_result()?;
        Ok((fr.to_string(), en.to_string()))
    }
}

/// The rules in force, in their order.
pub async fn current(ctx: &AppContext) -> AppResult<Vec<DbRule>> {
    let mut conn = ctx.conn().await?;
    Ok(db::rules::current(&mut conn).await?)
}

/// One rule, withdrawn ones included (404 when unknown).
pub async fn get(ctx: &AppContext, id: i64) -> AppResult<DbRule> {
    let mut conn = ctx.conn().await?;
    db::rules::by_id(&mut conn, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// The rule's number as shown to members (its rank among the rules in force), `None` when
/// withdrawn.
pub fn number_of(rules: &[DbRule], id: i64) -> Option<usize> {
    rules.iter().position(|r| r.id == id).map(|i| i + 1)
}

fn entry(
    by: &DbAccount,
    kind: ActionKind,
    rule: &DbRule,
    details: serde_json::Value,
) -> NewModerationAction {
    NewModerationAction {
        moderator_account_id: Some(by.id),
        action: kind.as_str().to_string(),
        target: rule.id.to_string(),
        details,
        ..Default::default()
    }
}

/// A rule in force, locked for a change (404 when unknown or withdrawn).
async fn in_force(conn: &mut Conn, id: i64) -> AppResult<DbRule> {
    db::rules::lock(conn).await?;
    match db::rules::by_id(conn, id).await? {
        Some(rule) if rule.deleted_at.is_none() => Ok(rule),
        _ => Err(AppError::not_found()),
    }
}

/// Adds a rule after the others.
pub async fn create(ctx: &AppContext, by: &DbAccount, input: &RuleInput) -> AppResult<DbRule> {
    moderation::ensure_admin(by)?;
    let (fr, en) = input.checked()?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbRule, AppError, _>(async |conn| {
        db::rules::lock(conn).await?;
        let rules = db::rules::current(conn).await?;
        let position = rules.iter().map(|r| r.position).max().unwrap_or(0) + 1;
        let rule = db::rules::insert(
            conn,
            &db::rules::NewRule {
                position,
                text_fr: &fr,
                text_en: &en,
            },
        )
        .await?;
        moderation::log(
            conn,
            entry(
                by,
                ActionKind::RuleCreate,
                &rule,
                serde_json::json!({"text_fr": rule.text_fr, "text_en": rule.text_en}),
            ),
        )
        .await?;
        Ok(rule)
    })
    .await
}

/// Rewrites a rule's texts.
pub async fn update(
    ctx: &AppContext,
    by: &DbAccount,
    id: i64,
    input: &RuleInput,
) -> AppResult<DbRule> {
    change(ctx, by, id, Some(input), None).await
}

/// Moves a rule to `number` (1 = first; beyond the end = last); the rules in force are
/// renumbered 1, 2, 3…
pub async fn move_to(ctx: &AppContext, by: &DbAccount, id: i64, number: i64) -> AppResult<DbRule> {
    change(ctx, by, id, None, Some(number)).await
}

/// Rewrites a rule's texts and/or moves it, in one transaction: bad input changes nothing.
pub async fn change(
    ctx: &AppContext,
    by: &DbAccount,
    id: i64,
    texts: Option<&RuleInput>,
    number: Option<i64>,
) -> AppResult<DbRule> {
    moderation::ensure_admin(by)?;
    let texts = texts.map(RuleInput::checked).transpose()?;
    if number.is_some_and(|n| n < 1) {
        return Err(AppError::field("position", "field.rule_position.invalid"));
    }
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbRule, AppError, _>(async |conn| {
        let mut rule = in_force(conn, id).await?;
        if let Some((fr, en)) = texts {
            rule = set_texts(conn, by, rule, &fr, &en).await?;
        }
        if let Some(number) = number {
            rule = move_rule(conn, by, rule, number).await?;
        }
        Ok(rule)
    })
    .await
}

async fn set_texts(
    conn: &mut Conn,
    by: &DbAccount,
    before: DbRule,
    fr: &str,
    en: &str,
) -> AppResult<DbRule> {
    if before.text_fr == fr && before.text_en == en {
        return Ok(before);
    }
    let rule = db::rules::set_texts(conn, before.id, fr, en).await?;
    moderation::log(
        conn,
        entry(
            by,
            ActionKind::RuleUpdate,
            &rule,
            serde_json::json!({
                "before": {"text_fr": before.text_fr, "text_en": before.text_en},
                "after": {"text_fr": rule.text_fr, "text_en": rule.text_en},
            }),
        ),
    )
    .await?;
    Ok(rule)
}

async fn move_rule(
    conn: &mut Conn,
    by: &DbAccount,
    rule: DbRule,
    number: i64,
) -> AppResult<DbRule> {
    let id = rule.id;
    let mut rules = db::rules::current(conn).await?;
    let from = number_of(&rules, id).unwrap_or(rules.len());
    rules.retain(|r| r.id != id);
    let index = usize::try_from(number - 1)
        .unwrap_or(usize::MAX)
        .min(rules.len());
    rules.insert(index, rule.clone());
    for (i, r) in rules.iter().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if r.position != position {
            db::rules::set_position(conn, r.id, position).await?;
        }
    }
    if from != index + 1 {
        moderation::log(
            conn,
            entry(
                by,
                ActionKind::RuleUpdate,
                &rule,
                serde_json::json!({"from_number": from, "to_number": index + 1}),
            ),
        )
        .await?;
    }
    db::rules::by_id(conn, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Withdraws a rule: it leaves the list, stays readable from the decisions that cited it.
pub async fn withdraw(ctx: &AppContext, by: &DbAccount, id: i64) -> AppResult<DbRule> {
    moderation::ensure_admin(by)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbRule, AppError, _>(async |conn| {
        in_force(conn, id).await?;
        let rule = db::rules::withdraw(conn, id).await?;
        moderation::log(
            conn,
            entry(
                by,
                ActionKind::RuleDelete,
                &rule,
                serde_json::json!({"text_fr": rule.text_fr, "text_en": rule.text_en}),
            ),
        )
        .await?;
        Ok(rule)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_checked() {
        let ok = RuleInput {
            text_fr: "  Soyez courtois. ".into(),
            text_en: String::new(),
        };
        assert_eq!(
            ok.checked().expect("ok"),
            ("Soyez courtois.".to_string(), String::new())
        );
        let empty = RuleInput::default().checked().expect_err("empty");
        assert_eq!(empty.fields[0].field, "text_fr");
        let long = RuleInput {
            text_fr: "é".repeat(MAX_TEXT),
            text_en: "x".repeat(MAX_TEXT + 1),
        }
        .checked()
        .expect_err("long");
        assert_eq!(long.fields.len(), 1);
        assert_eq!(long.fields[0].field, "text_en");
    }
}
