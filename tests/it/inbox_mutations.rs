//! Mutated real payloads and signature headers through the real inbox: whatever arrives, the
//! answer is never a 5xx, and a refused request changes nothing in the database.
//!
//! The payloads are the fixtures of other servers (Mastodon, Pleroma, Lemmy, Friendica,
//! Smithereen, Mitra, Mbin, PeerTube, GoToSocial), moved onto one signing remote actor per
//! fixture and aimed at a local member and her announcement, then spoiled field by field: NUL
//! characters, every field of the activity and of its object given the wrong JSON type, a
//! huge value, or removed, deep nesting. The signature header of a valid Follow is spelled in
//! every way real servers and hostile ones do: what our pre-check accepts the library must
//! verify (202), the rest is refused with 401.

use crate::{
    common::{TestApp, TestResponse},
    federation_inbox::{KEYS, Remote, remote_actor},
    helpers::{create, token},
};
use axum::{
    body::Body,
    http::{HeaderValue, Method, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use culturecnous::db::schema::{comments, posts};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rsa::Pkcs1v15Sign;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

const ALICE: &str = "http://localhost:8080/users/alice";
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Every inbound activity among the fixtures.
const FIXTURES: &[&str] = &[
    "mastodon/activities/follow.json",
    "mastodon/activities/undo_follow.json",
    "mastodon/activities/create_note.json",
    "mastodon/activities/flag.json",
    "mastodon/activities/like_page.json",
    "mastodon/activities/private_message.json",
    "mastodon/activities/undo_like_page.json",
    "mastodon/activities/delete.json",
    "mastodon-spec/flag.json",
    "pleroma/activities/follow.json",
    "pleroma/activities/create_note.json",
    "pleroma/activities/delete.json",
    "lemmy/activities/following/follow.json",
    "lemmy/activities/following/undo_follow.json",
    "lemmy/activities/following/accept.json",
    "lemmy/activities/community/report_page.json",
    "friendica/activities/create_note.json",
    "friendica/activities/create_page_2.json",
    "friendica/activities/delete.json",
    "smithereen/activities/create_note.json",
    "mitra/activities/accept.json",
    "mbin/activities/accept.json",
    "mbin/activities/flag.json",
    "peertube/activities/announce_video.json",
    "gotosocial/flag.json",
];

/// Tables an inbound activity may write to.
const TABLES: &[&str] = &[
    "received_activities",
    "follows",
    "activities",
    "deliveries",
    "actors",
    "comments",
    "posts",
    "reactions",
    "instances",
];

/// The whole content of [`TABLES`], as one fingerprint: a refused request must leave it as
/// it was (no row added, none changed).
async fn fingerprint(app: &TestApp) -> String {
    #[derive(QueryableByName)]
    struct Fingerprint {
        #[diesel(sql_type = diesel::sql_types::Text)]
        f: String,
    }
    let parts: Vec<String> = TABLES
        .iter()
        .map(|t| {
            format!(
                "(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' \
                 ORDER BY t::text)), '') FROM {t} t)"
            )
        })
        .collect();
    let sql = format!("SELECT {} AS f", parts.join(" || ' ' || "));
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(sql)
        .get_result::<Fingerprint>(&mut conn)
        .await
        .expect("fingerprint")
        .f
}

/// Rows in `received_activities`: one more for each activity processed.
async fn received(app: &TestApp) -> i64 {
    crate::helpers::rows_in(app, "received_activities").await
}

/// A request signed draft-cavage rsa-sha256 whose `Signature` header (and any other header)
/// a test writes itself.
pub struct Signed {
    path: String,
    body: Vec<u8>,
    date: String,
    digest: String,
    /// Base64 of the signature over `(request-target) host date digest`.
    signature: String,
    key_id: String,
}

const SIGNED_HEADERS: &str = "(request-target) host date digest";

pub fn sign(remote: &Remote, path: &str, body: Vec<u8>, date: SystemTime) -> Signed {
    let digest = format!("SHA-256={}", BASE64.encode(Sha256::digest(&body)));
    let date = httpdate::fmt_http_date(date);
    let signing_string = format!(
        "(request-target): post {path}\nhost: localhost:8080\ndate: {date}\ndigest: {digest}"
    );
    let signature = remote
        .key
        .sign(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signing_string.as_bytes()),
        )
        .expect("sign");
    Signed {
        path: path.into(),
        body,
        date,
        digest,
        signature: BASE64.encode(signature),
        key_id: remote.key_id.clone(),
    }
}

impl Signed {
    /// The header as Mastodon writes it.
    pub fn standard(&self) -> String {
        format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
            self.key_id, self.signature
        )
    }

    /// The request with `signature` as its Signature header, `extra` headers appended
    /// (repeated names are sent twice).
    fn request(
        &self,
        signature: Option<HeaderValue>,
        extra: &[(&str, HeaderValue)],
    ) -> Request<Body> {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(&self.path)
            .header("host", "localhost:8080")
            .header("date", &self.date)
            .header("digest", &self.digest)
            .header("content-type", "application/activity+json");
        if let Some(signature) = signature {
            builder = builder.header("signature", signature);
        }
        for (name, value) in extra {
            builder = builder.header(*name, value.clone());
        }
        builder
            .body(Body::from(self.body.clone()))
            .expect("request")
    }

    pub fn with(&self, signature: &str) -> Request<Body> {
        self.request(Some(value(signature)), &[])
    }
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Sends `request` and checks the rule of this module: no 5xx, and nothing changed when
/// refused. Returns the response.
pub async fn send_checked(app: &TestApp, what: &str, request: Request<Body>) -> TestResponse {
    let before = fingerprint(app).await;
    let response = app.send(request).await;
    assert!(
        !response.status.is_server_error(),
        "{what}: {} {}",
        response.status,
        response.body
    );
    assert_ne!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{what}: rate-limited, the test no longer tests anything"
    );
    if !response.status.is_success() {
        assert!(
            response.status.is_client_error(),
            "{what}: {}",
            response.status
        );
        assert_eq!(
            fingerprint(app).await,
            before,
            "{what}: refused with {} but something was written",
            response.status
        );
    }
    response
}

/// An instance with `alice`, her announcement (which fixtures reply to, like, report) and
/// its AP id.
pub async fn instance() -> (TestApp, String) {
    let app = TestApp::new().await;
    app.create_user("alice", "member").await;
    let alice_token = token(&app, "alice").await;
    let created = create(
        &app,
        &alice_token,
        "/api/v1/announcements",
        json!({"title": "Régisseur recherché", "body": "Le texte.", "kind": "emploi"}),
    )
    .await;
    let post = created["ap_id"].as_str().expect("ap_id").to_string();
    (app, post)
}

/// Applies `f` to every string of `value`.
pub fn map_strings(value: &mut Value, f: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| map_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| map_strings(v, f)),
        _ => {}
    }
}

pub fn origin(url: &str) -> String {
    let url = url::Url::parse(url).expect("url");
    url.origin().ascii_serialization()
}

/// A fixture moved onto `remote`: its actor becomes `remote`, its server `remote`'s, and what
/// it points at (a member to follow, a post to answer, like or report) is ours.
pub fn adapt(fixture: &str, remote: &Remote, post: &str) -> Value {
    let mut activity: Value =
        serde_json::from_str(&culturecnous::testing::fixture(fixture)).expect("fixture JSON");
    // A bare Note (Mastodon's private message) names its author in `attributedTo`.
    let old_actor = [&activity["actor"], &activity["attributedTo"]]
        .into_iter()
        .find_map(|a| a.as_str().or_else(|| a["id"].as_str()))
        .expect("actor id")
        .to_string();
    let old_origin = origin(&old_actor);
    let new_origin = origin(remote.id());
    let new_actor = remote.id().to_string();
    map_strings(&mut activity, &|s| {
        s.replace(&old_actor, &new_actor)
            .replace(&old_origin, &new_origin)
    });
    let kind = activity["type"].as_str().unwrap_or_default().to_string();
    match kind.as_str() {
        "Follow" => activity["object"] = json!(ALICE),
        "Undo" if activity["object"]["type"] == "Follow" => {
            activity["object"]["object"] = json!(ALICE);
        }
        "Like" => activity["object"] = json!(post),
        "Flag" => activity["object"] = json!([ALICE, post]),
        "Create" if activity["object"].is_object() => {
            activity["object"]["inReplyTo"] = json!(post);
            if kind == "Create" && activity["object"]["to"].is_null() {
                activity["object"]["to"] = json!([PUBLIC]);
            }
        }
        _ => {}
    }
    activity
}

/// Actor documents sent as `Update`s of their actor.
const ACTOR_FIXTURES: &[&str] = &[
    "mastodon/objects/person.json",
    "lemmy/objects/person.json",
    "pleroma/objects/person.json",
    "friendica/objects/person_1.json",
];

/// `fixture` (an actor document) as the `Update` of `remote`, with `remote`'s key.
fn actor_update(fixture: &str, remote: &Remote, key: usize) -> Value {
    let mut person: Value =
        serde_json::from_str(&culturecnous::testing::fixture(fixture)).expect("fixture JSON");
    let old_actor = person["id"].as_str().expect("id").to_string();
    let (old_origin, new_origin) = (origin(&old_actor), origin(remote.id()));
    let new_actor = remote.id().to_string();
    map_strings(&mut person, &|s| {
        s.replace(&old_actor, &new_actor)
            .replace(&old_origin, &new_origin)
    });
    person["publicKey"] = json!({
        "id": remote.key_id,
        "owner": remote.id(),
        "publicKeyPem": KEYS[key].public_key,
    });
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{}#updates/1", remote.id()),
        "type": "Update",
        "actor": remote.id(),
        "to": [PUBLIC],
        "object": person,
    })
}

/// One case per fixture: the remote actor sending it and the adapted activity. Each fixture
/// has its own server (`fN.remote.test`), so no rate limit is shared between them. alice
/// follows every sender, so a post that is no reply is kept too (as a remote post).
async fn cases(app: &TestApp, post: &str) -> Vec<(&'static str, Remote, Value)> {
    let alice = crate::helpers::local_actor(app, "alice").await;
    let mut out = Vec::new();
    for (n, fixture) in FIXTURES.iter().chain(ACTOR_FIXTURES).enumerate() {
        let key = n % KEYS.len();
        let remote =
            remote_actor(app, &format!("http://f{n}.remote.test:1234"), "sender", key).await;
        crate::helpers::follow(app, &alice, &remote.actor, "accepted").await;
        let activity = if ACTOR_FIXTURES.contains(fixture) {
            actor_update(fixture, &remote, key)
        } else {
            adapt(fixture, &remote, post)
        };
        out.push((*fixture, remote, activity));
    }
    out
}

/// `activity` with its id (and its object's, when embedded) made new, so that it is not
/// taken for a replay of an earlier mutation.
fn fresh(mut activity: Value, n: usize) -> Value {
    if let Some(id) = activity["id"].as_str() {
        activity["id"] = json!(format!("{id}/m{n}"));
    }
    if let Some(id) = activity["object"]["id"].as_str() {
        activity["object"]["id"] = json!(format!("{id}/m{n}"));
    }
    activity
}

/// What a field is replaced by: every JSON type, a huge string, a list.
fn wrong_values(original: &Value) -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("removed", None),
        ("null", Some(Value::Null)),
        ("number", Some(json!(-1.5e300))),
        ("bool", Some(json!(true))),
        ("object", Some(json!({"id": 1, "type": []}))),
        ("list", Some(json!([original.clone(), original.clone()]))),
        ("huge string", Some(json!("ab\u{0}c".repeat(50_000)))),
    ]
}

/// How many of the [`wrong_values`] each field gets: they rotate from field to field and from
/// fixture to fixture, so every kind meets every kind of field across the fixtures while the
/// test stays around a thousand requests.
const VALUES_PER_FIELD: usize = 3;

/// The mutations of `activity` (fixture number `seed`), named.
fn mutations(activity: &Value, seed: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut nul_everywhere = activity.clone();
    map_strings(&mut nul_everywhere, &|s| format!("\u{0}{s}\u{0}"));
    out.push(("NUL around every string".to_string(), nul_everywhere));
    let mut nul_in_text = activity.clone();
    map_strings(&mut nul_in_text, &|s| {
        if url::Url::parse(s).is_ok() {
            s.to_string()
        } else {
            format!("a\u{0}{s}\u{0}")
        }
    });
    out.push(("NUL in every text".to_string(), nul_in_text));
    let Some(top) = activity.as_object() else {
        return out;
    };
    let mut field = seed;
    let mut pick = |original: &Value| {
        field += 1;
        let all = wrong_values(original);
        let n = all.len();
        all.into_iter()
            .cycle()
            .skip(field * VALUES_PER_FIELD % n)
            .take(VALUES_PER_FIELD)
            .collect::<Vec<_>>()
    };
    for (key, original) in top {
        for (what, replacement) in pick(original) {
            let mut mutated = activity.clone();
            match replacement {
                Some(v) => mutated[key] = v,
                None => {
                    if let Some(m) = mutated.as_object_mut() {
                        m.remove(key);
                    }
                }
            }
            out.push((format!("{key}: {what}"), mutated));
        }
    }
    if let Some(object) = activity["object"].as_object() {
        for (key, original) in object {
            for (what, replacement) in pick(original) {
                let mut mutated = activity.clone();
                match replacement {
                    Some(v) => mutated["object"][key] = v,
                    None => {
                        if let Some(m) = mutated["object"].as_object_mut() {
                            m.remove(key);
                        }
                    }
                }
                out.push((format!("object.{key}: {what}"), mutated));
            }
        }
    }
    // Nesting just under the inbox's limit (far over it: see `deep_body`).
    let mut nested = activity["object"].clone();
    for _ in 0..60 {
        nested = json!([nested]);
    }
    let mut mutated = activity.clone();
    mutated["object"] = nested;
    out.push(("object nested 60 deep".to_string(), mutated));
    out
}

/// `activity` serialised with its object nested `depth` lists deep, written as text (a
/// `Value` that deep would overflow the test's own stack).
fn deep_body(activity: &Value, depth: usize) -> Vec<u8> {
    let mut shallow = activity.clone();
    shallow["object"] = json!("__DEEP__");
    let nested = format!("{}{}{}", "[".repeat(depth), "{}", "]".repeat(depth));
    serde_json::to_string(&shallow)
        .expect("json")
        .replace("\"__DEEP__\"", &nested)
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn mutated_fixture_payloads_never_get_a_5xx_and_refused_ones_store_nothing() {
    let (app, post) = instance().await;
    let cases = cases(&app, &post).await;
    let mut accepted_originals = 0;
    let mut sent = 0usize;
    for (seed, (fixture, remote, activity)) in cases.iter().enumerate() {
        // The payload as it came, first: most are accepted.
        let body = serde_json::to_vec(activity).expect("json");
        let signed = sign(remote, "/inbox", body, SystemTime::now());
        let r = send_checked(&app, fixture, signed.with(&signed.standard())).await;
        if r.status == StatusCode::ACCEPTED {
            accepted_originals += 1;
        }
        for (n, (what, mutated)) in mutations(activity, seed).into_iter().enumerate() {
            let mutated = fresh(mutated, n);
            let body = serde_json::to_vec(&mutated).expect("json");
            let signed = sign(remote, "/inbox", body, SystemTime::now());
            send_checked(
                &app,
                &format!("{fixture}, {what}"),
                signed.with(&signed.standard()),
            )
            .await;
            sent += 1;
        }
        let signed = sign(
            remote,
            "/inbox",
            deep_body(activity, 5_000),
            SystemTime::now(),
        );
        let what = format!("{fixture}, object nested 5 000 deep");
        let r = send_checked(&app, &what, signed.with(&signed.standard())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}");
    }
    // The test means something only if real payloads get through.
    let fixtures = FIXTURES.len() + ACTOR_FIXTURES.len();
    assert!(
        accepted_originals >= fixtures - 2,
        "only {accepted_originals} of {fixtures} fixtures accepted"
    );
    assert!(sent > 900, "{sent} mutations");
    println!("{sent} mutated payloads, {accepted_originals} fixtures accepted as they came");
}

#[tokio::test(flavor = "multi_thread")]
async fn nul_characters_are_stripped_and_the_reply_stored() {
    let (app, post) = instance().await;
    let remote = remote_actor(&app, "http://nul.remote.test:1234", "sender", 0).await;
    let mut activity = adapt("mastodon/activities/create_note.json", &remote, &post);
    activity["object"]["content"] = json!("<p>Bra\u{0}vo\u{0}</p>");
    activity["object"]["name"] = json!("Ti\u{0}tre");
    activity["object"]["summary"] = json!("Atten\u{0}tion");
    activity["object"]["tag"] = json!([{"type": "Hashtag", "name": "#ré\u{0}sidence"}]);
    let signed = sign(
        &remote,
        "/inbox",
        serde_json::to_vec(&activity).expect("json"),
        SystemTime::now(),
    );
    let r = send_checked(&app, "NULs", signed.with(&signed.standard())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let (body, warning): (String, Option<String>) = comments::table
        .select((comments::body_html, comments::content_warning))
        .first(&mut conn)
        .await
        .expect("the reply is stored");
    assert_eq!(body, "<p>Bravo</p>");
    assert_eq!(warning.as_deref(), Some("Attention"));

    // A post that is no reply, from an actor alice follows: title, abstract and hashtags
    // are columns of their own.
    let alice = crate::helpers::local_actor(&app, "alice").await;
    crate::helpers::follow(&app, &alice, &remote.actor, "accepted").await;
    let mut article = adapt("friendica/activities/create_page_2.json", &remote, &post);
    article["object"]["inReplyTo"] = Value::Null;
    article["object"]["name"] = json!("Un \u{0}titre");
    article["object"]["summary"] = json!("Un ré\u{0}sumé");
    article["object"]["content"] = json!("<p>Le \u{0}texte</p>");
    article["object"]["tag"] = json!([{"type": "Hashtag", "name": "#ré\u{0}sidence"}]);
    let signed = sign(
        &remote,
        "/inbox",
        serde_json::to_vec(&article).expect("json"),
        SystemTime::now(),
    );
    let r = send_checked(&app, "NULs in a post", signed.with(&signed.standard())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let (title, summary, hashtags): (String, String, Vec<String>) = posts::table
        .filter(posts::local.eq(false))
        .select((posts::title, posts::summary, posts::hashtags))
        .first(&mut conn)
        .await
        .expect("the post is stored");
    assert_eq!(title, "Un titre");
    assert_eq!(summary, "Un résumé");
    assert_eq!(hashtags, vec!["résidence"]);
}

/// The key pair of `remote` as PEM, for documents that carry it.
fn public_key_of(n: usize) -> String {
    KEYS[n].public_key.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_actor_update_with_nuls_is_stored_without_them() {
    let (app, _) = instance().await;
    let remote = remote_actor(&app, "http://nul.remote.test:1234", "sender", 1).await;
    let update = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": format!("{}#updates/1", remote.id()),
        "type": "Update",
        "actor": remote.id(),
        "object": {
            "id": remote.id(),
            "type": "Person",
            "preferredUsername": "send\u{0}er",
            "name": "Un \u{0}nom",
            "summary": "<p>Pré\u{0}sentation</p>",
            "inbox": format!("{}/inbox", remote.id()),
            "publicKey": {
                "id": remote.key_id,
                "owner": remote.id(),
                "publicKeyPem": public_key_of(1),
            },
        },
    });
    let signed = sign(
        &remote,
        "/inbox",
        serde_json::to_vec(&update).expect("json"),
        SystemTime::now(),
    );
    let r = send_checked(&app, "actor NULs", signed.with(&signed.standard())).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mut conn = app.ctx.conn().await.expect("conn");
    let actor = culturecnous::db::actors::by_ap_id(&mut conn, remote.id())
        .await
        .expect("query")
        .expect("actor");
    assert_eq!(actor.username, "sender");
    assert_eq!(actor.name, "Un nom");
    assert_eq!(actor.summary_html, "<p>Présentation</p>");
}

/// A way to write the Signature header of a signed request.
type Spelling = Box<dyn Fn(&Signed) -> String>;
/// Headers sent beside the signature.
type Extra<'a> = Vec<(&'a str, HeaderValue)>;

/// A valid Follow of alice by `remote`, number `n`, signed now.
fn follow(remote: &Remote, n: usize) -> Signed {
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{n}", remote.id()),
        "type": "Follow",
        "actor": remote.id(),
        "object": ALICE,
    });
    sign(
        remote,
        "/inbox",
        serde_json::to_vec(&activity).expect("json"),
        SystemTime::now(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_spelling_of_a_valid_signature_header_is_verified() {
    let (app, _) = instance().await;
    let remote = remote_actor(&app, "http://sig.remote.test:1234", "sender", 0).await;
    let spellings: Vec<(&str, Spelling)> = vec![
        ("as Mastodon writes it", Box::new(|s| s.standard())),
        (
            "lower-case names",
            Box::new(|s| {
                format!(
                    "keyid=\"{}\",algorithm=\"rsa-sha256\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "upper-case names",
            Box::new(|s| {
                format!(
                    "KEYID=\"{}\",ALGORITHM=\"rsa-sha256\",HEADERS=\"{SIGNED_HEADERS}\",SIGNATURE=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "spaces after the commas",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\", algorithm=\"rsa-sha256\", headers=\"{SIGNED_HEADERS}\", signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "spaces around the equal signs",
            Box::new(|s| {
                format!(
                    "keyId = \"{}\" , algorithm = \"rsa-sha256\" , headers = \"{SIGNED_HEADERS}\" , signature = \"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "another order, unquoted algorithm, upper-case algorithm",
            Box::new(|s| {
                format!(
                    "signature=\"{}\",headers=\"{SIGNED_HEADERS}\",algorithm=RSA-SHA256,keyId=\"{}\"",
                    s.signature, s.key_id
                )
            }),
        ),
        (
            "hs2019",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",algorithm=\"hs2019\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "no algorithm, an unknown parameter",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",foo=\"bar\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "upper-case header names in the list",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) Host Date Digest\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
    ];
    for (n, (what, spell)) in spellings.iter().enumerate() {
        let signed = follow(&remote, n);
        let before = received(&app).await;
        let r = send_checked(&app, what, signed.with(&spell(&signed))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{what}: {}", r.body);
        assert_eq!(received(&app).await, before + 1, "{what}: not processed");
    }
    // A proxy's credentials beside the signature: the signature is what counts.
    let signed = follow(&remote, 100);
    let r = send_checked(
        &app,
        "Authorization: Basic beside the signature",
        signed.request(
            Some(value(&signed.standard())),
            &[("authorization", value("Basic dXNlcjpwYXNz"))],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn spoiled_signature_headers_are_401_and_store_nothing() {
    let (app, _) = instance().await;
    let remote = remote_actor(&app, "http://sig.remote.test:1234", "sender", 0).await;
    let huge = "A".repeat(100_000);
    let spoiled: Vec<(&str, Spelling)> = vec![
        ("empty", Box::new(|_| String::new())),
        ("commas only", Box::new(|_| ",,,,".into())),
        ("a lone equal sign", Box::new(|_| "=".into())),
        (
            "an open quote",
            Box::new(|s| format!("keyId=\"{}", s.key_id)),
        ),
        (
            "no keyId",
            Box::new(|s| format!("headers=\"{SIGNED_HEADERS}\",signature=\"{}\"", s.signature)),
        ),
        (
            "no signature",
            Box::new(|s| format!("keyId=\"{}\",headers=\"{SIGNED_HEADERS}\"", s.key_id)),
        ),
        (
            "no headers",
            Box::new(|s| format!("keyId=\"{}\",signature=\"{}\"", s.key_id, s.signature)),
        ),
        (
            "empty signature",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS}\",signature=\"\"",
                    s.key_id
                )
            }),
        ),
        (
            "keyId twice",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",keyId=\"https://elsewhere.example/k\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "keyId twice, differing in case",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",KEYID=\"{}\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.key_id, s.signature
                )
            }),
        ),
        (
            "signature twice",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\",signature=\"AAAA\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "a comma inside the keyId",
            Box::new(|s| {
                format!(
                    "keyId=\"{},x\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "a quote inside an unquoted keyId",
            Box::new(|s| {
                format!(
                    "keyId={}\"x,headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "a 100 kB keyId",
            Box::new(move |s| {
                format!(
                    "keyId=\"{}{}\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id,
                    "A".repeat(100_000),
                    s.signature
                )
            }),
        ),
        (
            "a 100 kB signature",
            Box::new(move |s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS}\",signature=\"{huge}\"",
                    s.key_id
                )
            }),
        ),
        (
            "5 000 signed headers",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS}{}\",signature=\"{}\"",
                    s.key_id,
                    " x-a".repeat(5_000),
                    s.signature
                )
            }),
        ),
        (
            "created is not a number",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",created=\"soon\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "expires is negative",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",expires=-1,headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "created in a year",
            Box::new(|s| {
                let later = SystemTime::now() + Duration::from_secs(365 * 86_400);
                let later = later
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .expect("time")
                    .as_secs();
                format!(
                    "keyId=\"{}\",created={later},headers=\"(request-target) (created) host date digest\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "rsa-sha512",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",algorithm=\"rsa-sha512\",headers=\"{SIGNED_HEADERS}\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "the Signature header among the signed ones",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS} signature\",signature=\"{}\"",
                    s.key_id, s.signature
                )
            }),
        ),
        (
            "signature is not base64",
            Box::new(|s| {
                format!(
                    "keyId=\"{}\",headers=\"{SIGNED_HEADERS}\",signature=\"@@@@\"",
                    s.key_id
                )
            }),
        ),
        (
            "prefixed with the scheme name",
            Box::new(|s| format!("Signature {}", s.standard())),
        ),
    ];
    for (n, (what, spoil)) in spoiled.iter().enumerate() {
        let signed = follow(&remote, n);
        let r = send_checked(&app, what, signed.with(&spoil(&signed))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.body);
    }

    // Headers around the signature.
    let signed = follow(&remote, 1_000);
    let expired = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3 * 3600));
    let not_ascii = HeaderValue::from_bytes(b"caf\xe9").expect("opaque header value");
    let cases: Vec<(&str, Option<HeaderValue>, Extra)> = vec![
        (
            "two Signature headers",
            Some(value(&signed.standard())),
            vec![("signature", value(&signed.standard()))],
        ),
        (
            "a second, expired Date",
            Some(value(&signed.standard())),
            vec![("date", value(&expired))],
        ),
        (
            "a second Digest",
            Some(value(&signed.standard())),
            vec![("digest", value("SHA-256=AAAA"))],
        ),
        (
            "a second Host",
            Some(value(&signed.standard())),
            vec![("host", value("localhost:8080"))],
        ),
        (
            "Authorization: Signature beside Signature",
            Some(value(&signed.standard())),
            vec![(
                "authorization",
                value(&format!("Signature {}", signed.standard())),
            )],
        ),
        (
            "only Authorization: Signature",
            None,
            vec![(
                "authorization",
                value(&format!("Signature {}", signed.standard())),
            )],
        ),
        (
            "Signature that is not ASCII",
            Some(not_ascii.clone()),
            vec![],
        ),
    ];
    for (what, signature, extra) in cases {
        let r = send_checked(&app, what, signed.request(signature, &extra)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_date_about_to_run_out_is_401_not_500() {
    let (app, _) = instance().await;
    let remote = remote_actor(&app, "http://date.remote.test:1234", "sender", 0).await;
    // Valid for a few more seconds by the pre-check's clock, expired by the time the library
    // looks again after a slow actor fetch: refused up front.
    for (n, left) in [(1, 1), (2, 5), (3, 20)] {
        let activity = json!({
            "id": format!("{}/follows/{n}", remote.id()),
            "type": "Follow",
            "actor": remote.id(),
            "object": ALICE,
        });
        let date = SystemTime::now() - Duration::from_secs(3600 - left);
        let signed = sign(
            &remote,
            "/inbox",
            serde_json::to_vec(&activity).expect("json"),
            date,
        );
        let r = send_checked(&app, "Date at the edge", signed.with(&signed.standard())).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{left} s left: {}",
            r.body
        );
    }
}
