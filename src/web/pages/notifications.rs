//! The notification centre (`/notifications`) and the notification preferences
//! (`/parametres/notifications`). Marking read and saving preferences are plain forms (CSRF,
//! post/redirect/get): no script needed. The rules live in `service::notifications`, shared
//! with the API.

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::notifications::{
        Delivery, Described, NotificationKind, SETTINGS_PATH,
        centre::{self, CentrePage},
    },
    web::{
        auth::CurrentUser,
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{Path, RawQuery},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/notifications", get(http_get_notifications))
        .route("/notifications/tout-lire", post(http_post_read_all))
        .route("/notifications/{id}/lire", post(http_post_read_one))
        .route(
            SETTINGS_PATH,
            get(http_get_preferences).post(http_post_preferences),
        )
}

struct Item {
    id: i64,
    read: bool,
    text: String,
    object_url: Option<String>,
    iso: String,
    when: String,
}

impl Item {
    fn new(lang: Lang, d: Described) -> Item {
        let when = match lang {
            Lang::Fr => d.created_at.format("%d/%m/%Y %H:%M UTC"),
            Lang::En => d.created_at.format("%Y-%m-%d %H:%M UTC"),
        };
        Item {
            id: d.id,
            read: d.read,
            text: d.text,
            object_url: d.object_url,
            iso: d.created_at.to_rfc3339(),
            when: when.to_string(),
        }
    }
}

/// What `posts/_pagination.html` reads.
struct Pagination {
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications/index.html")]
struct CentreTemplate<'a> {
    lang: Lang,
    csrf: &'a str,
    items: Vec<Item>,
    unread: i64,
    unread_text: String,
    /// The page to come back to after marking read.
    back: String,
    pagination: Pagination,
}

fn page_of(raw: Option<&str>) -> AppResult<i64> {
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "page" {
            return value
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| AppError::field("page", "field.page.invalid"));
        }
    }
    Ok(1)
}

fn unread_sentence(lang: Lang, unread: i64) -> String {
    match unread {
        0 => lang.t("notifications.unread_none").to_string(),
        1 => lang.t("notifications.unread_one").to_string(),
        n => lang
            .t("notifications.unread_many")
            .replace("{count}", &n.to_string()),
    }
}

async fn http_get_notifications(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let page = page_of(raw.as_deref())?;
    let CentrePage {
        items,
        unread,
        page,
        pages,
    } = centre::list(data.app_data(), user.account.id, lang, false, page).await?;
    let link = |p: i64| {
        if p == 1 {
            "/notifications".to_string()
        } else {
            format!("/notifications?page={p}")
        }
    };
    render_status(
        StatusCode::OK,
        &CentreTemplate {
            lang,
            csrf: csrf.value(),
            items: items.into_iter().map(|d| Item::new(lang, d)).collect(),
            unread,
            unread_text: unread_sentence(lang, unread),
            back: link(page),
            pagination: Pagination {
                page,
                pages,
                prev: (page > 1).then(|| link(page - 1)),
                next: (page < pages).then(|| link(page + 1)),
            },
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackForm {
    /// The page of the centre the form was on.
    back: String,
}

/// Only a page of the centre: never an address elsewhere.
fn back_to(form: &BackForm) -> &str {
    let back = form.back.as_str();
    let ok = back == "/notifications"
        || back
            .strip_prefix("/notifications?page=")
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if ok { back } else { "/notifications" }
}

async fn http_post_read_all(
    data: Data,
    user: CurrentUser,
    CsrfForm(form): CsrfForm<BackForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    centre::mark_read(ctx, user.account.id, None).await?;
    Ok(redirect_with_flash(
        ctx,
        back_to(&form),
        "flash.notifications_all_read",
    ))
}

async fn http_post_read_one(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<BackForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    centre::mark_read(ctx, user.account.id, Some(&[id])).await?;
    Ok(redirect_with_flash(
        ctx,
        back_to(&form),
        "flash.notification_read",
    ))
}

struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct PreferenceRow {
    kind: &'static str,
    label: &'static str,
    /// A sentence under the legend (empty: none).
    hint: &'static str,
    choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "settings/notifications.html")]
struct PreferencesTemplate<'a> {
    lang: Lang,
    csrf: &'a str,
    rows: Vec<PreferenceRow>,
    errors: FormState,
}

fn kind_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Reply => "notifications.kind.reply",
        NotificationKind::Mention => "notifications.kind.mention",
        NotificationKind::Follow => "notifications.kind.follow",
        NotificationKind::FollowRequest => "notifications.kind.follow_request",
        NotificationKind::Like => "notifications.kind.like",
        NotificationKind::Boost => "notifications.kind.boost",
        NotificationKind::Announcement => "notifications.kind.announcement",
        NotificationKind::Report => "notifications.kind.report",
        NotificationKind::ReportOutcome => "notifications.kind.report_outcome",
        NotificationKind::ModerationDecision => "notifications.kind.moderation_decision",
        NotificationKind::Appeal => "notifications.kind.appeal",
        NotificationKind::LoanRequest => "notifications.kind.loan_request",
        NotificationKind::LoanAnswer => "notifications.kind.loan_answer",
        NotificationKind::WorkspaceInvitation => "notifications.kind.workspace_invitation",
        NotificationKind::WorkspaceJoinRequest => "notifications.kind.workspace_join_request",
        NotificationKind::WorkspaceMention => "notifications.kind.workspace_mention",
        NotificationKind::WorkspaceDocument => "notifications.kind.workspace_document",
        NotificationKind::WorkspaceMeeting => "notifications.kind.workspace_meeting",
        NotificationKind::WorkspaceMembership => "notifications.kind.workspace_membership",
        NotificationKind::Project => "notifications.kind.project",
        NotificationKind::ForumThread => "notifications.kind.forum_thread",
        NotificationKind::ForumReply => "notifications.kind.forum_reply",
    }
}

fn delivery_label(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::Centre => "notifications.delivery.centre",
        Delivery::Instant => "notifications.delivery.instant",
        Delivery::Daily => "notifications.delivery.daily",
        Delivery::Weekly => "notifications.delivery.weekly",
        Delivery::Off => "notifications.delivery.off",
    }
}

fn rows(lang: Lang, choices: &[(NotificationKind, Delivery)]) -> Vec<PreferenceRow> {
    choices
        .iter()
        .map(|(kind, chosen)| PreferenceRow {
            kind: kind.as_str(),
            label: lang.t(kind_label(*kind)),
            hint: match kind {
                NotificationKind::Announcement => lang.t("notifications.announcement_hint"),
                _ => "",
            },
            choices: kind
                .choices()
                .iter()
                .map(|d| Choice {
                    value: d.as_str(),
                    label: lang.t(delivery_label(*d)),
                    selected: d == chosen,
                })
                .collect(),
        })
        .collect()
}

async fn http_get_preferences(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let choices = centre::preferences(data.app_data(), &user.account).await?;
    render_status(
        StatusCode::OK,
        &PreferencesTemplate {
            lang,
            csrf: csrf.value(),
            rows: rows(lang, &choices),
            errors: FormState::new(lang),
        },
    )
}

async fn http_post_preferences(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let pairs: Vec<(String, String)> = form
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    match centre::parse_preferences(&pairs) {
        Ok(choices) => {
            centre::set_preferences(ctx, user.account.id, &choices).await?;
            Ok(redirect_with_flash(
                ctx,
                SETTINGS_PATH,
                "flash.notification_preferences_saved",
            ))
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            let mut choices = centre::preferences(ctx, &user.account).await?;
            // Show what was sent where it was valid.
            for (kind, delivery) in choices.iter_mut() {
                if let Some((_, sent)) = pairs.iter().find(|(k, _)| k == kind.as_str())
                    && let Some(d) = Delivery::parse(sent)
                {
                    *delivery = d;
                }
            }
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PreferencesTemplate {
                    lang,
                    csrf: csrf.value(),
                    rows: rows(lang, &choices),
                    errors: FormState::from_error(lang, &e),
                },
            )
        }
        Err(e) => Err(e),
    }
}
