//! Documents of workspaces: folders, documents and their versions.

use super::schema::{workspace_document_versions, workspace_documents, workspace_folders};
use crate::db::actors::DbActor;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_folders)]
pub struct DbWorkspaceFolder {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub created_by_actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_documents)]
pub struct DbWorkspaceDocument {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub name: String,
    pub ap_id: String,
    pub created_by_actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = workspace_document_versions)]
pub struct DbWorkspaceDocumentVersion {
    pub id: Uuid,
    pub document_id: Uuid,
    pub version: i32,
    pub ap_id: String,
    pub uploaded_by_actor_id: Option<i64>,
    pub storage_key: Option<String>,
    pub remote_url: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspace_documents)]
pub struct NewWorkspaceDocument {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub folder_id: Option<Uuid>,
    pub name: String,
    pub ap_id: String,
    pub created_by_actor_id: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workspace_document_versions)]
pub struct NewWorkspaceDocumentVersion {
    pub id: Uuid,
    pub document_id: Uuid,
    pub version: i32,
    pub ap_id: String,
    pub uploaded_by_actor_id: Option<i64>,
    pub storage_key: Option<String>,
    pub remote_url: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// Every folder of a workspace, by name.
pub async fn folders(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
) -> QueryResult<Vec<DbWorkspaceFolder>> {
    workspace_folders::table
        .filter(workspace_folders::workspace_id.eq(workspace_id))
        .select(DbWorkspaceFolder::as_select())
        .order((workspace_folders::name, workspace_folders::id))
        .load(conn)
        .await
}

/// A folder of the workspace.
pub async fn folder(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceFolder>> {
    workspace_folders::table
        .filter(workspace_folders::workspace_id.eq(workspace_id))
        .filter(workspace_folders::id.eq(id))
        .select(DbWorkspaceFolder::as_select())
        .first(conn)
        .await
        .optional()
}

/// Inserts a folder; `None` when a folder of that name is already there.
pub async fn insert_folder(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    parent_id: Option<Uuid>,
    name: &str,
    actor_id: i64,
) -> QueryResult<Option<DbWorkspaceFolder>> {
    diesel::insert_into(workspace_folders::table)
        .values((
            workspace_folders::workspace_id.eq(workspace_id),
            workspace_folders::parent_id.eq(parent_id),
            workspace_folders::name.eq(name),
            workspace_folders::created_by_actor_id.eq(actor_id),
        ))
        .on_conflict_do_nothing()
        .returning(DbWorkspaceFolder::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Renames a folder; `None` when the new name is taken beside it.
pub async fn rename_folder(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
) -> QueryResult<Option<DbWorkspaceFolder>> {
    let parent: Option<Uuid> = workspace_folders::table
        .find(id)
        .select(workspace_folders::parent_id)
        .first(conn)
        .await?;
    let workspace: Uuid = workspace_folders::table
        .find(id)
        .select(workspace_folders::workspace_id)
        .first(conn)
        .await?;
    let taken = workspace_folders::table
        .filter(workspace_folders::workspace_id.eq(workspace))
        .filter(workspace_folders::parent_id.is_not_distinct_from(parent))
        .filter(workspace_folders::name.eq(name))
        .filter(workspace_folders::id.ne(id))
        .count()
        .get_result::<i64>(conn)
        .await?;
    if taken > 0 {
        return Ok(None);
    }
    diesel::update(workspace_folders::table.find(id))
        .set(workspace_folders::name.eq(name))
        .returning(DbWorkspaceFolder::as_returning())
        .get_result(conn)
        .await
        .map(Some)
}

/// Deletes folders (their sub-folders and documents go with them).
pub async fn delete_folders(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::delete(workspace_folders::table.filter(workspace_folders::id.eq_any(ids)))
        .execute(conn)
        .await
}

/// The live (not deleted) documents of the given folders (`None` = the top level), by name,
/// each with its latest version and the uploader of that version.
pub async fn live_in_folder(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    folder_id: Option<Uuid>,
) -> QueryResult<Vec<DbWorkspaceDocument>> {
    workspace_documents::table
        .filter(workspace_documents::workspace_id.eq(workspace_id))
        .filter(workspace_documents::folder_id.is_not_distinct_from(folder_id))
        .filter(workspace_documents::deleted_at.is_null())
        .select(DbWorkspaceDocument::as_select())
        .order((workspace_documents::name, workspace_documents::id))
        .load(conn)
        .await
}

/// Live documents in any of `folder_ids`.
pub async fn live_in_folders(
    conn: &mut AsyncPgConnection,
    folder_ids: &[Uuid],
) -> QueryResult<Vec<DbWorkspaceDocument>> {
    workspace_documents::table
        .filter(workspace_documents::folder_id.eq_any(folder_ids))
        .filter(workspace_documents::deleted_at.is_null())
        .select(DbWorkspaceDocument::as_select())
        .load(conn)
        .await
}

/// Storage keys of every version of every document (deleted or not) in `folder_ids`.
pub async fn storage_keys_in_folders(
    conn: &mut AsyncPgConnection,
    folder_ids: &[Uuid],
) -> QueryResult<Vec<String>> {
    workspace_document_versions::table
        .inner_join(workspace_documents::table)
        .filter(workspace_documents::folder_id.eq_any(folder_ids))
        .filter(workspace_document_versions::storage_key.is_not_null())
        .select(workspace_document_versions::storage_key.assume_not_null())
        .load(conn)
        .await
}

/// A live document of the workspace.
pub async fn live_by_id(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<DbWorkspaceDocument>> {
    workspace_documents::table
        .filter(workspace_documents::workspace_id.eq(workspace_id))
        .filter(workspace_documents::id.eq(id))
        .filter(workspace_documents::deleted_at.is_null())
        .select(DbWorkspaceDocument::as_select())
        .first(conn)
        .await
        .optional()
}

/// A document by its ActivityPub id (deleted or not).
pub async fn by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<DbWorkspaceDocument>> {
    workspace_documents::table
        .filter(workspace_documents::ap_id.eq(ap_id))
        .select(DbWorkspaceDocument::as_select())
        .first(conn)
        .await
        .optional()
}

/// The live document named `name` (case-insensitively) in a folder, locked.
pub async fn live_by_name_for_update(
    conn: &mut AsyncPgConnection,
    workspace_id: Uuid,
    folder_id: Option<Uuid>,
    name: &str,
) -> QueryResult<Option<DbWorkspaceDocument>> {
    workspace_documents::table
        .filter(workspace_documents::workspace_id.eq(workspace_id))
        .filter(workspace_documents::folder_id.is_not_distinct_from(folder_id))
        .filter(super::lower(workspace_documents::name).eq(name.to_lowercase()))
        .filter(workspace_documents::deleted_at.is_null())
        .select(DbWorkspaceDocument::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn insert_document(
    conn: &mut AsyncPgConnection,
    new: &NewWorkspaceDocument,
) -> QueryResult<DbWorkspaceDocument> {
    diesel::insert_into(workspace_documents::table)
        .values(new)
        .returning(DbWorkspaceDocument::as_returning())
        .get_result(conn)
        .await
}

pub async fn insert_version(
    conn: &mut AsyncPgConnection,
    new: &NewWorkspaceDocumentVersion,
) -> QueryResult<DbWorkspaceDocumentVersion> {
    diesel::insert_into(workspace_document_versions::table)
        .values(new)
        .returning(DbWorkspaceDocumentVersion::as_returning())
        .get_result(conn)
        .await
}

/// The highest version number of a document (0 when it has none).
pub async fn last_version_number(
    conn: &mut AsyncPgConnection,
    document_id: Uuid,
) -> QueryResult<i32> {
    workspace_document_versions::table
        .filter(workspace_document_versions::document_id.eq(document_id))
        .select(diesel::dsl::max(workspace_document_versions::version))
        .first::<Option<i32>>(conn)
        .await
        .map(|v| v.unwrap_or(0))
}

/// Marks a document as changed now.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<DbWorkspaceDocument> {
    diesel::update(workspace_documents::table.find(id))
        .set(workspace_documents::updated_at.eq(diesel::dsl::now))
        .returning(DbWorkspaceDocument::as_returning())
        .get_result(conn)
        .await
}

/// Soft-deletes documents.
pub async fn mark_deleted(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<DbWorkspaceDocument>> {
    diesel::update(
        workspace_documents::table
            .filter(workspace_documents::id.eq_any(ids))
            .filter(workspace_documents::deleted_at.is_null()),
    )
    .set(workspace_documents::deleted_at.eq(diesel::dsl::now))
    .returning(DbWorkspaceDocument::as_returning())
    .get_results(conn)
    .await
}

/// Every version of a document with its uploader, newest first.
pub async fn versions(
    conn: &mut AsyncPgConnection,
    document_id: Uuid,
) -> QueryResult<Vec<(DbWorkspaceDocumentVersion, Option<DbActor>)>> {
    use super::schema::actors;
    workspace_document_versions::table
        .left_join(
            actors::table.on(actors::id
                .nullable()
                .eq(workspace_document_versions::uploaded_by_actor_id)),
        )
        .filter(workspace_document_versions::document_id.eq(document_id))
        .select((
            DbWorkspaceDocumentVersion::as_select(),
            Option::<DbActor>::as_select(),
        ))
        .order(workspace_document_versions::version.desc())
        .load(conn)
        .await
}

/// The latest version of each of `document_ids`, with its uploader.
pub async fn latest_versions(
    conn: &mut AsyncPgConnection,
    document_ids: &[Uuid],
) -> QueryResult<Vec<(DbWorkspaceDocumentVersion, Option<DbActor>)>> {
    use super::schema::actors;
    workspace_document_versions::table
        .left_join(
            actors::table.on(actors::id
                .nullable()
                .eq(workspace_document_versions::uploaded_by_actor_id)),
        )
        .filter(workspace_document_versions::document_id.eq_any(document_ids))
        .distinct_on(workspace_document_versions::document_id)
        .select((
            DbWorkspaceDocumentVersion::as_select(),
            Option::<DbActor>::as_select(),
        ))
        .order((
            workspace_document_versions::document_id,
            workspace_document_versions::version.desc(),
        ))
        .load(conn)
        .await
}

/// One version of a document by number.
pub async fn version(
    conn: &mut AsyncPgConnection,
    document_id: Uuid,
    number: i32,
) -> QueryResult<Option<DbWorkspaceDocumentVersion>> {
    workspace_document_versions::table
        .filter(workspace_document_versions::document_id.eq(document_id))
        .filter(workspace_document_versions::version.eq(number))
        .select(DbWorkspaceDocumentVersion::as_select())
        .first(conn)
        .await
        .optional()
}

/// A version by id, with its document.
pub async fn version_by_id(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<(DbWorkspaceDocumentVersion, DbWorkspaceDocument)>> {
    workspace_document_versions::table
        .inner_join(workspace_documents::table)
        .filter(workspace_document_versions::id.eq(id))
        .select((
            DbWorkspaceDocumentVersion::as_select(),
            DbWorkspaceDocument::as_select(),
        ))
        .first(conn)
        .await
        .optional()
}

/// A version by ActivityPub id, with its document.
pub async fn version_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> QueryResult<Option<(DbWorkspaceDocumentVersion, DbWorkspaceDocument)>> {
    workspace_document_versions::table
        .inner_join(workspace_documents::table)
        .filter(workspace_document_versions::ap_id.eq(ap_id))
        .select((
            DbWorkspaceDocumentVersion::as_select(),
            DbWorkspaceDocument::as_select(),
        ))
        .first(conn)
        .await
        .optional()
}

/// Storage keys of every version of a document.
pub async fn storage_keys(
    conn: &mut AsyncPgConnection,
    document_id: Uuid,
) -> QueryResult<Vec<String>> {
    workspace_document_versions::table
        .filter(workspace_document_versions::document_id.eq(document_id))
        .filter(workspace_document_versions::storage_key.is_not_null())
        .select(workspace_document_versions::storage_key.assume_not_null())
        .load(conn)
        .await
}
