//! Venues: create, read, edit, delete, list; managers and photos. The twin of the pages in
//! `web::pages::venues`; the rules live in `service::venues`.

use crate::{
    context::AppContext,
    db::{
        self,
        venues::{DbPhoto, DbVenue},
    },
    error::{AppError, AppResult},
    federation::Data,
    service::{
        communes,
        venues::{
            self, VenueInput,
            list::{self, ListFilters},
            photos,
        },
    },
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query},
    http::StatusCode,
    routing::{delete, get, post},
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// Largest photo upload request (the file itself is held to `storage.max_upload_mb`).
const PHOTO_BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    paths(
        http_post_venue,
        http_get_venues,
        http_get_venue,
        http_patch_venue,
        http_delete_venue,
        http_post_venue_manager,
        http_delete_venue_manager,
        http_post_venue_photo,
        http_delete_venue_photo,
    ),
    components(schemas(
        NewVenueRequest,
        VenuePatchRequest,
        VenueCreated,
        VenueDetail,
        VenueList,
        VenueListItem,
        PhotoDetail,
        PhotoUpload,
        ManagerRequest,
    ))
)]
pub struct VenuesApi;

pub fn routes() -> Router {
    Router::new()
        .route("/api/v1/venues", get(http_get_venues).post(http_post_venue))
        .route(
            "/api/v1/venues/{id}",
            get(http_get_venue)
                .patch(http_patch_venue)
                .delete(http_delete_venue),
        )
        .route(
            "/api/v1/venues/{id}/managers",
            post(http_post_venue_manager),
        )
        .route(
            "/api/v1/venues/{id}/managers/{username}",
            delete(http_delete_venue_manager),
        )
        .route(
            "/api/v1/venues/{id}/photos",
            post(http_post_venue_photo).layer(DefaultBodyLimit::max(PHOTO_BODY_LIMIT)),
        )
        .route(
            "/api/v1/venues/{id}/photos/{photo_id}",
            delete(http_delete_venue_photo),
        )
}

/// A new venue. Only `name` and `commune` are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewVenueRequest {
    pub name: String,
    /// Markdown.
    pub description: String,
    pub address: String,
    /// A commune name ("Épinal", "Épinal (88)") or INSEE code; the configured département's
    /// communes come first.
    pub commune: String,
    /// One of the commune's postal codes.
    pub postal_code: String,
    /// WGS 84 degrees; both or neither.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// People.
    pub capacity: Option<i64>,
    /// Markdown.
    pub spaces: String,
    /// Markdown.
    pub equipment: String,
    /// Markdown.
    pub conditions: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub accessibility_notes: String,
    pub disciplines: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    /// http(s) URL.
    pub website: String,
}

impl NewVenueRequest {
    fn input(self) -> VenueInput {
        VenueInput {
            name: self.name,
            description: self.description,
            address: self.address,
            commune: self.commune,
            postal_code: self.postal_code,
            latitude: self.latitude,
            longitude: self.longitude,
            capacity: self.capacity,
            spaces: self.spaces,
            equipment: self.equipment,
            conditions: self.conditions,
            step_free_access: self.step_free_access,
            hearing_loop: self.hearing_loop,
            accessibility_notes: self.accessibility_notes,
            disciplines: self.disciplines,
            contact_email: self.contact_email,
            contact_phone: self.contact_phone,
            website: self.website,
            unreadable: Vec::new(),
        }
    }
}

/// Reads `null` as `Some(None)` and a missing field (via `default`) as `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A partial edit: absent fields keep their value; `null` clears coordinates and capacity.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VenuePatchRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub address: Option<String>,
    pub commune: Option<String>,
    pub postal_code: Option<String>,
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub capacity: Option<Option<i64>>,
    pub spaces: Option<String>,
    pub equipment: Option<String>,
    pub conditions: Option<String>,
    pub step_free_access: Option<bool>,
    pub hearing_loop: Option<bool>,
    pub accessibility_notes: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub website: Option<String>,
}

impl VenuePatchRequest {
    fn apply(self, mut input: VenueInput) -> VenueInput {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { input.$f = v; } )* };
        }
        set!(
            name,
            description,
            address,
            commune,
            postal_code,
            latitude,
            longitude,
            capacity,
            spaces,
            equipment,
            conditions,
            step_free_access,
            hearing_loop,
            accessibility_notes,
            disciplines,
            contact_email,
            contact_phone,
            website
        );
        input
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueCreated {
    pub id: i64,
    /// The venue's page.
    pub url: String,
    /// The ActivityPub id of its actor (the same URL, content-negotiated).
    pub ap_id: String,
    /// `slug@host`: what a fediverse user follows.
    pub handle: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoDetail {
    pub id: i64,
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueDetail {
    pub id: i64,
    pub slug: String,
    pub url: String,
    pub ap_id: String,
    pub name: String,
    pub description: String,
    pub description_html: String,
    pub address: String,
    pub postal_code: String,
    /// INSEE code.
    pub commune_code: String,
    pub commune: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub capacity: Option<i32>,
    pub spaces: String,
    pub equipment: String,
    pub conditions: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub accessibility_notes: String,
    pub disciplines: Vec<String>,
    pub contact_email: String,
    pub contact_phone: String,
    pub website: String,
    pub photos: Vec<PhotoDetail>,
    /// The owner's username.
    pub owner: String,
    /// Other managers' usernames.
    pub managers: Vec<String>,
    /// Whether the caller manages it.
    pub is_manager: bool,
    /// Set when the moderators hid it (only its managers see it then).
    pub hidden: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueListItem {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub ap_id: String,
    pub commune: String,
    pub capacity: Option<i32>,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub disciplines: Vec<String>,
    /// From the `near` commune, when asked and the venue can be placed.
    pub distance_km: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueList {
    pub total: usize,
    pub page: i64,
    pub items: Vec<VenueListItem>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct VenueListQuery {
    /// Venues of this commune.
    pub commune: String,
    /// Sorted by distance from this commune.
    pub near: String,
    pub discipline: String,
    pub step_free_access: bool,
    pub hearing_loop: bool,
    pub min_capacity: Option<i64>,
    /// From 1.
    pub page: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerRequest {
    /// A local member's username.
    pub username: String,
}

/// The multipart body of a photo upload (OpenAPI description only).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// PNG, JPEG, GIF or WebP (recognised by its bytes), within `storage.max_upload_mb`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The alt text (required).
    alt: String,
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn handle(ctx: &AppContext, venue: &DbVenue) -> String {
    format!("{}@{}", venue.slug, ctx.config.domain())
}

fn photo_detail(ctx: &AppContext, p: DbPhoto) -> PhotoDetail {
    PhotoDetail {
        id: p.id,
        url: photos::photo_url(ctx, &p.path),
        alt: p.alt,
    }
}

async fn detail(
    ctx: &AppContext,
    venue: DbVenue,
    ap_id: String,
    is_manager: bool,
) -> AppResult<VenueDetail> {
    let mut conn = ctx.conn().await?;
    let photos = db::venues::photos(&mut conn, venue.id)
        .await?
        .into_iter()
        .map(|p| photo_detail(ctx, p))
        .collect();
    let owner = db::accounts::by_id(&mut conn, venue.owner_account_id)
        .await?
        .username;
    let managers = db::venues::manager_usernames(&mut conn, venue.id).await?;
    Ok(VenueDetail {
        id: venue.id,
        url: ap_id.clone(),
        ap_id,
        commune: communes::by_code(&venue.commune_code)
            .map(|c| c.label())
            .unwrap_or_default(),
        slug: venue.slug,
        name: venue.name,
        description: venue.description_markdown,
        description_html: venue.description_html,
        address: venue.address,
        postal_code: venue.postal_code,
        commune_code: venue.commune_code,
        latitude: venue.latitude,
        longitude: venue.longitude,
        capacity: venue.capacity,
        spaces: venue.spaces_markdown,
        equipment: venue.equipment_markdown,
        conditions: venue.conditions_markdown,
        step_free_access: venue.step_free_access,
        hearing_loop: venue.hearing_loop,
        accessibility_notes: venue.accessibility_notes,
        disciplines: venue.disciplines,
        contact_email: venue.contact_email,
        contact_phone: venue.contact_phone,
        website: venue.website,
        photos,
        owner,
        managers,
        is_manager,
        hidden: venue.hidden_at.is_some(),
    })
}

/// Creates a venue managed by the caller, with its ActivityPub actor.
#[utoipa::path(
    post,
    path = "/api/v1/venues",
    tag = "venues",
    security(("bearer" = [])),
    request_body = NewVenueRequest,
    responses(
        (status = 201, description = "Created", body = VenueCreated),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named: name, commune, postal_code, latitude, longitude, capacity, contact_email, contact_phone, website…", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_venue(
    data: Data,
    user: ApiUser,
    ApiJson(body): ApiJson<NewVenueRequest>,
) -> AppResult<(StatusCode, ApiJson<VenueCreated>)> {
    let ctx = data.app_data();
    let venue = venues::create(ctx, &user.account, body.input()).await?;
    let url = ctx.urls.absolute(&venues::venue_path(&venue.slug));
    Ok((
        StatusCode::CREATED,
        ApiJson(VenueCreated {
            id: venue.id,
            handle: handle(ctx, &venue),
            url: url.clone(),
            ap_id: url,
        }),
    ))
}

/// The listed venues (neither hidden nor deleted), by name or by distance from `near`.
#[utoipa::path(
    get,
    path = "/api/v1/venues",
    tag = "venues",
    security(("bearer" = [])),
    params(VenueListQuery),
    responses(
        (status = 200, description = "One page (20 venues)", body = VenueList),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown commune or near, bad page", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_venues(
    data: Data,
    _user: ApiUser,
    Query(query): Query<VenueListQuery>,
) -> AppResult<ApiJson<VenueList>> {
    let ctx = data.app_data();
    let page = list::list(
        ctx,
        &ListFilters {
            commune: query.commune,
            near: query.near,
            discipline: query.discipline,
            step_free_access: query.step_free_access,
            hearing_loop: query.hearing_loop,
            min_capacity: query.min_capacity,
            page: query.page.unwrap_or(1),
        },
    )
    .await?;
    let items = page
        .items
        .into_iter()
        .map(|item| {
            let url = ctx.urls.absolute(&venues::venue_path(&item.venue.slug));
            VenueListItem {
                id: item.venue.id,
                name: item.venue.name,
                url: url.clone(),
                ap_id: url,
                commune: item.commune.map(|c| c.label()).unwrap_or_default(),
                capacity: item.venue.capacity,
                step_free_access: item.venue.step_free_access,
                hearing_loop: item.venue.hearing_loop,
                disciplines: item.venue.disciplines,
                distance_km: item.distance_km.map(|d| (d * 10.0).round() / 10.0),
            }
        })
        .collect();
    Ok(ApiJson(VenueList {
        total: page.total,
        page: page.page,
        items,
    }))
}

/// A venue (hidden ones: to their managers only).
#[utoipa::path(
    get,
    path = "/api/v1/venues/{id}",
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Venue id")),
    responses(
        (status = 200, description = "The venue", body = VenueDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Deleted", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_venue(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<ApiJson<VenueDetail>> {
    let ctx = data.app_data();
    let (venue, actor, manager) =
        venues::visible_by_id(ctx, parse_id(&id)?, Some(&user.account)).await?;
    Ok(ApiJson(detail(ctx, venue, actor.ap_id, manager).await?))
}

/// Edits a venue (its managers only); its followers get an `Update` of the actor.
#[utoipa::path(
    patch,
    path = "/api/v1/venues/{id}",
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Venue id")),
    request_body = VenuePatchRequest,
    responses(
        (status = 200, description = "The venue as saved", body = VenueDetail),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller does not manage it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields breaking a rule, all named", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_venue(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VenuePatchRequest>,
) -> AppResult<ApiJson<VenueDetail>> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let current = {
        let mut conn = ctx.conn().await?;
        db::venues::by_id(&mut conn, id)
            .await?
            .filter(|v| v.deleted_at.is_none())
            .ok_or_else(AppError::not_found)?
    };
    let input = body.apply(VenueInput::from_venue(&current));
    let venue = venues::edit(ctx, &user.account, id, input).await?;
    let ap_id = ctx.urls.absolute(&venues::venue_path(&venue.slug));
    Ok(ApiJson(detail(ctx, venue, ap_id, true).await?))
}

/// Deletes a venue (its managers only): `Delete` of its actor to the servers that know it.
#[utoipa::path(
    delete,
    path = "/api/v1/venues/{id}",
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Venue id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller does not manage it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_venue(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    venues::delete(data.app_data(), &user.account, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The owner adds a manager.
#[utoipa::path(
    post,
    path = "/api/v1/venues/{id}/managers",
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Venue id")),
    request_body = ManagerRequest,
    responses(
        (status = 204, description = "Added (or already was)"),
        (status = 403, description = "The caller is not the owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such member (`username`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_venue_manager(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ManagerRequest>,
) -> AppResult<StatusCode> {
    venues::add_manager(
        data.app_data(),
        &user.account,
        parse_id(&id)?,
        &body.username,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The owner removes a manager (or a manager removes themself).
#[utoipa::path(
    delete,
    path = "/api/v1/venues/{id}/managers/{username}",
    tag = "venues",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Venue id"),
        ("username" = String, Path, description = "The manager's username"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Neither the owner nor that manager", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a manager (`username`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_venue_manager(
    data: Data,
    user: ApiUser,
    Path((id, username)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    venues::remove_manager(data.app_data(), &user.account, parse_id(&id)?, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a photo (multipart: `file` and its `alt` text).
#[utoipa::path(
    post,
    path = "/api/v1/venues/{id}/photos",
    tag = "venues",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Venue id")),
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Added", body = PhotoDetail),
        (status = 400, description = "Not a multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller does not manage it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`file` not an image or too large, `alt` missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_post_venue_photo(
    data: Data,
    user: ApiUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, ApiJson<PhotoDetail>)> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let mut multipart =
        multipart.map_err(|e| AppError::bad_request(format!("multipart body expected: {e}")))?;
    let cap = ctx.config.max_upload_bytes() + 1;
    let (mut file, mut alt) = (Vec::new(), String::new());
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
    let photo = photos::add(ctx, &user.account, id, &file, &alt).await?;
    Ok((StatusCode::CREATED, ApiJson(photo_detail(ctx, photo))))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            crate::error::ErrorKind::PayloadTooLarge,
            format!("photo uploads are limited to {PHOTO_BODY_LIMIT} bytes"),
        )
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

/// Removes a photo.
#[utoipa::path(
    delete,
    path = "/api/v1/venues/{id}/photos/{photo_id}",
    tag = "venues",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Venue id"),
        ("photo_id" = i64, Path, description = "Photo id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller does not manage it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such venue or photo", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_delete_venue_photo(
    data: Data,
    user: ApiUser,
    Path((id, photo_id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    photos::remove(
        data.app_data(),
        &user.account,
        parse_id(&id)?,
        parse_id(&photo_id)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
