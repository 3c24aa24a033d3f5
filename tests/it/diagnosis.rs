//! Territorial diagnosis (issue 14), first slice: every figure of `service::diagnosis` on a
//! small known data set built through the real domain paths (API for venues, offers, loans,
//! announcements and the forum; the workspace service), directory fields and sanctions set
//! in SQL; the public suppression across combined filters; who is counted for whom; bad
//! filters named.

use crate::{
    common::TestApp,
    helpers::{
        add_workspace_member, api, create, follow, local_actor, new_workspace, remote_actor_row,
        remote_follower, token,
    },
};
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use culturecnous::{
    db::accounts::DbAccount,
    error::ErrorKind,
    service::diagnosis::{
        Audience, Filters, RawFilters, figures, parse_filters,
        suppress::{self, Cell},
    },
};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde_json::json;

const EPINAL: &str = "88160";
const SAINT_DIE: &str = "88413";

pub(crate) struct World {
    pub(crate) app: TestApp,
    /// SIREN codes of the EPCIs of Épinal and Saint-Dié.
    pub(crate) epci_epinal: String,
    pub(crate) epci_saint_die: String,
    pub(crate) month: String,
}

#[derive(diesel::QueryableByName)]
struct One {
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    number: Option<i64>,
}

async fn one(app: &TestApp, sql: &str) -> One {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(sql)
        .get_result(&mut conn)
        .await
        .expect(sql)
}

pub(crate) async fn exec(app: &TestApp, sql: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(sql).execute(&mut conn).await.expect(sql);
}

/// A member with its directory fields (the profile form writes the same columns).
async fn member(
    app: &TestApp,
    name: &str,
    kind: &str,
    disciplines: &[&str],
    commune: &str,
) -> DbAccount {
    let account = app.create_user(name, "member").await;
    let list = disciplines
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");
    exec(
        app,
        &format!(
            "UPDATE accounts SET directory_kind = '{kind}', disciplines = ARRAY[{list}]::text[], \
             commune_code = '{commune}', email_confirmed_at = now() WHERE id = {}",
            account.id
        ),
    )
    .await;
    account
}

/// The data set (see each figure's expectations):
/// - compagnies c1…c6 in Épinal (theatre; c6 spells it "theatre"), artists d1, d2 in
///   Saint-Dié (dance), a library in Saint-Dié hidden from the directory (lecture publique),
///   an association in Épinal suspended after creating a venue (music), and rachel (staff,
///   kind `autre`, no commune);
/// - venues: c1's two in Épinal (100 and 50 seats), d1's in Saint-Dié (no capacity), the
///   association's in Épinal (30 seats);
/// - offers: c1 `son`, c2 `lumiere`; d1's loan of `son` accepted, d2's pending;
/// - workspaces: c1's listed one with c2, the library and d1; c3's unlisted one with c4;
/// - announcements: c1 two `emploi`, d1 one `residence`;
/// - forum: c1 starts a thread, d1 replies twice;
/// - listed entries: four, two claimed, one of kind `association`.
pub(crate) async fn world() -> World {
    let app = TestApp::new().await;
    culturecnous::service::instance_url::check_or_record(&app.ctx)
        .await
        .expect("instance identity");
    app.create_user("rachel", "staff").await;
    exec(&app, "UPDATE accounts SET email_confirmed_at = now()").await;
    let mut c = Vec::new();
    for i in 1..=6 {
        let d = if i == 6 { "theatre" } else { "Théâtre" };
        c.push(member(&app, &format!("cie{i}"), "compagnie", &[d], EPINAL).await);
    }
    let d1 = member(&app, "danseur1", "artiste", &["Danse"], SAINT_DIE).await;
    member(&app, "danseur2", "artiste", &["Danse"], SAINT_DIE).await;
    let library = member(
        &app,
        "biblio",
        "bibliotheque",
        &["Lecture publique"],
        SAINT_DIE,
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE accounts SET directory_hidden = true WHERE id = {}",
            library.id
        ),
    )
    .await;
    member(&app, "asso", "association", &["Musique"], EPINAL).await;

    let (t_c1, t_c2, t_d1, t_d2, t_asso, t_rachel) = (
        token(&app, "cie1").await,
        token(&app, "cie2").await,
        token(&app, "danseur1").await,
        token(&app, "danseur2").await,
        token(&app, "asso").await,
        token(&app, "rachel").await,
    );

    // Venues.
    for (t, name, commune, capacity) in [
        (&t_c1, "Salle des fêtes", "Épinal", json!(100)),
        (&t_c1, "Petit théâtre", "Épinal", json!(50)),
        (
            &t_d1,
            "Atelier de danse",
            "Saint-Dié-des-Vosges",
            json!(null),
        ),
        (&t_asso, "Kiosque à musique", "Épinal", json!(30)),
    ] {
        create(
            &app,
            t,
            "/api/v1/venues",
            json!({"name": name, "description": "Un lieu", "address": "1 rue Haute",
                   "commune": commune, "capacity": capacity}),
        )
        .await;
    }
    exec(
        &app,
        "UPDATE accounts SET suspended_at = now() WHERE username = 'asso'",
    )
    .await;

    // Sharing.
    let offer = |category: &str| {
        json!({"title": "Matériel", "description": "En bon état", "category": category,
               "terms": "gratuit", "commune": "Épinal"})
    };
    let son = create(&app, &t_c1, "/api/v1/offers", offer("son")).await["id"]
        .as_i64()
        .expect("id");
    create(&app, &t_c2, "/api/v1/offers", offer("lumiere")).await;
    let day = |n: i64| (Utc::now().date_naive() + Duration::days(n)).to_string();
    let ask = |t: String, from: i64| {
        let app = &app;
        let body = json!({"starts_on": day(from), "ends_on": day(from + 2), "message": "Merci"});
        async move {
            create(app, &t, &format!("/api/v1/offers/{son}/requests"), body).await["id"]
                .as_i64()
                .expect("id")
        }
    };
    let loan = ask(t_d1.clone(), 5).await;
    ask(t_d2.clone(), 10).await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/loan-requests/{loan}/accept"),
        &t_c1,
        Some(json!({"answer": "Oui"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Workspaces.
    let listed = new_workspace(&app.ctx, &c[0], "Résidence", true).await;
    for a in [&c[1], &library, &d1] {
        add_workspace_member(&app.ctx, listed.id, a.actor_id, "member").await;
    }
    let private = new_workspace(&app.ctx, &c[2], "Projet secret", false).await;
    add_workspace_member(&app.ctx, private.id, c[3].actor_id, "member").await;

    // Announcements.
    for (t, kind) in [(&t_c1, "emploi"), (&t_c1, "emploi"), (&t_d1, "residence")] {
        create(
            &app,
            t,
            "/api/v1/announcements",
            json!({"title": "Annonce", "body": "Texte", "kind": kind}),
        )
        .await;
    }

    // Forum.
    let slug = create(
        &app,
        &t_rachel,
        "/api/v1/forum/categories",
        json!({"name": "Entraide", "description": "Questions"}),
    )
    .await["slug"]
        .as_str()
        .expect("slug")
        .to_string();
    let thread = create(
        &app,
        &t_c1,
        &format!("/api/v1/forum/categories/{slug}/threads"),
        json!({"title": "Un régisseur ?", "body": "Qui connaît un régisseur ?"}),
    )
    .await["id"]
        .as_i64()
        .expect("id");
    for body in ["Moi", "Et moi"] {
        create(
            &app,
            &t_d1,
            &format!("/api/v1/forum/threads/{thread}/replies"),
            json!({"body": body}),
        )
        .await;
    }

    // Listed entries.
    exec(
        &app,
        "INSERT INTO directory_entries (name, kind, commune_code, claimed_at) VALUES \
         ('Cie A', 'compagnie', '88160', now()), ('Cie B', 'compagnie', '88160', now()), \
         ('Cie C', 'compagnie', '88413', NULL), ('Asso D', 'association', '88160', NULL)",
    )
    .await;

    let epci = |code: &str| {
        format!(
            "SELECT epci_code AS text, NULL::bigint AS number FROM communes WHERE code = '{code}'"
        )
    };
    World {
        epci_epinal: one(&app, &epci(EPINAL)).await.text.expect("epci"),
        epci_saint_die: one(&app, &epci(SAINT_DIE)).await.text.expect("epci"),
        month: Utc::now().format("%Y-%m").to_string(),
        app,
    }
}

async fn filters(w: &World, raw: RawFilters) -> Filters {
    let mut conn = w.app.ctx.conn().await.expect("conn");
    parse_filters(&mut conn, &raw).await.expect("filters")
}

fn counts(t: &culturecnous::service::diagnosis::Table) -> Vec<(&str, i64)> {
    t.rows.iter().map(|r| (r.code.as_str(), r.count)).collect()
}

async fn population(w: &World, sql_where: &str) -> i64 {
    one(
        &w.app,
        &format!(
            "SELECT NULL AS text, sum(population)::bigint AS number FROM communes WHERE {sql_where}"
        ),
    )
    .await
    .number
    .expect("population")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_figure_matches_the_data_set_for_staff_and_public() {
    let w = world().await;
    let mut conn = w.app.ctx.conn().await.expect("conn");
    let all = Filters::default();
    let (staff, public) = (Audience::Staff, Audience::Public);

    // Members by kind: the hidden library and the suspended association for staff only.
    let t = figures::members_by_kind(&mut conn, &all, staff)
        .await
        .expect("kinds");
    assert_eq!(
        counts(&t),
        [
            ("compagnie", 6),
            ("artiste", 2),
            ("association", 1),
            ("autre", 1),
            ("bibliotheque", 1)
        ]
    );
    assert_eq!(t.total, 11);
    let t = figures::members_by_kind(&mut conn, &all, public)
        .await
        .expect("kinds");
    assert_eq!(counts(&t), [("compagnie", 6), ("artiste", 2), ("autre", 1)]);
    assert_eq!(t.total, 9);

    // By discipline, without case or accents; the total is the members in scope.
    let t = figures::members_by_discipline(&mut conn, &all, staff)
        .await
        .expect("disc");
    assert_eq!(
        counts(&t),
        [
            ("theatre", 6),
            ("danse", 2),
            ("lecture publique", 1),
            ("musique", 1)
        ]
    );
    assert_eq!(t.get("theatre").expect("row").label, "Théâtre");
    assert_eq!(t.total, 11);
    let t = figures::members_by_discipline(&mut conn, &all, public)
        .await
        .expect("disc");
    assert_eq!(counts(&t), [("theatre", 6), ("danse", 2)]);
    assert_eq!(t.total, 9);

    // By commune and by EPCI, with populations and rates.
    let pop_epinal = population(&w, "code = '88160'").await;
    let t = figures::members_by_commune(&mut conn, &all, staff)
        .await
        .expect("communes");
    assert_eq!(counts(&t), [(EPINAL, 7), (SAINT_DIE, 3), ("unknown", 1)]);
    let row = t.get(EPINAL).expect("Épinal");
    assert_eq!(row.label, "Épinal");
    assert_eq!(row.population, Some(pop_epinal));
    let rate = row.rate_per_10k().expect("rate");
    assert!((rate - 7.0 * 10_000.0 / pop_epinal as f64).abs() < 1e-9);
    assert_eq!(t.get("unknown").expect("row").population, None);
    let t = figures::members_by_commune(&mut conn, &all, public)
        .await
        .expect("communes");
    assert_eq!(counts(&t), [(EPINAL, 6), (SAINT_DIE, 2), ("unknown", 1)]);

    let pop_ca_epinal = population(&w, &format!("epci_code = '{}'", w.epci_epinal)).await;
    let t = figures::members_by_epci(&mut conn, &all, staff)
        .await
        .expect("epci");
    assert_eq!(
        counts(&t),
        [
            (w.epci_epinal.as_str(), 7),
            (w.epci_saint_die.as_str(), 3),
            ("unknown", 1)
        ]
    );
    assert_eq!(
        t.get(&w.epci_epinal).expect("row").population,
        Some(pop_ca_epinal)
    );
    assert!(pop_ca_epinal > pop_epinal);
    assert_eq!(t.total, 11);

    // Venues by EPCI and capacity: the suspended owner's venue for staff only.
    let v = figures::venues_by_epci(&mut conn, &all, staff)
        .await
        .expect("venues");
    assert_eq!(
        counts(&v.venues),
        [(w.epci_epinal.as_str(), 3), (w.epci_saint_die.as_str(), 1)]
    );
    assert_eq!(v.capacity.count(&w.epci_epinal), 180);
    assert_eq!(v.capacity.count(&w.epci_saint_die), 0);
    let v = figures::venues_by_epci(&mut conn, &all, public)
        .await
        .expect("venues");
    assert_eq!(v.venues.count(&w.epci_epinal), 2);
    assert_eq!(v.capacity.count(&w.epci_epinal), 150);
    assert_eq!((v.venues.total, v.capacity.total), (3, 150));

    // Sharing: offers by category, accepted loans.
    let s = figures::sharing(&mut conn, &all, staff)
        .await
        .expect("sharing");
    assert_eq!(counts(&s.offers), [("lumiere", 1), ("son", 1)]);
    assert_eq!(counts(&s.loans), [("son", 1)]);
    assert_eq!(s.loans.total, 1);

    // Workspaces: the unlisted one and the hidden library for staff only.
    let ws = figures::workspaces(&mut conn, &all, staff)
        .await
        .expect("ws");
    assert_eq!(ws.opened, 2);
    assert_eq!(
        counts(&ws.partners),
        [("compagnie", 4), ("artiste", 1), ("bibliotheque", 1)]
    );
    assert_eq!(ws.partners.total, 6);
    let ws = figures::workspaces(&mut conn, &all, public)
        .await
        .expect("ws");
    assert_eq!(ws.opened, 1);
    assert_eq!(counts(&ws.partners), [("compagnie", 2), ("artiste", 1)]);

    // Announcements and forum by month.
    let a = figures::announcements_by_month(&mut conn, &all, public)
        .await
        .expect("ann");
    assert_eq!(a.count(&w.month, "emploi"), 2);
    assert_eq!(a.count(&w.month, "residence"), 1);
    assert_eq!(a.points.len(), 3, "{a:?}");
    // Public offers are announcements too (kind `pret_materiel`).
    assert_eq!(a.count(&w.month, "pret_materiel"), 2, "{a:?}");
    let f = figures::forum_by_month(&mut conn, &all, staff)
        .await
        .expect("forum");
    assert_eq!(f.count(&w.month, "threads"), 1);
    assert_eq!(f.count(&w.month, "replies"), 2);

    // Claim rate.
    let c = figures::claim_rate(&mut conn, &all).await.expect("claims");
    assert_eq!((c.listed, c.claimed), (4, 2));
    assert_eq!(c.rate(), Some(0.5));
    assert_eq!(c.by_month, [(w.month.clone(), 2)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_combine_on_every_figure() {
    let w = world().await;
    let mut conn = w.app.ctx.conn().await.expect("conn");
    let raw = |kind: Option<&str>, discipline: Option<&str>, epci: Option<&str>| RawFilters {
        kind: kind.map(Into::into),
        discipline: discipline.map(Into::into),
        epci: epci.map(Into::into),
        ..RawFilters::default()
    };
    let staff = Audience::Staff;

    let f = filters(&w, raw(Some("compagnie"), None, Some(&w.epci_epinal))).await;
    let t = figures::members_by_kind(&mut conn, &f, staff)
        .await
        .expect("kinds");
    assert_eq!(counts(&t), [("compagnie", 6)]);
    let f = filters(&w, raw(None, Some("THEATRE"), Some(&w.epci_saint_die))).await;
    assert_eq!(
        figures::members_by_kind(&mut conn, &f, staff)
            .await
            .expect("k")
            .total,
        0
    );
    let f = filters(&w, raw(None, Some("danse"), None)).await;
    assert_eq!(
        counts(
            &figures::members_by_epci(&mut conn, &f, staff)
                .await
                .expect("e")
        ),
        [(w.epci_saint_die.as_str(), 2)]
    );
    // Venues are of kind `lieu`: another kind leaves none.
    let f = filters(&w, raw(Some("artiste"), None, None)).await;
    assert_eq!(
        figures::venues_by_epci(&mut conn, &f, staff)
            .await
            .expect("v")
            .venues
            .total,
        0
    );
    // Forum by the author's kind: d1's replies, not c1's thread.
    let fm = figures::forum_by_month(&mut conn, &f, staff)
        .await
        .expect("forum");
    assert_eq!(
        (fm.count(&w.month, "threads"), fm.count(&w.month, "replies")),
        (0, 2)
    );
    // Announcements by the author's kind.
    let a = figures::announcements_by_month(&mut conn, &f, staff)
        .await
        .expect("a");
    assert_eq!(a.points, [(w.month.clone(), "residence".to_string(), 1)]);
    // Offers and loans by the owner's kind.
    let s = figures::sharing(&mut conn, &f, staff).await.expect("s");
    assert_eq!((s.offers.total, s.loans.total), (0, 0));
    // Claims of one kind.
    let f = filters(&w, raw(Some("association"), None, None)).await;
    let c = figures::claim_rate(&mut conn, &f).await.expect("claims");
    assert_eq!((c.listed, c.claimed), (1, 0));

    // A period before anything existed: stocks and flows are empty.
    let f = filters(
        &w,
        RawFilters {
            period: Some("year".into()),
            from: Some("2020".into()),
            ..RawFilters::default()
        },
    )
    .await;
    assert_eq!(
        figures::members_by_kind(&mut conn, &f, staff)
            .await
            .expect("k")
            .total,
        0
    );
    assert_eq!(
        figures::workspaces(&mut conn, &f, staff)
            .await
            .expect("w")
            .opened,
        0
    );
    assert_eq!(
        figures::claim_rate(&mut conn, &f).await.expect("c").listed,
        0
    );
    assert!(
        figures::forum_by_month(&mut conn, &f, staff)
            .await
            .expect("f")
            .points
            .is_empty()
    );
    // This month: everything.
    let f = filters(
        &w,
        RawFilters {
            period: Some("month".into()),
            from: Some(w.month.clone()),
            ..RawFilters::default()
        },
    )
    .await;
    assert_eq!(
        figures::members_by_kind(&mut conn, &f, staff)
            .await
            .expect("k")
            .total,
        11
    );
    assert_eq!(
        figures::sharing(&mut conn, &f, staff)
            .await
            .expect("s")
            .loans
            .total,
        1
    );
}

/// The public sees no small count, not even by subtracting one table from another: within a
/// table a complement is hidden with a small cell; across filters shown counts are rounded.
#[tokio::test(flavor = "multi_thread")]
async fn public_figures_hide_small_counts_across_combined_filters() {
    let w = world().await;
    let mut conn = w.app.ctx.conn().await.expect("conn");
    let public = Audience::Public;

    // Kinds for the whole département: compagnie 6, artiste 2, autre 1, total 9. Without a
    // complement, 9 − 6 would give artiste + autre = 3; compagnie is hidden too.
    let t = figures::members_by_kind(&mut conn, &Filters::default(), public)
        .await
        .expect("k");
    let shown = suppress::table(&t, public);
    assert!(
        shown.rows.iter().all(|r| r.cell == Cell::Suppressed),
        "{shown:?}"
    );
    assert_eq!(shown.total, Cell::Value(10));
    assert_eq!(
        serde_json::to_value(shown.rows[0].cell).expect("json"),
        "<5"
    );

    // The same table for the EPCI of Épinal: compagnie 6 alone, shown rounded to 5.
    let f = Filters {
        epci: Some(w.epci_epinal.clone()),
        ..Filters::default()
    };
    let epinal = suppress::table(
        &figures::members_by_kind(&mut conn, &f, public)
            .await
            .expect("k"),
        public,
    );
    assert_eq!(epinal.total, Cell::Value(5));
    // The subtraction attack across filters: the whole minus Épinal gives 5, not the true
    // 3 members outside Épinal's EPCI.
    let outside = shown.total.value().expect("v") - epinal.total.value().expect("v");
    assert_ne!(outside, 3);
    // And the table of the rest is itself suppressed.
    let f = Filters {
        epci: Some(w.epci_saint_die.clone()),
        ..Filters::default()
    };
    let saint_die = suppress::table(
        &figures::members_by_kind(&mut conn, &f, public)
            .await
            .expect("k"),
        public,
    );
    assert_eq!(saint_die.total, Cell::Suppressed);

    // Rates per 10 000 only from shown counts.
    let by_commune = suppress::table(
        &figures::members_by_commune(&mut conn, &Filters::default(), public)
            .await
            .expect("c"),
        public,
    );
    for r in &by_commune.rows {
        assert!(r.cell.value().is_none_or(|n| n % 5 == 0), "{r:?}");
        if r.cell == Cell::Suppressed {
            assert_eq!(r.rate_per_10k, None);
        }
    }
    // Staff see the exact counts.
    let staff = suppress::table(
        &figures::members_by_kind(&mut conn, &Filters::default(), Audience::Staff)
            .await
            .expect("k"),
        Audience::Staff,
    );
    assert_eq!(staff.total, Cell::Value(11));
    assert_eq!(staff.rows[0].cell, Cell::Value(6));
    // A series: each point on its own.
    let a = figures::announcements_by_month(&mut conn, &Filters::default(), public)
        .await
        .expect("a");
    assert!(
        suppress::series(&a, public)
            .iter()
            .all(|(_, _, c)| *c == Cell::Suppressed)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_filters_are_refused_naming_their_field() {
    let app = TestApp::new().await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let e = parse_filters(
        &mut conn,
        &RawFilters {
            period: Some("week".into()),
            kind: Some("garage".into()),
            epci: Some("000000000".into()),
            discipline: Some("x".repeat(101)),
            ..RawFilters::default()
        },
    )
    .await
    .expect_err("bad filters");
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["period", "kind", "discipline", "epci"]);

    let e = parse_filters(
        &mut conn,
        &RawFilters {
            period: Some("custom".into()),
            from: Some("2026-03-01".into()),
            to: Some("2026-02-01".into()),
            ..RawFilters::default()
        },
    )
    .await
    .expect_err("end before start");
    assert_eq!(e.fields[0].field, "to");
    assert_eq!(e.fields[0].message_key, "field.period.end_before_start");
    assert!(
        culturecnous::i18n::Lang::Fr
            .t(e.fields[0].message_key)
            .contains("avant son début")
    );

    // A known EPCI and kind pass.
    let code = one(
        &app,
        "SELECT epci_code AS text, NULL::bigint AS number FROM communes WHERE code = '88160'",
    )
    .await
    .text
    .expect("epci");
    let f = parse_filters(
        &mut conn,
        &RawFilters {
            kind: Some("compagnie".into()),
            epci: Some(code.clone()),
            ..RawFilters::default()
        },
    )
    .await
    .expect("good filters");
    assert_eq!(f.epci, Some(code));
}

/// Followers by server (distinct followers; a hidden member's followers for staff only) and
/// deliveries by server (non-public activities, such as a workspace's, for staff only).
#[tokio::test(flavor = "multi_thread")]
async fn federation_reach_by_server() {
    let w = world().await;
    let app = &w.app;
    let (cie1, cie2, library) = (
        local_actor(app, "cie1").await,
        local_actor(app, "cie2").await,
        local_actor(app, "biblio").await,
    );
    let zoe = remote_follower(app, "masto.example", "zoe", &cie1).await;
    follow(app, &zoe, &cie2, "accepted").await;
    remote_follower(app, "masto.example", "yan", &library).await;
    remote_follower(app, "lemmy.example", "xav", &cie2).await;
    let pending = remote_actor_row(app, "pending.example", "ana", true).await;
    follow(app, &pending, &cie1, "pending").await;
    exec(
        app,
        "WITH a AS (INSERT INTO activities (ap_id, kind, actor_id, data, public) \
           SELECT 'http://localhost:8080/activities/' || p, 'Create', actor_id, '{}', p = 'pub' \
           FROM accounts, (VALUES ('pub'), ('priv')) v(p) WHERE username = 'cie1' RETURNING id, public) \
         INSERT INTO deliveries (activity_id, inbox_url, domain, delivered_at) \
         SELECT id, 'https://masto.example/inbox', 'masto.example', now() FROM a \
         UNION ALL SELECT id, 'https://lemmy.example/inbox', 'lemmy.example', NULL FROM a WHERE public",
    )
    .await;
    let mut conn = app.ctx.conn().await.expect("conn");
    let all = Filters::default();

    let staff = figures::reach(&mut conn, &all, Audience::Staff)
        .await
        .expect("reach");
    assert_eq!(
        counts(&staff.followers),
        [("masto.example", 2), ("lemmy.example", 1)]
    );
    assert_eq!(staff.followers.total, 3);
    // Delivered only: lemmy's is still queued.
    assert_eq!(counts(&staff.deliveries), [("masto.example", 2)]);

    let public = figures::reach(&mut conn, &all, Audience::Public)
        .await
        .expect("reach");
    assert_eq!(
        counts(&public.followers),
        [("lemmy.example", 1), ("masto.example", 1)]
    );
    assert_eq!(counts(&public.deliveries), [("masto.example", 1)]);

    // Followers of the followed member's kind and EPCI only.
    let f = Filters {
        kind: Some(culturecnous::service::directory::DirectoryKind::Bibliotheque),
        ..Filters::default()
    };
    let staff = figures::reach(&mut conn, &f, Audience::Staff)
        .await
        .expect("reach");
    assert_eq!(counts(&staff.followers), [("masto.example", 1)]);
}
