//! `/desabonnement?t=TOKEN`: the one-click unsubscribe link of every notification and digest
//! mail (RFC 8058). GET shows what the link stops and a button; POST stops it — from that
//! button, or straight from a mail program that sends `List-Unsubscribe=One-Click`. No session
//! is needed and no CSRF token is asked for: the signed token is the authority, and the only
//! thing it can do is stop mails (`web::csrf` exempts this path from the cross-site check).

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    i18n::Lang,
    service::{
        mail::unsubscribe::{self, PATH, Scope},
        notifications::NotificationKind,
    },
    web::pages::{PageLang, render},
};
use askama::Template;
use axum::{Router, extract::Query, response::Response, routing::get};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new().route(PATH, get(http_get_unsubscribe).post(http_post_unsubscribe))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenQuery {
    t: String,
}

/// The i18n key saying which mails a link stops.
pub fn scope_key(scope: Scope) -> &'static str {
    match scope {
        Scope::Digest => "unsubscribe.scope.digest",
        Scope::Alert(_) => "unsubscribe.scope.alert",
        Scope::Kind(kind) => match kind {
            NotificationKind::Reply => "unsubscribe.scope.reply",
            NotificationKind::Mention => "unsubscribe.scope.mention",
            NotificationKind::Follow => "unsubscribe.scope.follow",
            NotificationKind::FollowRequest => "unsubscribe.scope.follow_request",
            NotificationKind::Like => "unsubscribe.scope.like",
            NotificationKind::Boost => "unsubscribe.scope.boost",
            NotificationKind::Announcement => "unsubscribe.scope.announcement",
            NotificationKind::Report => "unsubscribe.scope.report",
            NotificationKind::ReportOutcome => "unsubscribe.scope.report_outcome",
            NotificationKind::LoanRequest => "unsubscribe.scope.loan_request",
            NotificationKind::LoanAnswer => "unsubscribe.scope.loan_answer",
            NotificationKind::WorkspaceInvitation => "unsubscribe.scope.workspace_invitation",
            NotificationKind::WorkspaceJoinRequest => "unsubscribe.scope.workspace_join_request",
            NotificationKind::WorkspaceMention => "unsubscribe.scope.workspace_mention",
            NotificationKind::WorkspaceDocument => "unsubscribe.scope.workspace_document",
            NotificationKind::WorkspaceMeeting => "unsubscribe.scope.workspace_meeting",
            NotificationKind::WorkspaceMembership => "unsubscribe.scope.workspace_membership",
            NotificationKind::Project => "unsubscribe.scope.project",
            NotificationKind::ForumThread => "unsubscribe.scope.forum_thread",
            NotificationKind::ForumReply => "unsubscribe.scope.forum_reply",
            NotificationKind::ModerationDecision | NotificationKind::Appeal => {
                "unsubscribe.scope.other"
            }
        },
    }
}

fn token_of(query: &TokenQuery) -> AppResult<&str> {
    if query.t.is_empty() || query.t.len() > 512 {
        return Err(
            AppError::bad_request("missing or oversized unsubscribe token")
                .with_message("unsubscribe.invalid"),
        );
    }
    Ok(&query.t)
}

#[derive(Template)]
#[template(path = "mail/unsubscribe.html")]
struct ConfirmPage<'a> {
    lang: Lang,
    token: &'a str,
    scope: &'static str,
}

async fn http_get_unsubscribe(
    data: Data,
    PageLang(lang): PageLang,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let token = token_of(&query)?;
    let scope = unsubscribe::check(data.app_data(), token).await?;
    render(&ConfirmPage {
        lang,
        token,
        scope: scope_key(scope),
    })
}

#[derive(Template)]
#[template(path = "mail/unsubscribed.html")]
struct DonePage {
    lang: Lang,
    scope: &'static str,
    changed: bool,
}

/// The body (`List-Unsubscribe=One-Click` from mail programs, nothing from the button) is not
/// read: the token in the URL says everything.
async fn http_post_unsubscribe(
    data: Data,
    PageLang(lang): PageLang,
    Query(query): Query<TokenQuery>,
) -> AppResult<Response> {
    let token = token_of(&query)?;
    let done = unsubscribe::unsubscribe(data.app_data(), token).await?;
    render(&DonePage {
        lang,
        scope: scope_key(done.scope),
        changed: done.changed,
    })
}
