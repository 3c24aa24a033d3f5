//! Project workspaces: the list of mine and of the open projects (`/espaces`), the creation
//! form (`/espaces/nouveau`), a workspace's activity page (`/espaces/{id}`) and its settings
//! (`/espaces/{id}/parametres`: edit, archive, transfer ownership). The rules live in
//! `service::workspaces`, shared with `/api/v1/workspaces`.
//!
//! Every page of a workspace checks membership first: for anyone else, logged in or not, the
//! answer is the same 404 as for a workspace that does not exist.

use crate::{
    context::AppContext,
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        communes::{self, Commune},
        directory::SUGGESTED_DISCIPLINES,
        venues::split_disciplines,
        workspaces::{
            self, Access, Role,
            activity::{self, Activity},
            manage::{self, ListedProject, MyWorkspace, WorkspaceInput},
        },
    },
    urls::workspace_page,
    web::{
        auth::{CurrentUser, MaybeUser},
        csrf::{CsrfForm, CsrfToken},
        pages::{
            PageLang, forms::FormState, layout::redirect_with_flash, render, render_status,
            workspace_nav::WorkspaceNav,
        },
    },
};
use askama::Template;
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router {
    Router::new()
        .route("/espaces", get(http_get_workspaces))
        .route(
            "/espaces/nouveau",
            get(http_get_new_workspace).post(http_post_new_workspace),
        )
        .route("/espaces/{id}", get(http_get_workspace))
        .route(
            "/espaces/{id}/parametres",
            get(http_get_settings).post(http_post_settings),
        )
        .route("/espaces/{id}/archiver", post(http_post_archive))
        .route("/espaces/{id}/desarchiver", post(http_post_unarchive))
        .route("/espaces/{id}/transferer", post(http_post_transfer))
}

/// A workspace id from a path: anything that is not a UUID is a workspace that does not
/// exist.
pub fn parse_id(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::not_found())
}

/// The logged-in member's access to workspace `id`; 404 for visitors and non-members alike.
async fn member_access(
    ctx: &AppContext,
    user: &Option<CurrentUser>,
    id: &str,
) -> AppResult<(CurrentUser, Access)> {
    let id = parse_id(id)?;
    let Some(user) = user.clone() else {
        return Err(AppError::not_found());
    };
    let access = workspaces::access(ctx, id, user.account.actor_id).await?;
    Ok((user, access))
}

fn date(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    match lang {
        Lang::Fr => at.format("%d/%m/%Y %H:%M").to_string(),
        _ => at.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// The form's fields, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct WorkspaceForm {
    name: String,
    description: String,
    /// Comma-separated.
    disciplines: String,
    commune: String,
    listed: String,
}

impl WorkspaceForm {
    fn from_input(input: WorkspaceInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
            disciplines: input.disciplines.join(", "),
            commune: input.commune,
            listed: if input.listed {
                "on".into()
            } else {
                String::new()
            },
        }
    }

    fn input(&self) -> WorkspaceInput {
        WorkspaceInput {
            name: self.name.clone(),
            description: self.description.clone(),
            disciplines: split_disciplines(&self.disciplines),
            commune: self.commune.clone(),
            listed: !self.listed.is_empty() && self.listed != "false" && self.listed != "0",
        }
    }
}

// ---------------------------------------------------------------------------------------
// The list.

struct MyRow {
    name: String,
    url: String,
    role: &'static str,
    unread: i64,
    members: i64,
    archived: bool,
    remote: bool,
}

struct ProjectRow {
    name: String,
    description_html: String,
    join_url: String,
}

#[derive(Template)]
#[template(path = "workspaces/list.html")]
struct ListPage {
    lang: Lang,
    mine: Vec<MyRow>,
    projects: Vec<ProjectRow>,
}

/// How many open projects `/espaces` lists.
const PROJECTS_SHOWN: i64 = 50;

async fn http_get_workspaces(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let mut conn = ctx.conn().await?;
    let mine: Vec<MyWorkspace> = manage::mine(&mut conn, user.account.actor_id).await?;
    let projects: Vec<ListedProject> =
        manage::listed_projects(&mut conn, user.account.actor_id, PROJECTS_SHOWN).await?;
    render(&ListPage {
        lang,
        mine: mine
            .into_iter()
            .map(|m| MyRow {
                url: workspace_page(&m.workspace.id, ""),
                archived: m.workspace.is_archived(),
                remote: !m.workspace.local,
                name: m.workspace.name,
                role: lang.t(m.role.label_key()),
                unread: m.unread,
                members: m.members,
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|p| ProjectRow {
                join_url: workspace_page(&p.id, "rejoindre"),
                name: p.name,
                description_html: p.description_html,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------
// Create.

#[derive(Template)]
#[template(path = "workspaces/new.html")]
struct NewPage<'a> {
    lang: Lang,
    csrf: &'a str,
    form: &'a WorkspaceForm,
    errors: FormState,
    communes: Vec<&'static Commune>,
    suggested: &'static [&'static str],
}

fn new_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    form: &WorkspaceForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    render_status(
        status,
        &NewPage {
            lang,
            csrf: csrf.value(),
            form,
            errors,
            communes: communes::in_departement(&ctx.config.instance.departement),
            suggested: SUGGESTED_DISCIPLINES,
        },
    )
}

async fn http_get_new_workspace(
    data: Data,
    PageLang(lang): PageLang,
    _user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    new_page(
        data.app_data(),
        lang,
        &csrf,
        &WorkspaceForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
}

async fn http_post_new_workspace(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    CsrfForm(form): CsrfForm<WorkspaceForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match manage::create(ctx, &user.account, form.input()).await {
        Ok(workspace) => Ok(redirect_with_flash(
            ctx,
            &workspace_page(&workspace.id, ""),
            "flash.workspace_created",
        )),
        Err(e) if e.kind == ErrorKind::Validation => new_page(
            ctx,
            lang,
            &csrf,
            &form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// The activity page.

struct MessageRow {
    author: String,
    date: String,
    body_html: String,
    deleted: bool,
}

struct DocumentRow {
    name: String,
    date: String,
}

struct MeetingRow {
    title: String,
    date: String,
    duration_minutes: i32,
    cancelled: bool,
}

#[derive(Template)]
#[template(path = "workspaces/show.html")]
struct ShowPage {
    lang: Lang,
    wsnav: WorkspaceNav,
    description_html: String,
    disciplines: String,
    commune: String,
    listed: bool,
    messages: Vec<MessageRow>,
    documents: Vec<DocumentRow>,
    meetings: Vec<MeetingRow>,
}

async fn http_get_workspace(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id = parse_id(&id)?;
    let Some(user) = user else {
        return Err(AppError::not_found());
    };
    let mut conn = ctx.conn().await?;
    let (
        access,
        Activity {
            messages,
            documents,
            meetings,
        },
    ) = activity::activity(&mut conn, id, user.account.actor_id).await?;
    let wsnav = WorkspaceNav::load(&mut conn, &access, "").await?;
    let w = &access.workspace;
    render(&ShowPage {
        lang,
        wsnav,
        description_html: w.description_html.clone(),
        disciplines: w.disciplines.join(", "),
        commune: w
            .commune_code
            .as_deref()
            .and_then(communes::by_code)
            .map(|c| c.label())
            .unwrap_or_default(),
        listed: w.listed,
        messages: messages
            .into_iter()
            .map(|m| MessageRow {
                author: m.author,
                date: date(lang, m.created_at),
                body_html: m.body_html,
                deleted: m.deleted,
            })
            .collect(),
        documents: documents
            .into_iter()
            .map(|d| DocumentRow {
                name: d.name,
                date: date(lang, d.updated_at),
            })
            .collect(),
        meetings: meetings
            .into_iter()
            .map(|m| MeetingRow {
                title: m.title,
                date: date(lang, m.starts_at),
                duration_minutes: m.duration_minutes,
                cancelled: m.cancelled,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------
// Settings.

struct MemberChoice {
    username: String,
    name: String,
}

#[derive(Template)]
#[template(path = "workspaces/settings.html")]
struct SettingsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    wsnav: WorkspaceNav,
    form: &'a WorkspaceForm,
    errors: FormState,
    communes: Vec<&'static Commune>,
    suggested: &'static [&'static str],
    is_owner: bool,
    /// The local members ownership may go to.
    successors: Vec<MemberChoice>,
}

#[allow(clippy::too_many_arguments)]
async fn settings_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &CsrfToken,
    user: &CurrentUser,
    access: &Access,
    form: &WorkspaceForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let wsnav = WorkspaceNav::load(&mut conn, access, "parametres").await?;
    let successors = crate::db::workspaces::members(&mut conn, access.workspace.id)
        .await?
        .into_iter()
        .filter(|(_, actor)| actor.local && actor.id != user.account.actor_id)
        .map(|(_, actor)| MemberChoice {
            name: if actor.name.trim().is_empty() {
                actor.username.clone()
            } else {
                actor.name.clone()
            },
            username: actor.username,
        })
        .collect();
    render_status(
        status,
        &SettingsPage {
            lang,
            csrf: csrf.value(),
            wsnav,
            form,
            errors,
            communes: communes::in_departement(&ctx.config.instance.departement),
            suggested: SUGGESTED_DISCIPLINES,
            is_owner: access.role == Role::Owner,
            successors,
        },
    )
}

/// The settings are for coordinators and the owner of a workspace hosted here.
fn may_manage(access: &Access) -> AppResult<()> {
    access.require(Role::Coordinator)?;
    if !access.workspace.local {
        return Err(AppError::forbidden(
            "this workspace is managed on the server that hosts it",
        ));
    }
    Ok(())
}

async fn http_get_settings(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (user, access) = member_access(ctx, &user, &id).await?;
    may_manage(&access)?;
    let form = WorkspaceForm::from_input(WorkspaceInput::from_workspace(&access.workspace));
    settings_page(
        ctx,
        lang,
        &csrf,
        &user,
        &access,
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_settings(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<WorkspaceForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (user, access) = member_access(ctx, &user, &id).await?;
    match manage::update(ctx, &user.account, access.workspace.id, form.input()).await {
        Ok(workspace) => Ok(redirect_with_flash(
            ctx,
            &workspace_page(&workspace.id, "parametres"),
            "flash.workspace_saved",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            settings_page(
                ctx,
                lang,
                &csrf,
                &user,
                &access,
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

async fn http_post_archive(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (user, access) = member_access(ctx, &user, &id).await?;
    let workspace = manage::archive(ctx, &user.account, access.workspace.id).await?;
    Ok(redirect_with_flash(
        ctx,
        &workspace_page(&workspace.id, ""),
        "flash.workspace_archived",
    ))
}

async fn http_post_unarchive(
    data: Data,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (user, access) = member_access(ctx, &user, &id).await?;
    let workspace = manage::unarchive(ctx, &user.account, access.workspace.id).await?;
    Ok(redirect_with_flash(
        ctx,
        &workspace_page(&workspace.id, ""),
        "flash.workspace_unarchived",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TransferForm {
    /// The new owner's username.
    to: String,
}

async fn http_post_transfer(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(transfer): CsrfForm<TransferForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let (user, access) = member_access(ctx, &user, &id).await?;
    let result = match manage::local_actor_id(ctx, &transfer.to).await {
        Ok(to) => manage::transfer_ownership(ctx, &user.account, access.workspace.id, to).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(workspace) => Ok(redirect_with_flash(
            ctx,
            &workspace_page(&workspace.id, ""),
            "flash.workspace_transferred",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            let form = WorkspaceForm::from_input(WorkspaceInput::from_workspace(&access.workspace));
            settings_page(
                ctx,
                lang,
                &csrf,
                &user,
                &access,
                &form,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
