//! Private project workspaces across three instances (issue 12): A's workspace invites B's
//! member by handle, who accepts on B and becomes a member on A; messages and documents go
//! to B only while its member belongs; C, whose member follows A's members, never receives
//! workspace content.
//!
//! The membership part needs the members' API (`POST /api/v1/workspaces/{id}/members`,
//! `GET /api/v1/workspace-invitations`, `POST …/{id}/accept`, `POST …/{id}/leave`); the
//! content part also needs the chat and documents APIs (`POST …/{id}/messages {body}`,
//! `POST …/{id}/documents` multipart `file`, `GET …/{id}/messages`, `GET …/{id}/documents`).

use chrono::Utc;
use culturecnous::db::{self, actors::NewActor, workspaces::NewWorkspace};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use federation_tests::{Instance, User, settle};
use serde_json::{Value, json};
use uuid::Uuid;

/// A workspace of `instance` owned by `owner`, created the way the domain function does:
/// its `Group` actor with a key pair, its row, the owner's membership. Returns its id.
async fn create_workspace(instance: &Instance, owner: &User, name: &str) -> Uuid {
    let ctx = instance.ctx();
    let keypair = culturecnous::service::actors::generate_keypair()
        .await
        .expect("key pair");
    let id = Uuid::new_v4();
    let mut conn = ctx.conn().await.expect("connection");
    let owner_actor = db::actors::by_ap_id(&mut conn, &owner.ap_id)
        .await
        .expect("owner")
        .expect("owner's actor");
    let group = db::actors::insert(
        &mut conn,
        &NewActor {
            ap_id: ctx.urls.workspace(&id),
            kind: "Group".into(),
            username: id.to_string(),
            domain: ctx.config.domain(),
            local: true,
            name: name.into(),
            summary_html: String::new(),
            icon_url: None,
            url: None,
            inbox_url: ctx.urls.workspace_inbox(&id),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: keypair.public_key,
            private_key_pem: Some(keypair.private_key),
            manually_approves_followers: true,
            discoverable: false,
            published: Utc::now(),
            last_refreshed_at: Utc::now(),
        },
    )
    .await
    .expect("group actor");
    db::workspaces::insert(
        &mut conn,
        &NewWorkspace {
            id,
            actor_id: group.id,
            local: true,
            name: name.into(),
            description_markdown: String::new(),
            description_html: String::new(),
            disciplines: Vec::new(),
            commune_code: None,
            listed: false,
            created_by_account_id: None,
        },
    )
    .await
    .expect("workspace");
    diesel::insert_into(db::schema::workspace_members::table)
        .values((
            db::schema::workspace_members::workspace_id.eq(id),
            db::schema::workspace_members::actor_id.eq(owner_actor.id),
            db::schema::workspace_members::role.eq("owner"),
        ))
        .execute(&mut conn)
        .await
        .expect("owner membership");
    id
}

/// The three instances and their members, B's member already in A's workspace (`workspace`
/// on A; `mirror`, its id on B).
struct Joined {
    a: Instance,
    b: Instance,
    c: Instance,
    alice: User,
    bob: User,
    workspace: Uuid,
    mirror: Uuid,
}

/// A's workspace invites B's member by handle through A's API; B's member accepts through
/// B's API; A lists them as a member. C's member follows A's member meanwhile.
async fn invite_and_join() -> Joined {
    let (a, b, c) = tokio::join!(
        Instance::in_process("A"),
        Instance::in_process("B"),
        Instance::in_process("C")
    );
    let (alice, bob, carol) = tokio::join!(
        a.create_user("alice"),
        b.create_user("bob"),
        c.create_user("carol")
    );
    // C follows A's member: whatever A publishes for its followers reaches C.
    c.follow(&carol, &a.handle("alice")).await;
    settle(&[&a, &c], "carol's follow of alice accepted", || async {
        match a.follow_state(&carol.ap_id, &alice.ap_id).await.as_deref() {
            Some("accepted") => Ok(()),
            other => Err(format!("on A: {other:?}")),
        }
    })
    .await;

    let workspace = create_workspace(&a, &alice, "Résidence au foyer").await;
    let invited = a
        .api_post(
            &alice.token,
            &format!("/api/v1/workspaces/{workspace}/members"),
            &json!({"target": b.handle("bob"), "message": "Bienvenue"}),
        )
        .await;
    assert_eq!(
        invited.status.as_u16(),
        201,
        "invite bob by handle: {}",
        invited.body
    );
    // The Invite reaches bob's inbox on B: a pending invitation to the mirror.
    let (invitation, mirror) = settle(&[&a, &b], "bob's invitation on B", || async {
        let list = b
            .api_get(&bob.token, "/api/v1/workspace-invitations")
            .await
            .success("bob's invitations");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        match items.as_slice().first() {
            Some(item) => Ok((
                item["id"].as_str().unwrap_or_default().to_string(),
                item["workspace_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )),
            None => Err(format!("no invitation yet: {list}")),
        }
    })
    .await;
    assert_eq!(
        b.api_get(&bob.token, "/api/v1/workspace-invitations")
            .await
            .json()["items"][0]["workspace_name"],
        "Résidence au foyer"
    );
    let accepted = b
        .api_post(
            &bob.token,
            &format!("/api/v1/workspace-invitations/{invitation}/accept"),
            &json!({}),
        )
        .await;
    assert!(
        accepted.status.is_success(),
        "accept on B: {} {}",
        accepted.status,
        accepted.body
    );
    settle(&[&a, &b], "bob a member of A's workspace", || async {
        let members = a
            .api_get(
                &alice.token,
                &format!("/api/v1/workspaces/{workspace}/members"),
            )
            .await
            .success("members on A");
        if members.to_string().contains(&bob.ap_id) {
            Ok(())
        } else {
            Err(format!("members on A: {members}"))
        }
    })
    .await;
    Joined {
        a,
        b,
        c,
        alice,
        bob,
        workspace,
        mirror: Uuid::parse_str(&mirror).expect("mirror id"),
    }
}

/// Whether C holds anything of a workspace.
async fn assert_c_holds_no_workspace_content(c: &Instance) {
    use db::schema::{workspace_documents, workspace_messages, workspaces};
    let mut conn = c.ctx().conn().await.expect("connection");
    let counts: Vec<i64> = vec![
        workspaces::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        workspace_messages::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
        workspace_documents::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count"),
    ];
    assert_eq!(
        counts,
        vec![0, 0, 0],
        "C must never receive workspace content"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workspace_invites_a_member_of_another_instance_who_joins() {
    let joined = invite_and_join().await;
    let Joined {
        a,
        b,
        c,
        alice,
        workspace,
        ..
    } = &joined;
    // The Group is not found by WebFinger and not served to C.
    let webfinger = c
        .get_page(&format!(
            "/.well-known/webfinger?resource=acct:{workspace}@{}",
            a.domain()
        ))
        .await;
    assert_eq!(webfinger.status.as_u16(), 404);
    let unsigned = a
        .get_activity_json(&format!("{}/workspaces/{workspace}", a.url()))
        .await;
    assert_eq!(unsigned.status.as_u16(), 404);
    settle(&[a, b, c], "every delivery done", || async {
        match a.pending_deliveries().await {
            0 => Ok(()),
            n => Err(format!("{n} deliveries pending on A")),
        }
    })
    .await;
    assert_c_holds_no_workspace_content(c).await;
    let _ = alice;
}

/// A multipart body with one `file` part.
fn multipart_file(name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----workspace{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(instance: &Instance, token: &str, path: &str, name: &str, bytes: &[u8]) -> Value {
    let (content_type, body) = multipart_file(name, "application/pdf", bytes);
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}{path}", instance.url()))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "upload {name}: {status} {text}");
    serde_json::from_str(&text).expect("json")
}

/// Needs the chat and documents APIs (merged later).
#[tokio::test(flavor = "multi_thread")]
async fn messages_and_documents_reach_the_remote_member_until_they_leave() {
    let joined = invite_and_join().await;
    let Joined {
        a,
        b,
        c,
        alice,
        bob,
        workspace,
        mirror,
    } = &joined;
    let on_a = |section: &str| format!("/api/v1/workspaces/{workspace}/{section}");
    let on_b = |section: &str| format!("/api/v1/workspaces/{mirror}/{section}");
    // A message and a document from A reach B.
    let posted = a
        .api_post(
            &alice.token,
            &on_a("messages"),
            &json!({"body": "Bonjour le foyer"}),
        )
        .await;
    assert!(posted.status.is_success(), "post on A: {}", posted.body);
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    upload(a, &alice.token, &on_a("documents"), "programme.pdf", pdf).await;
    settle(&[a, b], "the message and the document on B", || async {
        let messages = b.api_get(&bob.token, &on_b("messages")).await;
        let documents = b.api_get(&bob.token, &on_b("documents")).await;
        if messages.body.contains("Bonjour le foyer") && documents.body.contains("programme.pdf") {
            Ok(())
        } else {
            Err(format!(
                "messages on B: {} / documents on B: {}",
                messages.body, documents.body
            ))
        }
    })
    .await;
    // B's member answers in the chat; A shows the reply.
    let reply = b
        .api_post(
            &bob.token,
            &on_b("messages"),
            &json!({"body": "Merci, à bientôt"}),
        )
        .await;
    assert!(reply.status.is_success(), "reply on B: {}", reply.body);
    settle(&[a, b], "bob's reply on A", || async {
        let messages = a.api_get(&alice.token, &on_a("messages")).await;
        if messages.body.contains("Merci, à bientôt") {
            Ok(())
        } else {
            Err(format!("messages on A: {}", messages.body))
        }
    })
    .await;

    // B's member leaves; A no longer lists them, and a later message is not delivered to B.
    let left = b.api_post(&bob.token, &on_b("leave"), &json!({})).await;
    assert!(left.status.is_success(), "leave on B: {}", left.body);
    settle(&[a, b], "bob gone from A's members", || async {
        let members = a.api_get(&alice.token, &on_a("members")).await;
        if members.body.contains(&bob.ap_id) {
            Err(format!("members on A: {}", members.body))
        } else {
            Ok(())
        }
    })
    .await;
    let later = a
        .api_post(
            &alice.token,
            &on_a("messages"),
            &json!({"body": "Après le départ"}),
        )
        .await
        .success("post after bob left");
    if let Some(ap_id) = later["ap_id"].as_str() {
        assert!(
            a.deliveries_of(ap_id).await.is_empty(),
            "nothing is delivered for a workspace without remote members"
        );
    }
    settle(&[a, b, c], "every delivery done", || async {
        match a.pending_deliveries().await {
            0 => Ok(()),
            n => Err(format!("{n} deliveries pending on A")),
        }
    })
    .await;
    let after = b.api_get(&bob.token, &on_b("messages")).await;
    assert!(
        !after.body.contains("Après le départ"),
        "B received a message after leaving: {}",
        after.body
    );
    assert_c_holds_no_workspace_content(c).await;
}
