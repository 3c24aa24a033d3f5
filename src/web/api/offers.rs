//! Sharing: offers of equipment and spaces, and loan requests. The twin of the pages in
//! `web::pages::sharing`; the rules live in `service::sharing`.

use crate::{
    context::AppContext,
    db::{self, loan_requests::DbLoanRequest, offers::DbOffer},
    error::{AppError, AppResult},
    federation::Data,
    service::{
        communes,
        sharing::{
            self, ListFilter, OfferCategory, OfferInput, OfferPatch, Terms,
            loans::{self, LoanInput},
        },
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, Path, Query},
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_offer,
        http_get_offers,
        http_get_offer,
        http_patch_offer,
        http_delete_offer,
        http_post_offer_request,
        http_get_loan_requests,
        http_post_loan_accept,
        http_post_loan_decline,
        http_post_loan_cancel,
        http_post_offer_photo,
        http_delete_offer_photo,
    ),
    components(schemas(
        NewOfferRequest,
        OfferPatchRequest,
        OfferCreated,
        OfferDetail,
        OfferList,
        PhotoDetail,
        PhotoUpload,
        DateRange,
        NewLoanRequest,
        LoanCreated,
        LoanDetail,
        LoanList,
        LoanAnswer,
    ))
)]
pub struct OffersApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/offers", get(http_get_offers).post(http_post_offer))
        .route(
            "/api/v1/offers/{id}",
            get(http_get_offer)
                .patch(http_patch_offer)
                .delete(http_delete_offer),
        )
        .route(
            "/api/v1/offers/{id}/requests",
            post(http_post_offer_request),
        )
        .route(
            "/api/v1/offers/{id}/photos",
            post(http_post_offer_photo).layer(DefaultBodyLimit::max(PHOTO_BODY_LIMIT)),
        )
        .route(
            "/api/v1/offers/{id}/photos/{photo}",
            axum::routing::delete(http_delete_offer_photo),
        )
        .route("/api/v1/loan-requests", get(http_get_loan_requests))
        .route(
            "/api/v1/loan-requests/{id}/accept",
            post(http_post_loan_accept),
        )
        .route(
            "/api/v1/loan-requests/{id}/decline",
            post(http_post_loan_decline),
        )
        .route(
            "/api/v1/loan-requests/{id}/cancel",
            post(http_post_loan_cancel),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfferRequest {
    #[schema(example = "Console son 16 pistes")]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    /// `son`, `lumiere`, `scene`, `video`, `mobilier`, `costumes`, `vehicule`, `salle`, `autre`.
    pub category: String,
    /// `free`, `paid` or `exchange` (gratuit, payant, échange are understood too).
    pub terms: String,
    #[serde(default)]
    pub terms_details: String,
    /// A commune's name (or INSEE code); those of the instance's département come first.
    pub commune: String,
    /// Both or neither.
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// A venue the caller manages.
    #[serde(default)]
    pub venue_id: Option<i64>,
    /// Public (default): listed to everyone and federated as an announcement; `false`:
    /// logged-in members only.
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

/// A partial edit: absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferPatchRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub terms: Option<String>,
    pub terms_details: Option<String>,
    pub commune: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub venue_id: Option<i64>,
    pub public: Option<bool>,
    /// `true` closes the offer (no longer available, its announcement deleted); `false`
    /// reopens it.
    pub closed: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferCreated {
    pub id: i64,
    /// The offer's page.
    pub url: String,
    /// The page of the announcement that federates it (public offers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoDetail {
    pub id: i64,
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DateRange {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferDetail {
    pub id: i64,
    pub url: String,
    pub title: String,
    /// The Markdown as written.
    pub description: String,
    /// The sanitised HTML.
    pub content: String,
    pub category: String,
    pub terms: String,
    pub terms_details: String,
    /// INSEE code.
    pub commune_code: String,
    pub commune: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub venue_id: Option<i64>,
    pub public: bool,
    pub closed: bool,
    /// The owner's username.
    pub owner: String,
    pub post_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Distance from the `near` commune, in km (lists sorted by distance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// In the answer of `GET …/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoDetail>>,
    /// The dates accepted loans take, from today on (`GET …/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken: Option<Vec<DateRange>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    pub total: usize,
    pub page: usize,
    /// Newest first (nearest first with `near`), 20 per page.
    pub items: Vec<OfferDetail>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    pub category: Option<String>,
    /// `free`, `paid` or `exchange`.
    pub terms: Option<String>,
    /// Only offers in this commune.
    pub commune: Option<String>,
    /// Sorted by distance from this commune.
    pub near: Option<String>,
    /// With `to`: only offers free on these dates (`YYYY-MM-DD`).
    pub from: Option<String>,
    pub to: Option<String>,
    /// `true`: closed offers too.
    pub closed: Option<bool>,
    /// 1-based.
    pub page: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoanRequest {
    /// `YYYY-MM-DD`, today or later.
    #[schema(example = "2027-03-01")]
    pub starts_on: String,
    /// `YYYY-MM-DD`, on or after `starts_on`.
    pub ends_on: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoanCreated {
    pub id: i64,
    /// `pending`.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoanDetail {
    pub id: i64,
    pub offer_id: i64,
    pub offer_title: String,
    pub offer_url: String,
    /// The requester's username.
    pub requester: String,
    /// The offer owner's username.
    pub owner: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub message: String,
    /// `pending`, `accepted`, `declined` or `cancelled`.
    pub state: String,
    pub answer: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoanList {
    /// The caller's requests.
    pub sent: Vec<LoanDetail>,
    /// The requests on the caller's offers.
    pub received: Vec<LoanDetail>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoanAnswer {
    /// The owner's words (accept and decline only).
    #[serde(default)]
    pub answer: String,
}

/// The optional `{answer}` body of accept and decline (none at all is fine).
fn answer_of(body: &[u8]) -> AppResult<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    Ok(crate::web::api::json::parse::<LoanAnswer>(body)?.answer)
}

/// Ids are numbers; anything else names nothing (404, like a missing id).
fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn post_url(ctx: &AppContext, offer: &DbOffer) -> Option<String> {
    offer
        .post_id
        .map(|id| ctx.urls.absolute(&format!("/annonces/{id}")))
}

async fn detail(
    ctx: &AppContext,
    conn: &mut db::Conn,
    offer: &DbOffer,
    distance_km: Option<f64>,
) -> AppResult<OfferDetail> {
    let owner = db::accounts::by_id(conn, offer.account_id).await?;
    Ok(OfferDetail {
        id: offer.id,
        url: ctx.urls.absolute(&sharing::page_path(offer.id)),
        title: offer.title.clone(),
        description: offer.description_markdown.clone(),
        content: offer.description_html.clone(),
        category: offer.category.clone(),
        terms: offer.terms.clone(),
        terms_details: offer.terms_details.clone(),
        commune_code: offer.commune_code.clone(),
        commune: communes::by_code(&offer.commune_code)
            .map(|c| c.name.to_string())
            .unwrap_or_default(),
        latitude: offer.latitude,
        longitude: offer.longitude,
        venue_id: offer.venue_id,
        public: offer.public,
        closed: offer.closed_at.is_some(),
        owner: owner.username,
        post_url: post_url(ctx, offer),
        created_at: offer.created_at,
        updated_at: offer.updated_at,
        distance_km: distance_km.map(|d| (d * 10.0).round() / 10.0),
        photos: None,
        taken: None,
    })
}

async fn full_detail(ctx: &AppContext, offer: &DbOffer) -> AppResult<OfferDetail> {
    let mut conn = ctx.conn().await?;
    let mut d = detail(ctx, &mut conn, offer, None).await?;
    let photos = db::offers::photos_of(&mut conn, offer.id).await?;
    d.photos = Some(
        photos
            .into_iter()
            .map(|p| PhotoDetail {
                id: p.id,
                url: ctx
                    .urls
                    .absolute(&format!("/mutualisation/photos/{}", p.path)),
                alt: p.alt,
            })
            .collect(),
    );
    d.taken = Some(
        loans::taken(ctx, offer.id)
            .await?
            .into_iter()
            .map(|(starts_on, ends_on)| DateRange { starts_on, ends_on })
            .collect(),
    );
    Ok(d)
}

/// Publishes an offer; a public one is federated as an announcement of kind `pret_materiel`
/// (or `mise_a_disposition_lieu` for a space).
#[utoipa::path(
    post,
    path = "/api/v1/offers",
    tag = "sharing",
    security(("bearer" = [])),
    request_body = NewOfferRequest,
    responses(
        (status = 201, description = "Published", body = OfferCreated),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The address awaits confirmation, or the account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every field that breaks a rule (title, category, terms, commune, latitude/longitude, venue_id…)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_offer(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewOfferRequest>,
) -> AppResult<(StatusCode, ApiJson<OfferCreated>)> {
    let ctx = data.app_data();
    let input = OfferInput {
        title: body.title,
        description: body.description,
        category: body.category,
        terms: body.terms,
        terms_details: body.terms_details,
        commune: body.commune,
        latitude: num(body.latitude),
        longitude: num(body.longitude),
        venue_id: body.venue_id.map(|v| v.to_string()).unwrap_or_default(),
        public: body.public,
    };
    let offer = sharing::create(ctx, &user.account, input).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(OfferCreated {
            id: offer.id,
            url: ctx.urls.absolute(&sharing::page_path(offer.id)),
            post_url: post_url(ctx, &offer),
        }),
    ))
}

fn bad_filter(field: &str) -> AppError {
    AppError::field(field, "sharing.filter.invalid")
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// The filters of the list, from the query (shared with the page).
#[allow(clippy::too_many_arguments)]
pub fn filter_of(
    ctx: &AppContext,
    category: Option<&str>,
    terms: Option<&str>,
    commune: Option<&str>,
    near: Option<&str>,
    dates: (Option<&str>, Option<&str>),
    include_closed: bool,
    page: Option<&str>,
) -> AppResult<ListFilter> {
    let category = match present(category) {
        None => None,
        Some(c) => Some(OfferCategory::parse(c).ok_or_else(|| bad_filter("category"))?),
    };
    let terms = match present(terms) {
        None => None,
        Some(t) => Some(Terms::parse(t).ok_or_else(|| bad_filter("terms"))?),
    };
    let commune = match present(commune) {
        None => None,
        Some(c) => sharing::parse_filter_commune(ctx, "commune", c)?,
    };
    let near = match present(near) {
        None => None,
        Some(c) => sharing::parse_filter_commune(ctx, "near", c)?,
    };
    let date = |field: &str, v: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad_filter(field))
    };
    let available = match (present(dates.0), present(dates.1)) {
        (None, None) => None,
        (Some(f), None) => {
            let f = date("from", f)?;
            Some((f, f))
        }
        (None, Some(t)) => {
            let t = date("to", t)?;
            Some((t, t))
        }
        (Some(f), Some(t)) => {
            let (f, t) = (date("from", f)?, date("to", t)?);
            if t < f {
                return Err(bad_filter("to"));
            }
            Some((f, t))
        }
    };
    let page = match present(page) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (1..=10_000).contains(p))
            .ok_or_else(|| bad_filter("page"))?,
    };
    Ok(ListFilter {
        category,
        terms,
        commune,
        near,
        available,
        include_closed,
        page,
    })
}

/// Offers the caller may see, with filters; members-only offers are included (the caller
/// is a member).
#[utoipa::path(
    get,
    path = "/api/v1/offers",
    tag = "sharing",
    security(("bearer" = [])),
    params(OfferQuery),
    responses(
        (status = 200, description = "A page of offers", body = OfferList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown category, terms, commune, date or page", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_offers(
    data: Data,
    user: ApiUser,
    Query(q): Query<OfferQuery>,
) -> AppResult<ApiJson<OfferList>> {
    let ctx = data.app_data();
    let filter = filter_of(
        ctx,
        q.category.as_deref(),
        q.terms.as_deref(),
        q.commune.as_deref(),
        q.near.as_deref(),
        (q.from.as_deref(), q.to.as_deref()),
        q.closed.unwrap_or(false),
        q.page.as_deref(),
    )?;
    let found = sharing::list(ctx, Some(&user.account), &filter).await?;
    let mut conn = ctx.conn().await?;
    let mut items = Vec::with_capacity(found.items.len());
    for l in &found.items {
        items.push(detail(ctx, &mut conn, &l.offer, l.distance_km).await?);
    }
    Ok(ApiJson(OfferList {
        total: found.total,
        page: filter.page,
        items,
    }))
}

/// One offer, with its photos and the dates already taken.
#[utoipa::path(
    get,
    path = "/api/v1/offers/{id}",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    responses(
        (status = 200, description = "The offer", body = OfferDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer (or deleted, or hidden by the moderators)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_offer(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<OfferDetail>> {
    let ctx = data.app_data();
    let offer = sharing::visible(ctx, Some(&user.account), parse_id(&id)?).await?;
    Ok(ApiJson(full_detail(ctx, &offer).await?))
}

/// Edits the caller's offer (`Update` of its announcement federates); `closed` closes or
/// reopens it; `public: false` withdraws its announcement (`Delete` federates).
#[utoipa::path(
    patch,
    path = "/api/v1/offers/{id}",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    request_body = OfferPatchRequest,
    responses(
        (status = 200, description = "The offer as saved", body = OfferDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's offer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every field that breaks a rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_offer(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OfferPatchRequest>,
) -> AppResult<ApiJson<OfferDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let closed = body.closed;
    let patch = OfferPatch {
        title: body.title,
        description: body.description,
        category: body.category,
        terms: body.terms,
        terms_details: body.terms_details,
        commune: body.commune,
        latitude: body.latitude.map(|v| v.to_string()),
        longitude: body.longitude.map(|v| v.to_string()),
        venue_id: body.venue_id.map(|v| v.to_string()),
        public: body.public,
    };
    let mut offer = sharing::edit_partial(ctx, &user.account, id, patch).await?;
    if let Some(closed) = closed {
        offer = sharing::set_closed(ctx, &user.account, id, closed).await?;
    }
    Ok(ApiJson(full_detail(ctx, &offer).await?))
}

/// Deletes the caller's offer (its announcement's `Delete` federates).
#[utoipa::path(
    delete,
    path = "/api/v1/offers/{id}",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's offer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_offer(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    sharing::delete(data.app_data(), &user.account, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks to borrow an offer for the dates given; its owner is notified.
#[utoipa::path(
    post,
    path = "/api/v1/offers/{id}/requests",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    request_body = NewLoanRequest,
    responses(
        (status = 201, description = "Sent", body = LoanCreated),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller's own offer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The offer is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`starts_on` in the past or overlapping an accepted loan (the detail names the dates taken), `ends_on` before `starts_on`…", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_offer_request(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewLoanRequest>,
) -> AppResult<(StatusCode, ApiJson<LoanCreated>)> {
    let loan = loans::request(
        data.app_data(),
        &user.account,
        parse_id(&id)?,
        LoanInput {
            starts_on: body.starts_on,
            ends_on: body.ends_on,
            message: body.message,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(LoanCreated {
            id: loan.id,
            state: loan.state,
        }),
    ))
}

async fn loan_detail(ctx: &AppContext, view: loans::LoanView, sent: bool, me: &str) -> LoanDetail {
    let (requester, owner) = if sent {
        (me.to_string(), view.other.username)
    } else {
        (view.other.username, me.to_string())
    };
    loan_of(ctx, view.loan, &view.offer, requester, owner)
}

fn loan_of(
    ctx: &AppContext,
    loan: DbLoanRequest,
    offer: &DbOffer,
    requester: String,
    owner: String,
) -> LoanDetail {
    LoanDetail {
        id: loan.id,
        offer_id: offer.id,
        offer_title: offer.title.clone(),
        offer_url: ctx.urls.absolute(&sharing::page_path(offer.id)),
        requester,
        owner,
        starts_on: loan.starts_on,
        ends_on: loan.ends_on,
        message: loan.message,
        state: loan.state,
        answer: loan.answer,
        decided_at: loan.decided_at,
        created_at: loan.created_at,
    }
}

/// The caller's loan requests: sent, and received on their offers; newest first.
#[utoipa::path(
    get,
    path = "/api/v1/loan-requests",
    tag = "sharing",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent and received requests", body = LoanList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_loan_requests(data: Data, user: ApiUser) -> AppResult<ApiJson<LoanList>> {
    let ctx = data.app_data();
    let (sent, received) = loans::history(ctx, &user.account).await?;
    let me = user.account.username.as_str();
    let mut out = LoanList {
        sent: Vec::with_capacity(sent.len()),
        received: Vec::with_capacity(received.len()),
    };
    for v in sent {
        out.sent.push(loan_detail(ctx, v, true, me).await);
    }
    for v in received {
        out.received.push(loan_detail(ctx, v, false, me).await);
    }
    Ok(ApiJson(out))
}

async fn decided(ctx: &AppContext, loan: DbLoanRequest) -> AppResult<ApiJson<LoanDetail>> {
    let mut conn = ctx.conn().await?;
    let offer = db::offers::by_id(&mut conn, loan.offer_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let requester = db::accounts::by_id(&mut conn, loan.requester_account_id)
        .await?
        .username;
    let owner = db::accounts::by_id(&mut conn, offer.account_id)
        .await?
        .username;
    Ok(ApiJson(loan_of(ctx, loan, &offer, requester, owner)))
}

/// The owner accepts a pending request (refused when the dates now overlap an accepted
/// loan); the requester is notified.
#[utoipa::path(
    post,
    path = "/api/v1/loan-requests/{id}/accept",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Loan request id")),
    request_body(content = Option<LoanAnswer>),
    responses(
        (status = 200, description = "Accepted", body = LoanDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the offer's owner (the requester)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request (or not one of the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered, or another accept on overlapping dates won the race", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The dates overlap an accepted loan", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_loan_accept(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<ApiJson<LoanDetail>> {
    let ctx = data.app_data();
    let answer = answer_of(&body)?;
    let loan = loans::decide(ctx, &user.account, parse_id(&id)?, true, &answer).await?;
    decided(ctx, loan).await
}

/// The owner declines a pending request; the requester is notified.
#[utoipa::path(
    post,
    path = "/api/v1/loan-requests/{id}/decline",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Loan request id")),
    request_body(content = Option<LoanAnswer>),
    responses(
        (status = 200, description = "Declined", body = LoanDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the offer's owner (the requester)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request (or not one of the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already answered", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_loan_decline(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<ApiJson<LoanDetail>> {
    let ctx = data.app_data();
    let answer = answer_of(&body)?;
    let loan = loans::decide(ctx, &user.account, parse_id(&id)?, false, &answer).await?;
    decided(ctx, loan).await
}

/// The requester cancels: while pending, or accepted until the day before it starts.
#[utoipa::path(
    post,
    path = "/api/v1/loan-requests/{id}/cancel",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Loan request id")),
    responses(
        (status = 200, description = "Cancelled", body = LoanDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the requester (the offer's owner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request (or not one of the caller's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No longer cancellable", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_loan_cancel(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<LoanDetail>> {
    let ctx = data.app_data();
    let loan = loans::cancel(ctx, &user.account, parse_id(&id)?).await?;
    decided(ctx, loan).await
}

/// Body limit of a photo upload: the largest image accepted, plus the alt text and framing.
const PHOTO_BODY_LIMIT: usize = crate::config::MAX_COVER_KB as usize * 1024 + 64 * 1024;

/// The multipart body of a photo upload (OpenAPI description only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// PNG, JPEG, GIF or WebP (recognised by its bytes), within `storage.max_cover_kb`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The text alternative (required).
    alt: String,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(crate::error::ErrorKind::PayloadTooLarge, e.body_text())
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

/// Adds a photo to the caller's offer (at most 8).
#[utoipa::path(
    post,
    path = "/api/v1/offers/{id}/photos",
    tag = "sharing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Offer id")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = PhotoDetail),
        (status = 400, description = "Not a multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's offer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the route limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` missing, not an image or too large; `alt` missing; too many photos", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_offer_photo(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, ApiJson<PhotoDetail>)> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let mut multipart =
        multipart.map_err(|_| AppError::bad_request("expected a multipart/form-data body"))?;
    let (mut file, mut alt) = (Vec::new(), String::new());
    // One byte over the largest limit is enough to know a file is too big.
    let cap = crate::config::MAX_COVER_KB as usize * 1024 + 1;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    let room = cap.saturating_sub(file.len());
                    file.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
            "alt" => alt = field.text().await.map_err(multipart_error)?,
            _ => {}
        }
    }
    let photo = sharing::photos::add(ctx, &user.account, id, &file, &alt)
        .await
        .map_err(|mut e| {
            for f in &mut e.fields {
                f.field = match f.field.as_str() {
                    "photo" => "file".into(),
                    "photo_alt" => "alt".into(),
                    other => other.into(),
                };
            }
            e
        })?;
    Ok((
        StatusCode::CREATED,
        ApiJson(PhotoDetail {
            id: photo.id,
            url: ctx
                .urls
                .absolute(&format!("/mutualisation/photos/{}", photo.path)),
            alt: photo.alt,
        }),
    ))
}

/// Removes a photo of the caller's offer.
#[utoipa::path(
    delete,
    path = "/api/v1/offers/{id}/photos/{photo}",
    tag = "sharing",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Offer id"),
        ("photo" = i64, Path, description = "Photo id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Someone else's offer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer or photo", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_offer_photo(
    data: Data,
    user: ApiUser,
    Path((id, photo)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    sharing::photos::remove(
        data.app_data(),
        &user.account,
        parse_id(&id)?,
        parse_id(&photo)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
