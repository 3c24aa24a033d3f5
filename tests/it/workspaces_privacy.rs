//! Privacy of workspaces over federation (DESIGN §3): the `Group` actor and every
//! `/workspaces/{id}/…` URL answer 404 to anyone but members (and invitees, and their
//! servers), exactly as an unknown id does; WebFinger, NodeInfo, outboxes, feeds and
//! `/activities/{id}` never show a workspace; membership activities go to personal inboxes,
//! addressed by id only; a Follow of a workspace stores nothing; invitations, removals and
//! updates from a remote workspace reach our member's mirror of it.
//!
//! W has a local member m1 (owner) and a remote member r1 (a row with a key of ours, so the
//! test signs r1's fetches); o is a local outsider, x a remote one.

use crate::{
    common::TestApp,
    federation_inbox::{KEYS, Remote, Signing, remote_actor, signed_post},
    helpers::queued,
};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use culturecnous::{
    db::{
        self,
        actors::DbActor,
        schema::{
            activities, actors, follows, notifications, workspace_invitations, workspace_members,
            workspaces,
        },
        workspaces::{DbWorkspace, DbWorkspaceInvitation, NewWorkspace},
    },
    service::outbound::{self, OutboundEvent},
};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const AP: &str = "application/activity+json";
const BASE: &str = "http://localhost:8080";

/// A local workspace owned by `owner`, made as the page makes it (`manage::create`).
pub async fn create_workspace(app: &TestApp, name: &str, owner: &DbActor) -> DbWorkspace {
    let account = db::accounts::by_actor_id(&mut app.ctx.conn().await.expect("conn"), owner.id)
        .await
        .expect("query")
        .expect("owner account");
    crate::helpers::new_workspace(&app.ctx, &account, name, false).await
}

pub async fn add_member(app: &TestApp, workspace: &DbWorkspace, actor: &DbActor, role: &str) {
    crate::helpers::add_workspace_member(&app.ctx, workspace.id, actor.id, role).await;
}

/// A pending invitation of `invitee` to `workspace`, with an `Invite` id when remote.
async fn invite(
    app: &TestApp,
    workspace: &DbWorkspace,
    invitee: &DbActor,
) -> DbWorkspaceInvitation {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::insert_into(workspace_invitations::table)
        .values((
            workspace_invitations::workspace_id.eq(workspace.id),
            workspace_invitations::invited_by_actor_id.eq(workspace.actor_id),
            workspace_invitations::actor_id.eq(invitee.id),
            workspace_invitations::message.eq("Rejoignez-nous <vite>"),
            workspace_invitations::ap_id.eq(format!("{BASE}/activities/{}", Uuid::new_v4())),
        ))
        .returning(DbWorkspaceInvitation::as_returning())
        .get_result(&mut conn)
        .await
        .expect("invitation")
}

async fn record(app: &TestApp, event: OutboundEvent) {
    let mut conn = app.ctx.conn().await.expect("conn");
    outbound::record(&app.ctx, &mut conn, event)
        .await
        .expect("record");
}

async fn group_of(app: &TestApp, workspace: &DbWorkspace) -> DbActor {
    let mut conn = app.ctx.conn().await.expect("conn");
    db::actors::by_id(&mut conn, workspace.actor_id)
        .await
        .expect("group")
}

/// A GET of `path` signed with `key` under `key_id` (draft-cavage, as Mastodon fetches).
fn signed_get(path: &str, key: &RsaPrivateKey, key_id: &str) -> Request<Body> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let signing_string =
        format!("(request-target): get {path}\nhost: localhost:8080\ndate: {date}");
    let signature = key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
        )
        .expect("sign");
    Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("host", "localhost:8080")
        .header("date", date)
        .header(header::ACCEPT, AP)
        .header(
            "signature",
            format!(
                "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{}\"",
                BASE64.encode(signature)
            ),
        )
        .body(Body::empty())
        .expect("request")
}

async fn fetch_as(app: &TestApp, path: &str, who: &Remote) -> (StatusCode, String) {
    let r = app.send(signed_get(path, &who.key, &who.key_id)).await;
    (r.status, r.body)
}

/// Posts `activity` signed by `from` to `path` (an inbox).
async fn post_to(app: &TestApp, path: &str, from: &Remote, activity: &Value) -> StatusCode {
    let body = serde_json::to_vec(activity).expect("json");
    app.send(signed_post(path, body, &Signing::by(from)))
        .await
        .status
}

struct World {
    w: DbWorkspace,
    m1: DbActor,
    r1: Remote,
    x: Remote,
}

async fn world(app: &TestApp) -> World {
    app.create_user("membre1", "member").await;
    app.create_user("outsider", "member").await;
    let m1 = crate::helpers::local_actor(app, "membre1").await;
    let w = create_workspace(app, "Résidence secrète", &m1).await;
    let r1 = remote_actor(app, "http://remote.example:1234", "r1", 0).await;
    add_member(app, &w, &r1.actor, "member").await;
    let x = remote_actor(app, "http://erin.example:4321", "x", 1).await;
    World { w, m1, r1, x }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_group_is_served_to_members_only_and_404s_like_an_unknown_id() {
    let app = TestApp::new().await;
    let World { w, r1, x, .. } = world(&app).await;
    let path = format!("/workspaces/{}", w.id);
    let unknown = format!("/workspaces/{}", Uuid::new_v4());
    let missing = app.get(&unknown, AP).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let same_404 = |status: StatusCode, body: &str, what: &str| {
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(body, missing.body, "{what}: not the 404 of an unknown id");
    };
    // Unsigned, signed by an outsider, or with a bad signature (r1's key id, x's key).
    let r = app.get(&path, AP).await;
    same_404(r.status, &r.body, "unsigned");
    let (status, body) = fetch_as(&app, &path, &x).await;
    same_404(status, &body, "signed by x");
    let forged = app.send(signed_get(&path, &x.key, &r1.key_id)).await;
    same_404(forged.status, &forged.body, "bad signature");
    // x's signed fetch of an unknown id answers the same.
    let (status, body) = fetch_as(&app, &unknown, &x).await;
    same_404(status, &body, "x, unknown id");
    // Any object URL under the workspace: the same as under an unknown workspace.
    let object = format!("{path}/messages/{}", Uuid::new_v4());
    let unknown_object = app
        .get(&format!("{unknown}/messages/{}", Uuid::new_v4()), AP)
        .await;
    assert_eq!(unknown_object.status, StatusCode::NOT_FOUND);
    for r in [
        app.get(&object, AP).await,
        app.send(signed_get(&object, &x.key, &x.key_id)).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.body, unknown_object.body);
    }

    // A member gets the Group.
    let (status, body) = fetch_as(&app, &path, &r1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doc: Value = serde_json::from_str(&body).expect("json");
    let group_id = format!("{BASE}{path}");
    assert_eq!(doc["type"], "Group");
    assert_eq!(doc["id"], group_id);
    assert_eq!(doc["preferredUsername"], w.id.to_string());
    assert_eq!(doc["name"], "Résidence secrète");
    assert_eq!(doc["summary"], "<p>Une résidence avec des ateliers</p>\n");
    assert_eq!(doc["inbox"], format!("{group_id}/inbox"));
    assert_eq!(doc["publicKey"]["owner"], group_id);
    assert_eq!(doc["manuallyApprovesFollowers"], true);
    assert_eq!(doc["discoverable"], false);
    for absent in ["outbox", "followers", "following", "endpoints", "url"] {
        assert!(doc.get(absent).is_none(), "{absent} advertised: {doc}");
    }
    // It parses as an actor, as another server of ours reads it.
    let person: culturecnous::federation::objects::person::Person =
        serde_json::from_value(doc).expect("actor document");
    assert_eq!(person.inbox.as_str(), format!("{group_id}/inbox"));

    // A pending remote invitee, and any actor of their server (its instance actor checks
    // our Invite with this document); nobody else on other servers.
    let invitee = remote_actor(&app, "http://fans.example:4321", "paula", 1).await;
    let instance = remote_actor(&app, "http://fans.example:4321", "instance", 2).await;
    assert_eq!(
        fetch_as(&app, &path, &invitee).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch_as(&app, &path, &instance).await.0,
        StatusCode::NOT_FOUND
    );
    invite(&app, &w, &invitee.actor).await;
    assert_eq!(fetch_as(&app, &path, &invitee).await.0, StatusCode::OK);
    assert_eq!(fetch_as(&app, &path, &instance).await.0, StatusCode::OK);
    let (status, body) = fetch_as(&app, &path, &x).await;
    same_404(status, &body, "x after the invitation");

    // Browsers are sent to the page (which answers 404 to non-members), for any id.
    for p in [&path, &unknown] {
        let r = app.get_html(p).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{p}");
        assert_eq!(
            r.header("location"),
            Some(p.replace("/workspaces/", "/espaces/").as_str())
        );
    }

    // A listed workspace shows its name and description to anyone.
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::update(workspaces::table.find(w.id))
        .set(workspaces::listed.eq(true))
        .execute(&mut conn)
        .await
        .expect("list");
    let r = app.get(&path, AP).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["name"], "Résidence secrète");
}

#[tokio::test(flavor = "multi_thread")]
async fn webfinger_nodeinfo_outboxes_feeds_and_activities_never_show_the_workspace() {
    let app = TestApp::new().await;
    let World { w, m1, r1, .. } = world(&app).await;
    let nodeinfo_before = app.get("/nodeinfo/2.1", "application/json").await.body;
    let group = group_of(&app, &w).await;
    // Membership activities of W: an Update of the Group, an Invite, and our member leaving
    // a remote workspace (an activity of m1's own).
    record(
        &app,
        OutboundEvent::WorkspaceUpdated {
            workspace: Box::new(w.clone()),
        },
    )
    .await;
    let p = remote_actor(&app, "http://fans.example:4321", "paula", 1).await;
    let invitation = invite(&app, &w, &p.actor).await;
    record(
        &app,
        OutboundEvent::WorkspaceInvited {
            workspace: Box::new(w.clone()),
            invitation: Box::new(invitation),
            invitee: Box::new(p.actor.clone()),
        },
    )
    .await;
    let (remote_ws, _) = remote_workspace(&app, &m1).await;
    record(
        &app,
        OutboundEvent::WorkspaceLeft {
            workspace: Box::new(remote_ws),
            member: Box::new(m1.clone()),
        },
    )
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let rows: Vec<(String, bool)> = activities::table
        .filter(activities::kind.eq_any(["Update", "Invite", "Leave"]))
        .select((activities::ap_id, activities::public))
        .load(&mut conn)
        .await
        .expect("activities");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|(_, public)| !public), "{rows:?}");
    // Not served at /activities/{id}, not in any outbox.
    for (ap_id, _) in &rows {
        let path = ap_id.strip_prefix(BASE).expect("ours");
        assert_eq!(
            app.get(path, AP).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            fetch_as(&app, path, &r1).await.0,
            StatusCode::NOT_FOUND,
            "{path} to a member"
        );
    }
    for outbox in ["/users/membre1/outbox?page=1", "/actor/outbox?page=1"] {
        let r = app.get(outbox, AP).await;
        assert_eq!(r.status, StatusCode::OK, "{outbox}");
        assert_eq!(r.json()["orderedItems"], json!([]), "{outbox}");
        for (ap_id, _) in &rows {
            assert!(!r.body.contains(ap_id.as_str()), "{outbox}");
        }
    }
    let totals = app.get("/users/membre1/outbox", AP).await.json();
    assert_eq!(totals["totalItems"], 0);
    // NodeInfo counts nothing of it.
    assert_eq!(
        app.get("/nodeinfo/2.1", "application/json").await.body,
        nodeinfo_before
    );
    // WebFinger does not know it, by handle or by id.
    for resource in [format!("acct:{}@localhost:8080", w.id), group.ap_id.clone()] {
        let r = app
            .get(
                &format!("/.well-known/webfinger?resource={resource}"),
                "application/jrd+json",
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{resource}");
    }
    // Feeds do not name it.
    for feed in [
        "/actualites/rss.xml",
        "/annonces/atom.xml",
        "/blog/membre1/rss.xml",
    ] {
        let r = app.get(feed, "*/*").await;
        assert_eq!(r.status, StatusCode::OK, "{feed}");
        assert!(!r.body.contains("Résidence secrète"), "{feed}");
        assert!(!r.body.contains(&w.id.to_string()), "{feed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn membership_activities_go_to_personal_inboxes_addressed_by_id_only() {
    let app = TestApp::new().await;
    let World { w, r1, .. } = world(&app).await;
    let group = group_of(&app, &w).await;
    // The Invite: from the Group, to the invitee's own inbox (not the shared one).
    let p = remote_actor(&app, "http://fans.example:4321", "paula", 1).await;
    let invitation = invite(&app, &w, &p.actor).await;
    record(
        &app,
        OutboundEvent::WorkspaceInvited {
            workspace: Box::new(w.clone()),
            invitation: Box::new(invitation.clone()),
            invitee: Box::new(p.actor.clone()),
        },
    )
    .await;
    let invites = queued(&app, "Invite").await;
    assert_eq!(invites.len(), 1);
    let (json, inboxes) = &invites[0];
    assert_eq!(inboxes, &vec![p.actor.inbox_url.clone()]);
    assert_eq!(json["id"], invitation.ap_id.clone().expect("ap_id"));
    assert_eq!(json["actor"], group.ap_id);
    assert_eq!(json["object"], group.ap_id);
    assert_eq!(json["target"], p.id());
    assert_eq!(json["to"], json!([p.id()]));
    assert!(json.get("cc").is_none() && json.get("bto").is_none());
    assert_eq!(json["content"], "<p>Rejoignez-nous &lt;vite&gt;</p>");

    // An Update of the Group: to the remote members (r1), each by id, nothing else.
    record(
        &app,
        OutboundEvent::WorkspaceUpdated {
            workspace: Box::new(w.clone()),
        },
    )
    .await;
    let updates = queued(&app, "Update").await;
    assert_eq!(updates.len(), 1);
    let (json, inboxes) = &updates[0];
    assert_eq!(inboxes, &vec![r1.actor.inbox_url.clone()]);
    assert_eq!(json["to"], json!([r1.id()]));
    assert!(json.get("cc").is_none());
    assert_eq!(json["actor"], group.ap_id);
    assert_eq!(json["object"]["type"], "Group");
    assert_eq!(json["object"]["name"], "Résidence secrète");
    assert!(json["object"].get("followers").is_none());

    // A Remove: to the removed member only (gone from the members already).
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::delete(workspace_members::table.find((w.id, r1.actor.id)))
        .execute(&mut conn)
        .await
        .expect("remove");
    record(
        &app,
        OutboundEvent::WorkspaceMemberRemoved {
            workspace: Box::new(w.clone()),
            member: Box::new(r1.actor.clone()),
        },
    )
    .await;
    let removes = queued(&app, "Remove").await;
    assert_eq!(removes.len(), 1);
    let (json, inboxes) = &removes[0];
    assert_eq!(inboxes, &vec![r1.actor.inbox_url.clone()]);
    assert_eq!(json["to"], json!([r1.id()]));
    assert_eq!(json["object"], r1.id());
    assert_eq!(json["target"], group.ap_id);
    // From then on, r1 receives nothing: a later Update has nobody to go to.
    record(
        &app,
        OutboundEvent::WorkspaceUpdated {
            workspace: Box::new(w.clone()),
        },
    )
    .await;
    assert_eq!(queued(&app, "Update").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follow_of_the_workspace_is_dropped_and_stores_nothing() {
    let app = TestApp::new().await;
    let World { w, x, .. } = world(&app).await;
    let group = group_of(&app, &w).await;
    let follows_before: i64 = {
        let mut conn = app.ctx.conn().await.expect("conn");
        follows::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count")
    };
    for (n, target) in [
        group.ap_id.clone(),
        format!("{BASE}/workspaces/{}", Uuid::new_v4()),
    ]
    .into_iter()
    .enumerate()
    {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/follow-ws-{n}", x.id()),
            "type": "Follow", "actor": x.id(), "object": target,
        });
        for inbox in ["/inbox", &format!("/workspaces/{}/inbox", w.id)] {
            assert_eq!(
                post_to(&app, inbox, &x, &follow).await,
                StatusCode::ACCEPTED,
                "{inbox}"
            );
        }
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    let follows_after: i64 = follows::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(follows_after, follows_before);
    // No answer either: nothing tells x the workspace exists.
    assert!(queued(&app, "Accept").await.is_empty());
    assert!(queued(&app, "Reject").await.is_empty());
    // A local member cannot follow it either.
    let o = crate::helpers::local_actor(&app, "outsider").await;
    let state = culturecnous::service::follows::accept_inbound_follow(
        &app.ctx,
        &o,
        &group,
        &url::Url::parse("http://localhost:8080/activities/local-follow").expect("url"),
    )
    .await
    .expect("follow");
    assert_eq!(
        state,
        Some(culturecnous::service::follows::FollowState::Rejected)
    );
    let follows_now: i64 = follows::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(follows_now, follows_before);
}

/// A remote workspace `Group` (on remote.example:1234, signing with key 2) with `member`
/// of ours already in its mirror.
async fn remote_workspace(app: &TestApp, member: &DbActor) -> (DbWorkspace, Remote) {
    let group = remote_group(app).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let workspace = db::workspaces::insert(
        &mut conn,
        &NewWorkspace {
            id: Uuid::new_v4(),
            actor_id: group.actor.id,
            local: false,
            name: "Projet d'ailleurs".into(),
            description_markdown: String::new(),
            description_html: String::new(),
            disciplines: Vec::new(),
            commune_code: None,
            listed: false,
            created_by_account_id: None,
        },
    )
    .await
    .expect("mirror");
    add_member(app, &workspace, member, "member").await;
    (workspace, group)
}

/// The `Group` actor of a workspace on remote.example:1234.
async fn remote_group(app: &TestApp) -> Remote {
    let group = remote_actor(app, "http://remote.example:1234", "projet", 2).await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = diesel::update(actors::table.find(group.actor.id))
        .set((
            actors::kind.eq("Group"),
            actors::name.eq("Projet d'ailleurs"),
            actors::summary_html.eq("<p>Un projet</p>"),
            actors::shared_inbox_url.eq(None::<String>),
        ))
        .returning(DbActor::as_returning())
        .get_result(&mut conn)
        .await
        .expect("group");
    Remote { actor, ..group }
}

async fn notification_kinds(app: &TestApp, workspace: Uuid) -> Vec<String> {
    let mut conn = app.ctx.conn().await.expect("conn");
    notifications::table
        .filter(notifications::workspace_id.eq(workspace))
        .order(notifications::id)
        .select(notifications::kind)
        .load(&mut conn)
        .await
        .expect("notifications")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_workspace_invites_updates_and_removes_our_member() {
    let app = TestApp::new().await;
    app.create_user("membre1", "member").await;
    let m1 = crate::helpers::local_actor(&app, "membre1").await;
    let group = remote_group(&app).await;
    let invite_json = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "http://remote.example:1234/activities/invite-1",
        "type": "Invite",
        "actor": group.id(),
        "object": group.id(),
        "target": m1.ap_id,
        "to": [m1.ap_id],
        "content": "<p>Venez <b>vite</b></p>",
    });
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &group, &invite_json).await,
        StatusCode::ACCEPTED
    );
    // Replayed: nothing more.
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &group, &invite_json).await,
        StatusCode::ACCEPTED
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    let mirror: DbWorkspace = workspaces::table
        .filter(workspaces::actor_id.eq(group.actor.id))
        .select(DbWorkspace::as_select())
        .first(&mut conn)
        .await
        .expect("mirror");
    assert!(!mirror.local);
    assert_eq!(mirror.name, "Projet d'ailleurs");
    assert_eq!(mirror.description_html, "<p>Un projet</p>");
    let invitations: Vec<DbWorkspaceInvitation> = workspace_invitations::table
        .filter(workspace_invitations::workspace_id.eq(mirror.id))
        .select(DbWorkspaceInvitation::as_select())
        .load(&mut conn)
        .await
        .expect("invitations");
    assert_eq!(invitations.len(), 1);
    let invitation = &invitations[0];
    assert_eq!(invitation.actor_id, Some(m1.id));
    assert_eq!(invitation.invited_by_actor_id, group.actor.id);
    assert_eq!(invitation.status, "pending");
    assert_eq!(invitation.message, "Venez vite");
    assert_eq!(
        invitation.ap_id.as_deref(),
        Some(invite_json["id"].as_str().expect("id"))
    );
    assert_eq!(
        notification_kinds(&app, mirror.id).await,
        vec!["workspace_invitation".to_string()]
    );
    // Nobody is a member yet.
    let members: i64 = workspace_members::table
        .filter(workspace_members::workspace_id.eq(mirror.id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(members, 0);
    // An Invite of someone who is not ours, or from a Person, stores nothing.
    for (n, (actor, target)) in [
        (group.id(), "http://elsewhere.example/users/z"),
        (group.id(), "http://localhost:8080/users/nobody"),
    ]
    .into_iter()
    .enumerate()
    {
        let other = json!({
            "id": format!("http://remote.example:1234/activities/invite-x{n}"),
            "type": "Invite", "actor": actor, "object": group.id(), "target": target,
        });
        assert_eq!(
            post_to(&app, "/inbox", &group, &other).await,
            StatusCode::ACCEPTED
        );
    }
    let r1 = remote_actor(&app, "http://erin.example:4321", "r1", 0).await;
    let from_person = json!({
        "id": "http://erin.example:4321/activities/invite-p",
        "type": "Invite", "actor": r1.id(), "object": r1.id(), "target": m1.ap_id,
    });
    assert_eq!(
        post_to(&app, "/inbox", &r1, &from_person).await,
        StatusCode::ACCEPTED
    );
    let all: i64 = workspace_invitations::table
        .count()
        .get_result(&mut conn)
        .await
        .expect("count");
    assert_eq!(all, 1);

    // Our member joined (the members' side records it); the Group then changes.
    add_member(&app, &mirror, &m1, "member").await;
    let update = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": "http://remote.example:1234/activities/update-1",
        "type": "Update",
        "actor": group.id(),
        "to": [m1.ap_id],
        "object": {
            "id": group.id(), "type": "Group", "preferredUsername": "projet",
            "name": "Projet renommé", "summary": "<p>Nouvelle description</p>",
            "inbox": format!("{}/inbox", group.id()),
            "publicKey": {
                "id": group.key_id, "owner": group.id(),
                "publicKeyPem": KEYS[2].public_key,
            },
            "manuallyApprovesFollowers": true,
            "archived": "2026-12-01T10:00:00Z",
        },
    });
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &group, &update).await,
        StatusCode::ACCEPTED
    );
    let mirror: DbWorkspace = workspaces::table
        .find(mirror.id)
        .select(DbWorkspace::as_select())
        .first(&mut conn)
        .await
        .expect("mirror");
    assert_eq!(mirror.name, "Projet renommé");
    assert_eq!(mirror.description_html, "<p>Nouvelle description</p>");
    assert!(mirror.is_archived());

    // A Remove of someone else's member, or by another Group, changes nothing; the Group's
    // Remove of m1 drops the membership and tells m1.
    let remove = |n: u32, object: &str| {
        json!({
            "id": format!("http://remote.example:1234/activities/remove-{n}"),
            "type": "Remove", "actor": group.id(), "object": object,
            "target": group.id(), "to": [object],
        })
    };
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &r1, &{
            let mut by_r1 = remove(9, &m1.ap_id);
            by_r1["id"] = json!("http://erin.example:4321/activities/remove-9");
            by_r1["actor"] = json!(r1.id());
            by_r1
        })
        .await,
        StatusCode::ACCEPTED
    );
    assert!(
        db::workspaces::member(&mut conn, mirror.id, m1.id)
            .await
            .expect("query")
            .is_some()
    );
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &group, &remove(1, &m1.ap_id)).await,
        StatusCode::ACCEPTED
    );
    assert!(
        db::workspaces::member(&mut conn, mirror.id, m1.id)
            .await
            .expect("query")
            .is_none()
    );
    assert_eq!(
        notification_kinds(&app, mirror.id).await,
        vec![
            "workspace_invitation".to_string(),
            "workspace_membership".to_string()
        ]
    );
}

/// Needs `service::workspaces::members::leave` (members' branch).
#[tokio::test(flavor = "multi_thread")]
async fn after_a_remote_member_leaves_nothing_more_is_delivered_to_them() {
    let app = TestApp::new().await;
    let World { w, r1, x, .. } = world(&app).await;
    let group = group_of(&app, &w).await;
    let leave = |who: &Remote, n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/leave-{n}", who.id()),
            "type": "Leave", "actor": who.id(), "object": group.ap_id, "to": [group.ap_id],
        })
    };
    // An outsider's Leave changes nothing.
    assert_eq!(
        post_to(
            &app,
            &format!("/workspaces/{}/inbox", w.id),
            &x,
            &leave(&x, 1)
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post_to(
            &app,
            &format!("/workspaces/{}/inbox", w.id),
            &r1,
            &leave(&r1, 1)
        )
        .await,
        StatusCode::ACCEPTED
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    assert!(
        db::workspaces::member(&mut conn, w.id, r1.actor.id)
            .await
            .expect("query")
            .is_none()
    );
    record(
        &app,
        OutboundEvent::WorkspaceUpdated {
            workspace: Box::new(w.clone()),
        },
    )
    .await;
    assert!(queued(&app, "Update").await.is_empty());
}

/// Needs `service::workspaces::invitations::answer` (members' branch).
#[tokio::test(flavor = "multi_thread")]
async fn a_remote_invitee_accepting_our_invite_becomes_a_member() {
    let app = TestApp::new().await;
    let World { w, x, .. } = world(&app).await;
    let p = remote_actor(&app, "http://fans.example:4321", "paula", 1).await;
    let invitation = invite(&app, &w, &p.actor).await;
    let invite_id = invitation.ap_id.clone().expect("ap_id");
    let answer = |who: &Remote, kind: &str, n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/answer-{n}", who.id()),
            "type": kind, "actor": who.id(), "object": invite_id,
        })
    };
    let inbox = format!("/workspaces/{}/inbox", w.id);
    // Only the invitee may answer.
    assert_eq!(
        post_to(&app, &inbox, &x, &answer(&x, "Accept", 1)).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post_to(&app, &inbox, &p, &answer(&p, "Accept", 1)).await,
        StatusCode::ACCEPTED
    );
    let mut conn = app.ctx.conn().await.expect("conn");
    assert!(
        db::workspaces::member(&mut conn, w.id, p.actor.id)
            .await
            .expect("query")
            .is_some()
    );
    // A late Reject changes nothing.
    assert_eq!(
        post_to(&app, &inbox, &p, &answer(&p, "Reject", 2)).await,
        StatusCode::ACCEPTED
    );
    assert!(
        db::workspaces::member(&mut conn, w.id, p.actor.id)
            .await
            .expect("query")
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawn_invitation_is_undone_on_the_invitees_server_too() {
    let app = TestApp::new().await;
    let World { w, m1, x, r1 } = world(&app).await;

    // Ours: withdrawing x's invitation sends one Undo(Invite) to x's own inbox only.
    let invitation = invite(&app, &w, &x.actor).await;
    let access = culturecnous::service::workspaces::access(&app.ctx, w.id, m1.id)
        .await
        .expect("owner access");
    culturecnous::service::workspaces::invitations::withdraw(&app.ctx, &access, invitation.id)
        .await
        .expect("withdrawn");
    let undos = queued(&app, "Undo").await;
    assert_eq!(undos.len(), 1, "{undos:?}");
    let (undo, inboxes) = &undos[0];
    assert_eq!(undo["actor"], group_of(&app, &w).await.ap_id);
    assert_eq!(undo["object"]["type"], "Invite");
    assert_eq!(undo["object"]["id"], invitation.ap_id.clone().expect("id"));
    assert_eq!(undo["to"], json!([x.id()]));
    assert!(undo.get("cc").is_none());
    assert_eq!(inboxes, &vec![x.actor.inbox_url.clone()]);

    // Theirs: a remote workspace invites our member, then withdraws it.
    let group = remote_group(&app).await;
    let invite_json = json!({
        "id": "http://remote.example:1234/activities/invite-9",
        "type": "Invite",
        "actor": group.id(),
        "object": group.id(),
        "target": m1.ap_id,
        "to": [m1.ap_id],
    });
    let mut activity = invite_json.clone();
    activity["@context"] = json!("https://www.w3.org/ns/activitystreams");
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &group, &activity).await,
        StatusCode::ACCEPTED
    );
    let status = async || -> String {
        let mut conn = app.ctx.conn().await.expect("conn");
        workspace_invitations::table
            .filter(workspace_invitations::ap_id.eq(invite_json["id"].as_str().expect("id")))
            .select(workspace_invitations::status)
            .first(&mut conn)
            .await
            .expect("invitation")
    };
    assert_eq!(status().await, "pending");
    let undo = |n: u32, object: Value| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("http://remote.example:1234/activities/undo-{n}"),
            "type": "Undo",
            "actor": group.id(),
            "object": object,
            "to": [m1.ap_id],
        })
    };
    // Someone else cannot withdraw it (an object on another origin: refused).
    let mut forged = undo(1, invite_json.clone());
    forged["actor"] = json!(x.id());
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &x, &forged).await,
        StatusCode::BAD_REQUEST
    );
    // Nor can another actor of the group's own server: accepted, and nothing changes.
    let mut forged = undo(3, invite_json["id"].clone());
    forged["actor"] = json!(r1.id());
    assert_eq!(
        post_to(&app, "/users/membre1/inbox", &r1, &forged).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(status().await, "pending");
    // The group that sent it can (here by the Invite's id alone; ours embed it).
    assert_eq!(
        post_to(
            &app,
            "/users/membre1/inbox",
            &group,
            &undo(2, invite_json["id"].clone())
        )
        .await,
        StatusCode::ACCEPTED
    );
    assert_eq!(status().await, "withdrawn");
    let page = crate::helpers::Browser::logged_in(&app, "membre1")
        .await
        .get("/espaces/invitations")
        .await;
    assert!(
        !page.body.contains("Projet d&#x27;ailleurs"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Projet d'ailleurs"), "{}", page.body);
}
