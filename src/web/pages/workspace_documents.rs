//! Document pages of a workspace (`/espaces/{id}/documents…`): a folder's documents with the
//! upload and new-folder forms (`?dossier=` to move between folders), a document's page with
//! its versions, the preview of raster images and the delete form, and the downloads. The
//! rules live in `service::workspaces::documents`, shared with the API and the inbox.

use crate::{
    context::AppContext,
    db::actors::DbActor,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::workspaces::{
        Access,
        documents::{self, Upload},
    },
    web::{
        api::workspace_documents::download_response,
        auth::{CurrentUser, MaybeUser},
        csrf::{self, CsrfForm, CsrfToken},
        pages::{
            PageLang, forms::FormState, layout::redirect_with_flash, render, render_status,
            workspace_meetings::when, workspace_nav::WorkspaceNav,
        },
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
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/espaces/{id}/documents",
            // The file's own limit (`storage.max_upload_mb`) is enforced while reading.
            get(http_get_documents)
                .post(http_post_upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/espaces/{id}/documents/dossiers", post(http_post_folder))
        .route(
            "/espaces/{id}/documents/dossiers/{folder}/renommer",
            post(http_post_rename_folder),
        )
        .route(
            "/espaces/{id}/documents/dossiers/{folder}/supprimer",
            post(http_post_delete_folder),
        )
        .route("/espaces/{id}/documents/{doc}", get(http_get_document))
        .route(
            "/espaces/{id}/documents/{doc}/versions/{n}",
            get(http_get_download),
        )
        .route(
            "/espaces/{id}/documents/{doc}/versions/{n}/apercu",
            get(http_get_preview),
        )
        .route(
            "/espaces/{id}/documents/{doc}/supprimer",
            post(http_post_delete),
        )
}

fn parse_uuid(s: &str) -> AppResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| AppError::not_found())
}

fn actor_name(actor: &DbActor) -> String {
    let name = if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    };
    if actor.local {
        name
    } else {
        format!("{name} ({}@{})", actor.username, actor.domain)
    }
}

/// "12,3 Ko", "4,5 Mo" (also the sizes of the resources library).
pub(crate) fn size(lang: Lang, bytes: i64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    let (value, unit) = if b < 1024.0 {
        return format!("{bytes} {}", if lang == Lang::Fr { "o" } else { "B" });
    } else if b < 1024.0 * 1024.0 {
        (b / 1024.0, if lang == Lang::Fr { "Ko" } else { "KB" })
    } else {
        (
            b / 1024.0 / 1024.0,
            if lang == Lang::Fr { "Mo" } else { "MB" },
        )
    };
    let text = format!("{value:.1} {unit}");
    if lang == Lang::Fr {
        text.replace('.', ",")
    } else {
        text
    }
}

fn base(workspace_id: Uuid) -> String {
    format!("/espaces/{workspace_id}/documents")
}

struct Crumb {
    url: String,
    name: String,
}

struct DocumentRow {
    url: String,
    name: String,
    version: i32,
    size: String,
    uploader: String,
    date: String,
    iso: String,
}

struct FolderChoice {
    id: String,
    path: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "workspaces/documents.html")]
struct ListPage {
    lang: Lang,
    wsnav: WorkspaceNav,
    csrf: String,
    action: String,
    folder_action: String,
    current: Option<String>,
    current_id: String,
    breadcrumb: Vec<Crumb>,
    subfolders: Vec<Crumb>,
    documents: Vec<DocumentRow>,
    folders: Vec<FolderChoice>,
    max_mb: u64,
    folder_name: String,
    /// The current folder's rename form: its action, and the name shown in it.
    rename_action: String,
    rename_value: String,
    delete_folder_action: String,
    errors: FormState,
}

/// What the visitor typed in the page's forms, shown back with their errors.
#[derive(Default)]
struct Typed {
    new_folder: String,
    /// The rename form's name, when that form was sent.
    rename: Option<String>,
}

async fn nav(ctx: &AppContext, access: &Access) -> AppResult<WorkspaceNav> {
    let mut conn = ctx.conn().await?;
    WorkspaceNav::load(&mut conn, access, "documents").await
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    workspace_id: Uuid,
    folder_id: Option<Uuid>,
    typed: Typed,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let view = documents::folder_view(ctx, &user.account, workspace_id, folder_id).await?;
    let root = base(workspace_id);
    let link = |id: Uuid| format!("{root}?dossier={id}");
    let mut breadcrumb = vec![Crumb {
        url: root.clone(),
        name: lang.t("workspace_documents.root").to_string(),
    }];
    // The parents, then the folder itself (the last crumb is the current page).
    breadcrumb.extend(view.breadcrumb.iter().chain(&view.folder).map(|f| Crumb {
        url: link(f.id),
        name: f.name.clone(),
    }));
    let page = ListPage {
        lang,
        wsnav: nav(ctx, &view.access).await?,
        csrf: csrf.value().to_string(),
        action: match folder_id {
            Some(id) => link(id),
            None => root.clone(),
        },
        folder_action: format!("{root}/dossiers"),
        current: view.folder.as_ref().map(|f| f.name.clone()),
        current_id: view
            .folder
            .as_ref()
            .map(|f| f.id.to_string())
            .unwrap_or_default(),
        breadcrumb,
        subfolders: view
            .subfolders
            .iter()
            .map(|f| Crumb {
                url: link(f.id),
                name: f.name.clone(),
            })
            .collect(),
        documents: view
            .documents
            .iter()
            .map(|l| DocumentRow {
                url: format!("{root}/{}", l.document.id),
                name: l.document.name.clone(),
                version: l.latest.version,
                size: size(lang, l.latest.size_bytes),
                uploader: l.uploader.as_ref().map(actor_name).unwrap_or_default(),
                date: when(lang, l.latest.created_at),
                iso: l.latest.created_at.to_rfc3339(),
            })
            .collect(),
        folders: view
            .all_folders
            .iter()
            .map(|(f, path)| FolderChoice {
                id: f.id.to_string(),
                path: path.clone(),
                selected: Some(f.id) == folder_id,
            })
            .collect(),
        max_mb: ctx.config.storage.max_upload_mb,
        folder_name: typed.new_folder,
        rename_value: typed
            .rename
            .or_else(|| view.folder.as_ref().map(|f| f.name.clone()))
            .unwrap_or_default(),
        rename_action: folder_id
            .map(|f| format!("{root}/dossiers/{f}/renommer"))
            .unwrap_or_default(),
        delete_folder_action: folder_id
            .map(|f| format!("{root}/dossiers/{f}/supprimer"))
            .unwrap_or_default(),
        errors,
    };
    render_status(status, &page)
}

#[derive(Debug, Deserialize)]
struct FolderQuery {
    dossier: Option<String>,
}

fn folder_of(query: &FolderQuery) -> AppResult<Option<Uuid>> {
    match query.dossier.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_uuid(s).map(Some),
    }
}

async fn http_get_documents(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(query): Query<FolderQuery>,
) -> AppResult<Response> {
    // A visitor gets the same 404 as an outsider.
    let user = user.ok_or_else(AppError::not_found)?;
    let ctx = data.app_data();
    list_page(
        ctx,
        lang,
        &user,
        &csrf,
        parse_uuid(&id)?,
        folder_of(&query)?,
        Typed::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::bad_request(format!("multipart: {e}"))
}

/// Reads the upload form: CSRF token, `folder`, `file` (stopping past the file limit).
async fn read_form(
    ctx: &AppContext,
    csrf_token: &CsrfToken,
    mut multipart: Multipart,
) -> AppResult<Upload> {
    let max = ctx.config.max_upload_bytes();
    let (mut submitted, mut file, mut file_name, mut folder) = (None, None, String::new(), None);
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            csrf::FIELD => submitted = Some(field.text().await.map_err(multipart_error)?),
            "folder" => {
                let text = field.text().await.map_err(multipart_error)?;
                let text = text.trim();
                if !text.is_empty() {
                    folder = Some(Uuid::parse_str(text).map_err(|_| {
                        AppError::field("folder", "workspace_documents.folder.unknown")
                    })?);
                }
            }
            "file" => {
                // Nothing is read before the token is checked.
                csrf_token.verify(submitted.as_deref())?;
                file_name = field.file_name().unwrap_or_default().to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if bytes.len() + chunk.len() > max {
                        return Err(documents::too_large(ctx));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            _ => {}
        }
    }
    csrf_token.verify(submitted.as_deref())?;
    let Some(file) = file.filter(|f| !f.is_empty() || !file_name.is_empty()) else {
        return Err(AppError::field("file", "field.required"));
    };
    Ok(Upload {
        file_name,
        folder_id: folder,
        bytes: file.into(),
    })
}

async fn http_post_upload(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(query): Query<FolderQuery>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_uuid(&id)?;
    // Membership first: a non-member learns nothing, whatever the body.
    crate::service::workspaces::access(ctx, id, user.account.actor_id).await?;
    let multipart = multipart.map_err(|_| csrf::rejected())?;
    let folder = folder_of(&query)?;
    let result = match read_form(ctx, &csrf, multipart).await {
        Ok(upload) => documents::upload(ctx, &user.account, id, upload).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((document, _)) => Ok(redirect_with_flash(
            ctx,
            &format!("{}/{}", base(id), document.id),
            "flash.workspace_documents.uploaded",
        )),
        Err(e) if !e.fields.is_empty() || e.kind == ErrorKind::Conflict => {
            let status = e.status();
            list_page(
                ctx,
                lang,
                &user,
                &csrf,
                id,
                folder,
                Typed::default(),
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn http_post_folder(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_uuid(&id)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let name = get("name");
    let parent = folder_of(&FolderQuery {
        dossier: Some(get("parent")),
    })
    .map_err(|_| AppError::field("parent", "workspace_documents.folder.unknown"))?;
    match documents::create_folder(ctx, &user.account, id, parent, &name).await {
        Ok(folder) => Ok(redirect_with_flash(
            ctx,
            &format!("{}?dossier={}", base(id), folder.id),
            "flash.workspace_documents.folder_created",
        )),
        Err(e) if !e.fields.is_empty() => {
            let status = e.status();
            list_page(
                ctx,
                lang,
                &user,
                &csrf,
                id,
                parent,
                Typed {
                    new_folder: name,
                    rename: None,
                },
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Renames the folder: back to it with a message, or the page again with the name's error.
async fn http_post_rename_folder(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, folder)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RenameFolderForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (id, folder) = (parse_uuid(&id)?, parse_uuid(&folder)?);
    match documents::rename_folder(ctx, &user.account, id, folder, &form.name).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            &format!("{}?dossier={folder}", base(id)),
            "flash.workspace_documents.folder_renamed",
        )),
        Err(mut e) if !e.fields.is_empty() => {
            // The error belongs to the rename form's field, not the new folder's.
            for f in &mut e.fields {
                f.field = "new_name".into();
            }
            let status = e.status();
            list_page(
                ctx,
                lang,
                &user,
                &csrf,
                id,
                Some(folder),
                Typed {
                    new_folder: String::new(),
                    rename: Some(form.name),
                },
                FormState::from_error(lang, &e),
                status,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
struct RenameFolderForm {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct DeleteFolderForm {
    /// The confirmation box: delete what the folder holds too.
    #[serde(default)]
    recursive: Option<String>,
}

/// Deletes the folder: to its parent with a message, or the page again asking to confirm
/// when it is not empty.
async fn http_post_delete_folder(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path((id, folder)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<DeleteFolderForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (id, folder) = (parse_uuid(&id)?, parse_uuid(&folder)?);
    // Where to go afterwards: the parent (read before the folder goes).
    let view = documents::folder_view(ctx, &user.account, id, Some(folder)).await?;
    let parent = view
        .breadcrumb
        .last()
        .map(|f| format!("{}?dossier={}", base(id), f.id))
        .unwrap_or_else(|| base(id));
    let recursive = form.recursive.is_some();
    match documents::delete_folder(ctx, &user.account, id, folder, recursive).await {
        Ok(()) => Ok(redirect_with_flash(
            ctx,
            &parent,
            "flash.workspace_documents.folder_deleted",
        )),
        Err(e) if e.kind == ErrorKind::Conflict && e.message_key.is_some() => {
            let mut errors = FormState::new(lang);
            errors.add(
                "recursive",
                e.message_key
                    .unwrap_or("workspace_documents.folder.not_empty"),
            );
            list_page(
                ctx,
                lang,
                &user,
                &csrf,
                id,
                Some(folder),
                Typed::default(),
                errors,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

struct VersionRow {
    version: i32,
    size: String,
    content_type: String,
    uploader: String,
    date: String,
    iso: String,
    download_url: String,
}

#[derive(Template)]
#[template(path = "workspaces/document.html")]
struct ShowPage {
    lang: Lang,
    wsnav: WorkspaceNav,
    csrf: String,
    name: String,
    folder_url: String,
    folder_name: String,
    versions: Vec<VersionRow>,
    preview_url: Option<String>,
    delete_url: String,
    can_delete: bool,
}

async fn http_get_document(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path((id, doc)): Path<(String, String)>,
) -> AppResult<Response> {
    // A visitor gets the same 404 as an outsider.
    let user = user.ok_or_else(AppError::not_found)?;
    let ctx = data.app_data();
    let view =
        documents::document_view(ctx, &user.account, parse_uuid(&id)?, parse_uuid(&doc)?).await?;
    let root = base(view.document.workspace_id);
    let here = format!("{root}/{}", view.document.id);
    let (folder_url, folder_name) = match view.folder_path.last() {
        Some(f) => (format!("{root}?dossier={}", f.id), f.name.clone()),
        None => (root.clone(), lang.t("workspace_documents.root").to_string()),
    };
    let preview_url = view
        .versions
        .first()
        .filter(|(v, _)| documents::is_inline_image(&v.content_type))
        .map(|(v, _)| format!("{here}/versions/{}/apercu", v.version));
    let page = ShowPage {
        lang,
        wsnav: nav(ctx, &view.access).await?,
        csrf: csrf.value().to_string(),
        name: view.document.name.clone(),
        folder_url,
        folder_name,
        versions: view
            .versions
            .iter()
            .map(|(v, a)| VersionRow {
                version: v.version,
                size: size(lang, v.size_bytes),
                content_type: v.content_type.clone(),
                uploader: a.as_ref().map(actor_name).unwrap_or_default(),
                date: when(lang, v.created_at),
                iso: v.created_at.to_rfc3339(),
                download_url: format!("{here}/versions/{}", v.version),
            })
            .collect(),
        preview_url,
        delete_url: format!("{here}/supprimer"),
        can_delete: view.can_delete(),
    };
    render(&page)
}

async fn download(
    data: Data,
    user: CurrentUser,
    (id, doc, n): (String, String, String),
    inline: bool,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let n: i32 = n.parse().map_err(|_| AppError::not_found())?;
    let got = documents::download(
        ctx,
        &user.account,
        parse_uuid(&id)?,
        parse_uuid(&doc)?,
        Some(n),
    )
    .await?;
    if inline && !documents::is_inline_image(&got.version.content_type) {
        return Err(AppError::not_found());
    }
    download_response(ctx, got, inline).await
}

async fn http_get_download(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(path): Path<(String, String, String)>,
) -> AppResult<Response> {
    // A visitor gets the same 404 as an outsider.
    let user = user.ok_or_else(AppError::not_found)?;
    download(data, user, path, false).await
}

async fn http_get_preview(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(path): Path<(String, String, String)>,
) -> AppResult<Response> {
    // A visitor gets the same 404 as an outsider.
    let user = user.ok_or_else(AppError::not_found)?;
    download(data, user, path, true).await
}

async fn http_post_delete(
    data: Data,
    user: CurrentUser,
    Path((id, doc)): Path<(String, String)>,
    CsrfForm(_pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_uuid(&id)?;
    documents::delete(ctx, &user.account, id, parse_uuid(&doc)?).await?;
    Ok(redirect_with_flash(
        ctx,
        &base(id),
        "flash.workspace_documents.deleted",
    ))
}
