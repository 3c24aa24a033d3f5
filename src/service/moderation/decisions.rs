//! The author's side of a decision: the statement of reasons (page and mail), the notice on
//! their next visit until they acknowledge it, one appeal per decision, and the moderators'
//! answer to it (or their own reversal of a hidden item).

use super::{ActionKind, ensure_admin, ensure_moderator, log, resolve::notify_affected, sanctions};
use crate::{
    context::AppContext,
    db::{
        self, Conn,
        accounts::DbAccount,
        moderation_actions::{DbAppeal, DbModerationAction, NewModerationAction},
        notifications::DbNotification,
        rules::DbRule,
        schema::{appeals, moderation_actions},
    },
    error::{AppError, AppResult, ErrorKind},
    i18n::Lang,
    sanitize,
    service::{
        mail::{self, MailBody, MailCategory, OutgoingMail},
        moderation::targets::Snapshot,
        notifications::{Event, NotificationKind, by_recipient_language},
    },
};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

/// Longest appeal and answer to an appeal.
pub const MAX_APPEAL_CHARS: usize = 5000;

/// The entries that show the notice on the author's next visit until acknowledged.
const NOTICE_ACTIONS: &[&str] = &[
    "hide",
    "delete",
    "redirect",
    "warn",
    "suspend",
    "block",
    "appeal_granted",
    "appeal_rejected",
];

/// A decision as its author (or a moderator) reads it.
#[derive(Debug, Clone)]
pub struct Statement {
    pub entry: DbModerationAction,
    pub kind: ActionKind,
    /// What it was about, as it was when reported.
    pub snapshot: Option<Snapshot>,
    /// The rules it refers to.
    pub rules: Vec<DbRule>,
    /// The appeal against it, if any.
    pub appeal: Option<DbAppeal>,
    /// The account it concerns (a local author).
    pub account_id: Option<i64>,
}

impl Statement {
    /// Only removals and restrictions can be appealed, once.
    pub fn appealable(&self) -> bool {
        self.kind.is_restriction() && self.appeal.is_none() && self.entry.reverted_at.is_none()
    }

    /// A plain-text excerpt of the content it was about.
    pub fn excerpt(&self) -> String {
        self.snapshot
            .as_ref()
            .map(|s| sanitize::excerpt(&sanitize::plain_text(&s.html), 300))
            .unwrap_or_default()
    }

    pub fn title(&self) -> String {
        self.snapshot
            .as_ref()
            .map(|s| s.title.trim().to_string())
            .unwrap_or_default()
    }

    /// The rules' texts in `lang`.
    pub fn rule_texts(&self, lang: Lang) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| r.text(lang.code()).to_string())
            .collect()
    }
}

/// Loads the statement of decision `id`.
pub async fn load(conn: &mut Conn, id: i64) -> AppResult<Option<Statement>> {
    let Some(entry) = db::moderation_actions::by_id(conn, id).await? else {
        return Ok(None);
    };
    let Some(kind) = ActionKind::parse(&entry.action) else {
        return Ok(None);
    };
    let snapshot = match entry.report_id {
        Some(report_id) => {
            let targets = db::reports::targets_of(conn, report_id).await?;
            targets
                .iter()
                .find(|t| t.ap_id == entry.target)
                .or(<[db::reports::DbReportTarget]>::first(&targets))
                .map(|t| Snapshot::from_json(&t.snapshot))
        }
        None => None,
    };
    let rules = db::rules::by_ids(conn, &entry.rule_ids).await?;
    let appeal = db::moderation_actions::appeal_of(conn, entry.id).await?;
    let account_id = match entry.affected_actor_id {
        Some(actor) => db::accounts::by_actor_id(conn, actor).await?.map(|a| a.id),
        None => None,
    };
    Ok(Some(Statement {
        entry,
        kind,
        snapshot,
        rules,
        appeal,
        account_id,
    }))
}

/// Decision `id` as `viewer` may read it: the account it concerns, or a moderator; 404 for
/// anyone else.
pub async fn view(ctx: &AppContext, viewer: &DbAccount, id: i64) -> AppResult<Statement> {
    let mut conn = ctx.conn().await?;
    let statement = load(&mut conn, id).await?.ok_or_else(AppError::not_found)?;
    let mine = statement.account_id == Some(viewer.id);
    if !mine && ensure_moderator(viewer).is_err() {
        return Err(AppError::not_found());
    }
    Ok(statement)
}

/// The decision the logged-in author has not acknowledged yet (oldest first): its id and
/// whether it is a warning. One indexed query (the session middleware calls it per page).
pub async fn pending_notice(
    ctx: &AppContext,
    account: &DbAccount,
) -> AppResult<Option<(i64, bool)>> {
    let mut conn = ctx.conn().await?;
    let row: Option<(i64, String)> = moderation_actions::table
        .filter(moderation_actions::affected_actor_id.eq(account.actor_id))
        .filter(moderation_actions::acknowledged_at.is_null())
        .filter(moderation_actions::action.eq_any(NOTICE_ACTIONS))
        .order((moderation_actions::created_at, moderation_actions::id))
        .select((moderation_actions::id, moderation_actions::action))
        .first(&mut conn)
        .await
        .optional()?;
    Ok(row.map(|(id, action)| (id, action == ActionKind::Warn.as_str())))
}

/// The author dismisses the notice of decision `id` ("J'ai lu").
pub async fn acknowledge(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<()> {
    let mut conn = ctx.conn().await?;
    let updated = diesel::update(
        moderation_actions::table
            .find(id)
            .filter(moderation_actions::affected_actor_id.eq(account.actor_id)),
    )
    .set(moderation_actions::acknowledged_at.eq(Some(Utc::now())))
    .execute(&mut conn)
    .await?;
    if updated == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

fn check_text(field: &str, text: &str) -> AppResult<String> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(AppError::field(field, "field.required"));
    }
    if text.chars().count() > MAX_APPEAL_CHARS {
        return Err(AppError::field(field, "field.too_long"));
    }
    Ok(text)
}

/// The author appeals decision `id` (once); every moderator and admin is notified.
pub async fn appeal(
    ctx: &AppContext,
    account: &DbAccount,
    id: i64,
    text: &str,
) -> AppResult<DbAppeal> {
    let text = check_text("text", text)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAppeal, AppError, _>(async |conn| {
        let statement = load(conn, id).await?.ok_or_else(AppError::not_found)?;
        if statement.account_id != Some(account.id) {
            return Err(AppError::not_found());
        }
        if statement.appeal.is_some() {
            return Err(
                AppError::new(ErrorKind::Conflict, "this decision was already appealed")
                    .with_message("moderation.appeal.already"),
            );
        }
        if !statement.appealable() {
            return Err(
                AppError::new(ErrorKind::Conflict, "this decision cannot be appealed")
                    .with_message("moderation.appeal.not_appealable"),
            );
        }
        let appeal: Option<DbAppeal> = diesel::insert_into(appeals::table)
            .values((
                appeals::action_id.eq(id),
                appeals::account_id.eq(account.id),
                appeals::text.eq(&text),
            ))
            .on_conflict_do_nothing()
            .returning(DbAppeal::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        let appeal = appeal.ok_or_else(|| {
            AppError::new(ErrorKind::Conflict, "this decision was already appealed")
                .with_message("moderation.appeal.already")
        })?;
        super::notify_moderators(
            ctx,
            conn,
            Event {
                account_id: 0,
                kind: NotificationKind::Appeal,
                actor_id: Some(account.actor_id),
                post_id: None,
                comment_id: None,
                object_ap_id: None,
                alert_id: None,
                dedupe_key: Some(format!("appeal:{}", appeal.id)),
                report_id: statement.entry.report_id,
                moderation_action_id: Some(id),
                loan_request_id: None,
                venue_id: None,
                workspace: Default::default(),
            },
        )
        .await?;
        Ok(appeal)
    })
    .await
}

/// A moderator answers the appeal against decision `id`: granted (what can be undone is:
/// hidden content shown again, a block lifted, a suspension lifted by an admin; deleted
/// content cannot be restored on other servers) or rejected. The author is told.
pub async fn decide_appeal(
    ctx: &AppContext,
    by: &DbAccount,
    id: i64,
    grant: bool,
    text: &str,
) -> AppResult<DbAppeal> {
    ensure_moderator(by)?;
    let text = check_text("decision_text", text)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbAppeal, AppError, _>(async |conn| {
        let statement = load(conn, id).await?.ok_or_else(AppError::not_found)?;
        let appeal = statement.appeal.clone().ok_or_else(AppError::not_found)?;
        if appeal.state != "open" {
            return Err(
                AppError::new(ErrorKind::Conflict, "this appeal was already decided")
                    .with_message("moderation.appeal.already_decided"),
            );
        }
        let mut restored = true;
        if grant {
            restored = revert(ctx, conn, by, &statement.entry).await?;
        }
        let state = if grant { "granted" } else { "rejected" };
        let updated: Option<DbAppeal> = diesel::update(
            appeals::table
                .find(appeal.id)
                .filter(appeals::state.eq("open")),
        )
        .set((
            appeals::state.eq(state),
            appeals::decided_by.eq(Some(by.id)),
            appeals::decided_at.eq(Some(Utc::now())),
            appeals::decision_text.eq(&text),
        ))
        .returning(DbAppeal::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        let updated = updated.ok_or_else(|| {
            AppError::new(ErrorKind::Conflict, "this appeal was already decided")
                .with_message("moderation.appeal.already_decided")
        })?;
        let kind = if grant {
            ActionKind::AppealGranted
        } else {
            ActionKind::AppealRejected
        };
        let mut statement_text = text.clone();
        if grant && !restored {
            statement_text.push_str("\n\n");
            statement_text.push_str(ctx.default_lang.t("moderation.appeal.not_restorable"));
        }
        let entry = log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                report_id: statement.entry.report_id,
                action: kind.as_str().to_string(),
                affected_actor_id: statement.entry.affected_actor_id,
                target: statement.entry.target.clone(),
                post_id: statement.entry.post_id,
                comment_id: statement.entry.comment_id,
                rule_ids: statement.entry.rule_ids.clone(),
                statement: statement_text,
                details: serde_json::json!({
                    "appeal_id": appeal.id,
                    "decision_id": statement.entry.id,
                    "restored": restored,
                }),
                ..NewModerationAction::default()
            },
        )
        .await?;
        notify_affected(ctx, conn, &entry).await?;
        Ok(updated)
    })
    .await
}

/// Undoes what decision `entry` did, when it can be: returns false for a deletion (gone,
/// and its `Delete` already federated).
async fn revert(
    ctx: &AppContext,
    conn: &mut Conn,
    by: &DbAccount,
    entry: &DbModerationAction,
) -> AppResult<bool> {
    let restored = match ActionKind::parse(&entry.action) {
        Some(ActionKind::Hide) => {
            show_again(conn, entry).await?;
            true
        }
        Some(ActionKind::Suspend) => {
            ensure_admin(by).map_err(|e| e.with_message("moderation.appeal.admins_unsuspend"))?;
            let actor = entry
                .affected_actor_id
                .ok_or_else(|| AppError::internal("a suspension without its account"))?;
            sanctions::unsuspend(ctx, conn, by, actor).await?;
            true
        }
        Some(ActionKind::Block) => {
            let actor = entry
                .affected_actor_id
                .ok_or_else(|| AppError::internal("a block without its actor"))?;
            sanctions::unblock(ctx, conn, by, actor).await?;
            true
        }
        Some(ActionKind::Delete | ActionKind::Redirect) => false,
        _ => true,
    };
    mark_reverted(conn, entry.id, by.id).await?;
    Ok(restored)
}

async fn show_again(conn: &mut Conn, entry: &DbModerationAction) -> AppResult<()> {
    if let Some(id) = entry.post_id {
        db::posts::set_hidden(conn, id, None).await?;
    }
    if let Some(id) = entry.comment_id {
        db::comments::set_hidden(conn, id, None).await?;
    }
    Ok(())
}

async fn mark_reverted(conn: &mut Conn, id: i64, by: i64) -> AppResult<()> {
    Ok(db::moderation_actions::mark_reverted(conn, id, by).await?)
}

/// A moderator shows again what decision `id` hid (an `unhide` entry in the log; the author
/// is told).
pub async fn unhide(ctx: &AppContext, by: &DbAccount, id: i64) -> AppResult<DbModerationAction> {
    ensure_moderator(by)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbModerationAction, AppError, _>(async |conn| {
        let entry = db::moderation_actions::by_id(conn, id)
            .await?
            .ok_or_else(AppError::not_found)?;
        if entry.action != ActionKind::Hide.as_str() {
            return Err(AppError::field("action", "field.action.not_hidden"));
        }
        if entry.reverted_at.is_some() {
            return Err(AppError::new(ErrorKind::Conflict, "already shown again")
                .with_message("moderation.unhide.already"));
        }
        show_again(conn, &entry).await?;
        mark_reverted(conn, entry.id, by.id).await?;
        let undone = log(
            conn,
            NewModerationAction {
                moderator_account_id: Some(by.id),
                report_id: entry.report_id,
                action: ActionKind::Unhide.as_str().to_string(),
                affected_actor_id: entry.affected_actor_id,
                target: entry.target.clone(),
                post_id: entry.post_id,
                comment_id: entry.comment_id,
                details: serde_json::json!({ "decision_id": entry.id }),
                ..NewModerationAction::default()
            },
        )
        .await?;
        notify_affected(ctx, conn, &undone).await?;
        Ok(undone)
    })
    .await
}

/// The key of the appeal link mailed to a suspended author, who cannot log in: it opens
/// decision `id` for `account_id` only (HMAC under the instance's link key, as unsubscribe
/// links are signed).
pub async fn appeal_key(conn: &mut Conn, id: i64, account_id: i64) -> AppResult<String> {
    let key = crate::service::tokens::link_key(conn).await?;
    let sig = crate::service::tokens::sign_with(&key, &format!("appeal.{id}.{account_id}"))?;
    Ok(format!("{account_id}.{sig}"))
}

/// The account an appeal link's `key` opens decision `id` for; `None` when the key is wrong or
/// the decision is not about that account.
pub async fn account_for_key(ctx: &AppContext, id: i64, key: &str) -> AppResult<Option<DbAccount>> {
    let Some((account, sig)) = key.split_once('.') else {
        return Ok(None);
    };
    let Ok(account_id) = account.parse::<i64>() else {
        return Ok(None);
    };
    let mut conn = ctx.conn().await?;
    let link_key = crate::service::tokens::link_key(&mut conn).await?;
    let payload = format!("appeal.{id}.{account_id}");
    if !crate::service::tokens::signature_matches(&link_key, &payload, sig) {
        return Ok(None);
    }
    Ok(Some(db::accounts::by_id(&mut conn, account_id).await?))
}

/// Queues the mail of each statement-of-reasons notification: the full statement (what, why,
/// which rules, what was done, how to appeal), never with an unsubscribe link (it is owed).
pub async fn queue_statement_mails(
    ctx: &AppContext,
    conn: &mut Conn,
    rows: &[&DbNotification],
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (recipients, by_lang) = by_recipient_language(
        ctx,
        conn,
        db::notifications::Recipients::Owed,
        rows.iter().copied(),
    )
    .await?;
    let instance = ctx.config.instance.name.as_str();
    let mut mails = Vec::new();
    for (lang, rows) in by_lang {
        for row in rows {
            let Some(r) = recipients.get(&row.account_id) else {
                continue;
            };
            let Some(id) = row.moderation_action_id else {
                continue;
            };
            let Some(statement) = load(conn, id).await? else {
                continue;
            };
            let name = if r.display_name.trim().is_empty() {
                r.username.as_str()
            } else {
                r.display_name.as_str()
            };
            // A suspended author cannot log in: their link carries its own key.
            let mut url = ctx.urls.absolute(&crate::urls::decision_path(id));
            if statement.kind == ActionKind::Suspend {
                url = format!("{url}?cle={}", appeal_key(conn, id, row.account_id).await?);
            }
            let (subject, body) = statement_mail(ctx, lang, name, &statement, url);
            let (text, html) = body.render(lang, instance);
            mails.push(OutgoingMail {
                account_id: Some(row.account_id),
                to: r.email.clone(),
                lang,
                category: MailCategory::ModerationDecision,
                subject,
                text,
                html,
                unsubscribe_url: None,
            });
        }
    }
    mail::enqueue_many(conn, ctx, mails).await?;
    Ok(())
}

/// The subject and body of a statement of reasons.
pub fn statement_mail(
    ctx: &AppContext,
    lang: Lang,
    name: &str,
    statement: &Statement,
    url: String,
) -> (String, MailBody) {
    let label = lang.t(statement.kind.label_key());
    let subject = lang
        .t("notifications.text.moderation_decision")
        .replace("{title}", label);
    let mut paragraphs = vec![format!(
        "{} {label}",
        lang.t("moderation.decision.what_done")
    )];
    let title = statement.title();
    let excerpt = statement.excerpt();
    if !title.is_empty() || !excerpt.is_empty() {
        let about = [title, excerpt]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        paragraphs.push(format!("{}\n{about}", lang.t("moderation.decision.about")));
    }
    if !statement.entry.statement.is_empty() {
        paragraphs.push(format!(
            "{}\n{}",
            lang.t("moderation.decision.why"),
            statement.entry.statement
        ));
    }
    let rules = statement.rule_texts(lang);
    if !rules.is_empty() {
        let list = rules
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n");
        paragraphs.push(format!("{}\n{list}", lang.t("moderation.decision.rules")));
    }
    if statement.appealable() {
        paragraphs.push(lang.t("moderation.decision.how_to_appeal").to_string());
    }
    let body = MailBody {
        greeting: lang
            .t("notifications.mail.greeting")
            .replace("{name}", name),
        paragraphs,
        action: Some((lang.t("moderation.decision.open").to_string(), url)),
        footer: vec![
            lang.t("moderation.decision.mail_why")
                .replace("{instance}", &ctx.config.instance.name),
        ],
    };
    (subject, body)
}
