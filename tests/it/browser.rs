//! Browser smoke test: a real instance on a real port, driven by headless Chromium over
//! WebDriver (Debian `chromium` + `chromium-driver`): register, land on the profile page,
//! confirm the address through the mailed link, log out, log in again; publish an announcement
//! and find it on the public list and in its RSS feed; reset a forgotten password through the
//! mailed link and log in with the new one. At phone width (390 px), every page fits without scrolling sideways and the header's
//! links fold behind a "Menu" disclosure that the keyboard opens.

use culturecnous::{context::AppContext, testing::TestDatabases};
use fantoccini::{Client, ClientBuilder, Locator};
use std::{
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use url::Url;

/// Chromium flags for a root user in a container with no network beyond localhost.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1280,1000",
];

const WAIT: Duration = Duration::from_secs(30);

/// `name` in PATH, else `fallback` when it exists.
fn find_program(name: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .chain(std::iter::once(PathBuf::from(fallback)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Processes (other than ours) whose command line mentions `needle`.
fn pids_mentioning(needle: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let own = std::process::id();
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| u32::try_from(*pid).is_ok_and(|p| p != own))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

/// A running chromedriver and the browser profile folder it uses. Dropping it kills
/// chromedriver, every Chromium process started for that profile, and removes the folder,
/// whether the test passed or not.
struct Driver {
    child: Child,
    port: u16,
    profile: PathBuf,
    log: PathBuf,
}

impl Driver {
    fn start() -> Driver {
        let chromedriver =
            find_program("chromedriver", "/usr/bin/chromedriver").unwrap_or_else(|| {
                panic!(
                    "chromedriver not found (PATH, /usr/bin/chromedriver): the browser tests \
                     need headless Chromium and its WebDriver. Install them with \
                     `apt-get install chromium chromium-driver` (.ci/run does this)."
                )
            });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let profile = std::env::temp_dir().join(format!(
            "culturecnous-chromium-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&profile).expect("profile folder");
        let log = profile.with_extension("log");
        let port = free_port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Drop can stop it with everything it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut driver = Driver {
            child,
            port,
            profile,
            log,
        };
        driver.wait_until_listening();
        driver
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited at start ({status}): {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {} within {WAIT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn client(&self) -> Client {
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", self.profile.display()));
        let mut options = serde_json::json!({ "args": args });
        if let Some(binary) = find_program("chromium", "/usr/bin/chromium") {
            options["binary"] = serde_json::Value::String(binary.display().to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_string(), options);
        ClientBuilder::rustls()
            .expect("TLS setup")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session: {e}\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                )
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: signalling the process group of the chromedriver we started.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium may have left the group; its command line names our profile folder.
        for pid in pids_mentioning(&self.profile.display().to_string()) {
            // SAFETY: these processes run with the profile folder this test created.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Waits until the page's path is `path`.
/// A real instance on a free port of 127.0.0.1 (its own test database), and its base URL.
async fn start_instance() -> (culturecnous::RunningInstance, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let config = TestDatabases::get().config(port).await;
    let instance = culturecnous::start_with_listener(config, listener)
        .await
        .expect("start the instance");
    (instance, format!("http://localhost:{port}"))
}

async fn wait_for_path(client: &Client, path: &str) {
    wait_for_url(client, path, |url| url.path() == path).await;
}

/// Waits until the browser's address satisfies `arrived`: a click that navigates returns before
/// the next page is there, and reading an element the old page also has would race.
async fn wait_for_url(client: &Client, what: &str, arrived: impl Fn(&Url) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = client.current_url().await.expect("current URL");
        if arrived(&url) {
            return;
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("expected to reach {what}, still on {url}:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(client: &Client, css: &str, value: &str) {
    let field = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no field {css}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .text()
        .await
        .expect("text")
}

async fn register_log_out_and_log_in(client: &Client, base: &str, ctx: &AppContext) {
    let username = "compagnie_soleil";
    let display_name = "Compagnie du Soleil";
    let password = "un mot de passe solide";

    // Register.
    client
        .goto(&format!("{base}/inscription"))
        .await
        .expect("open /inscription");
    let html_lang = client
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang attribute");
    assert_eq!(html_lang.as_deref(), Some("fr"));
    click(client, "input[name='kind'][value='structure']").await;
    fill(client, "input[name='display_name']", display_name).await;
    fill(client, "input[name='username']", username).await;
    fill(client, "input[name='email']", "contact@soleil.example").await;
    fill(client, "input[name='password']", password).await;
    click(client, "form[action='/inscription'] button[type='submit']").await;

    // The profile page, logged in.
    let profile = format!("/users/{username}");
    wait_for_path(client, &profile).await;
    assert_eq!(text_of(client, "h1").await, display_name);

    // Until the address is confirmed, a banner says so; the link mailed at registration
    // confirms it (its page has a button: opening a link alone never uses it).
    assert!(
        text_of(client, "#confirm-banner-title")
            .await
            .contains("Confirmez votre adresse"),
        "the banner asks to confirm the address"
    );
    let mail = crate::helpers::received_text_to(ctx, "contact@soleil.example").await;
    let link = mail_link(&mail, &format!("{base}/confirmer-adresse/"));
    client
        .goto(&link)
        .await
        .expect("open the confirmation link");
    let path = &link[base.len()..];
    click(
        client,
        &format!("form[action='{path}'] button[type='submit']"),
    )
    .await;
    wait_for_path(client, "/").await;
    assert!(
        client
            .find(Locator::Css("#confirm-banner-title"))
            .await
            .is_err(),
        "confirmed: no more banner"
    );
    client
        .goto(&format!("{base}{profile}"))
        .await
        .expect("open the profile");

    // Log out from the header.
    click(client, "form[action='/deconnexion'] button[type='submit']").await;
    wait_for_path(client, "/").await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a[href='/connexion']"))
        .await
        .expect("logged out: the header offers to log in");
    assert!(
        client
            .find(Locator::Css("form[action='/deconnexion']"))
            .await
            .is_err(),
        "still logged in after logging out"
    );

    // Log in again.
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    fill(client, "input[name='login']", username).await;
    fill(client, "input[name='password']", password).await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    wait_for_path(client, &profile).await;
    assert_eq!(text_of(client, "h1").await, display_name);
    client
        .find(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("logged in: the header offers to log out");
}

/// Logged in: publishes an announcement through the form, finds it on the public list and in
/// the RSS feed the list page announces in its head.
async fn publish_an_announcement(client: &Client, base: &str) {
    let title = "Appel à projets : théâtre & écoles";
    client
        .goto(&format!("{base}/annonces/nouvelle"))
        .await
        .expect("open /annonces/nouvelle");
    fill(client, "input[name='title']", title).await;
    client
        .find(Locator::Css("select[name='kind']"))
        .await
        .expect("kind select")
        .select_by_value("appel_a_projets")
        .await
        .expect("choose the kind");
    fill(client, "input[name='commune']", "Tulle").await;
    fill(
        client,
        "textarea[name='body']",
        "Nous cherchons une **école** partenaire pour une création en 2027.",
    )
    .await;
    click(
        client,
        "form[action='/annonces/nouvelle'] button[type='submit']",
    )
    .await;
    let deadline = Instant::now() + WAIT;
    let page = loop {
        let url = client.current_url().await.expect("current URL");
        if url.path().starts_with("/announcements/") {
            break url;
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("the announcement was not published, still on {url}:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(text_of(client, "h1").await, title);
    assert!(
        text_of(client, ".e-content").await.contains("école"),
        "the body is shown"
    );

    // The public list shows it, linked to its page.
    client
        .goto(&format!("{base}/annonces"))
        .await
        .expect("open /annonces");
    let link = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText(title))
        .await
        .unwrap_or_else(|e| panic!("{title} is not on /annonces: {e}"));
    let href = link.attr("href").await.expect("href").expect("a link");
    assert_eq!(
        Url::parse(base)
            .expect("base")
            .join(&href)
            .expect("url")
            .path(),
        page.path(),
        "the list links to the announcement's page"
    );

    // The list announces its RSS feed; the feed carries the announcement.
    let feed = client
        .find(Locator::Css(
            "link[rel='alternate'][type='application/rss+xml']",
        ))
        .await
        .expect("/annonces announces an RSS feed in its head")
        .attr("href")
        .await
        .expect("href")
        .expect("a feed URL");
    let feed = Url::parse(base)
        .expect("base")
        .join(&feed)
        .expect("feed URL");
    let rss = reqwest::get(feed.clone())
        .await
        .unwrap_or_else(|e| panic!("GET {feed}: {e}"));
    assert!(rss.status().is_success(), "GET {feed}: {}", rss.status());
    let rss = rss.text().await.expect("feed body");
    assert!(
        rss.contains("Appel à projets : théâtre &amp; écoles"),
        "the RSS feed has the announcement, its title escaped:\n{rss}"
    );
    assert!(
        rss.contains(page.path()),
        "the item links to the page:\n{rss}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn member_journeys_with_chromium() {
    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ctx = instance.ctx.clone();

    let client = driver.client().await;
    // Run the journey in its own task so that a failed assertion still closes the session.
    let journey = {
        let client = client.clone();
        tokio::spawn(async move {
            register_log_out_and_log_in(&client, &base, &ctx).await;
            publish_an_announcement(&client, &base).await;
        })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The first URL in a mail's text that starts with `prefix`.
fn mail_link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// A member who forgot their password asks for a link on /mot-de-passe-oublie (from the login
/// page), follows the link of the mail, chooses a new password and logs in with it.
async fn reset_a_forgotten_password(client: &Client, base: &str, ctx: &AppContext) {
    let username = "bibliotheque_tulle";
    let new_password = "une nouvelle phrase de passe";
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    click(client, "a[href='/mot-de-passe-oublie']").await;
    wait_for_path(client, "/mot-de-passe-oublie").await;
    fill(
        client,
        "input[name='email']",
        "accueil@bibliotheque.example",
    )
    .await;
    click(
        client,
        "form[action='/mot-de-passe-oublie'] button[type='submit']",
    )
    .await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".notice[role='status']"))
        .await
        .expect("the answer to the request");
    let mail = crate::helpers::received_text_to(ctx, "accueil@bibliotheque.example").await;
    let link = mail_link(&mail, &format!("{base}/mot-de-passe/"));
    client.goto(&link).await.expect("open the reset link");
    fill(client, "input[name='password']", new_password).await;
    let path = &link[base.len()..];
    click(
        client,
        &format!("form[action='{path}'] button[type='submit']"),
    )
    .await;
    wait_for_path(client, "/connexion").await;
    fill(client, "input[name='login']", username).await;
    fill(client, "input[name='password']", new_password).await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    wait_for_path(client, &format!("/users/{username}")).await;
    client
        .find(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("logged in with the new password");
}

#[tokio::test(flavor = "multi_thread")]
async fn forgotten_password_reset_through_the_mailed_link() {
    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ctx = instance.ctx.clone();
    culturecnous::service::accounts::create_account(
        &ctx,
        culturecnous::service::accounts::NewAccountInput {
            username: "bibliotheque_tulle".into(),
            email: "accueil@bibliotheque.example".into(),
            password: "un mot de passe oublié".into(),
            kind: "structure".into(),
            role: "member".into(),
            display_name: "Bibliothèque de Tulle".into(),
        },
    )
    .await
    .expect("account");

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { reset_a_forgotten_password(&client, &base, &ctx).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The phone width the pages must fit (an iPhone 12 to 15, in CSS pixels).
const PHONE_WIDTH: u32 = 390;

/// How wide the page is against its window, and the first elements that stick out (for the
/// failure message): `(scrollWidth, clientWidth, elements)`.
async fn horizontal_overflow(client: &Client) -> (i64, i64, Vec<String>) {
    let found = client
        .execute(
            r#"
            const d = document.documentElement;
            const limit = d.clientWidth;
            const wide = [];
            for (const e of document.querySelectorAll("body, body *")) {
                const r = e.getBoundingClientRect();
                const cls = typeof e.className === "string" && e.className.trim()
                    ? "." + e.className.trim().split(/\s+/).join(".") : "";
                const name = e.tagName.toLowerCase() + cls;
                if (r.width > 0 && r.right > limit + 0.5) {
                    wide.push(name + " ends at " + Math.round(r.right) + "px");
                } else if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0
                        && getComputedStyle(e).overflowX === "visible") {
                    wide.push(name + " holds " + e.scrollWidth + "px in " + e.clientWidth + "px");
                }
            }
            return [d.scrollWidth, limit, wide.slice(0, 12)];
            "#,
            vec![],
        )
        .await
        .expect("measure the page");
    let width = |i: usize| found[i].as_i64().expect("a width");
    let wide = found[2]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (width(0), width(1), wide)
}

/// At phone width, `path` scrolls only vertically (WCAG 1.4.10 reflow, RGAA 10.11).
async fn fits_a_phone(client: &Client, base: &str, path: &str) {
    client
        .goto(&format!("{base}{path}"))
        .await
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    wait_for_path(client, path.split('?').next().unwrap_or(path)).await;
    let (scroll, client_width, wide) = horizontal_overflow(client).await;
    assert!(
        scroll <= client_width,
        "{path} scrolls horizontally at {PHONE_WIDTH} px: {scroll} px of content in \
         {client_width} px; sticking out: {wide:#?}"
    );
}

/// Whether the element at `css` is shown: laid out with a size and visible, as the browser
/// renders it. (WebDriver's own "displayed" calls everything in a closed `<details>` hidden,
/// even where the stylesheet shows it.)
async fn displayed(client: &Client, css: &str) -> bool {
    let shown = client
        .execute(
            r#"
            const e = document.querySelector(arguments[0]);
            if (!e) { return null; }
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.height > 0
                && e.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true });
            "#,
            vec![serde_json::Value::String(css.to_string())],
        )
        .await
        .unwrap_or_else(|e| panic!("check {css}: {e}"));
    shown
        .as_bool()
        .unwrap_or_else(|| panic!("no element {css}"))
}

/// At phone width the header's links wait behind the "Menu" button, which opens and closes
/// from the keyboard; on a wide screen they are all in view and the button is not.
async fn the_menu_folds_on_a_phone(client: &Client, base: &str) {
    client.goto(&format!("{base}/")).await.expect("open /");
    let toggle = "details.site-menu > summary";
    let link = ".site-nav a[href='/actualites']";
    assert!(displayed(client, toggle).await, "no menu button on a phone");
    assert_eq!(text_of(client, toggle).await.trim(), "Menu");
    assert!(
        !displayed(client, link).await,
        "the links are unfolded on a phone"
    );
    // Keyboard: Enter on the button opens the menu, again closes it.
    let summary = client.find(Locator::Css(toggle)).await.expect("summary");
    summary.send_keys("\u{E007}").await.expect("Enter");
    assert!(displayed(client, link).await, "Enter did not open the menu");
    let open = client
        .find(Locator::Css("details.site-menu"))
        .await
        .expect("details")
        .attr("open")
        .await
        .expect("open attribute");
    assert!(open.is_some(), "the disclosure does not say it is open");
    assert!(displayed(client, ".site-nav a[href='/fil']").await);
    assert!(displayed(client, "form[action='/deconnexion'] button").await);
    summary.send_keys("\u{E007}").await.expect("Enter");
    assert!(
        !displayed(client, link).await,
        "Enter did not close the menu"
    );
    // A pointer opens it too, and its links lead on.
    click(client, toggle).await;
    click(client, link).await;
    wait_for_path(client, "/actualites").await;
    assert!(
        !displayed(client, link).await,
        "the menu stays open on the next page"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_fit_a_phone_and_the_menu_folds() {
    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ctx = instance.ctx.clone();
    let username = "administration_departementale";
    let password = "un mot de passe solide";
    culturecnous::service::accounts::create_account(
        &ctx,
        culturecnous::service::accounts::NewAccountInput {
            username: username.into(),
            email: "administration.departementale@culture.example".into(),
            password: password.into(),
            kind: "structure".into(),
            role: "admin".into(),
            display_name: "Direction de la culture du département".into(),
        },
    )
    .await
    .expect("admin account");
    // A token (the tokens page lists it) that publishes an announcement with a comment.
    let token =
        culturecnous::service::tokens::create_token(&ctx, username, "Script de publication")
            .await
            .expect("token");
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/announcements"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "title": "Résidence de création 2027 : compagnies de théâtre et de danse",
            "body": "Une résidence de trois semaines, avec un lien très long : \
                     https://culture.example/residences/2027/appel-a-candidatures-theatre-danse-marionnettes",
            "kind": "residence",
            "commune": "Saint-Pierre-de-Belleville",
        }))
        .send()
        .await
        .expect("publish")
        .json()
        .await
        .expect("created");
    let ap_id = created["ap_id"].as_str().expect("ap_id").to_string();
    let page = Url::parse(created["url"].as_str().expect("url"))
        .expect("url")
        .path()
        .to_string();
    let status = http
        .post(format!("{base}/api/v1/comments"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"in_reply_to": ap_id, "body": "Candidature envoyée !"}))
        .send()
        .await
        .expect("comment")
        .status();
    assert!(status.is_success(), "comment: {status}");

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .set_window_size(PHONE_WIDTH, 844)
                .await
                .expect("phone width");
            client
                .goto(&format!("{base}/connexion"))
                .await
                .expect("open /connexion");
            fill(&client, "input[name='login']", username).await;
            fill(&client, "input[name='password']", password).await;
            click(&client, "form[action='/connexion'] button[type='submit']").await;
            wait_for_path(&client, &format!("/users/{username}")).await;
            for path in [
                "/",
                "/actualites",
                "/annonces",
                "/fil",
                "/articles/nouveau",
                "/annonces/nouvelle",
                "/parametres/profil",
                "/parametres/jetons",
                "/suivre",
                "/admin",
                "/admin/comptes",
                "/admin/federation",
                &format!("/users/{username}"),
                &format!("/blog/{username}"),
                &page,
                &format!("/commentaires/repondre?cible={}", urlencode(&ap_id)),
            ] {
                fits_a_phone(&client, &base, path).await;
            }
            the_menu_folds_on_a_phone(&client, &base).await;
            // A wide screen shows every link and no button.
            client.set_window_size(1280, 1000).await.expect("wide");
            client.goto(&format!("{base}/")).await.expect("open /");
            assert!(!displayed(&client, "details.site-menu > summary").await);
            assert!(displayed(&client, ".site-nav a[href='/actualites']").await);
            assert!(displayed(&client, "form[action='/deconnexion'] button").await);
        })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

// ---------------------------------------------------------------------------------------------
// Moderation: a moderator resolves a report with "redirect"; the author sees the decision.

const AGENDA_URL: &str = "https://agenda.example.org/proposer";

/// A moderator logs in, opens the queue, opens the report, resolves it with "redirect"; the
/// author, logging in, sees the notice and the message with the redirect URL.
async fn moderator_redirects_a_report(client: &Client, base: &str, report_id: i64) {
    let password = "un mot de passe solide";
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    fill(client, "input[name='login']", "moderatrice").await;
    fill(client, "input[name='password']", password).await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("the moderator is logged in");

    // The queue, then the report.
    client
        .goto(&format!("{base}/admin/signalements"))
        .await
        .expect("open the queue");
    let report_path = format!("/admin/signalements/{report_id}");
    click(client, &format!("a[href='{report_path}']")).await;
    wait_for_path(client, &report_path).await;

    // The decision form: "redirect", whatever the control (a select or radio buttons).
    let form = format!("form[action='{report_path}/decision']");
    let control = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&format!("{form} [name='action']")))
        .await
        .expect("the decision form offers an action");
    if control.tag_name().await.expect("tag") == "select" {
        control
            .select_by_value("redirect")
            .await
            .expect("choose redirect");
    } else {
        click(
            client,
            &format!("{form} input[name='action'][value='redirect']"),
        )
        .await;
    }
    click(client, &format!("{form} button[type='submit']")).await;
    // The answer comes back to the same path: wait for what only it carries (the flash),
    // not for the path, or the next click may land on the page being left.
    let flash = text_of(client, ".flash").await;
    assert!(flash.contains("Le signalement a été traité"), "{flash}");
    click(client, "form[action='/deconnexion'] button[type='submit']").await;
    wait_for_path(client, "/").await;

    // The author logs in and sees the notice, then the message with the agenda's URL.
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    fill(client, "input[name='login']", "theatre_tulle").await;
    fill(client, "input[name='password']", password).await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    let notice = text_of(client, "#moderation-notice-title").await;
    assert!(
        notice.contains("Une décision de modération vous concerne"),
        "{notice}"
    );
    click(client, "#moderation-notice-title a").await;
    let statement = text_of(client, ".moderation-statement").await;
    assert!(statement.contains(AGENDA_URL), "{statement}");
    assert!(statement.contains("n'a pas sa place ici"), "{statement}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moderator_redirects_a_report_and_the_author_sees_why() {
    use culturecnous::service::{
        accounts::{NewAccountInput, create_account},
        moderation::{Reason, ReportInput, Reporter, reports},
        publishing::{self, Category, PostInput},
    };
    use diesel_async::AsyncConnection;

    let driver = Driver::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let port = listener.local_addr().expect("address").port();
    let mut config = TestDatabases::get().config(port).await;
    config.moderation.redirect_url = AGENDA_URL.to_string();
    let instance = culturecnous::start_with_listener(config, listener)
        .await
        .expect("start the instance");
    let base = format!("http://localhost:{port}");
    let ctx = instance.ctx.clone();
    let account = |username: &str, role: &str| NewAccountInput {
        username: username.into(),
        email: format!("{username}@example.org"),
        password: "un mot de passe solide".into(),
        kind: "structure".into(),
        role: role.into(),
        display_name: username.into(),
    };
    create_account(&ctx, account("moderatrice", "moderator"))
        .await
        .expect("moderator");
    let author = create_account(&ctx, account("theatre_tulle", "member"))
        .await
        .expect("author");
    let data = instance.federation.to_request_data();
    let post = publishing::create(
        &data,
        &author,
        Category::Announcement,
        PostInput {
            title: "Notre spectacle de samedi".into(),
            body: "Venez nombreux !".into(),
            kind: "pret_materiel".into(),
            ..PostInput::default()
        },
    )
    .await
    .expect("announcement");
    let mut conn = ctx.conn().await.expect("conn");
    let report_ctx = ctx.clone();
    let report_id = conn
        .transaction::<_, culturecnous::error::AppError, _>(async |conn| {
            reports::submit(
                &report_ctx,
                conn,
                ReportInput {
                    reporter: Reporter::Visitor {
                        email: "passant@example.net".into(),
                    },
                    targets: vec![Url::parse(&post.ap_id).expect("ap_id")],
                    reason: Reason::OffTopic,
                    rule_ids: vec![],
                    comment: "Un spectacle : c'est pour l'agenda.".into(),
                    forward: false,
                },
            )
            .await
        })
        .await
        .expect("report")
        .expect("stored")
        .report
        .id;
    drop(conn);

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { moderator_redirects_a_report(&client, &base, report_id).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The actor of an entry the département imported follows the invitation's link, keeps the
/// suggested username, chooses a password, accepts the rules and lands logged in on the
/// account's profile.
async fn claim_a_listed_entry(client: &Client, base: &str, ctx: &AppContext) {
    let mail = crate::helpers::received_text_to(ctx, "bonjour@lespetitsriens.example").await;
    let link = mail_link(&mail, &format!("{base}/annuaire/revendiquer/"));
    client.goto(&link).await.expect("open the claim link");
    let entry = text_of(client, "#fiche").await;
    assert!(entry.contains("Les Petits Riens"), "{entry}");
    let suggested = client
        .find(Locator::Css("input[name='username']"))
        .await
        .expect("username field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(suggested.as_deref(), Some("les_petits_riens"));
    fill(
        client,
        "input[name='password']",
        "une phrase de passe à moi",
    )
    .await;
    click(client, "input[name='accept_rules']").await;
    let path = &link[base.len()..];
    click(
        client,
        &format!("form[action='{path}'] button[type='submit']"),
    )
    .await;
    wait_for_path(client, "/users/les_petits_riens").await;
    client
        .find(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("logged in by the claim");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listed_actor_claims_the_entry_through_the_mailed_invitation() {
    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ctx = instance.ctx.clone();
    let csv = "name;kind;email;commune\nLes Petits Riens;compagnie;bonjour@lespetitsriens.example;Épinal\n";
    culturecnous::service::directory::import::import(
        &ctx,
        std::io::Cursor::new(csv.as_bytes().to_vec()),
        Default::default(),
        &mut |_| {},
    )
    .await
    .expect("import");
    let sent = culturecnous::service::directory::claim::invite(&ctx, None, None)
        .await
        .expect("invite");
    assert_eq!(sent.invited, 1);

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { claim_a_listed_entry(&client, &base, &ctx).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Logged in: creates a venue through the form from `/lieux` and lands on its page, which
/// shows the facts typed and how to follow it from Mastodon.
async fn create_a_venue(client: &Client, base: &str) {
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    fill(client, "input[name='login']", "lieux_vosges").await;
    fill(client, "input[name='password']", "un mot de passe solide").await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("the member is logged in");
    client
        .goto(&format!("{base}/lieux"))
        .await
        .expect("open /lieux");
    click(client, "a[href='/lieux/nouveau']").await;
    wait_for_path(client, "/lieux/nouveau").await;
    fill(client, "input[name='name']", "Salle Polyvalente des Prés").await;
    fill(client, "input[name='commune']", "Gérardmer").await;
    fill(client, "input[name='capacity']", "250").await;
    fill(
        client,
        "textarea[name='equipment']",
        "Une **console** son et douze projecteurs.",
    )
    .await;
    click(client, "input[name='step_free_access']").await;
    click(
        client,
        "form[action='/lieux/nouveau'] button[type='submit']",
    )
    .await;
    wait_for_path(client, "/venues/salle-polyvalente-des-pres").await;
    assert_eq!(text_of(client, "h1").await, "Salle Polyvalente des Prés");
    let page = text_of(client, "article").await;
    assert!(page.contains("Gérardmer"), "{page}");
    assert!(page.contains("250 personnes"), "{page}");
    assert!(
        page.contains("@salle-polyvalente-des-pres@localhost"),
        "{page}"
    );
    assert!(page.contains("Accès PMR (sans marche) : oui"), "{page}");
    client
        .find(Locator::Css(".prose strong"))
        .await
        .expect("the equipment's Markdown is rendered");
    // The list shows it.
    client
        .goto(&format!("{base}/lieux"))
        .await
        .expect("open /lieux");
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::LinkText("Salle Polyvalente des Prés"))
        .await
        .expect("the venue is listed on /lieux");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_creates_a_venue_and_sees_its_page() {
    use culturecnous::service::accounts::{NewAccountInput, create_account};

    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    create_account(
        &instance.ctx,
        NewAccountInput {
            username: "lieux_vosges".into(),
            email: "lieux@example.org".into(),
            password: "un mot de passe solide".into(),
            kind: "structure".into(),
            role: "member".into(),
            display_name: "Lieux des Vosges".into(),
        },
    )
    .await
    .expect("member");
    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { create_a_venue(&client, &base).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The borrower logs in, opens the offer, asks for dates; the owner logs in, accepts from the
/// history, and the request shows as accepted.
async fn a_member_borrows_an_offer(client: &Client, base: &str, offer_id: i64) {
    let password = "un mot de passe solide";
    let log_in = async |login: &str| {
        client
            .goto(&format!("{base}/connexion"))
            .await
            .expect("open /connexion");
        fill(client, "input[name='login']", login).await;
        fill(client, "input[name='password']", password).await;
        click(client, "form[action='/connexion'] button[type='submit']").await;
        client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("form[action='/deconnexion']"))
            .await
            .expect("logged in");
    };
    log_in("compagnie_route").await;
    // Through the nav link and the list.
    click(client, "a[href='/mutualisation']").await;
    wait_for_path(client, "/mutualisation").await;
    let offer_path = format!("/mutualisation/{offer_id}");
    click(client, &format!("a[href='{offer_path}']")).await;
    wait_for_path(client, &offer_path).await;
    let today = chrono::Utc::now().date_naive();
    let starts = (today + chrono::Duration::days(7)).to_string();
    let ends = (today + chrono::Duration::days(9)).to_string();
    // Date inputs take typed text in the browser's locale: set their value directly.
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#f-starts_on"))
        .await
        .expect("the loan form");
    client
        .execute(
            "document.querySelector('#f-starts_on').value = arguments[0];
             document.querySelector('#f-ends_on').value = arguments[1];",
            vec![starts.clone().into(), ends.clone().into()],
        )
        .await
        .expect("set the dates");
    fill(client, "#f-message", "Pour notre tournée d'été").await;
    click(
        client,
        &format!("form[action='{offer_path}/demander'] button[type='submit']"),
    )
    .await;
    wait_for_path(client, "/mutualisation/demandes").await;
    let state = text_of(client, ".loan-state").await;
    assert_eq!(state, "En attente");
    click(client, "form[action='/deconnexion'] button[type='submit']").await;
    wait_for_path(client, "/").await;

    log_in("atelier_son").await;
    client
        .goto(&format!("{base}/mutualisation/demandes"))
        .await
        .expect("open the history");
    fill(client, "input[name='answer']", "Avec plaisir").await;
    click(client, "form[action$='/accepter'] button[type='submit']").await;
    let flash = text_of(client, ".flash").await;
    assert!(flash.contains("C'est noté"), "{flash}");
    let state = text_of(client, ".loan-state").await;
    assert_eq!(state, "Acceptée");
    // The offer shows the dates as taken.
    client
        .goto(&format!("{base}{offer_path}"))
        .await
        .expect("open the offer");
    let taken = text_of(client, ".taken-dates").await;
    assert!(taken.contains(&starts) && taken.contains(&ends), "{taken}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_asks_to_borrow_an_offer_and_the_owner_accepts() {
    use culturecnous::service::{
        accounts::{NewAccountInput, create_account},
        sharing::{self, OfferInput},
    };

    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ctx = instance.ctx.clone();
    let account = |username: &str| NewAccountInput {
        username: username.into(),
        email: format!("{username}@example.org"),
        password: "un mot de passe solide".into(),
        kind: "structure".into(),
        role: "member".into(),
        display_name: username.into(),
    };
    let owner = create_account(&ctx, account("atelier_son"))
        .await
        .expect("owner");
    create_account(&ctx, account("compagnie_route"))
        .await
        .expect("borrower");
    let offer = sharing::create(
        &ctx,
        &owner,
        OfferInput {
            title: "Table de mixage".into(),
            description: "Avec son flight case.".into(),
            category: "son".into(),
            terms: "free".into(),
            commune: "Épinal".into(),
            public: true,
            ..OfferInput::default()
        },
    )
    .await
    .expect("offer");

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { a_member_borrows_an_offer(&client, &base, offer.id).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The directory: a visitor types a name with a typo, submits the search, and opens the
/// listed entry the results show.
async fn search_the_directory_with_a_typo(client: &Client, base: &str) {
    client
        .goto(&format!("{base}/annuaire"))
        .await
        .expect("directory");
    fill(client, "#f-q", "médiatèque").await;
    click(client, "form.directory-search button[type=submit]").await;
    // The page before the search already has a results heading: wait for the new one.
    wait_for_url(client, "the search results", |url| {
        url.query_pairs()
            .any(|(k, v)| k == "q" && v == "médiatèque")
    })
    .await;
    let heading = text_of(client, "#results-title").await;
    assert_eq!(heading, "1 résultat", "{heading}");
    click(client, ".directory-card h3 a").await;
    wait_for_url(client, "the entry's page", |url| {
        url.path().starts_with("/annuaire/fiches/")
    })
    .await;
    let title = text_of(client, "h1").await;
    assert!(title.contains("Médiathèque de la Vologne"), "{title}");
    let hint = text_of(client, ".claim-hint").await;
    assert!(hint.contains("Demandez votre invitation"), "{hint}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_finds_a_listed_entry_despite_a_typo() {
    use diesel_async::RunQueryDsl;

    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let mut conn = instance.ctx.conn().await.expect("conn");
    diesel::sql_query(
        "INSERT INTO directory_entries (name, kind, disciplines, commune_code) VALUES \
         ('Médiathèque de la Vologne', 'bibliotheque', '{lecture publique}', '88160'), \
         ('Compagnie des Myrtilles', 'compagnie', '{théâtre}', '88196')",
    )
    .execute(&mut conn)
    .await
    .expect("entries");
    drop(conn);

    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { search_the_directory_with_a_typo(&client, &base).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Logs `username` in through the login form.
async fn log_in(client: &Client, base: &str, username: &str) {
    client
        .goto(&format!("{base}/connexion"))
        .await
        .expect("open /connexion");
    fill(client, "input[name='login']", username).await;
    fill(client, "input[name='password']", "un mot de passe solide").await;
    click(client, "form[action='/connexion'] button[type='submit']").await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form[action='/deconnexion']"))
        .await
        .expect("the member is logged in");
}

/// Opens the chat and waits until its live connection is up.
async fn open_chat(client: &Client, base: &str, path: &str) {
    client
        .goto(&format!("{base}{path}"))
        .await
        .expect("open the chat");
    wait_for_path(client, path).await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#chat-messages[data-live='true']"))
        .await
        .expect("the chat connects live");
}

/// Bob keeps the chat open; Ana writes; the message appears on Bob's page without a reload.
async fn two_members_chat(ana: &Client, bob: &Client, base: &str, path: &str) {
    log_in(bob, base, "bob_chat").await;
    open_chat(bob, base, path).await;
    // Set on this very page: still there afterwards means the page never reloaded.
    bob.execute("window.stillTheSamePage = true; return null;", vec![])
        .await
        .expect("mark the page");
    log_in(ana, base, "ana_chat").await;
    open_chat(ana, base, path).await;
    fill(ana, "#f-body", "Le décor arrive **lundi**").await;
    click(ana, "#chat-form button[type='submit']").await;

    let message = bob
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//ol[@id='chat-messages']/li[contains(., 'Le décor arrive')]",
        ))
        .await
        .expect("the message appears on Bob's page");
    let text = message.text().await.expect("text");
    assert!(
        text.contains("ana_chat") && text.contains("lundi"),
        "{text}"
    );
    let bold = bob
        .find(Locator::Css("#chat-messages li strong"))
        .await
        .expect("Markdown rendered")
        .text()
        .await
        .expect("text");
    assert_eq!(bold, "lundi");
    let same = bob
        .execute("return window.stillTheSamePage === true;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(same, serde_json::Value::Bool(true), "Bob's page reloaded");
    // Announced to screen readers in the polite live region.
    let announced = bob
        .find(Locator::Css("#chat-live"))
        .await
        .expect("live region")
        .prop("textContent")
        .await
        .expect("text");
    assert!(announced.is_some_and(|t| t.contains("lundi")));
    // Ana's page shows it too, and her form is empty again, ready for the next one.
    ana.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//ol[@id='chat-messages']/li[contains(., 'Le décor arrive')]",
        ))
        .await
        .expect("the message appears on Ana's page");
    let left = ana
        .find(Locator::Css("#f-body"))
        .await
        .expect("form")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(left.as_deref(), Some(""));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_members_chat_in_real_time_in_two_browsers() {
    use culturecnous::service::accounts::{NewAccountInput, create_account};

    let ana_driver = Driver::start();
    let bob_driver = Driver::start();
    let (instance, base) = start_instance().await;
    let ws = crate::workspaces_chat::workspace(&instance.ctx, "Résidence au foyer").await;
    for username in ["ana_chat", "bob_chat"] {
        let account = create_account(
            &instance.ctx,
            NewAccountInput {
                username: username.into(),
                email: format!("{username}@example.org"),
                password: "un mot de passe solide".into(),
                kind: "individual".into(),
                role: "member".into(),
                display_name: username.into(),
            },
        )
        .await
        .expect("member");
        crate::workspaces_chat::add_member(&instance.ctx, ws, account.actor_id, "member").await;
    }
    let path = format!("/espaces/{ws}/discussion");
    let ana = ana_driver.client().await;
    let bob = bob_driver.client().await;
    let journey = {
        let (ana, bob) = (ana.clone(), bob.clone());
        tokio::spawn(async move { two_members_chat(&ana, &bob, &base, &path).await })
    };
    let outcome = journey.await;
    let _ = ana.close().await;
    let _ = bob.close().await;
    instance.shutdown().await;
    drop(ana_driver);
    drop(bob_driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// ana starts a thread from the category's page; bob opens it, replies quoting it, and the
/// reply shows under the thread with the quote.
async fn a_thread_and_a_quoting_reply(client: &Client, base: &str) {
    log_in(client, base, "ana_forum").await;
    client
        .goto(&format!("{base}/forum"))
        .await
        .expect("open /forum");
    click(client, "a[href='/forum/materiel-technique']").await;
    wait_for_path(client, "/forum/materiel-technique").await;
    click(client, "a[href='/forum/materiel-technique/nouveau-sujet']").await;
    wait_for_path(client, "/forum/materiel-technique/nouveau-sujet").await;
    fill(client, "#f-title", "Qui prête des câbles DMX ?").await;
    fill(client, "#f-body", "Il nous faut 20 mètres pour vendredi.").await;
    click(
        client,
        "form[action='/forum/materiel-technique/nouveau-sujet'] button[type='submit']",
    )
    .await;
    wait_for_url(client, "the thread's page", |u| {
        u.path().starts_with("/forum/sujets/")
    })
    .await;
    let thread = client.current_url().await.expect("url").path().to_string();
    assert_eq!(text_of(client, "h1").await, "Qui prête des câbles DMX ?");
    click(client, "form[action='/deconnexion'] button[type='submit']").await;
    wait_for_path(client, "/").await;

    log_in(client, base, "bob_forum").await;
    client
        .goto(&format!("{base}{thread}"))
        .await
        .expect("open the thread");
    click(client, "a[href*='citer=1']").await;
    wait_for_path(client, "/commentaires/repondre").await;
    let field = client
        .find(Locator::Css("#f-body"))
        .await
        .expect("the reply field");
    let prefilled = field
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(
        prefilled.contains("> Il nous faut 20 mètres pour vendredi."),
        "{prefilled}"
    );
    field
        .send_keys("Nous en avons 30 mètres à prêter.")
        .await
        .expect("type");
    click(client, "form[action='/commentaires'] button[type='submit']").await;
    wait_for_url(client, "back on the thread", |u| u.path() == thread).await;
    let reply = text_of(client, ".comment-list .comment-body").await;
    assert!(reply.contains("Il nous faut 20 mètres"), "{reply}");
    assert!(reply.contains("Nous en avons 30 mètres"), "{reply}");
    client
        .find(Locator::Css(".comment-list .comment-body blockquote"))
        .await
        .expect("the quote is a blockquote");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_starts_a_thread_and_another_replies_quoting_it() {
    use culturecnous::service::accounts::{NewAccountInput, create_account};

    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let mut staff = None;
    for (username, role) in [
        ("rachel_forum", "staff"),
        ("ana_forum", "member"),
        ("bob_forum", "member"),
    ] {
        let account = create_account(
            &instance.ctx,
            NewAccountInput {
                username: username.into(),
                email: format!("{username}@example.org"),
                password: "un mot de passe solide".into(),
                kind: "individual".into(),
                role: role.into(),
                display_name: username.into(),
            },
        )
        .await
        .expect("member");
        if role == "staff" {
            staff = Some(account);
        }
    }
    culturecnous::service::forum::categories::create(
        &instance.ctx,
        &staff.expect("staff"),
        culturecnous::service::forum::categories::CategoryInput {
            name: "Matériel technique".into(),
            description: "Son, lumière, scène".into(),
            slug: String::new(),
        },
    )
    .await
    .expect("category");
    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { a_thread_and_a_quoting_reply(&client, &base).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A visitor narrows the diagnosis with the filter form: the address keeps the filters (the
/// view can be shared), the page says what it shows and draws its charts; a month that does
/// not exist is named in the error summary.
async fn filter_the_diagnosis(client: &Client, base: &str) {
    client
        .goto(&format!("{base}/diagnostic"))
        .await
        .expect("diagnosis");
    click(client, "#f-period option[value=year]").await;
    fill(client, "#f-from", "2026").await;
    click(client, "#f-kind option[value=compagnie]").await;
    click(client, "form.diagnosis-filters button[type=submit]").await;
    wait_for_url(client, "the filtered diagnosis", |url| {
        url.query_pairs()
            .any(|(k, v)| k == "kind" && v == "compagnie")
            && url.query_pairs().any(|(k, v)| k == "from" && v == "2026")
    })
    .await;
    let scope = text_of(client, ".diagnosis-scope").await;
    assert!(scope.contains("du 01/01/2026 au 31/12/2026"), "{scope}");
    assert!(scope.contains("type : Compagnie"), "{scope}");
    let charts = client
        .find_all(Locator::Css("figure.chart svg[role=img]"))
        .await
        .expect("charts");
    assert!(charts.len() >= 10, "{} charts", charts.len());
    let csv = client
        .find(Locator::Css(
            "#membres-par-type ~ .downloads a[type='text/csv']",
        ))
        .await
        .expect("CSV link")
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_default();
    assert!(csv.contains("kind=compagnie"), "{csv}");

    click(client, "#f-period option[value=month]").await;
    fill(client, "#f-from", "2026-13").await;
    click(client, "form.diagnosis-filters button[type=submit]").await;
    let summary = text_of(client, ".error-summary").await;
    assert!(summary.contains("Début de période illisible"), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_filters_the_diagnosis_and_the_address_keeps_the_filters() {
    let driver = Driver::start();
    let (instance, base) = start_instance().await;
    let client = driver.client().await;
    let journey = {
        let client = client.clone();
        tokio::spawn(async move { filter_the_diagnosis(&client, &base).await })
    };
    let outcome = journey.await;
    let _ = client.close().await;
    instance.shutdown().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
