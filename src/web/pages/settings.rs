//! Settings: the member's own profile form (multipart, because of the avatar).

use crate::{
    error::{AppError, AppResult, ErrorKind},
    federation::Data,
    i18n::Lang,
    service::{
        directory::{DirectoryKind, SUGGESTED_DISCIPLINES},
        profile::{self, ProfileInput, max_avatar_bytes},
    },
    web::{
        auth::CurrentUser,
        csrf::{self, CsrfToken},
        pages::{PageLang, forms::FormState, layout::redirect_with_flash, render, render_status},
    },
};
use askama::Template;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, multipart::MultipartRejection},
    http::StatusCode,
    response::{Redirect, Response},
    routing::get,
};

/// The largest profile form read: the biggest avatar any configuration allows, plus room for
/// the text fields. A larger body is cut off and reported as a too-large image.
const BODY_LIMIT: usize = profile::MAX_AVATAR_BYTES + 256 * 1024;

pub fn routes() -> Router {
    Router::new()
        .route(
            "/parametres",
            get(|| async { Redirect::to("/parametres/profil") }),
        )
        .route(
            "/parametres/profil",
            get(http_get_profile_settings)
                .post(http_post_profile_settings)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/parametres/compte", get(http_get_account_settings))
        .route(
            "/parametres/compte/adresse",
            axum::routing::post(http_post_email_change),
        )
}

#[derive(Template)]
#[template(path = "settings/profile.html")]
struct ProfileSettingsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    username: &'a str,
    form: &'a ProfileInput,
    errors: FormState,
    avatar_url: Option<String>,
    /// The avatar size limit, in the page's words ("2 Mo").
    max_avatar: String,
    /// The directory kinds, the chosen one selected.
    kinds: Vec<Choice>,
    /// The suggested disciplines as checkboxes; the member's others in a text field.
    suggested: Vec<Choice>,
    other_disciplines: String,
    /// The communes of the configured département, offered in the commune field.
    communes: Vec<&'static crate::service::communes::Commune>,
}

/// An option of a select or a checkbox.
struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

/// A discipline as compared with the suggestions: no case, no accents.
fn discipline_key(d: &str) -> String {
    crate::service::communes::normalize(d)
}

/// The suggested disciplines the member has (checked), and the others, comma-separated.
fn discipline_choices(disciplines: &str) -> (Vec<Choice>, String) {
    let mine = profile::parse_disciplines(disciplines);
    let suggested = SUGGESTED_DISCIPLINES
        .iter()
        .map(|&s| Choice {
            value: s,
            label: s.to_string(),
            selected: mine.iter().any(|d| discipline_key(d) == discipline_key(s)),
        })
        .collect();
    let others = mine
        .iter()
        .filter(|d| {
            !SUGGESTED_DISCIPLINES
                .iter()
                .any(|s| discipline_key(s) == discipline_key(d))
        })
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    (suggested, others)
}

fn max_avatar_text(lang: Lang, bytes: usize) -> String {
    let kib = bytes / 1024;
    let unit = lang.t("unit.megabyte");
    if kib >= 1024 && kib.is_multiple_of(1024) {
        format!("{} {unit}", kib / 1024)
    } else {
        format!("{:.1} {unit}", kib as f64 / 1024.0)
    }
}

fn page<'a>(
    lang: Lang,
    csrf: &'a str,
    user: &'a CurrentUser,
    form: &'a ProfileInput,
    errors: FormState,
    max_bytes: usize,
    departement: &str,
) -> ProfileSettingsPage<'a> {
    let (suggested, other_disciplines) = discipline_choices(&form.disciplines);
    let chosen = DirectoryKind::parse(&form.directory_kind);
    ProfileSettingsPage {
        lang,
        csrf,
        username: &user.username,
        form,
        errors,
        avatar_url: profile::avatar_path_url(&user.account),
        max_avatar: max_avatar_text(lang, max_bytes),
        kinds: DirectoryKind::ALL
            .iter()
            .map(|&k| Choice {
                value: k.as_str(),
                label: lang.t(k.label_key()).to_string(),
                selected: Some(k) == chosen,
            })
            .collect(),
        suggested,
        other_disciplines,
        communes: crate::service::communes::in_departement(departement),
    }
}

async fn http_get_profile_settings(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    let ctx = data.app_data();
    let departement = &ctx.config.instance.departement;
    let form = ProfileInput::from_account(&user.account, departement);
    render(&page(
        lang,
        csrf.value(),
        &user,
        &form,
        FormState::new(lang),
        max_avatar_bytes(ctx),
        departement,
    ))
}

/// What the multipart body held.
#[derive(Default)]
struct Submitted {
    csrf_token: Option<String>,
    avatar: Option<Vec<u8>>,
    /// The body was larger than [`BODY_LIMIT`]; the field being read when it stopped.
    cut_off_in: Option<String>,
}

fn is_too_large(e: &axum::extract::multipart::MultipartError) -> bool {
    e.status() == StatusCode::PAYLOAD_TOO_LARGE
}

/// Reads every field; the avatar is kept up to one byte over the limit (enough to know it is
/// too large) and the rest of it is skipped.
async fn read_form(
    multipart: &mut Multipart,
    input: &mut ProfileInput,
    max_avatar: usize,
) -> AppResult<Submitted> {
    let mut out = Submitted::default();
    let mut hide_network = false;
    let mut directory_hidden = false;
    // The suggested disciplines ticked (`discipline`, repeated) join the others typed
    // (`disciplines`) when the form carries either.
    let mut ticked: Vec<String> = Vec::new();
    let mut disciplines_sent = false;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if is_too_large(&e) => {
                out.cut_off_in = Some(String::new());
                break;
            }
            Err(e) => return Err(AppError::bad_request(format!("multipart: {e}"))),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "avatar" {
            let mut bytes = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() <= max_avatar {
                            let room = max_avatar + 1 - bytes.len();
                            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                    }
                    Ok(None) => break,
                    Err(e) if is_too_large(&e) => {
                        out.cut_off_in = Some(name.clone());
                        break;
                    }
                    Err(e) => return Err(AppError::bad_request(format!("multipart: {e}"))),
                }
            }
            if out.cut_off_in.is_some() {
                break;
            }
            out.avatar = Some(bytes);
            continue;
        }
        let target: Option<&mut String> = match name.as_str() {
            "display_name" => Some(&mut input.display_name),
            "bio" => Some(&mut input.bio),
            "disciplines" => Some(&mut input.disciplines),
            "commune" => Some(&mut input.commune),
            "website" => Some(&mut input.website),
            "language" => Some(&mut input.language),
            "directory_kind" => Some(&mut input.directory_kind),
            "postal_code" => Some(&mut input.postal_code),
            "address" => Some(&mut input.address),
            "latitude" => Some(&mut input.latitude),
            "longitude" => Some(&mut input.longitude),
            "phone" => Some(&mut input.phone),
            "contact_email" => Some(&mut input.contact_email),
            "links" => Some(&mut input.links),
            _ => None,
        };
        if name == "disciplines" {
            disciplines_sent = true;
        }
        let is_known = target.is_some()
            || [
                csrf::FIELD,
                "hide_network",
                "directory_hidden",
                "discipline",
            ]
            .contains(&name.as_str());
        if !is_known {
            continue;
        }
        let text = match field.text().await {
            Ok(text) => text,
            Err(e) if is_too_large(&e) => {
                out.cut_off_in = Some(name.clone());
                break;
            }
            Err(e) => return Err(AppError::bad_request(format!("multipart: {e}"))),
        };
        match target {
            Some(slot) => *slot = text,
            None if name == csrf::FIELD => out.csrf_token = Some(text),
            None if name == "discipline" => ticked.push(text),
            None if name == "directory_hidden" => directory_hidden = !text.is_empty(),
            None => hide_network = !text.is_empty(),
        }
    }
    input.hide_network = hide_network;
    input.directory_hidden = directory_hidden;
    if disciplines_sent || !ticked.is_empty() {
        let others = if disciplines_sent {
            std::mem::take(&mut input.disciplines)
        } else {
            discipline_choices(&input.disciplines).1
        };
        ticked.push(others);
        input.disciplines = ticked.join(", ");
    }
    Ok(out)
}

async fn http_post_profile_settings(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    // Not a multipart body: not our form.
    let mut multipart = multipart.map_err(|_| csrf::rejected())?;
    let max = max_avatar_bytes(ctx);
    let departement = &ctx.config.instance.departement;
    // Fields the body does not carry keep their current value.
    let mut input = ProfileInput::from_account(&user.account, departement);
    let submitted = read_form(&mut multipart, &mut input, max).await?;

    if let Some(field) = submitted.cut_off_in {
        // Nothing is written; show the form again with the problem on the field that was
        // too big (the avatar, unless the body stopped elsewhere).
        let mut errors = FormState::new(lang);
        match field.as_str() {
            "" | "avatar" => errors.add("avatar", "field.image.too_large"),
            other => errors.add(other, "field.too_long"),
        }
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(lang, csrf.value(), &user, &input, errors, max, departement),
        );
    }
    csrf.verify(submitted.csrf_token.as_deref())?;

    match profile::update_profile(ctx, &user.account, &input, submitted.avatar).await {
        Ok(updated) => {
            let to = format!("/users/{}", updated.username);
            Ok(redirect_with_flash(ctx, &to, "flash.profile_saved"))
        }
        Err(e) if e.kind == ErrorKind::Validation => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(
                lang,
                csrf.value(),
                &user,
                &input,
                FormState::from_error(lang, &e),
                max,
                departement,
            ),
        ),
        Err(e) => Err(e),
    }
}

/// The account page: the address, whether it is confirmed, and the change-of-address form.
#[derive(Template)]
#[template(path = "settings/account.html")]
struct AccountSettingsPage<'a> {
    lang: Lang,
    csrf: &'a str,
    current_email: &'a str,
    confirmed: bool,
    /// Unconfirmed, and no banner offers a new link already (confirmation not required).
    offer_resend: bool,
    new_email: &'a str,
    errors: FormState,
}

fn offer_resend(data: &Data, user: &CurrentUser) -> bool {
    user.account.email_confirmed_at.is_none()
        && !crate::service::account_links::awaits_confirmation(data.app_data(), &user.account)
}

async fn http_get_account_settings(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
) -> AppResult<Response> {
    render(&AccountSettingsPage {
        lang,
        csrf: csrf.value(),
        current_email: &user.account.email,
        confirmed: user.account.email_confirmed_at.is_some(),
        offer_resend: offer_resend(&data, &user),
        new_email: "",
        errors: FormState::new(lang),
    })
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct EmailChangeForm {
    email: String,
    current_password: String,
}

/// Mails a link to the new address and a notice to the old one; the address changes when the
/// link is used.
async fn http_post_email_change(
    data: Data,
    PageLang(lang): PageLang,
    user: CurrentUser,
    csrf: CsrfToken,
    crate::web::csrf::CsrfForm(form): crate::web::csrf::CsrfForm<EmailChangeForm>,
) -> AppResult<Response> {
    let ctx = data.app_data();
    match crate::service::account_links::request_email_change(
        ctx,
        &user.account,
        &form.current_password,
        &form.email,
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            ctx,
            "/parametres/compte",
            "flash.email_change_sent",
        )),
        Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::TooManyRequests) => {
            let mut response = render_status(
                e.status(),
                &AccountSettingsPage {
                    lang,
                    csrf: csrf.value(),
                    current_email: &user.account.email,
                    confirmed: user.account.email_confirmed_at.is_some(),
                    offer_resend: offer_resend(&data, &user),
                    new_email: form.email.trim(),
                    errors: FormState::from_error(lang, &e),
                },
            )?;
            if e.kind == ErrorKind::TooManyRequests {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("3600"),
                );
            }
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_limit_in_words() {
        assert_eq!(max_avatar_text(Lang::Fr, 2 * 1024 * 1024), "2 Mo");
        assert_eq!(max_avatar_text(Lang::En, 1024 * 1024), "1 MB");
        assert_eq!(max_avatar_text(Lang::En, 1536 * 1024), "1.5 MB");
    }
}
