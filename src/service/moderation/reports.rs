//! The one reporting path: a member's or a visitor's report (web form, API) and another
//! server's `Flag` all become a report here, with its targets and their snapshots, and every
//! moderator is notified.

use super::{ReportInput, Reporter, targets};
use crate::{
    context::AppContext,
    db::{
        self, Conn,
        reports::STATE_OPEN,
        reports::{DbReport, DbReportTarget, NewReport},
        schema::{report_targets, reports},
    },
    error::{AppError, AppResult},
    service::notifications::{Event, NotificationKind},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Longest comment kept with a report.
pub const MAX_COMMENT_CHARS: usize = 5000;
/// Most objects one report may name (a Flag listing more is cut there).
pub const MAX_TARGETS: usize = 20;

/// A stored report and what it names.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub report: DbReport,
    pub targets: Vec<DbReportTarget>,
}

/// Stores a report in the caller's transaction and notifies the moderators.
///
/// From a member or a visitor, every target must be known here (else 404: nothing stored).
/// A suspended member cannot report (403), and a member cannot report again what one of
/// their reports still open already names (409: the moderators have it).
/// From another server, only our own objects count: ids of others are ignored, and a Flag
/// that names nothing of ours stores nothing (`None`), as does a Flag id already stored.
pub async fn submit(
    ctx: &AppContext,
    conn: &mut Conn,
    input: ReportInput,
) -> AppResult<Option<Submitted>> {
    if let Reporter::Member(account) = &input.reporter
        && account.suspended_at.is_some()
    {
        return Err(AppError::forbidden("a suspended account cannot report")
            .with_message("moderation.report.suspended"));
    }
    let comment = input.comment.trim().to_string();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::field("comment", "field.too_long"));
    }
    if let Reporter::Visitor { email } = &input.reporter
        && !crate::service::accounts::email_looks_valid(email.trim())
    {
        return Err(AppError::field("email", "field.email.invalid"));
    }
    let mut rule_ids = input.rule_ids.clone();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let known = db::rules::by_ids(conn, &rule_ids).await?;
    let remote = matches!(input.reporter, Reporter::Remote { .. });
    if known.len() != rule_ids.len() {
        if !remote {
            return Err(AppError::field("rule_ids", "field.rule.unknown"));
        }
        rule_ids.retain(|id| known.iter().any(|r| r.id == *id));
    }
    if input.targets.is_empty() {
        return Err(AppError::field("target", "field.required"));
    }
    let viewer = match &input.reporter {
        Reporter::Member(account) => Some(account.as_ref()),
        _ => None,
    };
    let mut found: Vec<targets::Target> = Vec::new();
    for url in input.targets.iter().take(MAX_TARGETS) {
        match targets::find(ctx, conn, url).await? {
            Some(t) if remote && !t.local => {}
            Some(t) if !remote && !visible_to(conn, &t, viewer).await? => {
                return Err(unknown_target(url));
            }
            Some(t) => {
                if !found.iter().any(|f| f.ap_id == t.ap_id) {
                    found.push(t);
                }
            }
            None if remote => {}
            None => return Err(unknown_target(url)),
        }
    }
    if found.is_empty() {
        return Ok(None);
    }
    if let Reporter::Member(account) = &input.reporter
        && already_reported(conn, account.id, &found).await?
    {
        return Err(AppError::new(
            crate::error::ErrorKind::Conflict,
            "target: a report of yours naming this is still open",
        )
        .with_message("moderation.report.already_open"));
    }
    // The account reported: the one named, else the author of the first object.
    let target_actor_id = found
        .iter()
        .find(|t| t.kind == super::TargetKind::Actor)
        .or_else(|| <[targets::Target]>::first(&found))
        .map(|t| t.author_actor_id);
    let forward_requested = input.forward && !remote && found.iter().any(|t| !t.local);
    let mut new = NewReport {
        reason: input.reason.as_str().to_string(),
        rule_ids,
        comment,
        target_actor_id,
        forward_requested,
        ..NewReport::default()
    };
    match &input.reporter {
        Reporter::Member(account) => new.reporter_account_id = Some(account.id),
        Reporter::Visitor { email } => new.reporter_email = Some(email.trim().to_string()),
        Reporter::Remote {
            actor_id,
            flag_id,
            domain,
        } => {
            new.reporter_actor_id = Some(*actor_id);
            new.ap_id = Some(flag_id.to_string());
            new.origin_domain = Some(domain.clone());
        }
    }
    let rows = found
        .iter()
        .map(targets::Target::to_new)
        .collect::<AppResult<Vec<_>>>()?;
    let Some((report, targets)) = db::reports::insert(conn, &new, rows).await? else {
        return Ok(None);
    };
    notify_moderators(ctx, conn, &report).await?;
    Ok(Some(Submitted { report, targets }))
}

fn unknown_target(url: &url::Url) -> AppError {
    AppError::new(
        crate::error::ErrorKind::NotFound,
        format!("target: nothing here is known as {url}"),
    )
    .with_message("moderation.report.unknown_target")
}

/// Whether a member (or a visitor, `None`) can see `target` here: what they cannot see (a
/// draft, something deleted or hidden) they cannot report either, and the report form must
/// not show it to them. Moderators see everything; authors their own.
pub async fn visible_to(
    conn: &mut Conn,
    target: &targets::Target,
    viewer: Option<&crate::db::accounts::DbAccount>,
) -> AppResult<bool> {
    if viewer.is_some_and(crate::service::accounts::is_moderator) {
        return Ok(true);
    }
    if viewer.is_some_and(|v| v.actor_id == target.author_actor_id) {
        return Ok(true);
    }
    if let Some(id) = target.post_id {
        return Ok(db::posts::by_id(conn, id)
            .await?
            .is_some_and(|p| p.is_public()));
    }
    if let Some(id) = target.comment_id {
        let Some(comment) = db::comments::by_id(conn, id).await? else {
            return Ok(false);
        };
        if comment.deleted_at.is_some() || comment.hidden_at.is_some() {
            return Ok(false);
        }
        return Ok(db::posts::by_id(conn, comment.post_id)
            .await?
            .is_some_and(|p| p.is_public()));
    }
    if let Some(id) = target.actor_id {
        return Ok(db::actors::by_id(conn, id).await?.deleted_at.is_none());
    }
    if target.kind == super::TargetKind::Resource {
        // A members-only resource is named to members only, a hidden one to nobody else.
        return Ok(db::resources::by_ap_id(conn, &target.ap_id)
            .await?
            .is_some_and(|r| crate::service::resources::can_see(viewer, &r)));
    }
    Ok(true)
}

/// Open reports (the moderators' header badge).
pub async fn open_count(ctx: &AppContext) -> AppResult<i64> {
    let mut conn = ctx.conn().await?;
    Ok(db::reports::count_open(&mut conn).await?)
}

/// Whether a report of `account_id` still open names one of `found`.
async fn already_reported(
    conn: &mut Conn,
    account_id: i64,
    found: &[targets::Target],
) -> AppResult<bool> {
    let ids: Vec<&str> = found.iter().map(|t| t.ap_id.as_str()).collect();
    let open: i64 = reports::table
        .inner_join(report_targets::table)
        .filter(reports::reporter_account_id.eq(account_id))
        .filter(reports::state.eq(STATE_OPEN))
        .filter(report_targets::ap_id.eq_any(ids))
        .count()
        .get_result(conn)
        .await?;
    Ok(open > 0)
}

/// Tells every moderator and admin (not suspended) about a new report.
async fn notify_moderators(ctx: &AppContext, conn: &mut Conn, report: &DbReport) -> AppResult<()> {
    super::notify_moderators(
        ctx,
        conn,
        Event {
            account_id: 0,
            kind: NotificationKind::Report,
            actor_id: None,
            post_id: None,
            comment_id: None,
            object_ap_id: None,
            alert_id: None,
            dedupe_key: Some(format!("report:{}", report.id)),
            report_id: Some(report.id),
            moderation_action_id: None,
            loan_request_id: None,
            venue_id: None,
            workspace: Default::default(),
        },
    )
    .await
}
