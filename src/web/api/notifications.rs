//! The notification centre and the notification preferences, for tools: the twins of the
//! pages `/notifications` and `/parametres/notifications`.

use crate::{
    error::{AppError, AppResult},
    federation::Data,
    i18n::Lang,
    service::notifications::{Delivery, Described, NotificationKind, centre},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::RawQuery,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_get_notifications,
        http_post_notifications_read,
        http_get_notification_preferences,
        http_put_notification_preferences
    ),
    components(schemas(
        NotificationList,
        NotificationItem,
        NotificationActor,
        ReadRequest,
        ReadAnswer
    ))
)]
pub struct NotificationsApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/notifications", get(http_get_notifications))
        .route(
            "/api/v1/notifications/read",
            post(http_post_notifications_read),
        )
        .route(
            "/api/v1/notification-preferences",
            get(http_get_notification_preferences).put(http_put_notification_preferences),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationActor {
    #[schema(example = "Léa Martin")]
    pub name: String,
    /// Their profile page.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationItem {
    /// The newest notification of the item (likes and boosts of one object are one item).
    pub id: i64,
    /// `reply`, `mention`, `follow`, `follow_request`, `like`, `boost`, `announcement`.
    #[serde(rename = "type")]
    #[schema(example = "reply")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<NotificationActor>,
    /// Where to look: the post, the comment, the follower's profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_url: Option<String>,
    /// What happened, in the caller's language.
    #[schema(example = "Léa Martin a répondu à « Résidence d'écriture »")]
    pub text: String,
    /// How many other actors did the same (grouped likes and boosts).
    pub others: i64,
}

impl From<Described> for NotificationItem {
    fn from(d: Described) -> Self {
        NotificationItem {
            id: d.id,
            kind: d.kind.as_str().to_string(),
            created_at: d.created_at,
            read: d.read,
            actor: d.actor.map(|(name, url)| NotificationActor { name, url }),
            object_url: d.object_url,
            text: d.text,
            others: d.others,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// Unread items in all.
    pub unread: i64,
    /// 20 items a page, newest first.
    pub items: Vec<NotificationItem>,
    pub page: i64,
    pub pages: i64,
}

/// The query of `GET /api/v1/notifications` (read by hand, so a bad value is a 422 naming it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct NotificationsQuery {
    /// `true`: unread ones only.
    unread: Option<bool>,
    /// From 1.
    page: Option<i64>,
}

fn parse_query(raw: Option<&str>) -> AppResult<(bool, i64)> {
    let mut unread = false;
    let mut page = 1;
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "unread" => {
                unread = match value.as_ref() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    _ => return Err(AppError::field("unread", "field.unread.invalid")),
                }
            }
            "page" => {
                page = value
                    .parse::<i64>()
                    .ok()
                    .filter(|p| (1..=1_000_000).contains(p))
                    .ok_or_else(|| AppError::field("page", "field.page.invalid"))?;
            }
            _ => {}
        }
    }
    Ok((unread, page))
}

fn lang_of(user: &ApiUser, data: &Data) -> Lang {
    data.app_data()
        .lang_or_default(user.account.language.as_deref())
}

/// The caller's notifications, newest first, 20 a page; likes and boosts of one object are
/// one item ("Léa et 4 autres ont aimé…").
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationsQuery),
    responses(
        (status = 200, description = "One page of notifications", body = NotificationList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`unread` or `page` is not a valid value", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_notifications(
    data: Data,
    user: ApiUser,
    RawQuery(raw): RawQuery,
) -> AppResult<ApiJson<NotificationList>> {
    let (unread, page) = parse_query(raw.as_deref())?;
    let lang = lang_of(&user, &data);
    let found = centre::list(data.app_data(), user.account.id, lang, unread, page).await?;
    Ok(ApiJson(NotificationList {
        unread: found.unread,
        items: found.items.into_iter().map(Into::into).collect(),
        page: found.page,
        pages: found.pages,
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The notifications to mark read (a like or boost marks its whole item). Absent: all.
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAnswer {
    /// How many notifications were marked read now.
    pub marked: usize,
    /// Unread items left.
    pub unread: i64,
}

/// Marks notifications read: those named by `ids`, or all of them.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/read",
    tag = "notifications",
    security(("bearer" = [])),
    request_body = ReadRequest,
    responses(
        (status = 200, description = "Marked", body = ReadAnswer),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`ids` is not a list of numbers, or too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_notifications_read(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<ReadRequest>,
) -> AppResult<ApiJson<ReadAnswer>> {
    let ctx = data.app_data();
    let marked = centre::mark_read(ctx, user.account.id, body.ids.as_deref()).await?;
    let unread = centre::unread_count(ctx, user.account.id).await?;
    Ok(ApiJson(ReadAnswer { marked, unread }))
}

fn as_map(choices: Vec<(NotificationKind, Delivery)>) -> BTreeMap<String, String> {
    choices
        .into_iter()
        .map(|(k, d)| (k.as_str().to_string(), d.as_str().to_string()))
        .collect()
}

/// The caller's choice for each notification type: `centre` (in the centre only),
/// `instant` (and by mail at once), `daily` or `weekly` (and in a digest), `off`.
#[utoipa::path(
    get,
    path = "/api/v1/notification-preferences",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{type: delivery}` for every type", body = BTreeMap<String, String>,
            example = json!({"reply": "instant", "mention": "instant", "follow": "centre", "follow_request": "centre", "like": "centre", "boost": "centre", "announcement": "centre"})),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_notification_preferences(
    data: Data,
    user: ApiUser,
) -> AppResult<ApiJson<BTreeMap<String, String>>> {
    let choices = centre::preferences(data.app_data(), &user.account).await?;
    Ok(ApiJson(as_map(choices)))
}

/// Changes the choice for the types given (the others keep theirs); answers every choice.
#[utoipa::path(
    put,
    path = "/api/v1/notification-preferences",
    tag = "notifications",
    security(("bearer" = [])),
    request_body(content = BTreeMap<String, String>, description = "`{type: delivery, …}`",
        example = json!({"like": "off", "reply": "daily"})),
    responses(
        (status = 200, description = "Every choice after the change", body = BTreeMap<String, String>),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown type or delivery (the field names the type); nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_put_notification_preferences(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<BTreeMap<String, String>>,
) -> AppResult<(StatusCode, ApiJson<BTreeMap<String, String>>)> {
    let ctx = data.app_data();
    let pairs: Vec<(String, String)> = body.into_iter().collect();
    let choices = centre::parse_preferences(&pairs)?;
    centre::set_preferences(ctx, user.account.id, &choices).await?;
    let all = centre::preferences(ctx, &user.account).await?;
    Ok((StatusCode::OK, ApiJson(as_map(all))))
}
