//! Private project workspaces (issue 12, DESIGN §3 "Privacy of workspaces"): the domain
//! functions that the pages, the JSON API and the inbox all call.
//!
//! Every function that reads or writes workspace content starts with [`access`] (or
//! [`access_as`]): a non-member gets the same 404 as for a workspace that does not exist,
//! a member without the role gets 403, and an archived workspace is read-only.
//!
//! One file per capability: [`manage`] (create, edit, archive, transfer), [`members`]
//! (roles, leave, remove), [`invitations`] (by username, e-mail or fediverse handle; join
//! requests), [`chat`], [`documents`], [`meetings`], [`activity`] (the activity page).

pub mod activity;
pub mod chat;
pub mod documents;
pub mod invitations;
pub mod manage;
pub mod meetings;
pub mod members;
pub mod mirror;

use crate::{
    context::AppContext,
    db::{
        self,
        workspaces::{DbWorkspace, DbWorkspaceMember},
    },
    error::{AppError, AppResult, ErrorKind},
};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

/// A member's role, from the least to the most rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything, chats, uploads documents, schedules meetings.
    Member,
    /// Also invites, answers join requests, removes members, edits the workspace.
    Coordinator,
    /// Also names coordinators, transfers ownership, archives. One per workspace.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Coordinator, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Coordinator => "coordinator",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The i18n key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::Member => "workspaces.role.member",
            Role::Coordinator => "workspaces.role.coordinator",
            Role::Owner => "workspaces.role.owner",
        }
    }
}

/// What a member may do in one workspace: the workspace, their membership and role.
#[derive(Debug, Clone)]
pub struct Access {
    pub workspace: DbWorkspace,
    pub member: DbWorkspaceMember,
    pub role: Role,
}

impl Access {
    /// 403 unless the member has at least `role`.
    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "your role in this workspace does not allow this",
            ))
        }
    }

    /// 409 when the workspace is archived (read-only for everyone).
    pub fn require_writable(&self) -> AppResult<()> {
        if self.workspace.is_archived() {
            Err(AppError::new(
                ErrorKind::Conflict,
                "this workspace is archived: it can be read, not changed",
            ))
        } else {
            Ok(())
        }
    }
}

/// The access of actor `actor_id` (a local member's actor, or a remote member's) to
/// workspace `id`, on the caller's connection. 404 when the workspace does not exist or the
/// actor is not a member: both answers are the same, so nobody learns a workspace exists.
pub async fn access_as(conn: &mut AsyncPgConnection, id: Uuid, actor_id: i64) -> AppResult<Access> {
    let Some(workspace) = db::workspaces::by_id(conn, id).await? else {
        return Err(AppError::not_found());
    };
    let Some(member) = db::workspaces::member(conn, id, actor_id).await? else {
        return Err(AppError::not_found());
    };
    let role = Role::parse(&member.role)
        .ok_or_else(|| AppError::internal(format!("unknown workspace role {}", member.role)))?;
    Ok(Access {
        workspace,
        member,
        role,
    })
}

/// [`access_as`] on a connection of its own.
pub async fn access(ctx: &AppContext, id: Uuid, actor_id: i64) -> AppResult<Access> {
    let mut conn = ctx.conn().await?;
    access_as(&mut conn, id, actor_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::Owner > Role::Coordinator && Role::Coordinator > Role::Member);
        assert_eq!(Role::parse("admin"), None);
    }
}
