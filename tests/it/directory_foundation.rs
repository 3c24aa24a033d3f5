//! The ground the directory stands on: communes and EPCIs loaded from the shipped extract,
//! the French full-text configuration that ignores accents, trigram similarity for typos.

use crate::common::TestApp;
use diesel::sql_types::{Bool, Double, Integer, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    yes: bool,
}

async fn holds(app: &TestApp, sql: &str) -> bool {
    let mut conn = app.ctx.conn().await.expect("conn");
    sql_query(sql)
        .get_result::<Flag>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .yes
}

#[tokio::test(flavor = "multi_thread")]
async fn communes_and_epcis_are_loaded_once_with_their_centres() {
    let app = TestApp::new().await;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Integer)]
        population: i32,
        #[diesel(sql_type = Text)]
        epci: String,
        #[diesel(sql_type = Double)]
        latitude: f64,
    }
    let mut conn = app.ctx.conn().await.expect("conn");
    let row: Row = sql_query(
        "SELECT c.name, c.population, e.name AS epci, c.latitude FROM communes c \
         JOIN epcis e ON e.code = c.epci_code WHERE c.code = '88160'",
    )
    .get_result(&mut conn)
    .await
    .expect("Épinal");
    assert_eq!(row.name, "Épinal");
    assert!(row.population > 20_000);
    assert!(
        row.epci.contains("Epinal") || row.epci.contains("Épinal"),
        "{}",
        row.epci
    );
    assert!((48.0..48.3).contains(&row.latitude));
    assert!(
        holds(
            &app,
            "SELECT count(*) > 34000 AS yes FROM communes WHERE departement <> ''"
        )
        .await
    );
    assert!(
        holds(
            &app,
            "SELECT count(*) = 506 AS yes FROM communes WHERE departement = '88'"
        )
        .await
    );
    // Loaded once: a second sync finds the checksum recorded and does nothing.
    let loaded = culturecnous::db::reference::sync(&mut conn)
        .await
        .expect("sync");
    assert!(!loaded);
}

#[tokio::test(flavor = "multi_thread")]
async fn french_search_ignores_accents_and_plurals_and_forgives_typos() {
    let app = TestApp::new().await;
    for (document, query) in [
        ("Théâtre du Peuple", "theatre"),
        ("Compagnie de danse", "danses"),
        ("École de musique", "ecole musiques"),
    ] {
        let sql = format!(
            "SELECT to_tsvector('french_unaccent', '{document}') \
             @@ websearch_to_tsquery('french_unaccent', '{query}') AS yes"
        );
        assert!(holds(&app, &sql).await, "{query} should find {document}");
    }
    assert!(
        holds(
            &app,
            "SELECT similarity(cc_search_name('Médiathèque d''Épinal'), cc_search_name('médiatèque')) \
             > 0.3 AS yes"
        )
        .await
    );
    assert!(
        holds(
            &app,
            "SELECT cc_search_name('St-Dié-des-Vosges') = cc_search_name('Saint Dié des Vosges') AS yes"
        )
        .await
    );
}
