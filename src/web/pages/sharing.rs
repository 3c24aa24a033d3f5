//! Sharing pages (`/mutualisation…`): the list of offers with its filters, an offer's page
//! with its "Demander un prêt" form, the forms to publish and edit an offer, and the history
//! of loan requests sent and received. The rules live in `service::sharing`, shared with
//! `/api/v1/offers`.

use crate::{
    context::AppContext,
    db::{self, accounts::DbAccount, loan_requests::DbLoanRequest, offers::DbOffer},
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    sanitize::SafeHtml,
    service::{
        communes::{self, Commune},
        sharing::{
            self, OfferCategory, OfferInput, Terms,
            loans::{self, LoanInput, LoanState},
            photos,
        },
    },
    urls::LOAN_REQUESTS_PATH,
    web::{
        api::offers::filter_of,
        auth::{CurrentUser, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/mutualisation", get(http_get_offers))
        .route(
            "/mutualisation/nouvelle",
            get(http_get_new_offer).post(http_post_new_offer),
        )
        .route(LOAN_REQUESTS_PATH, get(http_get_loan_requests))
        .route(
            "/mutualisation/demandes/{id}/{action}",
            post(http_post_loan_action),
        )
        .route("/mutualisation/photos/{file}", get(http_get_photo))
        .route("/mutualisation/{id}", get(http_get_offer))
        .route(
            "/mutualisation/{id}/modifier",
            get(http_get_edit_offer).post(http_post_edit_offer),
        )
        .route(
            "/mutualisation/{id}/etat/{action}",
            post(http_post_offer_state),
        )
        .route("/mutualisation/{id}/demander", post(http_post_loan_request))
        .route(
            "/mutualisation/{id}/photos",
            post(http_post_photo).layer(DefaultBodyLimit::max(PHOTO_BODY_LIMIT)),
        )
        .route(
            "/mutualisation/{id}/photos/{photo}/supprimer",
            post(http_post_remove_photo),
        )
}

/// Body limit of a photo upload: the largest image accepted, plus the alt text and framing.
const PHOTO_BODY_LIMIT: usize = crate::config::MAX_COVER_KB as usize * 1024 + 64 * 1024;

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn category_choices(lang: Lang, current: &str, any: bool) -> Vec<Choice> {
    let mut out = Vec::new();
    if any {
        out.push(Choice {
            value: "",
            label: lang.t("sharing.filter.all"),
            selected: current.is_empty(),
        });
    }
    out.extend(OfferCategory::ALL.iter().map(|c| Choice {
        value: c.as_str(),
        label: lang.t(c.label_key()),
        selected: current == c.as_str(),
    }));
    out
}

fn terms_choices(lang: Lang, current: &str, any: bool) -> Vec<Choice> {
    let mut out = Vec::new();
    if any {
        out.push(Choice {
            value: "",
            label: lang.t("sharing.filter.all"),
            selected: current.is_empty(),
        });
    }
    out.extend(Terms::ALL.iter().map(|t| Choice {
        value: t.as_str(),
        label: lang.t(t.label_key()),
        selected: current == t.as_str(),
    }));
    out
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn category_label(lang: Lang, code: &str) -> &'static str {
    OfferCategory::parse(code)
        .map(|c| lang.t(c.label_key()))
        .unwrap_or("")
}

fn terms_label(lang: Lang, code: &str) -> &'static str {
    Terms::parse(code)
        .map(|t| lang.t(t.label_key()))
        .unwrap_or("")
}

fn commune_name(code: &str) -> String {
    communes::by_code(code)
        .map(|c| c.name.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// One offer as the list shows it.
struct OfferRow {
    id: i64,
    title: String,
    category: &'static str,
    terms: &'static str,
    commune: String,
    public: bool,
    closed: bool,
    /// "12,4".
    distance: Option<String>,
}

fn row(lang: Lang, offer: &DbOffer, distance_km: Option<f64>) -> OfferRow {
    OfferRow {
        id: offer.id,
        title: offer.title.clone(),
        category: category_label(lang, &offer.category),
        terms: terms_label(lang, &offer.terms),
        commune: commune_name(&offer.commune_code),
        public: offer.public,
        closed: offer.closed_at.is_some(),
        distance: distance_km.map(|d| {
            let s = format!("{d:.1}");
            if lang == Lang::Fr {
                s.replace('.', ",")
            } else {
                s
            }
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    category: String,
    terms: String,
    commune: String,
    near: String,
    from: String,
    to: String,
    closed: String,
    page: String,
}

impl ListQuery {
    fn link(&self, page: usize) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "/mutualisation?category={}&terms={}&commune={}&near={}&from={}&to={}&closed={}&page={page}",
            enc(&self.category),
            enc(&self.terms),
            enc(&self.commune),
            enc(&self.near),
            enc(&self.from),
            enc(&self.to),
            enc(&self.closed),
        )
    }
}

#[derive(Template)]
#[template(path = "sharing/list.html")]
struct ListPage<'a> {
    lang: Lang,
    logged_in: bool,
    query: &'a ListQuery,
    categories: Vec<Choice>,
    terms: Vec<Choice>,
    communes: Vec<&'static Commune>,
    errors: FormState,
    total: usize,
    offers: Vec<OfferRow>,
    prev: Option<String>,
    next: Option<String>,
}

async fn http_get_offers(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let include_closed = matches!(query.closed.as_str(), "on" | "true" | "1");
    let filter = filter_of(
        ctx,
        Some(&query.category),
        Some(&query.terms),
        Some(&query.commune),
        Some(&query.near),
        (Some(&query.from), Some(&query.to)),
        include_closed,
        Some(&query.page),
    );
    let (errors, status, total, offers, page) = match filter {
        Ok(filter) => {
            let found = sharing::list(ctx, viewer, &filter).await?;
            let offers = found
                .items
                .iter()
                .map(|l| row(lang, &l.offer, l.distance_km))
                .collect();
            (
                FormState::new(lang),
                StatusCode::OK,
                found.total,
                offers,
                filter.page,
            )
        }
        Err(e) if e.kind == ErrorKind::Validation => (
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            Vec::new(),
            1,
        ),
        Err(e) => return Err(e),
    };
    let pages = total.div_ceil(sharing::PAGE_SIZE).max(1);
    render_status(
        status,
        &ListPage {
            lang,
            logged_in: viewer.is_some(),
            categories: category_choices(lang, &query.category, true),
            terms: terms_choices(lang, &query.terms, true),
            communes: communes::in_departement(&ctx.config.instance.departement),
            errors,
            total,
            offers,
            prev: (page > 1).then(|| query.link(page - 1)),
            next: (page < pages).then(|| query.link(page + 1)),
            query: &query,
        },
    )
}

/// The fields of the offer form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OfferForm {
    title: String,
    description: String,
    category: String,
    terms: String,
    terms_details: String,
    commune: String,
    latitude: String,
    longitude: String,
    venue_id: String,
    /// A checkbox: present when ticked.
    public: Option<String>,
}

impl OfferForm {
    fn input(&self) -> OfferInput {
        OfferInput {
            title: self.title.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            terms: self.terms.clone(),
            terms_details: self.terms_details.clone(),
            commune: self.commune.clone(),
            latitude: self.latitude.clone(),
            longitude: self.longitude.clone(),
            venue_id: self.venue_id.clone(),
            public: self.public.is_some(),
        }
    }

    /// The stored offer in its form: the commune by its name when the name alone finds it,
    /// else by its INSEE code.
    fn of(ctx: &AppContext, input: OfferInput) -> OfferForm {
        let departement = &ctx.config.instance.departement;
        let commune = communes::by_code(&input.commune)
            .filter(|c| {
                communes::parse_field(c.name, departement)
                    .ok()
                    .flatten()
                    .is_some_and(|found| found.code == c.code)
            })
            .map(|c| c.name.to_string())
            .unwrap_or(input.commune);
        OfferForm {
            commune,
            title: input.title,
            description: input.description,
            category: input.category,
            terms: input.terms,
            terms_details: input.terms_details,
            latitude: input.latitude,
            longitude: input.longitude,
            venue_id: input.venue_id,
            public: input.public.then(|| "on".to_string()),
        }
    }
}

struct VenueChoice {
    id: String,
    name: String,
}

struct PhotoView {
    id: i64,
    url: String,
    alt: String,
}

#[derive(Template)]
#[template(path = "sharing/form.html")]
struct FormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// `None`: a new offer.
    offer_id: Option<i64>,
    form: &'a OfferForm,
    categories: Vec<Choice>,
    terms: Vec<Choice>,
    venues: Vec<VenueChoice>,
    communes: Vec<&'static Commune>,
    photos: Vec<PhotoView>,
    errors: FormState,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    offer_id: Option<i64>,
    form: &OfferForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let venues = sharing::managed_venues(&mut conn, user.account.id)
        .await?
        .into_iter()
        .map(|(id, name)| VenueChoice {
            id: id.to_string(),
            name,
        })
        .collect();
    let photos = match offer_id {
        Some(id) => photo_views(ctx, &mut conn, id).await?,
        None => Vec::new(),
    };
    render_status(
        status,
        &FormPage {
            lang,
            csrf: csrf.value(),
            offer_id,
            form,
            categories: category_choices(lang, &form.category, false),
            terms: terms_choices(lang, &form.terms, false),
            venues,
            communes: communes::in_departement(&ctx.config.instance.departement),
            photos,
            errors,
        },
    )
}

async fn photo_views(
    _ctx: &AppContext,
    conn: &mut db::Conn,
    offer_id: i64,
) -> AppResult<Vec<PhotoView>> {
    Ok(db::offers::photos_of(conn, offer_id)
        .await?
        .into_iter()
        .map(|p| PhotoView {
            id: p.id,
            url: format!("/mutualisation/photos/{}", p.path),
            alt: p.alt,
        })
        .collect())
}

async fn http_get_new_offer(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let form = OfferForm {
        terms: Terms::Free.as_str().to_string(),
        public: Some("on".into()),
        ..Default::default()
    };
    form_page(
        data.app_data(),
        lang,
        &user,
        &csrf,
        None,
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_new_offer(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<OfferForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match sharing::create(ctx, &user.account, form.input()).await {
        Ok(offer) => Ok(redirect_with_flash(
            ctx,
            &sharing::page_path(offer.id),
            "flash.offer_saved",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            form_page(
                ctx,
                lang,
                &user,
                &csrf,
                None,
                &form,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The member's own offer (for its edit page), else 403/404 as the service says.
async fn own_offer(ctx: &AppContext, account: &DbAccount, id: i64) -> AppResult<DbOffer> {
    let offer = sharing::visible(ctx, Some(account), id).await?;
    if offer.account_id != account.id {
        return Err(
            AppError::forbidden("this is someone else's offer").with_message("sharing.not_yours")
        );
    }
    Ok(offer)
}

async fn http_get_edit_offer(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let offer = own_offer(ctx, &user.account, parse_id(&id)?).await?;
    let form = OfferForm::of(ctx, OfferInput::of(&offer));
    form_page(
        ctx,
        lang,
        &user,
        &csrf,
        Some(offer.id),
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_edit_offer(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<OfferForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    match sharing::edit(ctx, &user.account, id, form.input()).await {
        Ok(offer) => Ok(redirect_with_flash(
            ctx,
            &sharing::page_path(offer.id),
            "flash.offer_saved",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            form_page(
                ctx,
                lang,
                &user,
                &csrf,
                Some(id),
                &form,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

/// Close, reopen or delete the member's offer.
async fn http_post_offer_state(
    data: Data,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    match action.as_str() {
        "clore" => {
            sharing::set_closed(ctx, &user.account, id, true).await?;
            Ok(redirect_with_flash(
                ctx,
                &sharing::page_path(id),
                "flash.offer_closed",
            ))
        }
        "rouvrir" => {
            sharing::set_closed(ctx, &user.account, id, false).await?;
            Ok(redirect_with_flash(
                ctx,
                &sharing::page_path(id),
                "flash.offer_reopened",
            ))
        }
        "supprimer" => {
            sharing::delete(ctx, &user.account, id).await?;
            Ok(redirect_with_flash(
                ctx,
                "/mutualisation",
                "flash.offer_deleted",
            ))
        }
        _ => Err(AppError::not_found()),
    }
}

struct Range {
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoanForm {
    starts_on: String,
    ends_on: String,
    message: String,
}

#[derive(Template)]
#[template(path = "sharing/show.html")]
struct ShowPage<'a> {
    lang: Lang,
    csrf: &'a str,
    logged_in: bool,
    is_own: bool,
    offer: OfferRow,
    description: SafeHtml,
    terms_details: String,
    owner_name: String,
    owner_url: String,
    venue: Option<String>,
    hidden: bool,
    page_url: String,
    post_url: Option<String>,
    photos: Vec<PhotoView>,
    taken: Vec<Range>,
    loan: &'a LoanForm,
    errors: FormState,
    min_date: String,
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    ctx: &AppContext,
    lang: Lang,
    viewer: Option<&CurrentUser>,
    csrf: &CsrfToken,
    id: i64,
    loan: &LoanForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let offer = sharing::visible(ctx, viewer.map(|u| &u.account), id).await?;
    let mut conn = ctx.conn().await?;
    let owner = db::accounts::by_id(&mut conn, offer.account_id).await?;
    let venue = match offer.venue_id {
        Some(vid) => {
            use crate::db::schema::venues;
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            venues::table
                .find(vid)
                .filter(venues::deleted_at.is_null())
                .select(venues::name)
                .first::<String>(&mut conn)
                .await
                .optional()?
        }
        None => None,
    };
    let photos = photo_views(ctx, &mut conn, offer.id).await?;
    drop(conn);
    let taken = loans::taken(ctx, offer.id)
        .await?
        .into_iter()
        .map(|(starts_on, ends_on)| Range { starts_on, ends_on })
        .collect();
    let owner_name = if owner.display_name.trim().is_empty() {
        owner.username.clone()
    } else {
        owner.display_name.clone()
    };
    render_status(
        status,
        &ShowPage {
            lang,
            csrf: csrf.value(),
            logged_in: viewer.is_some(),
            is_own: viewer.is_some_and(|v| v.account.id == offer.account_id),
            offer: row(lang, &offer, None),
            description: SafeHtml::clean(&offer.description_html),
            terms_details: offer.terms_details.clone(),
            owner_url: format!("/users/{}", owner.username),
            owner_name,
            venue,
            hidden: offer.hidden_at.is_some(),
            page_url: ctx.urls.absolute(&sharing::page_path(offer.id)),
            post_url: offer.post_id.map(|p| format!("/annonces/{p}")),
            photos,
            taken,
            loan,
            errors,
            min_date: crate::service::publishing::today().to_string(),
        },
    )
}

async fn http_get_offer(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    show_page(
        data.app_data(),
        lang,
        user.as_ref(),
        &csrf,
        parse_id(&id)?,
        &LoanForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// "Demander un prêt": sends the request and goes to the history; a refused one shows the
/// offer again with the fields at fault (dates in the past, dates taken…).
async fn http_post_loan_request(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LoanForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let input = LoanInput {
        starts_on: form.starts_on.clone(),
        ends_on: form.ends_on.clone(),
        message: form.message.clone(),
    };
    match loans::request(ctx, &user.account, id, input).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            LOAN_REQUESTS_PATH,
            "flash.loan_requested",
        )),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Conflict) => {
            let status = e.status();
            show_page(
                ctx,
                lang,
                Some(&user),
                &csrf,
                id,
                &form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// One request as the history shows it.
struct LoanRow {
    id: i64,
    offer_id: i64,
    offer_title: String,
    other_name: String,
    other_url: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    message: String,
    answer: String,
    state: &'static str,
    state_code: String,
    can_answer: bool,
    can_cancel: bool,
}

fn loan_row(lang: Lang, view: loans::LoanView, sent: bool) -> LoanRow {
    let DbLoanRequest {
        id,
        starts_on,
        ends_on,
        message,
        state,
        answer,
        ..
    } = view.loan.clone();
    let pending = state == LoanState::Pending.as_str();
    LoanRow {
        id,
        offer_id: view.offer.id,
        offer_title: view.offer.title.clone(),
        other_name: if view.other.display_name.trim().is_empty() {
            view.other.username.clone()
        } else {
            view.other.display_name.clone()
        },
        other_url: format!("/users/{}", view.other.username),
        starts_on,
        ends_on,
        message,
        answer,
        state: LoanState::parse(&state)
            .map(|s| lang.t(s.label_key()))
            .unwrap_or(""),
        can_answer: !sent && pending,
        can_cancel: sent && loans::cancellable(&view.loan),
        state_code: state,
    }
}

#[derive(Template)]
#[template(path = "sharing/requests.html")]
struct RequestsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    sent: Vec<LoanRow>,
    received: Vec<LoanRow>,
}

async fn http_get_loan_requests(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let (sent, received) = loans::history(data.app_data(), &user.account).await?;
    render_status(
        StatusCode::OK,
        &RequestsPage {
            lang,
            csrf: csrf.value(),
            sent: sent.into_iter().map(|v| loan_row(lang, v, true)).collect(),
            received: received
                .into_iter()
                .map(|v| loan_row(lang, v, false))
                .collect(),
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    answer: String,
}

/// Accept, decline (the owner) or cancel (the requester) a request.
async fn http_post_loan_action(
    data: Data,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    match action.as_str() {
        "accepter" => loans::decide(ctx, &user.account, id, true, &form.answer).await?,
        "refuser" => loans::decide(ctx, &user.account, id, false, &form.answer).await?,
        "annuler" => loans::cancel(ctx, &user.account, id).await?,
        _ => return Err(AppError::not_found()),
    };
    Ok(redirect_with_flash(
        ctx,
        LOAN_REQUESTS_PATH,
        "flash.loan_answered",
    ))
}

async fn http_get_photo(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(file): Path<String>,
) -> AppResult<Response> {
    if !photos::is_photo_file_name(&file) {
        return Err(AppError::not_found());
    }
    // Only photos of offers the visitor may see are served.
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let offer: Option<DbOffer> = {
        use crate::db::schema::{offers, photos as photo_rows};
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        photo_rows::table
            .inner_join(offers::table)
            .filter(photo_rows::path.eq(&file))
            .select(DbOffer::as_select())
            .first(&mut conn)
            .await
            .optional()?
    };
    if !offer.is_some_and(|o| sharing::can_see(user.as_ref().map(|u| &u.account), &o)) {
        return Err(AppError::not_found());
    }
    crate::web::pages::media::serve_image(photos::photo_dir(ctx), &file).await
}

/// Adds a photo (multipart: `csrf_token`, `photo`, `photo_alt`) to the member's offer.
async fn http_post_photo(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let mut token = String::new();
    let mut bytes = Vec::new();
    let mut alt = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(e.body_text()))?
    {
        match field.name().unwrap_or("") {
            "csrf_token" => {
                token = field
                    .text()
                    .await
                    .map_err(|e| AppError::bad_request(e.body_text()))?
            }
            "photo" => {
                bytes = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::bad_request(e.body_text()))?
                    .to_vec()
            }
            "photo_alt" => {
                alt = field
                    .text()
                    .await
                    .map_err(|e| AppError::bad_request(e.body_text()))?
            }
            _ => {}
        }
    }
    csrf.verify(Some(&token))?;
    match photos::add(ctx, &user.account, id, &bytes, &alt).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            &format!("/mutualisation/{id}/modifier"),
            "flash.offer_saved",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            let offer = own_offer(ctx, &user.account, id).await?;
            let form = OfferForm::of(ctx, OfferInput::of(&offer));
            form_page(
                ctx,
                lang,
                &user,
                &csrf,
                Some(id),
                &form,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_remove_photo(
    data: Data,
    user: CurrentUser,
    Path((id, photo)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    photos::remove(ctx, &user.account, id, parse_id(&photo)?).await?;
    Ok(redirect_with_flash(
        ctx,
        &format!("/mutualisation/{id}/modifier"),
        "flash.offer_saved",
    ))
}
