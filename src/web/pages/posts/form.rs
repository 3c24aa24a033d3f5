//! The forms to write, edit, publish and delete a post or announcement.

use super::*;

/// The fields of the form, as typed (shown again when something must be corrected).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PostForm {
    title: String,
    summary: String,
    body: String,
    kind: String,
    deadline: String,
    disciplines: String,
    commune: String,
    as_page: Option<String>,
    draft: Option<String>,
    cover_image_alt: String,
    remove_cover_image: Option<String>,
}

impl PostForm {
    fn from_post(post: &DbPost, departement: &str) -> Self {
        PostForm {
            title: post.title.clone(),
            summary: post.summary.clone(),
            body: post.body_markdown.clone(),
            kind: post.kind.clone().unwrap_or_default(),
            deadline: post
                .deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            disciplines: post.disciplines.join(", "),
            commune: match &post.commune_code {
                Some(code) => crate::service::communes::field_value(Some(code), departement),
                None => post.commune.clone(),
            },
            as_page: post.as_page.then(|| "on".into()),
            draft: post.draft.then(|| "on".into()),
            cover_image_alt: post.cover_image_alt.clone().unwrap_or_default(),
            remove_cover_image: None,
        }
    }

    /// What the form asks for; `cover` is the uploaded file (empty when none was chosen).
    fn input(&self, cover: Option<Vec<u8>>) -> PostInput {
        PostInput {
            title: self.title.clone(),
            body: self.body.clone(),
            summary: self.summary.clone(),
            kind: self.kind.clone(),
            deadline: self.deadline.clone(),
            disciplines: vec![self.disciplines.clone()],
            commune: self.commune.clone(),
            as_page: self.as_page.is_some(),
            draft: self.draft.is_some(),
            cover: match cover {
                _ if self.remove_cover_image.is_some() => CoverChange::Remove,
                Some(bytes) if !bytes.is_empty() => CoverChange::Upload(bytes),
                _ => CoverChange::Keep,
            },
            cover_alt: Some(self.cover_image_alt.clone()),
        }
    }

    fn set(&mut self, name: &str, value: String) {
        match name {
            "title" => self.title = value,
            "summary" => self.summary = value,
            "body" => self.body = value,
            "kind" => self.kind = value,
            "deadline" => self.deadline = value,
            "disciplines" => self.disciplines = value,
            "commune" => self.commune = value,
            "as_page" => self.as_page = Some(value),
            "draft" => self.draft = Some(value),
            "cover_image_alt" => self.cover_image_alt = value,
            "remove_cover_image" => self.remove_cover_image = Some(value),
            _ => {}
        }
    }
}

/// The post form as submitted, its CSRF token checked: urlencoded (no file), or multipart with
/// the cover image (`cover_image`), the alt text (`cover_image_alt`) and "Retirer l'image"
/// (`remove_cover_image`).
pub(super) struct PostSubmission {
    form: PostForm,
    /// The file part, up to one byte over the largest limit (enough to know it is too big).
    cover: Option<Vec<u8>>,
}

pub(super) fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(
            ErrorKind::PayloadTooLarge,
            format!("the form is limited to {FORM_BODY_LIMIT} bytes"),
        )
    } else {
        AppError::bad_request(format!("multipart: {e}"))
    }
}

impl<S: Send + Sync> FromRequest<S> for PostSubmission {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let (mut parts, body) = request.into_parts();
        let token = CsrfToken::from_request_parts(&mut parts, state).await?;
        let media_type = crate::body::media_type(&parts.headers);
        let request = Request::from_parts(parts, body);
        let mut form = PostForm::default();
        let mut cover = None;
        let mut submitted_token = None;
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                let bytes = crate::body::read_capped(request.into_body(), FORM_TEXT_BYTES).await?;
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|e| AppError::bad_request(format!("form: {e}")))?;
                for (name, value) in pairs {
                    if name == csrf::FIELD {
                        submitted_token = Some(value);
                    } else {
                        form.set(&name, value);
                    }
                }
            }
            "multipart/form-data" => {
                let mut multipart = Multipart::from_request(request, state)
                    .await
                    .map_err(|_| csrf::rejected())?;
                let cap = crate::config::MAX_COVER_KB as usize * 1024 + 1;
                while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
                    let name = field.name().unwrap_or_default().to_string();
                    if name == "cover_image" {
                        let mut bytes = Vec::new();
                        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                            let room = cap.saturating_sub(bytes.len());
                            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                        cover = Some(bytes);
                        continue;
                    }
                    let value = field.text().await.map_err(multipart_error)?;
                    if name == csrf::FIELD {
                        submitted_token = Some(value);
                    } else {
                        form.set(&name, value);
                    }
                }
            }
            // Whatever it is, it is not one of our forms: refused as a forgery.
            _ => return Err(csrf::rejected()),
        }
        token.verify(submitted_token.as_deref())?;
        Ok(PostSubmission { form, cover })
    }
}

/// A size in the page's words ("5 Mo").
pub(super) fn size_text(lang: Lang, bytes: usize) -> String {
    let kib = bytes / 1024;
    let unit = lang.t("unit.megabyte");
    if kib >= 1024 && kib.is_multiple_of(1024) {
        format!("{} {unit}", kib / 1024)
    } else {
        format!("{:.1} {unit}", kib as f64 / 1024.0)
    }
}

pub(super) struct KindOption {
    pub(super) value: &'static str,
    pub(super) label: &'static str,
}

#[derive(Template)]
#[template(path = "posts/form.html")]
pub(super) struct FormPage<'a> {
    lang: Lang,
    csrf: &'a str,
    is_announcement: bool,
    /// `None` for a new post.
    editing: Option<String>,
    action: String,
    form: PostForm,
    errors: FormState,
    kinds: Vec<KindOption>,
    may_publish_as_page: bool,
    /// The stored cover (site-relative URL) when editing a post that has one.
    cover_url: Option<String>,
    /// The cover size limit, in the page's words.
    max_cover: String,
    /// The communes of the configured département, offered in the commune field.
    communes: Vec<&'static crate::service::communes::Commune>,
}

impl FormPage<'_> {
    fn title_key(&self) -> &'static str {
        match (self.is_announcement, self.editing.is_some()) {
            (false, false) => "posts.new_title",
            (false, true) => "posts.edit_title",
            (true, false) => "announcements.new_title",
            (true, true) => "announcements.edit_title",
        }
    }
}

pub(super) fn kinds(lang: Lang) -> Vec<KindOption> {
    AnnouncementKind::ALL
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: lang.t(k.label_key()),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn form_page(
    ctx: &AppContext,
    lang: Lang,
    user: &CurrentUser,
    csrf: &CsrfToken,
    category: Category,
    editing: Option<&DbPost>,
    form: PostForm,
    errors: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let action = match (category, editing) {
        (Category::Post, None) => "/articles/nouveau".to_string(),
        (Category::Announcement, None) => "/annonces/nouvelle".to_string(),
        (c, Some(p)) => format!("{}/{}/modifier", base_path(c), p.id),
    };
    render_status(
        status,
        &FormPage {
            lang,
            csrf: csrf.value(),
            is_announcement: category == Category::Announcement,
            editing: editing.map(page_url),
            action,
            form,
            errors,
            kinds: kinds(lang),
            may_publish_as_page: editing.is_none() && is_staff(&user.account),
            cover_url: editing
                .and_then(|p| p.cover_image_path.as_deref())
                .and_then(covers::cover_path_url),
            max_cover: size_text(lang, covers::max_cover_bytes(ctx)),
            communes: if category == Category::Announcement {
                crate::service::communes::in_departement(&ctx.config.instance.departement)
            } else {
                Vec::new()
            },
        },
    )
}

/// Posts or announcements, as a type: each form handler below is one generic function, routed
/// once per section (`http_post_new::<Posts>`, `http_post_new::<Announcements>`).
pub(super) trait Section: Send + Sync + 'static {
    const CATEGORY: Category;
}

pub(super) struct Posts;
pub(super) struct Announcements;

impl Section for Posts {
    const CATEGORY: Category = Category::Post;
}

impl Section for Announcements {
    const CATEGORY: Category = Category::Announcement;
}

pub(super) async fn http_get_new<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    form_page(
        data.app_data(),
        lang,
        &user,
        &csrf,
        S::CATEGORY,
        None,
        PostForm::default(),
        FormState::new(lang),
        StatusCode::OK,
    )
}

pub(super) fn redirect_with_flash(ctx: &AppContext, to: &str, key: &'static str) -> Response {
    let mut response = Redirect::to(to).into_response();
    set_flash(ctx, &mut response, key);
    response
}

pub(super) async fn http_post_new<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    submission: PostSubmission,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let PostSubmission { form, cover } = submission;
    match publishing::create(&data, &user.account, S::CATEGORY, form.input(cover)).await {
        Ok(post) => {
            let key = if post.draft {
                "flash.post_draft_saved"
            } else {
                "flash.post_published"
            };
            Ok(redirect_with_flash(ctx, &page_url(&post), key))
        }
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &user,
            &csrf,
            S::CATEGORY,
            None,
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

/// The post as its editor may see it: 404 when missing, 403 when someone else's.
pub(super) async fn load_editable(
    ctx: &AppContext,
    user: &CurrentUser,
    category: Category,
    id: &str,
) -> AppResult<DbPost> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let (post, _) = publishing::visible(ctx, Some(&user.account), category, id).await?;
    if !can_edit(&user.account, &post) {
        return Err(
            AppError::forbidden("this is someone else's post").with_message("publishing.not_yours")
        );
    }
    Ok(post)
}

pub(super) async fn http_get_edit<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let post = load_editable(data.app_data(), &user, S::CATEGORY, &id).await?;
    form_page(
        data.app_data(),
        lang,
        &user,
        &csrf,
        S::CATEGORY,
        Some(&post),
        PostForm::from_post(&post, &data.app_data().config.instance.departement),
        FormState::new(lang),
        StatusCode::OK,
    )
}

pub(super) async fn http_post_edit<S: Section>(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    Path(id): Path<String>,
    submission: PostSubmission,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let post = load_editable(ctx, &user, S::CATEGORY, &id).await?;
    let PostSubmission { form, cover } = submission;
    let patch = PostPatch::from(form.input(cover));
    match publishing::edit(&data, &user.account, S::CATEGORY, post.id, patch).await {
        Ok(updated) => Ok(redirect_with_flash(
            ctx,
            &page_url(&updated),
            "flash.post_updated",
        )),
        Err(e) if e.kind == ErrorKind::Validation => form_page(
            ctx,
            lang,
            &user,
            &csrf,
            S::CATEGORY,
            Some(&post),
            form,
            FormState::from_error(lang, &e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NoFields {}

pub(super) async fn http_post_delete<S: Section>(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    publishing::delete(ctx, &user.account, S::CATEGORY, id).await?;
    let to = match S::CATEGORY {
        Category::Post => format!("/blog/{}", user.account.username),
        Category::Announcement => "/annonces".to_string(),
    };
    Ok(redirect_with_flash(ctx, &to, "flash.post_deleted"))
}

pub(super) async fn http_post_publish<S: Section>(
    data: Data,
    user: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let post = publishing::publish_draft(ctx, &user.account, S::CATEGORY, id).await?;
    Ok(redirect_with_flash(
        ctx,
        &page_url(&post),
        "flash.post_published",
    ))
}
