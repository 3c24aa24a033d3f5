//! A moderator's decision on a report: the action applied to what the report names, one log
//! entry per affected author or object (each one that author's statement of reasons), the
//! author notified, the reporter told the outcome — all in one transaction.

use super::{ActionKind, Resolution, ResolveInput, TargetKind, ensure_moderator, log, sanctions};
use crate::{
    context::AppContext,
    db::{
        self, Conn,
        accounts::DbAccount,
        moderation_actions::{DbModerationAction, NewModerationAction},
        reports::{DbReport, DbReportTarget},
    },
    error::{AppError, AppResult, ErrorKind},
    i18n::Lang,
    service::{
        comments, mail,
        mail::{MailBody, MailCategory, OutgoingMail},
        notifications::{self, Event, NotificationKind},
        outbound::{self, OutboundEvent},
        publishing,
    },
};
use chrono::Utc;
use diesel_async::AsyncConnection;

/// Longest statement of reasons and internal note.
pub const MAX_TEXT_CHARS: usize = 5000;

/// Resolves report `report_id` with `input`, decided by `by` (a moderator or an admin).
///
/// Errors: 403 for anyone else, 404 for an unknown report, 409 when it was already resolved
/// (naming who and when), 422 naming `action` when the action does not apply to what the
/// report names, `rule_ids` for an unknown rule, `statement`/`note` when too long. Nothing is
/// written on error.
pub async fn resolve(
    ctx: &AppContext,
    by: &DbAccount,
    report_id: i64,
    input: ResolveInput,
) -> AppResult<DbReport> {
    ensure_moderator(by)?;
    let statement = input.statement.trim().to_string();
    let note = input.note.trim().to_string();
    if statement.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::field("statement", "field.too_long"));
    }
    if note.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::field("note", "field.too_long"));
    }
    let mut rule_ids = input.rule_ids.clone();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let mut conn = ctx.conn().await?;
    let (report, covers, files) = conn
        .transaction::<(DbReport, Vec<Option<String>>, Vec<String>), AppError, _>(async |conn| {
            let known = db::rules::by_ids(conn, &rule_ids).await?;
            if known.len() != rule_ids.len() {
                return Err(AppError::field("rule_ids", "field.rule.unknown"));
            }
            let report = db::reports::lock(conn, report_id)
                .await?
                .ok_or_else(AppError::not_found)?;
            if !report.is_open() {
                return Err(already_resolved(conn, &report).await?);
            }
            let targets = db::reports::targets_of(conn, report.id).await?;
            let decision = Decision {
                by,
                report: &report,
                action: input.action.action(),
                rule_ids: &rule_ids,
                statement: full_statement(ctx, input.action, &statement),
                note: &note,
            };
            let mut covers = Vec::new();
            let mut files = Vec::new();
            let entries = match input.action {
                Resolution::Dismiss | Resolution::Warn => {
                    vec![decision.log_actor(conn, report.target_actor_id).await?]
                }
                Resolution::Hide => hide(ctx, conn, &decision, &targets).await?,
                Resolution::Delete | Resolution::Redirect => {
                    remove(ctx, conn, &decision, &targets, &mut covers, &mut files).await?
                }
                Resolution::Suspend => {
                    let actor = sanctioned_actor(conn, &report, &targets, true).await?;
                    sanctions::suspend(ctx, conn, by, actor).await?;
                    vec![decision.log_actor(conn, Some(actor)).await?]
                }
                Resolution::Block => {
                    let actor = sanctioned_actor(conn, &report, &targets, false).await?;
                    sanctions::block(ctx, conn, by, actor).await?;
                    vec![decision.log_actor(conn, Some(actor)).await?]
                }
            };
            let resolved =
                db::reports::resolve(conn, report.id, input.action.as_str(), Some(by.id))
                    .await?
                    .ok_or_else(|| {
                        AppError::internal("a locked open report could not be resolved")
                    })?;
            for entry in &entries {
                notify_author(ctx, conn, entry).await?;
            }
            tell_reporter(ctx, conn, &resolved).await?;
            if input.send_outcome && resolved.origin_domain.is_some() {
                outbound::record(
                    ctx,
                    conn,
                    OutboundEvent::ReportOutcomeSent {
                        report: Box::new(resolved.clone()),
                    },
                )
                .await?;
                log(
                    conn,
                    NewModerationAction {
                        moderator_account_id: Some(by.id),
                        report_id: Some(resolved.id),
                        action: ActionKind::OutcomeSent.as_str().to_string(),
                        target: resolved.origin_domain.clone().unwrap_or_default(),
                        details: serde_json::json!({ "outcome": input.action.as_str() }),
                        ..NewModerationAction::default()
                    },
                )
                .await?;
            }
            Ok((resolved, covers, files))
        })
        .await?;
    for cover in covers {
        publishing::remove_cover_file(ctx, cover).await;
    }
    for key in files {
        ctx.storage.remove(&key).await;
    }
    Ok(report)
}

/// The 409 for a report someone already resolved: who and when.
async fn already_resolved(conn: &mut Conn, report: &DbReport) -> AppResult<AppError> {
    let who = match report.resolved_by {
        Some(id) => db::accounts::by_id(conn, id).await?.username,
        None => "?".to_string(),
    };
    let when = report
        .resolved_at
        .map(|t| t.format("%d/%m/%Y %H:%M UTC").to_string())
        .unwrap_or_default();
    Ok(AppError::new(
        ErrorKind::Conflict,
        format!(
            "report {} already resolved ({}) by {who} on {when}",
            report.id,
            report.resolution.as_deref().unwrap_or("?")
        ),
    )
    .with_message("moderation.resolve.already_resolved"))
}

/// The statement shown to the author: the moderator's, or the preset of the action; a
/// redirection always starts with the preset pointing to `moderation.redirect_url`.
pub fn full_statement(ctx: &AppContext, action: Resolution, statement: &str) -> String {
    let lang = ctx.default_lang;
    let preset = preset_statement(ctx, lang, action);
    if action == Resolution::Redirect {
        if statement.is_empty() {
            return preset;
        }
        return format!("{preset}\n\n{statement}");
    }
    if statement.is_empty() {
        preset
    } else {
        statement.to_string()
    }
}

fn preset_statement(ctx: &AppContext, lang: Lang, action: Resolution) -> String {
    match action {
        Resolution::Redirect => match ctx.config.moderation.redirect_url.trim() {
            "" => lang.t("moderation.statement.redirect").to_string(),
            url => lang
                .t("moderation.statement.redirect_url")
                .replace("{url}", url),
        },
        Resolution::Dismiss => String::new(),
        Resolution::Hide => lang.t("moderation.statement.hide").to_string(),
        Resolution::Delete => lang.t("moderation.statement.delete").to_string(),
        Resolution::Warn => lang.t("moderation.statement.warn").to_string(),
        Resolution::Suspend => lang.t("moderation.statement.suspend").to_string(),
        Resolution::Block => lang.t("moderation.statement.block").to_string(),
    }
}

/// What every log entry of one decision shares.
struct Decision<'a> {
    by: &'a DbAccount,
    report: &'a DbReport,
    action: ActionKind,
    rule_ids: &'a [i64],
    statement: String,
    note: &'a str,
}

impl Decision<'_> {
    fn entry(&self) -> NewModerationAction {
        NewModerationAction {
            moderator_account_id: Some(self.by.id),
            report_id: Some(self.report.id),
            action: self.action.as_str().to_string(),
            rule_ids: self.rule_ids.to_vec(),
            statement: if self.action.is_restriction() {
                self.statement.clone()
            } else {
                String::new()
            },
            note: self.note.to_string(),
            ..NewModerationAction::default()
        }
    }

    /// One entry about an account (dismiss, warn, suspend, block).
    async fn log_actor(
        &self,
        conn: &mut Conn,
        actor_id: Option<i64>,
    ) -> AppResult<DbModerationAction> {
        let target = match actor_id {
            Some(id) => db::actors::by_id(conn, id).await?.ap_id,
            None => String::new(),
        };
        log(
            conn,
            NewModerationAction {
                affected_actor_id: actor_id,
                target,
                ..self.entry()
            },
        )
        .await
    }

    /// One entry about a post or a comment.
    async fn log_object(
        &self,
        conn: &mut Conn,
        target: &DbReportTarget,
        author: i64,
    ) -> AppResult<DbModerationAction> {
        log(
            conn,
            NewModerationAction {
                affected_actor_id: Some(author),
                target: target.ap_id.clone(),
                post_id: target.post_id,
                comment_id: target.comment_id,
                venue_id: target.venue_id,
                offer_id: target.offer_id,
                details: serde_json::json!({ "kind": target.kind }),
                ..self.entry()
            },
        )
        .await
    }
}

/// The content a report names (posts and comments); none → the action does not apply.
fn content_targets(targets: &[DbReportTarget]) -> AppResult<Vec<&DbReportTarget>> {
    let content: Vec<&DbReportTarget> = targets
        .iter()
        .filter(|t| {
            t.post_id.is_some()
                || t.comment_id.is_some()
                || t.venue_id.is_some()
                || t.offer_id.is_some()
                || t.kind == TargetKind::Resource.as_str()
        })
        .collect();
    if content.is_empty() {
        // An account is not hidden nor deleted: suspend it (local) or block it (remote).
        return Err(AppError::field("action", "field.action.not_for_account"));
    }
    Ok(content)
}

async fn hide(
    ctx: &AppContext,
    conn: &mut Conn,
    decision: &Decision<'_>,
    targets: &[DbReportTarget],
) -> AppResult<Vec<DbModerationAction>> {
    let now = Some(Utc::now());
    let mut entries = Vec::new();
    for target in content_targets(targets)? {
        let author = if let Some(id) = target.post_id {
            db::posts::set_hidden(conn, id, now).await?.author_actor_id
        } else if let Some(id) = target.comment_id {
            db::comments::set_hidden(conn, id, now)
                .await?
                .author_actor_id
        } else if let Some(id) = target.venue_id {
            // A venue's "author" is its owner: the statement of reasons goes to them.
            let venue = db::venues::set_hidden(conn, id, now).await?;
            db::accounts::by_id(conn, venue.owner_account_id)
                .await?
                .actor_id
        } else if let Some(id) = target.offer_id {
            match crate::service::sharing::hide_in(conn, id).await? {
                Some(author) => author,
                None => continue,
            }
        } else if target.kind == TargetKind::Resource.as_str() {
            match crate::service::resources::hide_by_moderator(ctx, conn, &target.ap_id).await? {
                Some(author) => author,
                None => continue,
            }
        } else {
            continue;
        };
        entries.push(decision.log_object(conn, target, author).await?);
    }
    Ok(entries)
}

/// Deletes (or redirects) what the report names, through the authors' own deletion.
async fn remove(
    ctx: &AppContext,
    conn: &mut Conn,
    decision: &Decision<'_>,
    targets: &[DbReportTarget],
    covers: &mut Vec<Option<String>>,
    files: &mut Vec<String>,
) -> AppResult<Vec<DbModerationAction>> {
    let mut entries = Vec::new();
    for target in content_targets(targets)? {
        let author = if let Some(id) = target.post_id {
            let Some(post) = db::posts::by_id_for_update(conn, id).await? else {
                continue;
            };
            let author = post.author_actor_id;
            if post.deleted_at.is_none() {
                covers.push(publishing::remove(ctx, conn, post).await?);
            }
            author
        } else if let Some(id) = target.comment_id {
            let Some(comment) = db::comments::by_id_for_update(conn, id).await? else {
                continue;
            };
            let author = comment.author_actor_id;
            if comment.deleted_at.is_none() {
                comments::remove(ctx, conn, comment).await?;
            }
            author
        } else if let Some(id) = target.venue_id {
            let Some(venue) = db::venues::by_id_for_update(conn, id).await? else {
                continue;
            };
            if venue.deleted_at.is_none() {
                // Its photo files stay on disk (the rows go): only disk space is at stake.
                crate::service::venues::remove(ctx, conn, &venue).await?;
            }
            db::accounts::by_id(conn, venue.owner_account_id)
                .await?
                .actor_id
        } else if let Some(id) = target.offer_id {
            match crate::service::sharing::remove_by_moderator(ctx, conn, id).await? {
                Some(author) => author,
                None => continue,
            }
        } else if target.kind == TargetKind::Resource.as_str() {
            match crate::service::resources::remove_by_moderator(ctx, conn, &target.ap_id).await? {
                Some((author, keys)) => {
                    files.extend(keys);
                    author
                }
                None => continue,
            }
        } else {
            continue;
        };
        entries.push(decision.log_object(conn, target, author).await?);
    }
    Ok(entries)
}

/// The account a suspension (`local`) or a block (remote) applies to: the one the report
/// names; 422 naming `action` when it is of the other side.
async fn sanctioned_actor(
    conn: &mut Conn,
    report: &DbReport,
    targets: &[DbReportTarget],
    local: bool,
) -> AppResult<i64> {
    let actor_id = targets
        .iter()
        .find_map(|t| t.actor_id)
        .or(report.target_actor_id)
        .ok_or_else(|| AppError::field("action", "field.action.no_account"))?;
    let actor = db::actors::by_id(conn, actor_id).await?;
    match (local, actor.local) {
        (true, false) => Err(AppError::field("action", "field.action.suspend_remote")),
        (false, true) => Err(AppError::field("action", "field.action.block_local")),
        _ => Ok(actor.id),
    }
}

/// The statement of reasons reaches a local author (a notification that is always mailed).
async fn notify_author(
    ctx: &AppContext,
    conn: &mut Conn,
    entry: &DbModerationAction,
) -> AppResult<()> {
    let restriction = ActionKind::parse(&entry.action).is_some_and(ActionKind::is_restriction);
    if !restriction {
        return Ok(());
    }
    notify_affected(ctx, conn, entry).await
}

/// A [`NotificationKind::ModerationDecision`] to the local account `entry` affects (none for
/// a remote author).
pub(super) async fn notify_affected(
    ctx: &AppContext,
    conn: &mut Conn,
    entry: &DbModerationAction,
) -> AppResult<()> {
    let Some(actor_id) = entry.affected_actor_id else {
        return Ok(());
    };
    let Some(account) = db::accounts::by_actor_id(conn, actor_id).await? else {
        return Ok(());
    };
    notifications::record(
        ctx,
        conn,
        Event {
            account_id: account.id,
            kind: NotificationKind::ModerationDecision,
            actor_id: None,
            post_id: None,
            comment_id: None,
            object_ap_id: None,
            alert_id: None,
            dedupe_key: Some(format!("moderation:{}", entry.id)),
            report_id: entry.report_id,
            moderation_action_id: Some(entry.id),
            loan_request_id: None,
            venue_id: None,
            workspace: Default::default(),
        },
    )
    .await?;
    Ok(())
}

/// The reporter hears the outcome (its label only, never the note nor the statement): a
/// member by notification, a visitor by a short mail in the instance language.
async fn tell_reporter(ctx: &AppContext, conn: &mut Conn, report: &DbReport) -> AppResult<()> {
    if let Some(account_id) = report.reporter_account_id {
        notifications::record(
            ctx,
            conn,
            Event {
                account_id,
                kind: NotificationKind::ReportOutcome,
                actor_id: None,
                post_id: None,
                comment_id: None,
                object_ap_id: None,
                alert_id: None,
                dedupe_key: Some(format!("report-outcome:{}", report.id)),
                report_id: Some(report.id),
                moderation_action_id: None,
                loan_request_id: None,
                venue_id: None,
                workspace: Default::default(),
            },
        )
        .await?;
    }
    if let Some(email) = report.reporter_email.as_deref() {
        let lang = ctx.default_lang;
        let outcome = super::outcome_label(report, lang);
        let instance = ctx.config.instance.name.as_str();
        let body = MailBody {
            greeting: lang.t("moderation.outcome_mail.greeting").to_string(),
            paragraphs: vec![
                lang.t("moderation.outcome_mail.text")
                    .replace("{date}", &report.created_at.format("%d/%m/%Y").to_string()),
                format!("{} {outcome}", lang.t("moderation.outcome_mail.outcome")),
                lang.t("moderation.outcome_mail.thanks").to_string(),
            ],
            action: None,
            footer: vec![
                lang.t("moderation.outcome_mail.why")
                    .replace("{instance}", instance),
            ],
        };
        let (text, html) = body.render(lang, instance);
        mail::enqueue(
            conn,
            ctx,
            OutgoingMail {
                account_id: None,
                to: email.to_string(),
                lang,
                category: MailCategory::ReportOutcome,
                subject: lang
                    .t("moderation.outcome_mail.subject")
                    .replace("{instance}", instance),
                text,
                html,
                unsubscribe_url: None,
            },
        )
        .await?;
    }
    Ok(())
}
