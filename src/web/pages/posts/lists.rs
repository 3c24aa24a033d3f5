//! A member's blog and the announcement list with its filters.

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PageQuery {
    page: Option<String>,
}

/// The 1-based page number asked for; nonsense is page 1.
pub fn page_number(page: Option<&str>) -> i64 {
    page.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1)
}

pub struct Pagination {
    pub page: i64,
    pub pages: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub fn pagination(page: i64, total: i64, link: impl Fn(i64) -> String) -> Pagination {
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    Pagination {
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    }
}

#[derive(Template)]
#[template(path = "posts/blog.html")]
pub(super) struct BlogPage {
    lang: Lang,
    /// Feed links and Open Graph of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    /// "Le blog de", or "Le blog de la page du département :".
    heading: &'static str,
    author_name: String,
    author_url: String,
    is_own: bool,
    posts: Vec<PostView>,
    drafts: Vec<PostView>,
    pagination: Pagination,
}

pub(super) async fn http_get_blog(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let mut conn = ctx.conn().await?;
    let actor = db::actors::local_by_username(&mut conn, &username.to_lowercase())
        .await?
        // The instance actor and the announcement channel (a Service) have no blog.
        .filter(|a| !matches!(a.kind.as_str(), "Application" | "Service") && a.deleted_at.is_none())
        .ok_or_else(AppError::not_found)?;
    let (rows, total) =
        db::posts::list_posts_by_actor(&mut conn, actor.id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
            .await?;
    let viewer = user.as_ref().map(|u| &u.account);
    let is_own = viewer.is_some_and(|v| v.actor_id == actor.id);
    let drafts = match viewer {
        Some(v) if is_own => db::posts::drafts_by_account(&mut conn, v.id, "post")
            .await?
            .into_iter()
            .filter(|p| p.author_actor_id == actor.id)
            .map(|p| view(lang, &p, &actor, viewer))
            .collect(),
        _ => Vec::new(),
    };
    let name = if actor.name.trim().is_empty() {
        actor.username.clone()
    } else {
        actor.name.clone()
    };
    let base = format!("/blog/{}", actor.username);
    let title = crate::web::pages::feeds::blog_title(ctx, lang, &actor);
    let heading = lang.t(crate::web::pages::feeds::blog_heading_key(ctx, &actor));
    let head = crate::web::pages::feeds::HeadMeta::page(
        ctx,
        "website",
        &title,
        &crate::sanitize::plain_text(&actor.summary_html),
        &base,
    )
    .with_feeds(crate::web::pages::feeds::feed_links(&title, &base, ""));
    render(&BlogPage {
        lang,
        head,
        heading,
        author_name: name,
        author_url: format!("/users/{}", actor.username),
        is_own,
        posts: rows.iter().map(|p| view(lang, p, &actor, viewer)).collect(),
        drafts,
        pagination: pagination(page, total, |n| format!("{base}?page={n}")),
    })
}

/// Filters of the announcement list, as the query string carries them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub kind: Option<String>,
    pub discipline: Option<String>,
    pub commune: Option<String>,
    /// `true`/`ouvertes` (open), `false`/`closes` (closed), anything else: all.
    pub open: Option<String>,
    pub page: Option<String>,
}

impl ListQuery {
    /// The database filter; an unknown kind, an unknown or ambiguous commune are field errors
    /// (all reported). The commune is read by `communes::parse_field` (a name, "Name (88)" or
    /// an INSEE code; `departement` decides between namesakes) and filtered on by its code.
    pub fn filter(&self, departement: &str) -> AppResult<AnnouncementFilter> {
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut errors = crate::error::FieldErrors::default();
        let kind = match clean(&self.kind) {
            Some(k) => match AnnouncementKind::parse(&k) {
                Some(k) => Some(k.as_str().to_string()),
                None => {
                    errors.add("kind", "field.announcement_kind.unknown");
                    None
                }
            },
            None => None,
        };
        let commune = match crate::service::communes::parse_field(
            self.commune.as_deref().unwrap_or_default(),
            departement,
        ) {
            Ok(c) => c.map(|c| c.code.to_string()),
            Err(key) => {
                errors.add("commune", key);
                None
            }
        };
        errors.into_result()?;
        let open = match clean(&self.open).as_deref() {
            Some("true" | "1" | "ouvertes") => Some(true),
            Some("false" | "0" | "closes") => Some(false),
            _ => None,
        };
        Ok(AnnouncementFilter {
            kind,
            discipline: clean(&self.discipline),
            commune,
            open,
        })
    }
}

#[derive(Template)]
#[template(path = "announcements/list.html")]
pub(super) struct ListPage {
    lang: Lang,
    /// Feed links (of the kind filtered on, if any) and Open Graph of `<head>`.
    head: crate::web::pages::feeds::HeadMeta,
    logged_in: bool,
    kinds: Vec<KindOption>,
    kind: String,
    discipline: String,
    commune: String,
    open: String,
    total: i64,
    items: Vec<PostView>,
    /// "3 j'aime · 2 partages" by page URL of the items that have any.
    reaction_labels: std::collections::HashMap<String, String>,
    pagination: Pagination,
    errors: FormState,
    /// The communes of the configured département, offered in the commune filter.
    communes: Vec<&'static crate::service::communes::Commune>,
    /// `@annonces@host`, the fediverse channel of every new announcement.
    channel_handle: String,
    /// The « M'alerter pour cette recherche » form: the CSRF token (members only), the mail
    /// choices, and where visitors log in first.
    alert_csrf: String,
    alert_mails: Vec<crate::web::pages::alerts::Choice>,
    alert_login: String,
}

pub(super) async fn http_get_announcements(
    data: Data,
    PageLang(lang): PageLang,
    MaybeUser(user): MaybeUser,
    csrf: CsrfToken,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let page = page_number(query.page.as_deref());
    let departement = &ctx.config.instance.departement;
    let (filter, errors) = match query.filter(departement) {
        Ok(f) => (f, FormState::new(lang)),
        Err(e) if e.kind == ErrorKind::Validation => (
            AnnouncementFilter::default(),
            FormState::from_error(lang, &e),
        ),
        Err(e) => return Err(e),
    };
    let mut conn = ctx.conn().await?;
    let (rows, total) = db::posts::list_announcements(
        &mut conn,
        &filter,
        today(),
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let authors = db::posts::authors_of(&mut conn, &rows).await?;
    let items = rows
        .iter()
        .filter_map(|post| {
            let author = authors.get(&post.author_actor_id)?;
            Some(view(lang, post, author, user.as_ref().map(|u| &u.account)))
        })
        .collect::<Vec<_>>();
    let reaction_labels =
        crate::web::pages::reactions::labels_by_page(&mut conn, lang, &rows).await?;
    let open = match filter.open {
        Some(true) => "true",
        Some(false) => "false",
        None => "",
    }
    .to_string();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let kind = filter.kind.clone().unwrap_or_default();
    let discipline = filter.discipline.clone().unwrap_or_default();
    // The commune as the member reads it (its name); what they typed when it was refused.
    let commune = match &filter.commune {
        Some(code) => crate::service::communes::field_value(Some(code), departement),
        None if !errors.is_empty() => query.commune.clone().unwrap_or_default(),
        None => String::new(),
    };
    let link = |n: i64| {
        format!(
            "/annonces?kind={}&discipline={}&commune={}&open={}&page={n}",
            enc(&kind),
            enc(&discipline),
            enc(&commune),
            enc(&open)
        )
    };
    let pagination = pagination(page, total, link);
    let alert_login = {
        let here = format!(
            "/annonces?kind={}&discipline={}&commune={}",
            enc(&kind),
            enc(&discipline),
            enc(&commune)
        );
        format!("/connexion?next={}", enc(&here))
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let head = {
        use crate::web::pages::feeds::{
            HeadMeta, announcement_query, announcements_title, feed_links,
        };
        let title = announcements_title(lang, filter.kind.as_deref());
        let query = announcement_query(&filter);
        let path = if query.is_empty() {
            "/annonces".to_string()
        } else {
            format!("/annonces?{query}")
        };
        HeadMeta::page(
            ctx,
            "website",
            &title,
            lang.t("feeds.announcements_description"),
            &path,
        )
        .with_feeds(feed_links(&title, "/annonces", &query))
    };
    render_status(
        status,
        &ListPage {
            lang,
            head,
            logged_in: user.is_some(),
            kinds: kinds(lang),
            kind,
            discipline,
            commune,
            open,
            total,
            items,
            reaction_labels,
            pagination,
            errors,
            communes: crate::service::communes::in_departement(departement),
            channel_handle: crate::service::actors::channel_handle(ctx),
            alert_csrf: if user.is_some() {
                csrf.value().to_string()
            } else {
                String::new()
            },
            alert_mails: crate::web::pages::alerts::mail_choices(lang),
            alert_login,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_bounded() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("-2")), 1);
        assert_eq!(page_number(Some("abc")), 1);
        let p = pagination(2, 45, |n| format!("?page={n}"));
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev.as_deref(), Some("?page=1"));
        assert_eq!(p.next.as_deref(), Some("?page=3"));
    }
}
