//! The département's bulk import (`culturecnous directory import`, `/admin/annuaire`, the
//! admin API) and the claim invitations: bad rows reported with their line, Latin-1 files
//! converted, re-imports updating, claimed entries left alone, the team's rights, the
//! invitation mail and the claim of an entry by its actor.

use crate::common::{PASSWORD, TestApp};
use crate::helpers::{
    Browser, Part, api, call, csrf_in, link_in, received_text_to, rows_in, token,
};
use axum::http::{Method, StatusCode, header};
use culturecnous::service::directory::import::{self, ImportError, ImportOptions, ImportReport};
use diesel::{
    QueryableByName,
    sql_types::{Array, BigInt, Nullable, Text},
};
use diesel_async::RunQueryDsl;
use serde_json::json;
use std::process::Stdio;

async fn run_import(app: &TestApp, csv: &[u8]) -> Result<ImportReport, ImportError> {
    import::import(
        &app.ctx,
        std::io::Cursor::new(csv.to_vec()),
        ImportOptions::default(),
        &mut |_| {},
    )
    .await
}

#[derive(QueryableByName, Debug)]
struct EntryRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    disciplines: Vec<String>,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Nullable<Text>)]
    commune_code: Option<String>,
    #[diesel(sql_type = Text)]
    phone: String,
}

async fn entries(app: &TestApp) -> Vec<EntryRow> {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(
        "SELECT id, name, kind, disciplines, email, commune_code, phone
         FROM directory_entries ORDER BY id",
    )
    .load(&mut conn)
    .await
    .expect("entries")
}

async fn exec(app: &TestApp, sql: &str) {
    let mut conn = app.ctx.conn().await.expect("conn");
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .expect("sql");
}

fn reason_of(report: &ImportReport, line: u64) -> String {
    report
        .skipped_lines
        .iter()
        .find(|s| s.line == line)
        .map(|s| s.reason.clone())
        .unwrap_or_else(|| panic!("line {line} not skipped: {:?}", report.skipped_lines))
}

const GOOD_FILE: &str = "\
name;kind;disciplines;email;phone;address;postal_code;commune;website;latitude;longitude;is_venue;remarques
Compagnie du Petit Pont;compagnie;théâtre|marionnette;contact@petitpont.fr;03 29 00 00 01;1 rue du Pont;88000;Épinal;www.petitpont.fr;48,17;6,45;non;à rappeler
Médiathèque de Gérardmer;Bibliothèque / médiathèque;lecture publique, conte;mediatheque@gerardmer.fr;;;88400;Gerardmer;;;;;
Salle des fêtes;lieu;;;;;88100;St-Dié-des-Vosges;;;;x;
";

#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_are_reported_with_their_line_and_a_reimport_updates() {
    let app = TestApp::new().await;
    let csv = format!(
        "{GOOD_FILE}\
;autre;;sans-nom@exemple.fr;;;88000;Épinal;;;;;
Les Mauvais Courriels;association;;pas-une-adresse;;;88000;Épinal;;;;;
Ensemble Nulle Part;association;;;;;;Ville-Qui-N-Existe-Pas;;;;;
Cie du Petit Pont (bis);compagnie;;CONTACT@petitpont.fr;;;88000;Épinal;;;;;
Garage Martin;garage;;;;;88000;Épinal;;;;;
Demi-Point;autre;;;;;88000;Épinal;;48.1;;;
Trop au Nord;autre;;;;;88000;Épinal;;95;6;;
Lien Cassé;autre;;;;;88000;Épinal;javascript:alert(1);;;;
Compagnie du petit pont;compagnie;;;;;88000;Epinal;;;;;
"
    );
    let report = run_import(&app, csv.as_bytes()).await.expect("import");
    assert_eq!(report.encoding, "utf-8");
    assert_eq!(report.separator, ";");
    assert_eq!(report.rows, 12);
    assert_eq!((report.created, report.updated, report.skipped), (3, 0, 9));
    assert_eq!(report.ignored_columns, vec!["remarques".to_string()]);
    assert!(reason_of(&report, 5).contains("nom vide"));
    assert!(reason_of(&report, 6).contains("adresse e-mail invalide"));
    assert!(reason_of(&report, 7).contains("commune inconnue"));
    assert_eq!(reason_of(&report, 8), "doublon de la ligne 2");
    assert!(reason_of(&report, 9).contains("type inconnu"));
    assert!(reason_of(&report, 10).contains("les deux ou aucune"));
    assert!(reason_of(&report, 11).contains("latitude invalide"));
    assert!(reason_of(&report, 12).contains("adresse web invalide"));
    assert_eq!(reason_of(&report, 13), "doublon de la ligne 2");

    let rows = entries(&app).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].name, "Compagnie du Petit Pont");
    assert_eq!(rows[0].disciplines, vec!["théâtre", "marionnette"]);
    assert_eq!(rows[0].commune_code.as_deref(), Some("88160"));
    assert_eq!(rows[1].kind, "bibliotheque");
    assert_eq!(rows[1].commune_code.as_deref(), Some("88196"));
    assert_eq!(rows[2].kind, "lieu");
    assert_eq!(rows[2].commune_code.as_deref(), Some("88413"));

    // The same file again, with a new phone number: updated, not duplicated; matched on the
    // e-mail (case aside) or, without one, on the name in its commune.
    let again = GOOD_FILE
        .replace("03 29 00 00 01", "03 29 99 99 99")
        .replace("contact@petitpont.fr", "Contact@PetitPont.fr")
        .replace("Salle des fêtes", "SALLE DES FETES");
    let report = run_import(&app, again.as_bytes()).await.expect("re-import");
    assert_eq!((report.created, report.updated, report.skipped), (0, 3, 0));
    let rows = entries(&app).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].phone, "03 29 99 99 99");
    assert_eq!(rows[2].name, "SALLE DES FETES");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_latin1_file_with_commas_is_converted() {
    let app = TestApp::new().await;
    let mut bytes = b"Nom,Type,Code postal,Commune,E-mail\n".to_vec();
    // "Théâtre de la Rivière", "Épinal" in Windows-1252.
    bytes.extend_from_slice(
        b"Th\xe9\xe2tre de la Rivi\xe8re,compagnie,88000,\xc9pinal,riviere@exemple.fr\n",
    );
    let report = run_import(&app, &bytes).await.expect("import");
    assert_eq!(report.encoding, "windows-1252");
    assert_eq!(report.separator, ",");
    assert_eq!(report.created, 1, "{report:?}");
    let rows = entries(&app).await;
    assert_eq!(rows[0].name, "Théâtre de la Rivière");
    assert_eq!(rows[0].commune_code.as_deref(), Some("88160"));
    assert_eq!(rows[0].email, "riviere@exemple.fr");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_required_columns_stop_the_import_before_any_row_is_written() {
    let app = TestApp::new().await;
    let err = run_import(&app, b"name;email\nCompagnie;a@b.fr\n")
        .await
        .expect_err("no commune column");
    assert!(
        matches!(&err, ImportError::MissingColumns(m) if m.iter().any(|c| c.contains("commune"))),
        "{err:?}"
    );
    let err = run_import(&app, b"kind;commune\nassociation;Vittel\n")
        .await
        .expect_err("no name column");
    assert!(err.to_string().contains("name"), "{err}");
    assert_eq!(rows_in(&app, "directory_entries").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn claimed_entries_are_not_overwritten() {
    let app = TestApp::new().await;
    run_import(&app, GOOD_FILE.as_bytes())
        .await
        .expect("import");
    exec(
        &app,
        "UPDATE directory_entries SET claimed_at = now() WHERE email = 'contact@petitpont.fr'",
    )
    .await;
    let changed = GOOD_FILE.replace("03 29 00 00 01", "00 00 00 00 00");
    let report = run_import(&app, changed.as_bytes())
        .await
        .expect("re-import");
    assert_eq!((report.created, report.updated, report.skipped), (0, 2, 1));
    assert!(reason_of(&report, 2).contains("revendiquée"));
    assert_eq!(entries(&app).await[0].phone, "03 29 00 00 01");
}

fn binary() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_culturecnous"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CULTURECNOUS__") {
            command.env_remove(key);
        }
    }
    command
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    binary()
        .args(args)
        .env("CULTURECNOUS__DATABASE__URL", &app.ctx.config.database.url)
        .env(
            "CULTURECNOUS__STORAGE__DATA_DIR",
            app.ctx.config.storage.data_dir.display().to_string(),
        )
        .env("CULTURECNOUS__INSTANCE__URL", &app.ctx.config.instance.url)
        .output()
        .await
        .expect("run the binary")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_exits_0_with_skipped_rows_and_fails_on_unreadable_files() {
    let app = TestApp::new().await;
    let dir = app.ctx.config.storage.data_dir.clone();
    let good = dir.join("annuaire.csv");
    std::fs::write(
        &good,
        format!("{GOOD_FILE}Les Mauvais Courriels;association;;pas-une-adresse;;;88000;Épinal\n"),
    )
    .expect("write csv");
    let out = cli(&app, &["directory", "import", good.to_str().expect("path")]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ligne 5 ignorée : adresse e-mail invalide"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 fiches créées, 0 mises à jour, 1 lignes ignorées"),
        "{stdout}"
    );
    assert!(stderr.contains("4 lignes lues"), "{stderr}");
    assert_eq!(rows_in(&app, "directory_entries").await, 3);

    let out = cli(
        &app,
        &[
            "directory",
            "import",
            "--dry-run",
            good.to_str().expect("path"),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("0 fiches créées, 3 mises à jour"),
        "{stdout}"
    );

    let missing = dir.join("sans-commune.csv");
    std::fs::write(&missing, "name;email\nCie;a@b.fr\n").expect("write csv");
    let out = cli(
        &app,
        &["directory", "import", missing.to_str().expect("path")],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("colonnes obligatoires absentes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&app, &["directory", "import", "/nulle/part.csv"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let help = binary()
        .args(["directory", "import", "--help"])
        .output()
        .await
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("postal_code") && help.contains("is_venue"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_page_and_api_are_for_the_team_only() {
    let app = TestApp::new().await;
    app.create_user("membre", "member").await;
    app.create_user("moderatrice", "moderator").await;
    let agent = app.create_user("agent", "staff").await;
    run_import(&app, GOOD_FILE.as_bytes())
        .await
        .expect("import");

    for username in ["membre", "moderatrice"] {
        let browser = Browser::logged_in(&app, username).await;
        assert_eq!(
            browser.get("/admin/annuaire").await.status,
            StatusCode::FORBIDDEN
        );
        let t = token(&app, username).await;
        let r = api(&app, Method::GET, "/api/v1/admin/directory", &t, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = api(
            &app,
            Method::POST,
            "/api/v1/admin/directory/invitations",
            &t,
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = call(
            &app,
            Method::POST,
            "/api/v1/admin/directory/import",
            Some(&t),
            Some(("text/csv".into(), GOOD_FILE.as_bytes().to_vec())),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        Browser::new(&app).get("/admin/annuaire").await.status,
        StatusCode::SEE_OTHER
    );

    let browser = Browser::with_session(&app, &agent).await;
    let page = browser.get("/admin/annuaire").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("0 comptes activés sur 3 fiches listées"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Médiathèque de Gérardmer"));
    let filtered = browser.get("/admin/annuaire?etat=no_email").await;
    assert!(filtered.body.contains("Salle des fêtes"));
    assert!(!filtered.body.contains("Médiathèque de Gérardmer"));
    let by_commune = browser.get("/admin/annuaire?commune=Epinal").await;
    assert!(by_commune.body.contains("Compagnie du Petit Pont"));
    assert!(!by_commune.body.contains("Médiathèque de Gérardmer"));

    // The upload form runs the same import and shows its report.
    let csv = format!("{GOOD_FILE}Nouvelle Cie;compagnie;;;;;88800;Vittel\n;;;;;;;\n");
    let r = browser
        .submit_multipart(
            "/admin/annuaire/import",
            vec![Part::File {
                name: "file",
                file_name: "annuaire.csv",
                content_type: "text/csv",
                bytes: csv.into_bytes(),
            }],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body
            .contains("4 lignes lues : 1 fiches créées, 3 mises à jour, 0 lignes ignorées"),
        "{}",
        r.body
    );
    let r = browser
        .submit_multipart(
            "/admin/annuaire/import",
            vec![Part::File {
                name: "file",
                file_name: "x.csv",
                content_type: "text/csv",
                bytes: b"email\na@b.fr\n".to_vec(),
            }],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Il manque des colonnes obligatoires"));

    // The API twin.
    let t = token(&app, "agent").await;
    let r = call(
        &app,
        Method::POST,
        "/api/v1/admin/directory/import",
        Some(&t),
        Some((
            "text/csv".into(),
            b"name;commune\nChorale;Remiremont\n;Remiremont\n".to_vec(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let report = r.json();
    assert_eq!(report["created"], 1);
    assert_eq!(report["skipped_lines"][0]["line"], 3);
    let r = call(
        &app,
        Method::POST,
        "/api/v1/admin/directory/import",
        Some(&t),
        Some(("text/csv".into(), b"nom\nx\n".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.header(header::CONTENT_TYPE.as_str())
            .is_some_and(|c| c.starts_with("application/problem+json"))
    );
    let r = call(
        &app,
        Method::POST,
        "/api/v1/admin/directory/import",
        Some(&t),
        Some(("image/png".into(), b"x".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = api(
        &app,
        Method::GET,
        "/api/v1/admin/directory?state=not_invited",
        &t,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["counts"]["listed"], 5);
    assert_eq!(body["counts"]["claimed"], 0);
    assert_eq!(body["counts"]["not_invited"], 2);
    assert_eq!(body["total"], 2);
}

/// Invites the entry with `email` through the API; returns the claim link's path.
async fn invite(app: &TestApp, staff_token: &str, email: &str) -> String {
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/admin/directory?q={}", "petit"),
        staff_token,
        None,
    )
    .await;
    let id = r.json()["items"][0]["id"].as_i64().expect("entry id");
    let r = api(
        app,
        Method::POST,
        "/api/v1/admin/directory/invitations",
        staff_token,
        Some(json!({"entry_ids": [id]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["invited"], 1);
    let text = received_text_to(&app.ctx, email).await;
    assert!(
        text.contains("Votre structure, « Compagnie du Petit Pont », est déjà dans l'annuaire"),
        "{text}"
    );
    link_in(&text, "/annuaire/revendiquer/")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invited_actor_claims_the_entry_and_the_link_works_once() {
    let app = TestApp::new().await;
    app.create_user("agent", "admin").await;
    let staff = token(&app, "agent").await;
    run_import(&app, GOOD_FILE.as_bytes())
        .await
        .expect("import");
    let link = invite(&app, &staff, "contact@petitpont.fr").await;

    let visitor = Browser::new(&app);
    let page = visitor.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Compagnie du Petit Pont"));
    assert!(page.body.contains("value=\"compagnie_du_petit_pont\""));
    let csrf = csrf_in(&page.body);
    // Without accepting the rules, or with a weak password: the form again, nothing created.
    let r = visitor
        .post_form(
            &link,
            &[
                ("csrf_token", &csrf),
                ("username", "petitpont"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accounts_before = rows_in(&app, "accounts").await;
    let r = visitor
        .post_form(
            &link,
            &[
                ("csrf_token", &csrf),
                ("username", "petitpont"),
                ("password", "court"),
                ("accept_rules", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rows_in(&app, "accounts").await, accounts_before);

    let r = visitor
        .post_form(
            &link,
            &[
                ("csrf_token", &csrf),
                ("username", "petitpont"),
                ("password", PASSWORD),
                ("accept_rules", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location"), Some("/users/petitpont"));
    // Logged in by the claim.
    let me = visitor.get("/parametres/profil").await;
    assert_eq!(me.status, StatusCode::OK);

    let mut conn = app.ctx.conn().await.expect("conn");
    let account = culturecnous::db::accounts::by_login(&mut conn, "petitpont")
        .await
        .expect("query")
        .expect("account");
    assert_eq!(account.kind, "structure");
    assert_eq!(account.email, "contact@petitpont.fr");
    assert!(account.email_confirmed_at.is_some());
    assert_eq!(account.directory_kind, "compagnie");
    assert_eq!(account.commune_code.as_deref(), Some("88160"));
    assert_eq!(account.postal_code, "88000");
    assert_eq!(account.latitude, Some(48.17));
    assert_eq!(account.disciplines, vec!["théâtre", "marionnette"]);
    assert_eq!(account.links, vec!["https://www.petitpont.fr/"]);
    drop(conn);
    let rows = entries(&app).await;
    assert_eq!(rows[0].email, "contact@petitpont.fr");

    // The password works on the login page.
    let other = Browser::new(&app);
    let r = other.login("petitpont", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Single use.
    let again = Browser::new(&app).get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(
        again
            .body
            .contains("Demandez une nouvelle invitation au département")
    );
    let r = api(&app, Method::GET, "/api/v1/admin/directory", &staff, None).await;
    assert_eq!(r.json()["counts"]["claimed"], 1);
    assert_eq!(r.json()["counts"]["listed"], 3);
    let page = Browser::logged_in(&app, "agent")
        .await
        .get("/admin/annuaire")
        .await;
    assert!(page.body.contains("1 comptes activés sur 3 fiches listées"));
    assert!(page.body.contains("@petitpont"));
    // Inviting a claimed entry sends nothing.
    let id = rows[0].id;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/directory/invitations",
        &staff,
        Some(json!({"entry_ids": [id]})),
    )
    .await;
    assert_eq!(r.json()["skipped_claimed"], 1);
    assert_eq!(r.json()["invited"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_replaced_and_unknown_links_say_to_ask_again() {
    let app = TestApp::new().await;
    app.create_user("agent", "staff").await;
    let staff = token(&app, "agent").await;
    run_import(&app, GOOD_FILE.as_bytes())
        .await
        .expect("import");
    let first = invite(&app, &staff, "contact@petitpont.fr").await;
    // Sending again replaces the first link.
    let second = invite(&app, &staff, "contact@petitpont.fr").await;
    assert_ne!(first, second);
    let visitor = Browser::new(&app);
    assert_eq!(visitor.get(&first).await.status, StatusCode::GONE);
    assert_eq!(visitor.get(&second).await.status, StatusCode::OK);
    exec(
        &app,
        "UPDATE claim_invitations SET expires_at = now() - interval '1 day'",
    )
    .await;
    let expired = visitor.get(&second).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("a expiré"));
    let unknown = visitor.get("/annuaire/revendiquer/pas-un-jeton").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("demandez une nouvelle invitation"));

    // Inviting everyone never invited: the two entries with an address (one already was).
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/directory/invitations",
        &staff,
        Some(json!({})),
    )
    .await;
    assert_eq!(r.json()["invited"], 1, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/admin/directory/invitations",
        &staff,
        Some(json!({"entry_ids": []})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_admin_and_claim_pages_pass_the_mechanical_accessibility_checks() {
    let app = TestApp::new().await;
    let agent = app.create_user("agent", "staff").await;
    let staff = token(&app, "agent").await;
    run_import(&app, GOOD_FILE.as_bytes())
        .await
        .expect("import");
    let link = invite(&app, &staff, "contact@petitpont.fr").await;
    let admin = Browser::with_session(&app, &agent).await;
    let english = Browser::with_session(&app, &agent).await;
    english.set_cookie("lang", "en");
    let visitor = Browser::new(&app);
    let claim_page = visitor.get(&link).await;
    let csrf = csrf_in(&claim_page.body);
    let pages = vec![
        ("admin", admin.get("/admin/annuaire").await),
        ("admin (en)", english.get("/admin/annuaire").await),
        (
            "admin (filtered)",
            admin.get("/admin/annuaire?etat=invited&q=pont").await,
        ),
        (
            "admin (unknown commune)",
            admin.get("/admin/annuaire?commune=Nullepart").await,
        ),
        (
            "admin (report)",
            admin
                .submit_multipart(
                    "/admin/annuaire/import",
                    vec![Part::File {
                        name: "file",
                        file_name: "a.csv",
                        content_type: "text/csv",
                        bytes: b"name;commune\n;Vittel\nChorale;Vittel\n".to_vec(),
                    }],
                )
                .await,
        ),
        ("claim", claim_page),
        (
            "claim (errors)",
            visitor
                .post_form(
                    &link,
                    &[("csrf_token", &csrf), ("username", "A"), ("password", "")],
                )
                .await,
        ),
    ];
    for (name, page) in pages {
        assert!(
            page.status == StatusCode::OK || page.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            page.status
        );
        let found = crate::accessibility::problems(&page.body);
        assert!(found.is_empty(), "{name}: {found:#?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_artist_claims_a_person_account_and_a_venue_a_structure_of_kind_lieu() {
    use culturecnous::service::directory::claim;
    let app = TestApp::new().await;
    let csv = "name;kind;email;commune;is_venue\n\
               Léa Martin;artiste;lea@exemple.fr;Vittel;non\n\
               Le Grenier;association;grenier@exemple.fr;Golbey;oui\n";
    run_import(&app, csv.as_bytes()).await.expect("import");
    let sent = claim::invite(&app.ctx, None, None).await.expect("invite");
    assert_eq!(sent.invited, 2);
    for (email, username, kind, directory_kind) in [
        ("lea@exemple.fr", "lea_martin", "individual", "artiste"),
        ("grenier@exemple.fr", "le_grenier", "structure", "lieu"),
    ] {
        let text = received_text_to(&app.ctx, email).await;
        let link = link_in(&text, claim::CLAIM_PATH);
        let token = link.trim_start_matches(claim::CLAIM_PATH);
        let account = claim::claim(&app.ctx, token, username, PASSWORD)
            .await
            .expect("claim");
        assert_eq!(account.kind, kind);
        assert_eq!(account.directory_kind, directory_kind);
        // The venue entry became a venue the new account manages, with its actor.
        let mut conn = app.ctx.conn().await.expect("conn");
        let managed = culturecnous::db::venues::managed_by(&mut conn, account.id)
            .await
            .expect("venues");
        if directory_kind == "lieu" {
            assert_eq!(managed.len(), 1, "{managed:?}");
            let venue = &managed[0];
            assert_eq!(venue.name, "Le Grenier");
            assert_eq!(venue.slug, "le-grenier");
            assert_eq!(venue.contact_email, email);
            let actor = culturecnous::db::actors::by_id(&mut conn, venue.actor_id)
                .await
                .expect("venue actor");
            assert_eq!(actor.kind, "Organization");
            let r = app.get_html("/venues/le-grenier").await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.body.contains("Le Grenier"));
        } else {
            assert!(managed.is_empty(), "{managed:?}");
        }
        drop(conn);
        let again = claim::claim(&app.ctx, token, "autre_nom", PASSWORD).await;
        assert_eq!(
            again.err().map(|e| e.kind),
            Some(culturecnous::error::ErrorKind::Gone)
        );
    }
}
