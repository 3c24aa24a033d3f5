//! Territorial diagnosis (issue 14): the public page and the team's dashboard, the open-data
//! files (per dataset, whole report, data package) and `GET /api/v1/stats`, on the known data
//! set of `diagnosis.rs`: who may see what, the `<5` rule in every format, the empty file of a
//! period without data, bad filters named, and the pages' accessibility (the charts' SVG
//! included).

use crate::{
    accessibility::{assert_accessible, problems},
    common::{TestApp, TestResponse},
    diagnosis::{World, world},
    helpers::{Browser, api, token},
};
use axum::http::{Method, StatusCode};
use culturecnous::db::accounts::{DbAccount, by_login};
use serde_json::{Value, json};

async fn account(app: &TestApp, login: &str) -> DbAccount {
    let mut conn = app.ctx.conn().await.expect("conn");
    by_login(&mut conn, login)
        .await
        .expect("query")
        .expect("account")
}

/// The CSV's lines, without their CRLF.
fn lines(r: &TestResponse) -> Vec<&str> {
    r.body.split("\r\n").filter(|l| !l.is_empty()).collect()
}

/// The value of `row`'s `column` in a CSV (header first).
fn csv_value<'a>(csv: &[&'a str], code: &str, column: &str) -> &'a str {
    let header: Vec<&str> = csv[0].split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == column)
        .expect("column in header");
    let row = csv
        .iter()
        .find(|l| l.split(',').next() == Some(code))
        .unwrap_or_else(|| panic!("row {code} in {csv:?}"));
    row.split(',').nth(at).expect("value")
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_show_each_reader_what_they_may_see_and_pass_the_accessibility_checks() {
    let w: World = world().await;
    let app = &w.app;
    let visitor = Browser::new(app);
    let public = visitor.get("/diagnostic").await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    // Counts only: no name of a member, a hidden library or a workspace.
    assert!(!public.body.contains("/users/"), "no link to a member");
    for name in ["cie1", "biblio", "danseur1", "asso"] {
        assert!(
            !public.body.contains(&format!(">{name}<"))
                && !public.body.contains(&format!("{name} :")),
            "{name} on the public page"
        );
    }
    // The members by kind are all withheld (2 + 1 below 5, so the 6 compagnies with them);
    // the total of 9 is rounded to 10.
    assert!(public.body.contains("&lt; 5"), "withheld counts");
    assert!(
        public
            .body
            .contains("<dd>10 <span class=\"figure-unit\">membres</span>"),
        "{}",
        public.body
    );
    assert!(public.body.contains("<svg"), "charts drawn");
    assert!(
        public
            .body
            .contains("/diagnostic/donnees/membres-par-type.csv")
    );

    // The team's dashboard: exact counts (11 members), for staff and admins only.
    assert_eq!(
        visitor.get("/admin/diagnostic").await.status,
        StatusCode::SEE_OTHER,
        "a visitor is sent to log in"
    );
    let member = Browser::with_session(app, &account(app, "cie1").await).await;
    assert_eq!(
        member.get("/admin/diagnostic").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        member.get("/admin/diagnostic/export.csv").await.status,
        StatusCode::FORBIDDEN
    );
    let staff = Browser::with_session(app, &account(app, "rachel").await).await;
    let dashboard = staff.get("/admin/diagnostic").await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    assert!(
        dashboard
            .body
            .contains("<dd>11 <span class=\"figure-unit\">membres</span>")
    );
    assert!(
        dashboard
            .body
            .contains("/admin/diagnostic/donnees/membres-par-type.csv")
    );
    assert_eq!(dashboard.header("cache-control"), Some("private, no-store"));

    // Filters are kept in the form and the links; an EPCI narrows the figures.
    let filtered = staff
        .get(&format!(
            "/admin/diagnostic?period=month&from={}&kind=compagnie&epci={}",
            w.month, w.epci_epinal
        ))
        .await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(
        filtered
            .body
            .contains("<dd>6 <span class=\"figure-unit\">membres</span>")
    );
    assert!(filtered.body.contains(&format!(
        "/admin/diagnostic/donnees/membres-par-type.csv?period=month&#38;from={}&#38;kind=compagnie&#38;epci={}",
        w.month, w.epci_epinal
    )));
    assert!(
        filtered
            .body
            .contains("<option value=\"compagnie\" selected>")
    );

    // A bad filter: 400, the page says which field, no figures.
    let bad = visitor
        .get("/diagnostic?period=custom&from=2026-03-01&to=2026-02-01&kind=troupe")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("href=\"#f-to\""), "{}", bad.body);
    assert!(bad.body.contains("href=\"#f-kind\""));
    assert!(
        bad.body
            .contains("La fin de la période est avant son début.")
    );
    assert!(!bad.body.contains("<svg"));
    assert!(problems(&bad.body).is_empty(), "{:?}", problems(&bad.body));

    let catalogue = visitor.get("/diagnostic/donnees").await;
    assert!(
        catalogue
            .body
            .contains("Licence Ouverte / Open Licence version 2.0")
    );
    assert!(catalogue.body.contains("membres_pour_10000_habitants"));
    assert_accessible(&[
        ("public page".into(), public),
        ("dashboard".into(), dashboard),
        ("filtered dashboard".into(), filtered),
        ("catalogue".into(), catalogue),
        ("public page, English".into(), {
            let en = Browser::new(app);
            en.set_cookie("lang", "en");
            en.get("/diagnostic?period=year&from=2001").await
        }),
    ]);
}

#[tokio::test(flavor = "multi_thread")]
async fn files_carry_the_suppression_rule_the_licence_and_a_header_even_when_empty() {
    let w = world().await;
    let app = &w.app;
    let visitor = Browser::new(app);

    // One dataset as CSV: header, then rows; public counts withheld or rounded.
    let csv = visitor
        .get("/diagnostic/donnees/membres-par-type.csv")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("link")
            .is_some_and(|l| l.contains("etalab.gouv.fr") && l.contains("rel=\"license\""))
    );
    let rows = lines(&csv);
    assert_eq!(rows[0], "code,libelle,membres");
    assert_eq!(csv_value(&rows, "compagnie", "membres"), "<5");
    assert_eq!(csv_value(&rows, "compagnie", "libelle"), "Compagnie");
    assert!(
        !csv.body.contains("bibliotheque"),
        "hidden members are not counted"
    );

    // The same as JSON: "<5", the licence, the dictionary.
    let json = visitor
        .get("/diagnostic/donnees/membres-par-type.json")
        .await
        .json();
    assert_eq!(json["data"][0]["membres"], "<5");
    assert_eq!(json["licenses"][0]["name"], "etalab-2.0");
    assert_eq!(json["schema"]["fields"][2]["type"], "integer");
    assert_eq!(json["audience"], "public");

    // Staff files: exact counts.
    let staff = Browser::with_session(app, &account(app, "rachel").await).await;
    let exact = staff
        .get("/admin/diagnostic/donnees/membres-par-type.csv")
        .await;
    let rows = lines(&exact);
    assert_eq!(csv_value(&rows, "compagnie", "membres"), "6");
    assert_eq!(csv_value(&rows, "bibliotheque", "membres"), "1");
    assert_eq!(exact.header("cache-control"), Some("private, no-store"));

    // A period without data: a valid file with its header only, in every format.
    let empty = visitor
        .get("/diagnostic/donnees/annonces-par-mois.csv?period=year&from=2001")
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, "mois,code,libelle,annonces\r\n");
    let empty = visitor
        .get("/diagnostic/donnees/prets-par-categorie.json?period=year&from=2001")
        .await
        .json();
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["filters"]["from"], "2001-01-01");
    assert_eq!(empty["filters"]["to"], "2001-12-31");

    // The whole report: long CSV and JSON package with every dataset inline.
    let long = visitor.get("/diagnostic/export.csv").await;
    let rows = lines(&long);
    assert_eq!(rows[0], "jeu,mois,code,libelle,mesure,valeur");
    assert!(
        rows.contains(&"synthese,,membres,Membres inscrits,valeur,10"),
        "{rows:?}"
    );
    let whole = visitor.get("/diagnostic/export.json").await.json();
    assert_eq!(whole["resources"].as_array().map(Vec::len), Some(15));
    assert_eq!(
        whole["licenses"][0]["path"],
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    );

    // The data package: each public CSV at its stable URL with its schema.
    let package = visitor
        .get("/diagnostic/donnees/datapackage.json")
        .await
        .json();
    let base = app.ctx.urls.base().to_string();
    assert_eq!(
        package["resources"][4]["path"],
        format!("{base}/diagnostic/donnees/membres-par-commune.csv")
    );
    assert_eq!(
        package["resources"][4]["schema"]["missingValues"],
        json!(["", "<5"])
    );

    // Unknown files: 404; bad filters: 400 naming the field.
    for path in [
        "/diagnostic/donnees/inconnu.csv",
        "/diagnostic/donnees/membres-par-type.xlsx",
        "/diagnostic/donnees/membres-par-type",
    ] {
        assert_eq!(
            visitor.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let bad = app
        .get(
            "/diagnostic/donnees/membres-par-type.csv?epci=123",
            "application/json",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("epci"), "{}", bad.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stats_api_answers_the_public_and_exact_figures_to_staff_tokens() {
    let w = world().await;
    let app = &w.app;
    let public = app.get("/api/v1/stats", "application/json").await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    let p = public.json();
    assert_eq!(p["audience"], "public");
    assert_eq!(p["members"]["total"], 10);
    assert_eq!(p["members"]["by_kind"]["compagnie"], "<5");
    assert_eq!(p["announcements"]["by_kind"]["emploi"], "<5");
    assert_eq!(p["claim_rate"]["listed"], "<5");
    assert!(p["claim_rate"]["rate"].is_null());
    assert!(
        p["exports"]["csv"]
            .as_str()
            .is_some_and(|u| u.ends_with("/diagnostic/export.csv"))
    );

    let staff = token(app, "rachel").await;
    let s = api(app, Method::GET, "/api/v1/stats", &staff, None)
        .await
        .json();
    assert_eq!(s["audience"], "staff");
    assert_eq!(s["members"]["total"], 11);
    assert_eq!(s["members"]["by_kind"]["compagnie"], 6);
    assert_eq!(s["announcements"]["by_kind"]["emploi"], 2);
    assert_eq!(s["claim_rate"]["listed"], 4);
    assert_eq!(s["claim_rate"]["claimed"], 2);
    assert_eq!(s["claim_rate"]["rate"], 50.0);
    assert_eq!(
        s["venues"]["by_epci"][w.epci_epinal.as_str()]["capacity"],
        180
    );

    // A member's token sees what the public sees.
    let member = token(app, "cie1").await;
    let m = api(app, Method::GET, "/api/v1/stats", &member, None)
        .await
        .json();
    assert_eq!(m["audience"], "public");

    // Filters in the query; bad ones named.
    let f = api(
        app,
        Method::GET,
        &format!("/api/v1/stats?kind=compagnie&epci={}", w.epci_epinal),
        &staff,
        None,
    )
    .await
    .json();
    assert_eq!(f["members"]["total"], 6);
    assert_eq!(f["filters"]["kind"], "compagnie");
    let bad = app
        .get(
            "/api/v1/stats?period=quarter&from=2026-T5&discipline=&kind=troupe",
            "application/json",
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let problem: Value = bad.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["from", "kind"], "{problem}");
}
