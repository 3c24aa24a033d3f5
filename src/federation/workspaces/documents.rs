//! See the module documentation of `service::workspaces`.
//! Documents as private `Document`s whose `url` needs a fetch signed by a member: `Create`/`Delete` to the audience of [`super::audience`], the remote side that keeps them for our members, and the signed-fetch routes of a document and its file.
//!
//! A `Document` is one version of a document: its `id` is the version's
//! (`/workspaces/{ws}/versions/{uuid}`), `workspaceDocument` names the document the versions
//! belong to (`/workspaces/{ws}/documents/{uuid}`, the object of a `Delete`), and `url` is
//! `/workspaces/{ws}/files/{version uuid}`, served only to a GET signed by a member.

use crate::urls::same_origin;
use crate::{
    context::AppContext,
    db::{
        self,
        actors::DbActor,
        workspace_documents::{DbWorkspaceDocument, DbWorkspaceDocumentVersion},
        workspaces::DbWorkspace,
    },
    error::{AppError, AppResult},
    federation::{
        Data,
        activities::id_of,
        http_client,
        objects::AS_CONTEXT,
        outbound_signature::{SignAs, Signer},
        workspaces::{
            access,
            audience::{self, Audience, PrivateActivity, enqueue_private},
            inbound::{Action, Received},
        },
    },
    service::{
        outbound::{OutboundEvent, new_activity_id},
        workspaces::documents::{self as service, RemoteDocument},
    },
};
use activitypub_federation::axum::json::FederationJson;
use axum::{
    Router,
    body::Body,
    extract::Path,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use diesel_async::AsyncPgConnection;
use futures::{StreamExt, stream::BoxStream};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

/// Routes of this capability's objects (signed fetch by members only).
pub fn routes() -> Router {
    Router::new()
        .route(
            "/workspaces/{ws}/versions/{id}",
            get(http_get_version_document),
        )
        .route(
            "/workspaces/{ws}/documents/{id}",
            get(http_get_document_document),
        )
        .route("/workspaces/{ws}/files/{id}", get(http_get_file))
}

/// The URL of a version's bytes, for members' signed fetches.
pub fn file_url(ctx: &AppContext, workspace_id: &Uuid, version_id: &Uuid) -> String {
    format!("{}/files/{version_id}", ctx.urls.workspace(workspace_id))
}

/// The `Document` object of one version.
pub fn document_object(
    ctx: &AppContext,
    group_ap_id: &str,
    document: &DbWorkspaceDocument,
    version: &DbWorkspaceDocumentVersion,
    uploader_ap_id: Option<&str>,
    to: &[Url],
) -> Value {
    let mut object = json!({
        "id": version.ap_id,
        "type": "Document",
        "name": document.name,
        "mediaType": version.content_type,
        "size": version.size_bytes,
        "url": {
            "type": "Link",
            "href": file_url(ctx, &document.workspace_id, &version.id),
            "mediaType": version.content_type,
        },
        "workspaceDocument": document.ap_id,
        "version": version.version,
        "published": version.created_at.to_rfc3339(),
        "audience": group_ap_id,
        "context": group_ap_id,
        "to": to,
    });
    if let Some(uploader) = uploader_ap_id {
        object["attributedTo"] = json!(uploader);
    }
    object
}

/// The activity and deliveries of one of this capability's events.
pub async fn record(
    ctx: &AppContext,
    conn: &mut AsyncPgConnection,
    event: OutboundEvent,
) -> AppResult<()> {
    match event {
        OutboundEvent::WorkspaceDocumentAdded {
            workspace,
            document,
            version,
            uploader,
        } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let Audience { to, inboxes } = audience::of(conn, &workspace, None).await?;
            let id = new_activity_id(ctx)?;
            let object = document_object(
                ctx,
                &group.ap_id,
                &document,
                &version,
                Some(&uploader.ap_id),
                &to,
            );
            let json = json!({
                "@context": AS_CONTEXT,
                "id": id,
                "type": "Create",
                "actor": uploader.ap_id,
                "to": to,
                "object": object,
            });
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Create",
                    actor: &uploader,
                    object_ap_id: &version.ap_id,
                    json,
                },
                inboxes,
            )
            .await
        }
        OutboundEvent::WorkspaceDocumentDeleted {
            workspace,
            document,
            actor,
        } => {
            let group = db::actors::by_id(conn, workspace.actor_id).await?;
            let Audience { to, inboxes } = audience::of(conn, &workspace, None).await?;
            let id = new_activity_id(ctx)?;
            let json = json!({
                "@context": AS_CONTEXT,
                "id": id,
                "type": "Delete",
                "actor": actor.ap_id,
                "to": to,
                "object": {
                    "id": document.ap_id,
                    "type": "Tombstone",
                    "formerType": "Document",
                    "audience": group.ap_id,
                    "context": group.ap_id,
                },
            });
            enqueue_private(
                ctx,
                conn,
                PrivateActivity {
                    id: &id,
                    kind: "Delete",
                    actor: &actor,
                    object_ap_id: &document.ap_id,
                    json,
                },
                inboxes,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// An object of this capability that arrived for a workspace we hold: a remote workspace's
/// document is kept by URL (no bytes copied) for our members; `Update` is not used.
pub async fn receive(data: &Data, received: Received<'_>) -> AppResult<()> {
    let ctx = data.app_data();
    if received.workspace.local {
        // Our own workspaces' documents are uploaded here, not pushed to us.
        return Ok(());
    }
    let mut conn = ctx.conn().await?;
    received.check_sender(&mut conn).await?;
    match received.action {
        Action::Delete => {
            let Some(id) = id_of(received.object) else {
                return Err(AppError::bad_request("Delete without an object id"));
            };
            let document = db::workspace_documents::by_ap_id(&mut conn, id.as_str()).await?;
            if let Some(document) = document {
                let author_ok =
                    received.relayed() || document.created_by_actor_id == Some(received.sender.id);
                if !author_ok {
                    return Err(AppError::forbidden("only its author deletes a document"));
                }
            }
            service::receive_remote_delete(&mut conn, received.workspace, id.as_str()).await
        }
        Action::Update => Ok(()),
        Action::Create => {
            let author = received.author_url()?;
            let uploader = match db::actors::by_ap_id(&mut conn, author.as_str()).await? {
                Some(a) => a,
                None => {
                    activitypub_federation::fetch::object_id::ObjectId::<DbActor>::from(author)
                        .dereference(data)
                        .await?
                }
            };
            let object = received.object;
            let field = |name: &str| object.get(name).and_then(Value::as_str);
            let version_ap_id = object
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| AppError::bad_request("Document without id"))?;
            let url = match object.get("url") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(m)) => m.get("href").and_then(Value::as_str).map(String::from),
                Some(Value::Array(a)) => a.iter().find_map(|l| match l {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(m) => m.get("href").and_then(Value::as_str).map(String::from),
                    _ => None,
                }),
                _ => None,
            }
            .ok_or_else(|| AppError::bad_request("Document without url"))?;
            // The bytes must come from the workspace's own server (or the version's).
            let url_parsed = Url::parse(&url)?;
            if !same_origin(&url_parsed, &Url::parse(&received.group.ap_id)?)
                && !same_origin(&url_parsed, &Url::parse(version_ap_id)?)
            {
                return Err(AppError::bad_request("Document url on another server"));
            }
            let remote = RemoteDocument {
                document_ap_id: field("workspaceDocument")
                    .unwrap_or(version_ap_id)
                    .to_string(),
                version_ap_id: version_ap_id.to_string(),
                name: field("name").unwrap_or_default().to_string(),
                content_type: field("mediaType").unwrap_or_default().to_string(),
                size_bytes: object.get("size").and_then(Value::as_i64).unwrap_or(0),
                url,
            };
            if remote.size_bytes > i64::try_from(ctx.config.max_upload_bytes()).unwrap_or(i64::MAX)
            {
                return Err(AppError::field("size", "uploads.file.too_large"));
            }
            service::receive_remote(ctx, &mut conn, received.workspace, &uploader, remote).await
        }
    }
}

async fn local_workspace(ctx: &AppContext, ws: &str) -> AppResult<DbWorkspace> {
    let id = Uuid::parse_str(ws).map_err(|_| AppError::not_found())?;
    let mut conn = ctx.conn().await?;
    db::workspaces::by_id(&mut conn, id)
        .await?
        .filter(|w| w.local)
        .ok_or_else(AppError::not_found)
}

async fn document_response(
    ctx: &AppContext,
    workspace: &DbWorkspace,
    document: &DbWorkspaceDocument,
    version: &DbWorkspaceDocumentVersion,
) -> AppResult<Response> {
    let mut conn = ctx.conn().await?;
    let group = db::actors::by_id(&mut conn, workspace.actor_id).await?;
    let Audience { to, .. } = audience::of(&mut conn, workspace, None).await?;
    let uploader = match version.uploaded_by_actor_id {
        Some(id) => Some(db::actors::by_id(&mut conn, id).await?.ap_id),
        None => None,
    };
    let mut object = document_object(
        ctx,
        &group.ap_id,
        document,
        version,
        uploader.as_deref(),
        &to,
    );
    object["@context"] = json!(AS_CONTEXT);
    Ok(FederationJson(object).into_response())
}

/// `/workspaces/{ws}/versions/{id}`: one version as a `Document`, to members only.
async fn http_get_version_document(
    data: Data,
    parts: Parts,
    Path((ws, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace = local_workspace(ctx, &ws).await?;
    let member = access::member_fetch(&data, &parts, &workspace).await?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found())?;
    let got = service::version_for_member(ctx, workspace.id, id, member.id).await?;
    document_response(ctx, &workspace, &got.document, &got.version).await
}

/// `/workspaces/{ws}/documents/{id}`: the latest version of a document, to members only.
async fn http_get_document_document(
    data: Data,
    parts: Parts,
    Path((ws, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace = local_workspace(ctx, &ws).await?;
    access::member_fetch(&data, &parts, &workspace).await?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found())?;
    let mut conn = ctx.conn().await?;
    let document = db::workspace_documents::live_by_id(&mut conn, workspace.id, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let number = db::workspace_documents::last_version_number(&mut conn, document.id).await?;
    let version = db::workspace_documents::version(&mut conn, document.id, number)
        .await?
        .ok_or_else(AppError::not_found)?;
    drop(conn);
    document_response(ctx, &workspace, &document, &version).await
}

/// `/workspaces/{ws}/files/{version}`: the bytes, to a member's signed fetch only.
async fn http_get_file(
    data: Data,
    parts: Parts,
    Path((ws, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let workspace = local_workspace(ctx, &ws).await?;
    let member = access::member_fetch(&data, &parts, &workspace).await?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::not_found())?;
    let got = service::version_for_member(ctx, workspace.id, id, member.id).await?;
    let service::Source::Stored(key) = &got.source else {
        return Err(AppError::not_found());
    };
    let (stream, size) = ctx.storage.get(key).await?;
    file_response(
        &got.document.name,
        &got.version.content_type,
        size,
        stream,
        false,
    )
}

/// A file answer with the safe headers: the stored content type, `nosniff`, its length, and
/// `Content-Disposition: attachment` (or `inline`, asked only for raster images).
pub fn file_response(
    name: &str,
    content_type: &str,
    size: u64,
    stream: BoxStream<'static, std::io::Result<Bytes>>,
    inline: bool,
) -> AppResult<Response> {
    let inline = inline && service::is_inline_image(content_type);
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii_fallback(name),
        percent_encode(name)
    );
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| AppError::internal(e.to_string()))?,
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// RFC 5987 `attr-char` kept, everything else percent-encoded (UTF-8).
fn percent_encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fetches the bytes of a remote workspace's document for our member: a GET signed with
/// the MEMBER's key (the remote workspace serves files to its members only, not to our
/// instance actor), draft-cavage `rsa-sha256` over `(request-target) host date`. Bodies over
/// `max_bytes` are cut off with an error.
pub async fn fetch_remote_file(
    ctx: &AppContext,
    member: &DbActor,
    url: &str,
    max_bytes: u64,
) -> AppResult<(BoxStream<'static, std::io::Result<Bytes>>, u64)> {
    let url = Url::parse(url)?;
    let allow_private = ctx.config.federation.allow_private_addresses;
    http_client::check_url(&url, allow_private)
        .map_err(|e| AppError::unavailable(format!("document URL refused: {e:?}")))?;
    let pem = member
        .private_key_pem
        .as_deref()
        .ok_or_else(|| AppError::internal("a local member without a private key"))?;
    let signer = Signer::for_actor(&member.ap_id, pem)
        .map_err(|e| AppError::internal(format!("member key: {e}")))?;
    let client = http_client::build_federation_client(
        ctx,
        allow_private,
        &crate::federation::user_agent(ctx),
        None,
    )
    .map_err(|e| AppError::unavailable(format!("http client: {e}")))?;
    // Signed as the member by the client's signer, in the scheme the server reads.
    let response = client
        .get(url.clone())
        .with_extension(SignAs(std::sync::Arc::new(signer)))
        .send()
        .await
        .map_err(|e| AppError::unavailable(format!("fetching the document: {e}")))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND
        || response.status() == reqwest::StatusCode::GONE
    {
        return Err(AppError::not_found());
    }
    if !response.status().is_success() {
        return Err(AppError::unavailable(format!(
            "the document's server answered {}",
            response.status()
        )));
    }
    let length = response
        .content_length()
        .ok_or_else(|| AppError::unavailable("the document's server sent no length"))?;
    if length > max_bytes {
        return Err(AppError::unavailable(
            "the document is larger than this server accepts",
        ));
    }
    let mut seen: u64 = 0;
    let stream = response
        .bytes_stream()
        .map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            seen += chunk.len() as u64;
            if seen > length {
                return Err(std::io::Error::other("longer than announced"));
            }
            Ok(chunk)
        })
        .boxed();
    Ok((stream, length))
}
