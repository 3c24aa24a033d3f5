//! Venues: the list (`/lieux`), the creation form (`/lieux/nouveau`), the venue's page
//! (`/venues/{slug}`, content-negotiated with its `Organization` document), and its managers'
//! pages (edit, delete, managers, photos). The rules live in `service::venues`, shared with
//! `/api/v1/venues`.

use crate::{
    context::AppContext,
    db::{self, venues::DbVenue},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        negotiation::{Face, negotiate},
        venues::venue_document,
    },
    i18n::Lang,
    sanitize::{SafeHtml, plain_text},
    service::{
        communes::{self, Commune},
        directory::SUGGESTED_DISCIPLINES,
        venues::{
            self, VenueInput,
            list::{self, ListFilters, VenuePage},
            photos, split_disciplines,
        },
    },
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::{self, CsrfForm, CsrfToken},
        pages::{
            PageLang,
            feeds::HeadMeta,
            forms::FormState,
            layout::redirect_with_flash,
            news::{self, NewsItem},
            render, render_status,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/lieux", get(http_get_venues))
        .route(
            "/lieux/nouveau",
            get(http_get_new_venue).post(http_post_new_venue),
        )
        .route("/venues/{slug}", get(http_get_venue))
        .route(
            "/venues/{slug}/modifier",
            get(http_get_edit_venue).post(http_post_edit_venue),
        )
        .route("/venues/{slug}/supprimer", post(http_post_delete_venue))
        .route("/venues/{slug}/gestionnaires", post(http_post_add_manager))
        .route(
            "/venues/{slug}/gestionnaires/retirer",
            post(http_post_remove_manager),
        )
        .route(
            "/venues/{slug}/photos",
            post(http_post_photo).layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024)),
        )
        .route(
            "/venues/{slug}/photos/{id}/supprimer",
            post(http_post_delete_photo),
        )
}

/// The form's fields, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct VenueForm {
    name: String,
    description: String,
    address: String,
    commune: String,
    postal_code: String,
    latitude: String,
    longitude: String,
    capacity: String,
    spaces: String,
    equipment: String,
    conditions: String,
    step_free_access: String,
    hearing_loop: String,
    accessibility_notes: String,
    /// Comma-separated.
    disciplines: String,
    contact_email: String,
    contact_phone: String,
    website: String,
}

fn checked(value: &str) -> bool {
    !value.is_empty() && value != "false" && value != "0"
}

impl VenueForm {
    fn from_venue(venue: &DbVenue) -> Self {
        let input = VenueInput::from_venue(venue);
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        Self {
            name: input.name,
            description: input.description,
            address: input.address,
            commune: input.commune,
            postal_code: input.postal_code,
            latitude: num(input.latitude),
            longitude: num(input.longitude),
            capacity: input.capacity.map(|c| c.to_string()).unwrap_or_default(),
            spaces: input.spaces,
            equipment: input.equipment,
            conditions: input.conditions,
            step_free_access: if input.step_free_access {
                "on".into()
            } else {
                String::new()
            },
            hearing_loop: if input.hearing_loop {
                "on".into()
            } else {
                String::new()
            },
            accessibility_notes: input.accessibility_notes,
            disciplines: input.disciplines.join(", "),
            contact_email: input.contact_email,
            contact_phone: input.contact_phone,
            website: input.website,
        }
    }

    /// The service's input; numbers that do not read are named in `unreadable`.
    fn input(&self) -> VenueInput {
        let mut unreadable = Vec::new();
        let mut number = |field: &str, value: &str| -> Option<f64> {
            let value = value.trim().replace(',', ".");
            if value.is_empty() {
                return None;
            }
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    unreadable.push(field.to_string());
                    None
                }
            }
        };
        let latitude = number("latitude", &self.latitude);
        let longitude = number("longitude", &self.longitude);
        let capacity = {
            let value = self.capacity.trim();
            if value.is_empty() {
                None
            } else {
                match value.parse::<i64>() {
                    Ok(c) => Some(c),
                    Err(_) => {
                        unreadable.push("capacity".to_string());
                        None
                    }
                }
            }
        };
        VenueInput {
            name: self.name.clone(),
            description: self.description.clone(),
            address: self.address.clone(),
            commune: self.commune.clone(),
            postal_code: self.postal_code.clone(),
            latitude,
            longitude,
            capacity,
            spaces: self.spaces.clone(),
            equipment: self.equipment.clone(),
            conditions: self.conditions.clone(),
            step_free_access: checked(&self.step_free_access),
            hearing_loop: checked(&self.hearing_loop),
            accessibility_notes: self.accessibility_notes.clone(),
            disciplines: split_disciplines(&self.disciplines),
            contact_email: self.contact_email.clone(),
            contact_phone: self.contact_phone.clone(),
            website: self.website.clone(),
            unreadable,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The list.

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    commune: String,
    near: String,
    discipline: String,
    step_free_access: String,
    hearing_loop: String,
    min_capacity: String,
    page: String,
}

struct ListRow {
    name: String,
    url: String,
    commune: String,
    distance: Option<String>,
    capacity: Option<i32>,
    step_free_access: bool,
    hearing_loop: bool,
    disciplines: String,
}

#[derive(Template)]
#[template(path = "venues/list.html")]
struct ListPage<'a> {
    lang: Lang,
    query: &'a ListQuery,
    errors: FormState,
    rows: Vec<ListRow>,
    total: usize,
    prev_url: Option<String>,
    next_url: Option<String>,
    logged_in: bool,
    communes: Vec<&'static Commune>,
}

fn list_filters(query: &ListQuery, errors: &mut FormState) -> ListFilters {
    let page = if query.page.trim().is_empty() {
        1
    } else {
        query.page.trim().parse().unwrap_or(0)
    };
    let min_capacity = match query.min_capacity.trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.add("min_capacity", "field.number.invalid");
                None
            }
        },
    };
    ListFilters {
        commune: query.commune.clone(),
        near: query.near.clone(),
        discipline: query.discipline.clone(),
        step_free_access: checked(&query.step_free_access),
        hearing_loop: checked(&query.hearing_loop),
        min_capacity,
        page,
    }
}

fn page_link(query: &ListQuery, page: i64) -> String {
    let pairs = [
        ("commune", query.commune.as_str()),
        ("near", query.near.as_str()),
        ("discipline", query.discipline.as_str()),
        ("step_free_access", query.step_free_access.as_str()),
        ("hearing_loop", query.hearing_loop.as_str()),
        ("min_capacity", query.min_capacity.as_str()),
    ];
    let page = page.to_string();
    let kept: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .chain([("page", page.as_str())])
        .collect();
    format!(
        "/lieux?{}",
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    )
}

/// `/lieux`: every listed venue, filtered; sorted by distance when `near` names a commune.
async fn http_get_venues(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut errors = FormState::new(lang);
    let filters = list_filters(&query, &mut errors);
    let page = if errors.is_empty() {
        match list::list(ctx, &filters).await {
            Ok(page) => page,
            Err(e) if e.kind == ErrorKind::Validation => {
                errors = FormState::from_error(lang, &e);
                empty_page()
            }
            Err(e) => return Err(e),
        }
    } else {
        empty_page()
    };
    let rows = page
        .items
        .iter()
        .map(|item| ListRow {
            name: item.venue.name.clone(),
            url: venues::venue_path(&item.venue.slug),
            commune: item.commune.map(|c| c.label()).unwrap_or_default(),
            distance: item.distance_km.map(|d| format!("{d:.1} km")),
            capacity: item.venue.capacity,
            step_free_access: item.venue.step_free_access,
            hearing_loop: item.venue.hearing_loop,
            disciplines: item.venue.disciplines.join(", "),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &ListPage {
            lang,
            query: &query,
            errors,
            rows,
            total: page.total,
            prev_url: (page.page > 1).then(|| page_link(&query, page.page - 1)),
            next_url: page.has_next().then(|| page_link(&query, page.page + 1)),
            logged_in: user.is_some(),
            communes: communes::in_departement(&ctx.config.instance.departement),
        },
    )
}

fn empty_page() -> VenuePage {
    VenuePage {
        total: 0,
        page: 1,
        items: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Create and edit.

#[derive(Template)]
#[template(path = "venues/form.html")]
struct FormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// Where the form posts.
    action: String,
    title: &'static str,
    form: &'a VenueForm,
    errors: FormState,
    communes: Vec<&'static Commune>,
    suggested: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    action: String,
    title: &'static str,
    form: &VenueForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    render_status(
        status,
        &FormPage {
            lang,
            csrf: csrf.value(),
            action,
            title: lang.t(title),
            form,
            errors,
            communes: communes::in_departement(&ctx.config.instance.departement),
            suggested: SUGGESTED_DISCIPLINES,
        },
    )
}

async fn http_get_new_venue(
    data: Data,
    PageLang(lang): PageLang,
    _user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        data.app_data(),
        lang,
        &csrf,
        "/lieux/nouveau".into(),
        "venues.new_title",
        &VenueForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn http_post_new_venue(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<VenueForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match venues::create(ctx, &user.account, form.input()).await {
        Ok(venue) => Ok(redirect_with_flash(
            ctx,
            &venues::venue_path(&venue.slug),
            "flash.venue_created",
        )),
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &csrf,
            "/lieux/nouveau".into(),
            "venues.new_title",
            &form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

/// The venue `slug` for one of its managers; 404 for anyone else (and for deleted venues).
async fn managed(ctx: &AppContext, slug: &str, user: &CurrentUser) -> AppResult<DbVenue> {
    let (venue, _, manager) = venues::visible(ctx, slug, Some(&user.account))
        .await
        .map_err(|e| {
            if e.kind == ErrorKind::Gone {
                AppError::not_found()
            } else {
                e
            }
        })?;
    if !manager {
        return Err(AppError::not_found());
    }
    Ok(venue)
}

async fn http_get_edit_venue(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    form_page(
        ctx,
        lang,
        &csrf,
        format!("/venues/{}/modifier", venue.slug),
        "venues.edit_title",
        &VenueForm::from_venue(&venue),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn http_post_edit_venue(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<VenueForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    match venues::edit(ctx, &user.account, venue.id, form.input()).await {
        Ok(venue) => Ok(redirect_with_flash(
            ctx,
            &venues::venue_path(&venue.slug),
            "flash.venue_saved",
        )),
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &csrf,
            format!("/venues/{}/modifier", venue.slug),
            "venues.edit_title",
            &form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn http_post_delete_venue(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    venues::delete(ctx, &user.account, venue.id).await?;
    Ok(redirect_with_flash(ctx, "/lieux", "flash.venue_deleted"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ManagerForm {
    username: String,
}

async fn http_post_add_manager(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ManagerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    let path = venues::venue_path(&venue.slug);
    match venues::add_manager(ctx, &user.account, venue.id, &form.username).await {
        Ok(()) => Ok(redirect_with_flash(ctx, &path, "flash.venue_manager_added")),
        Err(e) if e.kind == ErrorKind::Validation => Ok(redirect_with_flash(
            ctx,
            &path,
            "flash.venue_manager_unknown",
        )),
        Err(e) => Err(e),
    }
}

async fn http_post_remove_manager(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ManagerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    venues::remove_manager(ctx, &user.account, venue.id, &form.username).await?;
    Ok(redirect_with_flash(
        ctx,
        &venues::venue_path(&venue.slug),
        "flash.venue_manager_removed",
    ))
}

/// A photo form: the file and its alternative text, with the CSRF token checked.
struct PhotoSubmission {
    file: Vec<u8>,
    alt: String,
}

impl<S: Send + Sync> FromRequest<S> for PhotoSubmission {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        let token = CsrfToken::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|_| csrf::rejected())?;
        let (mut file, mut alt, mut submitted) = (Vec::new(), String::new(), None);
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| AppError::bad_request(format!("multipart: {e}")))?
        {
            let name = field.name().unwrap_or_default().to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::bad_request(format!("multipart: {e}")))?;
            match name.as_str() {
                "file" => file = bytes.to_vec(),
                "alt" => alt = String::from_utf8_lossy(&bytes).into_owned(),
                csrf::FIELD => submitted = Some(String::from_utf8_lossy(&bytes).into_owned()),
                _ => {}
            }
        }
        token.verify(submitted.as_deref())?;
        Ok(PhotoSubmission { file, alt })
    }
}

async fn http_post_photo(
    data: Data,
    user: CurrentUser,
    Path(slug): Path<String>,
    submission: PhotoSubmission,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    let path = venues::venue_path(&venue.slug);
    match photos::add(
        ctx,
        &user.account,
        venue.id,
        &submission.file,
        &submission.alt,
    )
    .await
    {
        Ok(_) => Ok(redirect_with_flash(ctx, &path, "flash.venue_photo_added")),
        Err(e) if e.kind == ErrorKind::Validation => {
            Ok(redirect_with_flash(ctx, &path, "flash.venue_photo_refused"))
        }
        Err(e) => Err(e),
    }
}

async fn http_post_delete_photo(
    data: Data,
    user: CurrentUser,
    Path((slug, id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let venue = managed(ctx, &slug, &user).await?;
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    photos::remove(ctx, &user.account, venue.id, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &venues::venue_path(&venue.slug),
        "flash.venue_photo_removed",
    ))
}

// ---------------------------------------------------------------------------------------
// The venue's page.

struct PhotoView {
    id: i64,
    url: String,
    alt: String,
}

#[derive(Template)]
#[template(path = "venues/show.html")]
struct ShowPage<'a> {
    lang: Lang,
    csrf: &'a str,
    venue: &'a DbVenue,
    head: HeadMeta,
    /// `@slug@host`: what a Mastodon user types to follow the venue.
    handle: String,
    commune: String,
    description: SafeHtml,
    spaces: SafeHtml,
    equipment: SafeHtml,
    conditions: SafeHtml,
    photos: Vec<PhotoView>,
    owner: String,
    managers: Vec<String>,
    is_manager: bool,
    is_owner: bool,
    website: &'a str,
    latest: Vec<NewsItem>,
}

/// Announcements listed on a venue's page.
const VENUE_LATEST: i64 = 10;

/// `/venues/{slug}`: the page for browsers, the `Organization` for ActivityPub clients.
async fn http_get_venue(
    data: Data,
    Path(slug): Path<String>,
    headers: HeaderMap,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    negotiate(
        &headers,
        Face::Page,
        render_venue(&data, lang, &slug, user.as_ref(), &csrf),
        venue_document(&data, &slug),
    )
    .await
}

async fn render_venue(
    data: &Data,
    lang: Lang,
    slug: &str,
    user: Option<&CurrentUser>,
    csrf: &CsrfToken,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (venue, actor, is_manager) = venues::visible(ctx, slug, user.map(|u| &u.account)).await?;
    let mut conn = ctx.conn().await?;
    let photos = db::venues::photos(&mut conn, venue.id)
        .await?
        .into_iter()
        .map(|p| PhotoView {
            id: p.id,
            url: photos::photo_path_url(&p.path),
            alt: p.alt,
        })
        .collect();
    let owner = db::accounts::by_id(&mut conn, venue.owner_account_id)
        .await?
        .username;
    let managers = db::venues::manager_usernames(&mut conn, venue.id).await?;
    drop(conn);
    let description = SafeHtml::from_trusted_storage(venue.description_html.clone());
    let path = venues::venue_path(&venue.slug);
    let head = HeadMeta::page(
        ctx,
        "profile",
        &venue.name,
        &plain_text(description.as_str()),
        &path,
    )
    .with_activity_json(&actor.ap_id);
    let latest = news::latest(
        ctx,
        lang,
        crate::db::posts::Listing::Actor(actor.id),
        VENUE_LATEST,
    )
    .await?;
    let website = if venue.website.starts_with("https://") || venue.website.starts_with("http://") {
        venue.website.as_str()
    } else {
        ""
    };
    render(&ShowPage {
        lang,
        csrf: csrf.value(),
        handle: format!("@{}@{}", venue.slug, ctx.config.domain()),
        commune: communes::by_code(&venue.commune_code)
            .map(|c| c.label())
            .unwrap_or_default(),
        description,
        spaces: SafeHtml::from_markdown(&venue.spaces_markdown),
        equipment: SafeHtml::from_markdown(&venue.equipment_markdown),
        conditions: SafeHtml::from_markdown(&venue.conditions_markdown),
        photos,
        is_owner: user.is_some_and(|u| u.account.id == venue.owner_account_id),
        owner,
        managers,
        is_manager,
        website,
        head,
        latest,
        venue: &venue,
    })
}
