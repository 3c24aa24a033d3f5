//! Creating and managing workspaces: create (with its `Group` actor and the creator as
//! owner), edit, archive and unarchive, transfer ownership. See the module documentation of
//! `service::workspaces` for the access rule.
//!
//! A workspace hosted here is a local `Group` actor whose username is its UUID: it has a key
//! pair (it signs what it relays to remote members) and an inbox, but no followers
//! collection, no outbox and no shared inbox, and it approves "followers" by hand (it never
//! accepts a `Follow`: members join by invitation or join request).

use super::{Access, Role, access_as};
use crate::{
    context::AppContext,
    db::{
        self,
        accounts::DbAccount,
        actors::NewActor,
        notifications::DbNotification,
        schema::{workspace_members, workspaces},
        workspaces::{DbWorkspace, NewWorkspace},
    },
    error::{AppError, AppResult, ErrorKind, FieldErrors},
    sanitize::SafeHtml,
    service::{
        actors::generate_keypair,
        communes::{self, Commune},
        notifications::{self, Event, NotificationKind, WorkspaceRefs},
        outbound::{self, OutboundEvent},
        profile::parse_disciplines,
        publishing::{MAX_DISCIPLINE_CHARS, MAX_DISCIPLINES},
    },
};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Longest name (the table holds the same limit).
pub const MAX_NAME: usize = 150;
/// Longest description, in Markdown (the table holds the same limit).
pub const MAX_DESCRIPTION: usize = 10_000;

/// What a member submits to create or edit a workspace, as the form or the API has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceInput {
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Each item may hold several comma-separated disciplines.
    pub disciplines: Vec<String>,
    /// Empty, or a commune name ("Épinal", "Épinal (88)") or INSEE code.
    pub commune: String,
    /// Name and description public (list of projects, join requests).
    pub listed: bool,
}

impl WorkspaceInput {
    /// The form as the workspace currently stands, to pre-fill it.
    pub fn from_workspace(w: &DbWorkspace) -> Self {
        Self {
            name: w.name.clone(),
            description: w.description_markdown.clone(),
            disciplines: w.disciplines.clone(),
            commune: w
                .commune_code
                .as_deref()
                .and_then(communes::by_code)
                .map(|c| c.label())
                .unwrap_or_default(),
            listed: w.listed,
        }
    }
}

/// A checked input.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceFields {
    pub name: String,
    pub description_markdown: String,
    pub description_html: String,
    pub disciplines: Vec<String>,
    pub commune_code: Option<String>,
    pub listed: bool,
}

/// Checks every field (all errors at once, each naming its field).
pub fn validate(departement: &str, input: &WorkspaceInput) -> AppResult<WorkspaceFields> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    if name.is_empty() {
        errors.add("name", "field.required");
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.add(
            "name",
            if name.chars().count() > MAX_NAME {
                "field.too_long"
            } else {
                "workspaces.field.name_invalid"
            },
        );
    }
    let description = input.description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        errors.add("description", "field.too_long");
    }
    let mut seen = std::collections::HashSet::new();
    let disciplines: Vec<String> = input
        .disciplines
        .iter()
        .flat_map(|d| parse_disciplines(d))
        .filter(|d| seen.insert(d.to_lowercase()))
        .collect();
    if disciplines.len() > MAX_DISCIPLINES {
        errors.add("disciplines", "field.disciplines.too_many");
    } else if disciplines
        .iter()
        .any(|d| d.chars().count() > MAX_DISCIPLINE_CHARS)
    {
        errors.add("disciplines", "field.disciplines.too_long");
    }
    let commune: Option<&Commune> = match communes::parse_field(&input.commune, departement) {
        Ok(c) => c,
        Err(key) => {
            errors.add("commune", key);
            None
        }
    };
    errors.into_result()?;
    Ok(WorkspaceFields {
        name: name.to_string(),
        description_html: SafeHtml::from_markdown(description).into_string(),
        description_markdown: description.to_string(),
        disciplines,
        commune_code: commune.map(|c| c.code.to_string()),
        listed: input.listed,
    })
}

fn may_act(account: &DbAccount) -> AppResult<()> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("account suspended"));
    }
    Ok(())
}

/// The `Group` actor row of a new workspace of ours.
fn new_group_actor(
    ctx: &AppContext,
    id: &Uuid,
    fields: &WorkspaceFields,
    keypair: activitypub_federation::http_signatures::Keypair,
) -> NewActor {
    let now = Utc::now();
    NewActor {
        ap_id: ctx.urls.workspace(id),
        kind: "Group".to_string(),
        username: id.to_string(),
        domain: ctx.config.domain(),
        local: true,
        name: fields.name.clone(),
        summary_html: fields.description_html.clone(),
        icon_url: None,
        url: Some(ctx.urls.absolute(&crate::urls::workspace_page(id, ""))),
        inbox_url: ctx.urls.workspace_inbox(id),
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: None,
        following_url: None,
        public_key_pem: keypair.public_key,
        private_key_pem: Some(keypair.private_key),
        manually_approves_followers: true,
        discoverable: false,
        published: now,
        last_refreshed_at: now,
    }
}

/// Creates a workspace hosted here: its `Group` actor, its row and `account` as its owner,
/// in one transaction. A listed workspace feeds the "new project" alerts.
pub async fn create(
    ctx: &AppContext,
    account: &DbAccount,
    input: WorkspaceInput,
) -> AppResult<DbWorkspace> {
    may_act(account)?;
    let fields = validate(&ctx.config.instance.departement, &input)?;
    // Slow: kept out of the transaction.
    let keypair = generate_keypair().await?;
    let id = Uuid::new_v4();
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspace, AppError, _>(async |conn| {
        let actor = db::actors::insert(conn, &new_group_actor(ctx, &id, &fields, keypair)).await?;
        let workspace = db::workspaces::insert(
            conn,
            &NewWorkspace {
                id,
                actor_id: actor.id,
                local: true,
                name: fields.name.clone(),
                description_markdown: fields.description_markdown.clone(),
                description_html: fields.description_html.clone(),
                disciplines: fields.disciplines.clone(),
                commune_code: fields.commune_code.clone(),
                listed: fields.listed,
                created_by_account_id: Some(account.id),
            },
        )
        .await?;
        diesel::insert_into(workspace_members::table)
            .values((
                workspace_members::workspace_id.eq(workspace.id),
                workspace_members::actor_id.eq(account.actor_id),
                workspace_members::role.eq(Role::Owner.as_str()),
            ))
            .execute(conn)
            .await?;
        if workspace.listed {
            notify_new_project(ctx, conn, &workspace, account).await?;
        }
        Ok(workspace)
    })
    .await
}

/// The "new project" alert of a workspace just listed: every member whose alerts match it
/// (no kind or the `projet` kind; disciplines and commune as for announcements) gets one
/// notification, never `by` nor its members; instant mails are queued.
async fn notify_new_project(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
    by: &DbAccount,
) -> AppResult<Vec<DbNotification>> {
    if !workspace.listed || !workspace.local {
        return Ok(Vec::new());
    }
    let disciplines: Vec<String> = workspace
        .disciplines
        .iter()
        .map(|d| d.to_lowercase())
        .collect();
    let codes: Vec<String> = workspace.commune_code.iter().cloned().collect();
    let rows = db::alerts::record_project_matches(
        conn,
        &db::alerts::Project {
            notification_kind: NotificationKind::Project.as_str(),
            workspace_id: workspace.id,
            account_id: by.id,
            actor_id: by.actor_id,
            disciplines: &disciplines,
            communes: &codes,
        },
    )
    .await?;
    notifications::queue_instant_mails(ctx, conn, &rows).await?;
    Ok(rows)
}

/// The access of `account` to workspace `id`, the workspace row locked for the rest of the
/// transaction (changes to one workspace happen one after the other).
async fn locked_access(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    account: &DbAccount,
) -> AppResult<Access> {
    let found: Option<Uuid> = workspaces::table
        .find(id)
        .select(workspaces::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Err(AppError::not_found());
    }
    access_as(conn, id, account.actor_id).await
}

/// Keeps the `Group` actor's name and summary in line with the workspace, and tells its
/// remote members (`Update` of the `Group`).
async fn changed(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    workspace: &DbWorkspace,
) -> AppResult<()> {
    db::actors::update_profile(
        conn,
        workspace.actor_id,
        &db::actors::ActorProfileChanges {
            name: &workspace.name,
            summary_html: &workspace.description_html,
            icon_url: None,
        },
    )
    .await?;
    outbound::record(
        ctx,
        conn,
        OutboundEvent::WorkspaceUpdated {
            workspace: Box::new(workspace.clone()),
        },
    )
    .await
}

/// Edits a workspace (coordinators and the owner; not when archived). Listing it for the
/// first time feeds the "new project" alerts, as a listed creation does.
pub async fn update(
    ctx: &AppContext,
    account: &DbAccount,
    id: Uuid,
    input: WorkspaceInput,
) -> AppResult<DbWorkspace> {
    may_act(account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspace, AppError, _>(async |conn| {
        let access = locked_access(conn, id, account).await?;
        access.require(Role::Coordinator)?;
        access.require_writable()?;
        local_only(&access)?;
        let fields = validate(&ctx.config.instance.departement, &input)?;
        let workspace: DbWorkspace = diesel::update(workspaces::table.find(id))
            .set((
                workspaces::name.eq(&fields.name),
                workspaces::description_markdown.eq(&fields.description_markdown),
                workspaces::description_html.eq(&fields.description_html),
                workspaces::disciplines.eq(&fields.disciplines),
                workspaces::commune_code.eq(&fields.commune_code),
                workspaces::listed.eq(fields.listed),
                workspaces::updated_at.eq(diesel::dsl::now),
            ))
            .returning(DbWorkspace::as_returning())
            .get_result(conn)
            .await?;
        changed(ctx, conn, &workspace).await?;
        if workspace.listed && !access.workspace.listed {
            notify_new_project(ctx, conn, &workspace, account).await?;
        }
        Ok(workspace)
    })
    .await
}

/// Only workspaces hosted here are managed here (a remote one is managed on its server).
fn local_only(access: &Access) -> AppResult<()> {
    if access.workspace.local {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "this workspace is managed on the server that hosts it",
        ))
    }
}

async fn set_archived(
    ctx: &AppContext,
    account: &DbAccount,
    id: Uuid,
    archive: bool,
) -> AppResult<DbWorkspace> {
    may_act(account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspace, AppError, _>(async |conn| {
        let access = locked_access(conn, id, account).await?;
        access.require(Role::Owner)?;
        local_only(&access)?;
        if access.workspace.is_archived() == archive {
            return Err(AppError::new(
                ErrorKind::Conflict,
                if archive {
                    "this workspace is already archived"
                } else {
                    "this workspace is not archived"
                },
            ));
        }
        let archived_at = archive.then(Utc::now);
        let workspace: DbWorkspace = diesel::update(workspaces::table.find(id))
            .set((
                workspaces::archived_at.eq(archived_at),
                workspaces::updated_at.eq(diesel::dsl::now),
            ))
            .returning(DbWorkspace::as_returning())
            .get_result(conn)
            .await?;
        changed(ctx, conn, &workspace).await?;
        Ok(workspace)
    })
    .await
}

/// Archives a workspace (its owner only): read-only for everyone from then on.
pub async fn archive(ctx: &AppContext, account: &DbAccount, id: Uuid) -> AppResult<DbWorkspace> {
    set_archived(ctx, account, id, true).await
}

/// Brings an archived workspace back (its owner only).
pub async fn unarchive(ctx: &AppContext, account: &DbAccount, id: Uuid) -> AppResult<DbWorkspace> {
    set_archived(ctx, account, id, false).await
}

/// The owner hands the workspace to another LOCAL member (`to_actor_id`), and stays as a
/// coordinator. The new owner is notified.
pub async fn transfer_ownership(
    ctx: &AppContext,
    account: &DbAccount,
    id: Uuid,
    to_actor_id: i64,
) -> AppResult<DbWorkspace> {
    may_act(account)?;
    let mut conn = ctx.conn().await?;
    conn.transaction::<DbWorkspace, AppError, _>(async |conn| {
        let access = locked_access(conn, id, account).await?;
        access.require(Role::Owner)?;
        access.require_writable()?;
        local_only(&access)?;
        if to_actor_id == account.actor_id {
            return Err(AppError::field("to", "workspaces.field.already_owner"));
        }
        let target = db::workspaces::member(conn, id, to_actor_id).await?;
        let new_owner = match target {
            Some(_) => db::accounts::by_actor_id(conn, to_actor_id)
                .await?
                .filter(|a| a.suspended_at.is_none()),
            None => None,
        };
        let Some(new_owner) = new_owner else {
            return Err(AppError::field("to", "workspaces.field.not_local_member"));
        };
        // One owner at a time: the old one steps down first.
        set_role(conn, id, account.actor_id, Role::Coordinator).await?;
        set_role(conn, id, to_actor_id, Role::Owner).await?;
        let workspace: DbWorkspace = diesel::update(workspaces::table.find(id))
            .set(workspaces::updated_at.eq(diesel::dsl::now))
            .returning(DbWorkspace::as_returning())
            .get_result(conn)
            .await?;
        notifications::record(
            ctx,
            conn,
            Event {
                account_id: new_owner.id,
                kind: NotificationKind::WorkspaceMembership,
                actor_id: Some(account.actor_id),
                post_id: None,
                comment_id: None,
                object_ap_id: None,
                alert_id: None,
                dedupe_key: None,
                report_id: None,
                moderation_action_id: None,
                loan_request_id: None,
                venue_id: None,
                workspace: WorkspaceRefs {
                    workspace_id: Some(id),
                    ..WorkspaceRefs::default()
                },
            },
        )
        .await?;
        changed(ctx, conn, &workspace).await?;
        Ok(workspace)
    })
    .await
}

/// The actor of the local member `username` (`@` and spaces allowed around it), for a
/// transfer of ownership; a field error on `to` when there is none.
pub async fn local_actor_id(ctx: &AppContext, username: &str) -> AppResult<i64> {
    let username = username.trim().trim_start_matches('@');
    if username.is_empty() {
        return Err(AppError::field("to", "field.required"));
    }
    let mut conn = ctx.conn().await?;
    let account = match db::actors::local_by_username(&mut conn, username).await? {
        Some(actor) => db::accounts::by_actor_id(&mut conn, actor.id).await?,
        None => None,
    };
    account
        .map(|a| a.actor_id)
        .ok_or_else(|| AppError::field("to", "workspaces.field.not_local_member"))
}

async fn set_role(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    actor_id: i64,
    role: Role,
) -> AppResult<()> {
    diesel::update(workspace_members::table.find((workspace_id, actor_id)))
        .set(workspace_members::role.eq(role.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}

/// One of the member's workspaces, for the list: the workspace, the role and the chat
/// messages of others not yet seen.
#[derive(Debug, Clone)]
pub struct MyWorkspace {
    pub workspace: DbWorkspace,
    pub role: Role,
    pub unread: i64,
    pub members: i64,
}

/// The workspaces `actor_id` is a member of (hosted here or elsewhere), the most recently
/// changed first.
pub async fn mine(conn: &mut AsyncPgConnection, actor_id: i64) -> AppResult<Vec<MyWorkspace>> {
    use crate::db::schema::workspace_messages as wm;
    let rows: Vec<(DbWorkspace, String, i64)> = workspaces::table
        .inner_join(workspace_members::table)
        .filter(workspace_members::actor_id.eq(actor_id))
        .select((
            DbWorkspace::as_select(),
            workspace_members::role,
            workspace_members::last_read_seq,
        ))
        .order((
            workspaces::archived_at.is_not_null(),
            workspaces::updated_at.desc(),
        ))
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (workspace, role, last_read) in rows {
        let unread: i64 = wm::table
            .filter(wm::workspace_id.eq(workspace.id))
            .filter(wm::seq.gt(last_read))
            .filter(wm::author_actor_id.ne(actor_id))
            .filter(wm::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        let members: i64 = workspace_members::table
            .filter(workspace_members::workspace_id.eq(workspace.id))
            .count()
            .get_result(conn)
            .await?;
        out.push(MyWorkspace {
            role: Role::parse(&role).unwrap_or(Role::Member),
            workspace,
            unread,
            members,
        });
    }
    Ok(out)
}

/// How many members a workspace has (for a member's view).
pub async fn member_count(conn: &mut AsyncPgConnection, access: &Access) -> AppResult<i64> {
    Ok(workspace_members::table
        .filter(workspace_members::workspace_id.eq(access.workspace.id))
        .count()
        .get_result(conn)
        .await?)
}

/// A listed workspace of this server, as anyone logged in may see it: name and description
/// only.
#[derive(Debug, Clone)]
pub struct ListedProject {
    pub id: Uuid,
    pub name: String,
    pub description_html: String,
}

/// The listed, unarchived workspaces hosted here that `actor_id` is not a member of, newest
/// first.
pub async fn listed_projects(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    limit: i64,
) -> AppResult<Vec<ListedProject>> {
    let mine = workspace_members::table
        .filter(workspace_members::actor_id.eq(actor_id))
        .select(workspace_members::workspace_id);
    let rows: Vec<(Uuid, String, String)> = workspaces::table
        .filter(workspaces::listed.eq(true))
        .filter(workspaces::local.eq(true))
        .filter(workspaces::archived_at.is_null())
        .filter(workspaces::id.ne_all(mine))
        .select((
            workspaces::id,
            workspaces::name,
            workspaces::description_html,
        ))
        .order(workspaces::created_at.desc())
        .limit(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, description_html)| ListedProject {
            id,
            name,
            description_html,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named() {
        let err = validate(
            "88",
            &WorkspaceInput {
                name: "  ".into(),
                commune: "Atlantis".into(),
                ..Default::default()
            },
        )
        .expect_err("invalid");
        let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "commune"]);
        let err = validate(
            "88",
            &WorkspaceInput {
                name: "x".repeat(151),
                ..Default::default()
            },
        )
        .expect_err("too long");
        assert_eq!(err.fields[0].message_key, "field.too_long");
    }

    #[test]
    fn a_good_input_is_resolved() {
        let fields = validate(
            "88",
            &WorkspaceInput {
                name: " Résidence ".into(),
                description: "Des **ateliers**<script>x</script>".into(),
                disciplines: vec!["Théâtre, danse".into(), "théâtre".into()],
                commune: "epinal".into(),
                listed: true,
            },
        )
        .expect("valid");
        assert_eq!(fields.name, "Résidence");
        assert_eq!(fields.commune_code.as_deref(), Some("88160"));
        assert_eq!(fields.disciplines, vec!["Théâtre", "danse"]);
        assert!(
            fields
                .description_html
                .contains("<strong>ateliers</strong>")
        );
        assert!(!fields.description_html.contains("script"));
        let name = "x".repeat(150);
        assert!(
            validate(
                "88",
                &WorkspaceInput {
                    name,
                    ..Default::default()
                }
            )
            .is_ok()
        );
    }
}
