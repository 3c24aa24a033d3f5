//! The header every page of a workspace shares: its name, its state (archived, remote) and
//! the links to its sections (activity, chat with its unread counter, documents, meetings,
//! members, settings), the current one marked. Pages hold a [`WorkspaceNav`] as `wsnav` and
//! include `workspaces/_nav.html`.

use crate::{
    db::schema::workspace_messages,
    error::AppResult,
    service::workspaces::{Access, Role},
    urls::workspace_page,
};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One workspace section: its path segment and its i18n key.
pub const SECTIONS: [(&str, &str); 5] = [
    ("", "workspaces.nav.activity"),
    ("discussion", "workspaces.nav.chat"),
    ("documents", "workspaces.nav.documents"),
    ("reunions", "workspaces.nav.meetings"),
    ("membres", "workspaces.nav.members"),
];

#[derive(Debug, Clone)]
pub struct WorkspaceNav {
    pub id: Uuid,
    pub name: String,
    pub archived: bool,
    /// Hosted here (a remote workspace is shown as its server delivered it).
    pub local: bool,
    pub role: Role,
    /// The section shown: "" (activity), `discussion`, `documents`, `reunions`, `membres`,
    /// `parametres`.
    pub current: &'static str,
    /// Chat messages of others the member has not seen.
    pub unread: i64,
}

impl WorkspaceNav {
    pub async fn load(
        conn: &mut AsyncPgConnection,
        access: &Access,
        current: &'static str,
    ) -> AppResult<WorkspaceNav> {
        let unread: i64 = workspace_messages::table
            .filter(workspace_messages::workspace_id.eq(access.workspace.id))
            .filter(workspace_messages::seq.gt(access.member.last_read_seq))
            .filter(workspace_messages::author_actor_id.ne(access.member.actor_id))
            .filter(workspace_messages::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        Ok(WorkspaceNav {
            id: access.workspace.id,
            name: access.workspace.name.clone(),
            archived: access.workspace.is_archived(),
            local: access.workspace.local,
            role: access.role,
            current,
            unread,
        })
    }

    pub fn link(&self, section: &str) -> String {
        workspace_page(&self.id, section)
    }

    pub fn is_current(&self, section: &str) -> bool {
        self.current == section
    }

    /// Coordinators and the owner of a workspace hosted here see its settings.
    pub fn can_manage(&self) -> bool {
        self.local && self.role >= Role::Coordinator
    }
}
