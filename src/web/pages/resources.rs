//! Pages of the resources library (`/ressources…`): the list with its filters and feeds, the
//! form to propose one (with its file), a resource's page (content-negotiated: the `Article`
//! for ActivityPub clients) with its versions and the actions its author or staff may take,
//! the edit form, and the downloads. The rules live in `service::resources`, shared with
//! `/api/v1/resources`.

use crate::web::pages::sharing::Choice;
use crate::{
    context::AppContext,
    db::{actors::DbActor, resources::DbResource},
    error::{AppError, AppResult, ErrorKind},
    federation::{
        Data,
        collections::activity_json_response,
        negotiation::{Face, negotiate},
        outbox::resource_document,
    },
    i18n::Lang,
    service::resources::{self, ListFilter, ResourceInput, Theme, download_path, page_path},
    web::{
        api::resources::{ResourceParts, download_response, read_parts, read_parts_into},
        auth::{CurrentUser, MaybeUser},
        csrf::{self, CsrfForm, CsrfToken},
        pages::{
            PageLang,
            feeds::{HeadMeta, feed_links},
            forms::FormState,
            layout::redirect_with_flash,
            render_status,
            workspace_documents::size,
            workspace_meetings::when,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, Query},
    http::{HeaderMap, StatusCode},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;

pub fn routes() -> Router {
    Router::new()
        .route("/ressources", get(http_get_resources))
        .route(
            "/ressources/nouvelle",
            // The file's own limit (`storage.max_upload_mb`) is enforced while reading.
            get(http_get_new)
                .post(http_post_new)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/ressources/{id}", get(http_get_resource))
        .route(
            "/ressources/{id}/modifier",
            get(http_get_edit).post(http_post_edit),
        )
        .route(
            "/ressources/{id}/versions",
            post(http_post_version).layer(DefaultBodyLimit::disable()),
        )
        .route("/ressources/{id}/versions/{n}", get(http_get_download))
        .route("/ressources/{id}/supprimer", post(http_post_delete))
        .route("/ressources/{id}/selection", post(http_post_curate))
}

fn parse_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

fn theme_choices(lang: Lang, current: &str, any: bool) -> Vec<Choice> {
    let mut out = Vec::new();
    if any {
        out.push(Choice {
            value: "",
            label: lang.t("resources.filter.any_theme"),
            selected: current.is_empty(),
        });
    }
    out.extend(Theme::ALL.iter().map(|t| Choice {
        value: t.as_str(),
        label: lang.t(t.label_key()),
        selected: current == t.as_str() || (!any && current.is_empty() && *t == Theme::Autre),
    }));
    out
}

fn file_hint(ctx: &AppContext, lang: Lang) -> String {
    format!(
        "{} {} {}",
        lang.t("resources.field.file_hint"),
        ctx.config.storage.max_upload_mb,
        lang.t("resources.field.mb")
    )
}

fn theme_label(lang: Lang, code: &str) -> &'static str {
    Theme::parse(code)
        .map(|t| lang.t(t.label_key()))
        .unwrap_or("")
}

fn author_name(actor: &DbActor) -> String {
    if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    }
}

/// One resource as the list shows it.
struct ResourceRow {
    url: String,
    title: String,
    theme: &'static str,
    disciplines: String,
    author: String,
    date: String,
    iso: String,
    members_only: bool,
    curated: bool,
}

fn row(lang: Lang, r: &DbResource, author: &DbActor) -> ResourceRow {
    ResourceRow {
        url: page_path(r.id),
        title: r.title.clone(),
        theme: theme_label(lang, &r.theme),
        disciplines: r.disciplines.join(", "),
        author: author_name(author),
        date: when(lang, r.created_at),
        iso: r.created_at.to_rfc3339(),
        members_only: r.members_only,
        curated: r.curated,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListParams {
    q: String,
    theme: String,
    discipline: String,
    page: String,
}

impl ListParams {
    fn link(&self, page: i64) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "/ressources?q={}&theme={}&discipline={}&page={page}",
            enc(&self.q),
            enc(&self.theme),
            enc(&self.discipline),
        )
    }
}

#[derive(Template)]
#[template(path = "resources/list.html")]
struct ListPage<'a> {
    lang: Lang,
    head: HeadMeta,
    logged_in: bool,
    query: &'a ListParams,
    themes: Vec<Choice>,
    errors: FormState,
    total: i64,
    resources: Vec<ResourceRow>,
    prev: Option<String>,
    next: Option<String>,
}

async fn http_get_resources(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Query(query): Query<ListParams>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let viewer = user.as_ref().map(|u| &u.account);
    let filter = ListFilter {
        discipline: query.discipline.clone(),
        theme: query.theme.clone(),
        q: query.q.clone(),
        page: query.page.clone(),
    };
    let (errors, status, total, rows, page) = match resources::list(ctx, viewer, &filter).await {
        Ok(found) => (
            FormState::new(lang),
            StatusCode::OK,
            found.total,
            found.items.iter().map(|(r, a)| row(lang, r, a)).collect(),
            found.page,
        ),
        Err(e) if e.kind == ErrorKind::Validation => (
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            Vec::new(),
            1,
        ),
        Err(e) => return Err(e),
    };
    let pages = ((total + resources::PAGE_SIZE - 1) / resources::PAGE_SIZE).max(1);
    let title = lang.t("resources.title");
    let head = HeadMeta::page(
        ctx,
        "website",
        title,
        lang.t("resources.intro"),
        "/ressources",
    )
    .with_feeds(feed_links(title, "/ressources", ""));
    render_status(
        status,
        &ListPage {
            lang,
            head,
            logged_in: viewer.is_some(),
            themes: theme_choices(lang, &query.theme, true),
            errors,
            total,
            resources: rows,
            prev: (page > 1).then(|| query.link(page - 1)),
            next: (page < pages).then(|| query.link(page + 1)),
            query: &query,
        },
    )
}

/// The fields of the resource form, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResourceForm {
    title: String,
    body: String,
    link_url: String,
    disciplines: String,
    theme: String,
    /// A checkbox: present when ticked.
    members_only: Option<String>,
}

impl ResourceForm {
    fn of(input: &ResourceInput) -> ResourceForm {
        ResourceForm {
            title: input.title.clone(),
            body: input.body.clone(),
            link_url: input.link_url.clone(),
            disciplines: input.disciplines.join(", "),
            theme: input.theme.clone(),
            members_only: input.members_only.then(|| "on".to_string()),
        }
    }

    fn input(&self) -> ResourceInput {
        ResourceInput {
            title: self.title.clone(),
            body: self.body.clone(),
            link_url: self.link_url.clone(),
            disciplines: vec![self.disciplines.clone()],
            theme: self.theme.clone(),
            members_only: self.members_only.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "resources/form.html")]
struct FormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    /// `None`: a new resource (with the file field).
    resource_id: Option<i64>,
    form: &'a ResourceForm,
    themes: Vec<Choice>,
    /// The accepted files and the size limit.
    file_hint: String,
    errors: FormState,
}

async fn form_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    resource_id: Option<i64>,
    form: &ResourceForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    render_status(
        status,
        &FormPage {
            lang,
            csrf: csrf.value(),
            resource_id,
            form,
            themes: theme_choices(lang, &form.theme, false),
            file_hint: file_hint(ctx, lang),
            errors,
        },
    )
}

async fn http_get_new(
    data: Data,
    PageLang(lang): PageLang,
    _user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        data.app_data(),
        lang,
        &csrf,
        None,
        &ResourceForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

/// Whether an error is shown on the form (fields at fault, a file too large) rather than
/// as an error page.
fn shown_on_form(e: &AppError) -> bool {
    !e.fields.is_empty()
}

async fn http_post_new(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let multipart = multipart.map_err(|_| csrf::rejected())?;
    // What was typed comes back with a refusal, a file over the limit included.
    let mut parts = ResourceParts::default();
    let (form, result) = match read_parts_into(ctx, multipart, Some(&csrf), &mut parts).await {
        Ok(()) => (
            ResourceForm::of(&parts.input),
            resources::create(ctx, &user.account, parts.input, parts.file).await,
        ),
        Err(e) => (ResourceForm::of(&parts.input), Err(e)),
    };
    match result {
        Ok(resource) => Ok(redirect_with_flash(
            ctx,
            &page_path(resource.id),
            "flash.resources.created",
        )),
        Err(e) if shown_on_form(&e) => {
            let status = e.status();
            form_page(
                ctx,
                lang,
                &csrf,
                None,
                &form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

struct VersionRow {
    version: i32,
    file_name: String,
    size: String,
    content_type: String,
    date: String,
    iso: String,
    download_url: String,
}

#[derive(Template)]
#[template(path = "resources/show.html")]
struct ShowPage {
    lang: Lang,
    head: HeadMeta,
    csrf: String,
    id: i64,
    title: String,
    body_html: String,
    link_url: Option<String>,
    theme: &'static str,
    disciplines: String,
    members_only: bool,
    curated: bool,
    hidden: bool,
    author_name: String,
    author_url: String,
    date: String,
    iso: String,
    versions: Vec<VersionRow>,
    can_change: bool,
    can_curate: bool,
    /// The accepted files and the size limit.
    file_hint: String,
    page_url: String,
    errors: FormState,
}

/// `/ressources/{id}`: the page for browsers, the `Article` for ActivityPub clients. The
/// document is always answered as to a visitor: a members-only resource is never a document.
async fn http_get_resource(
    data: Data,
    Path(id): Path<String>,
    headers: HeaderMap,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let ctx = data.app_data();
    negotiate(
        &headers,
        Face::Page,
        show_page(
            ctx,
            lang,
            user.as_ref(),
            &csrf,
            id,
            FormState::new(lang),
            StatusCode::OK,
        ),
        document(ctx, id),
    )
    .await
}

async fn document(ctx: &AppContext, id: i64) -> AppResult<Response> {
    let view = resources::show(ctx, None, id).await?;
    let json = resource_document(ctx, &view.resource, &view.author, view.versions.first()).await?;
    Ok(activity_json_response(json))
}

async fn show_page(
    ctx: &AppContext,
    lang: Lang,
    user: Option<&CurrentUser>,
    csrf: &CsrfToken,
    id: i64,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let view = resources::show(ctx, user.map(|u| &u.account), id).await?;
    let r = &view.resource;
    let path = page_path(r.id);
    let mut head = HeadMeta::page(
        ctx,
        "article",
        &r.title,
        &crate::sanitize::plain_text(&r.body_html),
        &path,
    );
    if r.is_public() {
        head = head.with_activity_json(&r.ap_id);
    }
    let page = ShowPage {
        lang,
        head,
        csrf: csrf.value().to_string(),
        id: r.id,
        title: r.title.clone(),
        body_html: r.body_html.clone(),
        link_url: r.link_url.clone(),
        theme: theme_label(lang, &r.theme),
        disciplines: r.disciplines.join(", "),
        members_only: r.members_only,
        curated: r.curated,
        hidden: r.hidden_at.is_some(),
        author_name: author_name(&view.author),
        author_url: view.author.url.clone().unwrap_or(view.author.ap_id.clone()),
        date: when(lang, r.created_at),
        iso: r.created_at.to_rfc3339(),
        versions: view
            .versions
            .iter()
            .map(|v| VersionRow {
                version: v.version,
                file_name: v.file_name.clone(),
                size: size(lang, v.size_bytes),
                content_type: v.content_type.clone(),
                date: when(lang, v.created_at),
                iso: v.created_at.to_rfc3339(),
                download_url: download_path(r.id, v.version),
            })
            .collect(),
        can_change: view.can_change,
        can_curate: view.can_curate,
        file_hint: file_hint(ctx, lang),
        page_url: r.ap_id.clone(),
        errors,
    };
    render_status(status, &page)
}

async fn http_get_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let view = resources::show(ctx, Some(&user.account), parse_id(&id)?).await?;
    if !view.can_change {
        return Err(
            AppError::forbidden("only its author or staff may change this resource")
                .with_message("resources.not_yours"),
        );
    }
    let form = ResourceForm::of(&ResourceInput::of(&view.resource));
    form_page(
        ctx,
        lang,
        &csrf,
        Some(view.resource.id),
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_edit(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ResourceForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    match resources::edit(ctx, &user.account, id, form.input()).await {
        Ok(resource) => Ok(redirect_with_flash(
            ctx,
            &page_path(resource.id),
            "flash.resources.saved",
        )),
        Err(e) if shown_on_form(&e) => {
            let status = e.status();
            form_page(
                ctx,
                lang,
                &csrf,
                Some(id),
                &form,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_version(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let multipart = multipart.map_err(|_| csrf::rejected())?;
    let result = match read_parts(ctx, multipart, Some(&csrf)).await {
        Ok(parts) => match parts.file {
            Some(file) => resources::add_version(ctx, &user.account, id, file)
                .await
                .map(|_| ()),
            None => Err(AppError::field("file", "field.required")),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(redirect_with_flash(
            ctx,
            &page_path(id),
            "flash.resources.version_added",
        )),
        Err(e) if shown_on_form(&e) => {
            let status = e.status();
            show_page(
                ctx,
                lang,
                Some(&user),
                &csrf,
                id,
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_get_download(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path((id, n)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let n: i32 = n.parse().map_err(|_| AppError::not_found())?;
    let got = resources::download(
        ctx,
        user.as_ref().map(|u| &u.account),
        parse_id(&id)?,
        Some(n),
    )
    .await?;
    download_response(ctx, got).await
}

async fn http_post_delete(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    resources::delete(ctx, &user.account, parse_id(&id)?).await?;
    Ok(redirect_with_flash(
        ctx,
        "/ressources",
        "flash.resources.deleted",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CurateForm {
    curated: String,
}

async fn http_post_curate(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CurateForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let curated = form.curated == "1";
    let resource = resources::set_curated(ctx, &user.account, parse_id(&id)?, curated).await?;
    Ok(redirect_with_flash(
        ctx,
        &page_path(resource.id),
        if curated {
            "flash.resources.curated"
        } else {
            "flash.resources.uncurated"
        },
    ))
}
