//! The members of a project workspace (`/espaces/{id}/membres`): the list with roles, and
//! the forms each role allows (invite, withdraw an invitation, answer join requests, change a
//! role, remove, leave); the member's invitations (`/espaces/invitations`, one at
//! `/espaces/invitations/{id}`); the page of a mailed invitation link
//! (`/espaces/rejoindre/{secret}`: accept logged in, or log in / sign up then join); and the
//! join request form of a listed workspace (`/espaces/{id}/rejoindre`). The rules live in
//! `service::workspaces::{members, invitations}`, shared with the JSON API and the inbox.

use crate::{
    context::AppContext,
    db::{self, actors::DbActor, workspaces::DbWorkspace},
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        accounts::{NewAccountInput, register},
        sessions,
        workspaces::{
            self, Access, Role,
            invitations::{self, ReceivedInvitation, handle_of},
            members,
        },
    },
    urls::workspace_page,
    web::{
        auth::{self, CurrentUser, MaybeUser},
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
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router {
    Router::new()
        .route("/espaces/{id}/membres", get(http_get_members))
        .route("/espaces/{id}/membres/inviter", post(http_post_invite))
        .route(
            "/espaces/{id}/membres/invitations/{invitation_id}/retirer",
            post(http_post_withdraw),
        )
        .route(
            "/espaces/{id}/membres/demandes/{request_id}",
            post(http_post_join_answer),
        )
        .route(
            "/espaces/{id}/membres/{actor_id}/role",
            post(http_post_role),
        )
        .route(
            "/espaces/{id}/membres/{actor_id}/retirer",
            post(http_post_remove),
        )
        .route("/espaces/{id}/quitter", post(http_post_leave))
        .route("/espaces/invitations", get(http_get_invitations))
        .route(
            "/espaces/invitations/{id}",
            get(http_get_invitation).post(http_post_invitation),
        )
        .route(
            "/espaces/rejoindre/{token}",
            get(http_get_join_link).post(http_post_join_link),
        )
        .route(
            "/espaces/{id}/rejoindre",
            get(http_get_join_request).post(http_post_join_request),
        )
}

fn parse_uuid(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::not_found())
}

fn members_path(id: &Uuid) -> String {
    workspace_page(id, "membres")
}

fn display_name(actor: &DbActor) -> String {
    if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// The members page

struct MemberRow {
    actor_id: i64,
    name: String,
    handle: String,
    role_key: &'static str,
    role: &'static str,
    local: bool,
    is_me: bool,
    /// The owner may change this member's role.
    can_change_role: bool,
    can_remove: bool,
}

struct InvitationRow {
    id: Uuid,
    target: String,
    role_key: &'static str,
    expires: String,
}

struct RequestRow {
    id: Uuid,
    name: String,
    handle: String,
    message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InviteForm {
    target: String,
    role: String,
    message: String,
}

#[derive(Template)]
#[template(path = "workspaces/members.html")]
struct MembersPage<'a> {
    lang: Lang,
    csrf: &'a str,
    wsnav: WorkspaceNav,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    requests: Vec<RequestRow>,
    can_invite: bool,
    can_leave: bool,
    form: &'a InviteForm,
    errors: FormState,
}

fn role_of(role: &str) -> Role {
    Role::parse(role).unwrap_or(Role::Member)
}

async fn members_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &str,
    access: &Access,
    form: &InviteForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let wsnav = {
        let mut conn = ctx.conn().await?;
        WorkspaceNav::load(&mut conn, access, "membres").await?
    };
    let manage = access.workspace.local && !access.workspace.is_archived();
    let members = members::list(ctx, access)
        .await?
        .into_iter()
        .map(|(m, a)| {
            let role = role_of(&m.role);
            let is_me = a.id == access.member.actor_id;
            MemberRow {
                actor_id: a.id,
                name: display_name(&a),
                handle: handle_of(ctx, &a),
                role_key: role.label_key(),
                role: role.as_str(),
                local: a.local,
                is_me,
                can_change_role: manage && access.role == Role::Owner && role != Role::Owner,
                can_remove: manage
                    && !is_me
                    && role < access.role
                    && access.role >= Role::Coordinator,
            }
        })
        .collect();
    let coordinator = access.role >= Role::Coordinator && access.workspace.local;
    let invitations = if coordinator {
        invitations::pending(ctx, access)
            .await?
            .into_iter()
            .map(|s| InvitationRow {
                id: s.invitation.id,
                target: match (&s.invitee, &s.invitation.email) {
                    (Some(a), _) => format!("{} ({})", display_name(a), handle_of(ctx, a)),
                    (None, Some(email)) => email.clone(),
                    (None, None) => String::new(),
                },
                role_key: role_of(&s.invitation.role).label_key(),
                expires: s.invitation.expires_at.format("%d/%m/%Y").to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let requests = if coordinator {
        invitations::join_requests(ctx, access)
            .await?
            .into_iter()
            .map(|p| RequestRow {
                id: p.request.id,
                name: display_name(&p.requester),
                handle: handle_of(ctx, &p.requester),
                message: p.request.message,
            })
            .collect()
    } else {
        Vec::new()
    };
    render_status(
        status,
        &MembersPage {
            lang,
            csrf,
            wsnav,
            members,
            invitations,
            requests,
            can_invite: manage && access.role >= Role::Coordinator,
            can_leave: !(access.workspace.local && access.role == Role::Owner),
            form,
            errors,
        },
    )
}

async fn http_get_members(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let form = InviteForm {
        role: Role::Member.as_str().into(),
        ..Default::default()
    };
    members_page(
        ctx,
        lang,
        csrf.value(),
        &access,
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn http_post_invite(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let outcome = match Role::parse(form.role.trim()) {
        Some(role) => invitations::invite(&data, &access, &form.target, role, &form.message).await,
        None => Err(AppError::field("role", "workspace_members.field.role")),
    };
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            &members_path(&access.workspace.id),
            "flash.workspace_members.invited",
        )),
        Err(e) if e.kind == ErrorKind::Validation => {
            members_page(
                ctx,
                lang,
                csrf.value(),
                &access,
                &form,
                FormState::from_error(lang, &e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) if e.kind == ErrorKind::Conflict && e.message_key.is_some() => {
            let key = e.message_key.unwrap_or("error.conflict");
            members_page(
                ctx,
                lang,
                csrf.value(),
                &access,
                &form,
                FormState::new(lang).with_general(key),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoFields {}

async fn http_post_withdraw(
    data: Data,
    user: CurrentUser,
    Path((id, invitation_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    invitations::withdraw(ctx, &access, parse_uuid(&invitation_id)?).await?;
    Ok(redirect_with_flash(
        ctx,
        &members_path(&access.workspace.id),
        "flash.workspace_members.withdrawn",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    /// `accept` or `decline`.
    answer: String,
}

impl AnswerForm {
    fn accept(&self) -> AppResult<bool> {
        match self.answer.as_str() {
            "accept" => Ok(true),
            "decline" => Ok(false),
            _ => Err(AppError::field("answer", "workspace_members.field.answer")),
        }
    }
}

async fn http_post_join_answer(
    data: Data,
    user: CurrentUser,
    Path((id, request_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let accept = form.accept()?;
    invitations::answer_join_request(ctx, &access, parse_uuid(&request_id)?, accept).await?;
    Ok(redirect_with_flash(
        ctx,
        &members_path(&access.workspace.id),
        if accept {
            "flash.workspace_members.request_accepted"
        } else {
            "flash.workspace_members.request_declined"
        },
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RoleForm {
    role: String,
}

fn parse_actor_id(id: &str) -> AppResult<i64> {
    id.parse().map_err(|_| AppError::not_found())
}

async fn http_post_role(
    data: Data,
    user: CurrentUser,
    Path((id, actor_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    let role = Role::parse(form.role.trim())
        .ok_or_else(|| AppError::field("role", "workspace_members.field.role"))?;
    members::change_role(ctx, &access, parse_actor_id(&actor_id)?, role).await?;
    Ok(redirect_with_flash(
        ctx,
        &members_path(&access.workspace.id),
        "flash.workspace_members.role_changed",
    ))
}

async fn http_post_remove(
    data: Data,
    user: CurrentUser,
    Path((id, actor_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let access = workspaces::access(ctx, parse_uuid(&id)?, user.account.actor_id).await?;
    members::remove(ctx, &access, parse_actor_id(&actor_id)?).await?;
    Ok(redirect_with_flash(
        ctx,
        &members_path(&access.workspace.id),
        "flash.workspace_members.removed",
    ))
}

async fn my_actor(ctx: &AppContext, user: &CurrentUser) -> AppResult<DbActor> {
    let mut conn = ctx.conn().await?;
    Ok(db::actors::by_id(&mut conn, user.account.actor_id).await?)
}

async fn http_post_leave(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let actor = my_actor(ctx, &user).await?;
    members::leave(ctx, parse_uuid(&id)?, &actor).await?;
    Ok(redirect_with_flash(
        ctx,
        "/espaces",
        "flash.workspace_members.left",
    ))
}

// ---------------------------------------------------------------------------------------------
// My invitations

struct ReceivedRow {
    id: Uuid,
    workspace: String,
    description_html: String,
    invited_by: String,
    role_key: &'static str,
    message: String,
    local: bool,
    status: String,
}

impl ReceivedRow {
    fn from(ctx: &AppContext, r: ReceivedInvitation) -> ReceivedRow {
        ReceivedRow {
            id: r.invitation.id,
            workspace: r.workspace.name,
            description_html: r.workspace.description_html,
            invited_by: format!(
                "{} ({})",
                display_name(&r.invited_by),
                handle_of(ctx, &r.invited_by)
            ),
            role_key: role_of(&r.invitation.role).label_key(),
            message: r.invitation.message,
            local: r.workspace.local,
            status: r.invitation.status,
        }
    }
}

#[derive(Template)]
#[template(path = "workspaces/invitations.html")]
struct InvitationsPage {
    lang: Lang,
    invitations: Vec<ReceivedRow>,
}

async fn http_get_invitations(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let invitations = invitations::received(ctx, user.account.actor_id)
        .await?
        .into_iter()
        .map(|r| ReceivedRow::from(ctx, r))
        .collect();
    render(&InvitationsPage { lang, invitations })
}

#[derive(Template)]
#[template(path = "workspaces/invitation.html")]
struct InvitationPage<'a> {
    lang: Lang,
    csrf: &'a str,
    invitation: ReceivedRow,
}

async fn http_get_invitation(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let found = invitations::received_one(ctx, user.account.actor_id, parse_uuid(&id)?).await?;
    render(&InvitationPage {
        lang,
        csrf: csrf.value(),
        invitation: ReceivedRow::from(ctx, found),
    })
}

async fn http_post_invitation(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let accept = form.accept()?;
    let actor = my_actor(ctx, &user).await?;
    let invitation = invitations::answer(ctx, parse_uuid(&id)?, &actor, accept).await?;
    Ok(if accept {
        redirect_with_flash(
            ctx,
            &members_path(&invitation.workspace_id),
            "flash.workspace_members.joined",
        )
    } else {
        redirect_with_flash(
            ctx,
            "/espaces/invitations",
            "flash.workspace_members.declined",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The mailed link

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JoinLinkForm {
    /// `accept` (logged in) or `signup`.
    action: String,
    kind: String,
    display_name: String,
    username: String,
    email: String,
    password: String,
}

#[derive(Template)]
#[template(path = "workspaces/join_link.html")]
struct JoinLinkPage<'a> {
    lang: Lang,
    csrf: &'a str,
    path: String,
    next_query: String,
    workspace: &'a DbWorkspace,
    invited_by: String,
    message: &'a str,
    logged_in_as: Option<String>,
    registration_open: bool,
    form: &'a JoinLinkForm,
    errors: FormState,
    rules: Vec<crate::db::rules::DbRule>,
}

#[allow(clippy::too_many_arguments)]
async fn join_link_page(
    ctx: &AppContext,
    lang: Lang,
    csrf: &str,
    token: &str,
    user: Option<&CurrentUser>,
    form: &JoinLinkForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let (invitation, workspace) = invitations::by_token(ctx, token).await?;
    let inviter = {
        let mut conn = ctx.conn().await?;
        db::actors::by_id(&mut conn, invitation.invited_by_actor_id).await?
    };
    let path = format!("{}{token}", invitations::JOIN_LINK_PATH);
    let next_query: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    render_status(
        status,
        &JoinLinkPage {
            lang,
            csrf,
            next_query,
            path,
            workspace: &workspace,
            invited_by: display_name(&inviter),
            message: &invitation.message,
            logged_in_as: user.map(|u| u.account.username.clone()),
            registration_open: ctx.config.registration.open,
            form,
            errors,
            rules: crate::service::moderation::rules::current(ctx).await?,
        },
    )
}

async fn http_get_join_link(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let form = JoinLinkForm {
        kind: "individual".into(),
        ..Default::default()
    };
    join_link_page(
        ctx,
        lang,
        csrf.value(),
        &token,
        user.as_ref(),
        &form,
        FormState::new(lang),
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn http_post_join_link(
    data: Data,
    PageLang(lang): PageLang,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    Path(token): Path<String>,
    CsrfForm(mut form): CsrfForm<JoinLinkForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    if let Some(user) = &user {
        let actor = my_actor(ctx, user).await?;
        let (_, workspace) = invitations::accept_by_token(ctx, &token, &actor).await?;
        return Ok(redirect_with_flash(
            ctx,
            &members_path(&workspace.id),
            "flash.workspace_members.joined",
        ));
    }
    if form.action != "signup" {
        return Err(AppError::unauthorized());
    }
    if !ctx.config.registration.open {
        return Err(AppError::forbidden(
            "registration is closed on this instance",
        ));
    }
    // The link must still be good before an account is made for it.
    invitations::by_token(ctx, &token).await?;
    let input = NewAccountInput {
        username: form.username.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        kind: form.kind.clone(),
        role: "member".into(),
        display_name: form.display_name.clone(),
    };
    match register(ctx, input).await {
        Ok(account) => {
            let actor = {
                let mut conn = ctx.conn().await?;
                db::actors::by_id(&mut conn, account.actor_id).await?
            };
            let (_, workspace) = invitations::accept_by_token(ctx, &token, &actor).await?;
            if let Some(old) =
                auth::cookie(&headers, auth::SESSION_COOKIE).filter(|t| !t.is_empty())
            {
                sessions::close(ctx, old).await?;
            }
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let session = sessions::open(ctx, &account, agent).await?;
            let mut response = redirect_with_flash(
                ctx,
                &members_path(&workspace.id),
                "flash.workspace_members.welcome",
            );
            auth::add_cookie(
                &mut response,
                auth::session_cookie(ctx, &session.token, session.expires_at),
            );
            Ok(response)
        }
        Err(e) if e.kind == ErrorKind::Validation => {
            form.password.clear();
            join_link_page(
                ctx,
                lang,
                csrf.value(),
                &token,
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

// ---------------------------------------------------------------------------------------------
// Join requests

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JoinRequestForm {
    message: String,
}

#[derive(Template)]
#[template(path = "workspaces/join_request.html")]
struct JoinRequestPage<'a> {
    lang: Lang,
    csrf: &'a str,
    workspace: DbWorkspace,
    message: &'a str,
    errors: FormState,
}

/// A listed workspace of ours (anything else: 404).
async fn listed(ctx: &AppContext, id: &str) -> AppResult<DbWorkspace> {
    let id = parse_uuid(id)?;
    let mut conn = ctx.conn().await?;
    db::workspaces::by_id(&mut conn, id)
        .await?
        .filter(|w| w.local && w.listed)
        .ok_or_else(AppError::not_found)
}

async fn http_get_join_request(
    data: Data,
    PageLang(lang): PageLang,
    _user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace = listed(ctx, &id).await?;
    render(&JoinRequestPage {
        lang,
        csrf: csrf.value(),
        workspace,
        message: "",
        errors: FormState::new(lang),
    })
}

async fn http_post_join_request(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<JoinRequestForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace = listed(ctx, &id).await?;
    let actor = my_actor(ctx, &user).await?;
    match invitations::request_to_join(ctx, workspace.id, &actor, &form.message, None).await {
        Ok(_) => Ok(redirect_with_flash(
            ctx,
            "/espaces",
            "flash.workspace_members.asked",
        )),
        Err(e) if e.kind == ErrorKind::Validation || e.kind == ErrorKind::Conflict => {
            let (status, errors) = if e.kind == ErrorKind::Validation {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    FormState::from_error(lang, &e),
                )
            } else {
                (
                    StatusCode::CONFLICT,
                    FormState::new(lang).with_general(e.message_key.unwrap_or("error.conflict")),
                )
            };
            render_status(
                status,
                &JoinRequestPage {
                    lang,
                    csrf: csrf.value(),
                    workspace,
                    message: &form.message,
                    errors,
                },
            )
        }
        Err(e) => Err(e),
    }
}
