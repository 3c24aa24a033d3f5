//! `GET /api/v1/profile` and `PATCH /api/v1/profile`: the caller's own profile, with what the
//! member directory shows of them. The edit goes through the same domain function as the
//! settings form (`service::profile::update_profile`): same rules, same field errors.

use crate::{
    db::accounts::DbAccount,
    error::AppResult,
    federation::Data,
    service::{communes, profile},
    web::api::{ApiJson, ApiUser, openapi::Problem},
};
use axum::{Router, routing::get};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(http_get_profile, http_patch_profile),
    components(schemas(Profile, ProfileCommune, ProfilePatch))
)]
pub struct ProfileApi;

pub fn routes() -> Router {
    Router::new().route(
        "/api/v1/profile",
        get(http_get_profile).patch(http_patch_profile),
    )
}

/// A commune of the official list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileCommune {
    /// INSEE code.
    #[schema(example = "88413")]
    pub code: String,
    #[schema(example = "Saint-Dié-des-Vosges")]
    pub name: String,
    #[schema(example = "88")]
    pub departement: String,
}

/// The caller's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    #[schema(example = "la_fabrique")]
    pub username: String,
    #[schema(example = "La Fabrique")]
    pub display_name: String,
    /// Markdown, as written.
    pub bio: String,
    #[schema(example = json!(["théâtre", "marionnette"]))]
    pub disciplines: Vec<String>,
    /// `compagnie`, `association`, `bibliotheque`, `ecole_de_musique`,
    /// `etablissement_scolaire`, `ehpad_medico_social`, `collectivite`, `artiste`, `lieu` or
    /// `autre`.
    #[schema(example = "compagnie")]
    pub directory_kind: String,
    /// The commune, or `null`.
    pub commune: Option<ProfileCommune>,
    #[schema(example = "88100")]
    pub postal_code: String,
    pub address: String,
    /// Decimal degrees (WGS 84); both or neither.
    #[schema(example = 48.2847)]
    pub latitude: Option<f64>,
    #[schema(example = 6.9492)]
    pub longitude: Option<f64>,
    /// Public phone number.
    pub phone: String,
    /// Public contact address (not the login address).
    pub contact_email: String,
    pub website: String,
    /// Extra public links.
    pub links: Vec<String>,
    /// Not listed in the directory nor found by its search.
    pub directory_hidden: bool,
    /// `fr`, `en`, or `null` for the instance default.
    pub language: Option<String>,
    /// Followers and follows not shown publicly.
    pub hide_network: bool,
}

impl Profile {
    fn of(a: DbAccount) -> Profile {
        Profile {
            commune: a
                .commune_code
                .as_deref()
                .and_then(communes::by_code)
                .map(|c| ProfileCommune {
                    code: c.code.to_string(),
                    name: c.name.to_string(),
                    departement: c.departement.to_string(),
                }),
            username: a.username,
            display_name: a.display_name,
            bio: a.bio_markdown,
            disciplines: a.disciplines,
            directory_kind: a.directory_kind,
            postal_code: a.postal_code,
            address: a.address,
            latitude: a.latitude,
            longitude: a.longitude,
            phone: a.phone,
            contact_email: a.contact_email,
            website: a.website,
            links: a.links,
            directory_hidden: a.directory_hidden,
            language: a.language,
            hide_network: a.hide_network,
        }
    }
}

/// Reads `null` as `Some(None)` and a missing field (via `default`) as `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

/// A partial edit: absent fields keep their value; `""` (or `null` for coordinates) clears a
/// field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    /// Markdown.
    pub bio: Option<String>,
    /// Free text; the directory suggests théâtre, musique, danse, arts visuels…
    pub disciplines: Option<Vec<String>>,
    /// A `directory_kind` code (see [`Profile`]).
    #[schema(example = "association")]
    pub directory_kind: Option<String>,
    /// An INSEE code, a name ("St" and accents forgiven; taken in the configured département
    /// first) or "Name (88)".
    #[schema(example = "St-Dié-des-Vosges")]
    pub commune: Option<String>,
    /// Five characters; one of the commune's postal codes when a commune is set.
    #[schema(example = "88100")]
    pub postal_code: Option<String>,
    pub address: Option<String>,
    /// Between -90 and 90; the stored longitude must be set too (or in the same edit).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub latitude: Option<Option<f64>>,
    /// Between -180 and 180.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    pub longitude: Option<Option<f64>>,
    pub phone: Option<String>,
    pub contact_email: Option<String>,
    /// `http(s)` address.
    pub website: Option<String>,
    /// Five at most, `http(s)` only.
    pub links: Option<Vec<String>>,
    pub directory_hidden: Option<bool>,
    /// `fr`, `en`, or `""` for the instance default.
    pub language: Option<String>,
    pub hide_network: Option<bool>,
}

impl ProfilePatch {
    /// The profile form as the account stands, with this edit applied.
    fn apply(self, account: &DbAccount, departement: &str) -> profile::ProfileInput {
        let mut input = profile::ProfileInput::from_account(account, departement);
        let set = |slot: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut input.display_name, self.display_name);
        set(&mut input.bio, self.bio);
        set(
            &mut input.disciplines,
            self.disciplines.map(|d| d.join(", ")),
        );
        set(&mut input.directory_kind, self.directory_kind);
        set(&mut input.commune, self.commune);
        set(&mut input.postal_code, self.postal_code);
        set(&mut input.address, self.address);
        let coordinate = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        set(&mut input.latitude, self.latitude.map(coordinate));
        set(&mut input.longitude, self.longitude.map(coordinate));
        set(&mut input.phone, self.phone);
        set(&mut input.contact_email, self.contact_email);
        set(&mut input.website, self.website);
        set(&mut input.links, self.links.map(|l| l.join("\n")));
        set(&mut input.language, self.language);
        if let Some(v) = self.directory_hidden {
            input.directory_hidden = v;
        }
        if let Some(v) = self.hide_network {
            input.hide_network = v;
        }
        input
    }
}

/// The caller's profile, as the directory shows it.
#[utoipa::path(
    get,
    path = "/api/v1/profile",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = Profile),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended account", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_get_profile(user: ApiUser) -> ApiJson<Profile> {
    ApiJson(Profile::of(user.account))
}

/// Edits the caller's profile: only the fields given change. Every broken rule is reported
/// at once, each with its field; nothing is written then. Followers elsewhere receive the
/// actor's `Update`.
#[utoipa::path(
    patch,
    path = "/api/v1/profile",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The profile as saved", body = Profile),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Suspended account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule: unknown `directory_kind`, unknown or ambiguous `commune`, `postal_code` malformed or not the commune's, `latitude`/`longitude` out of range or only one of them, `phone`, `contact_email`, `website` or `links` malformed, too many `links` or `disciplines`, text too long, a field this edit does not know", body = Problem, content_type = "application/problem+json"),
    ),
)]
async fn http_patch_profile(
    data: Data,
    user: ApiUser,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> AppResult<ApiJson<Profile>> {
    let ctx = data.app_data();
    let input = patch.apply(&user.account, &ctx.config.instance.departement);
    let updated = profile::update_profile(ctx, &user.account, &input, None).await?;
    Ok(ApiJson(Profile::of(updated)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::directory::DirectoryKind;

    #[test]
    fn every_directory_kind_is_documented() {
        let doc = ProfileApi::openapi();
        let json = serde_json::to_string(&doc).expect("json");
        for k in DirectoryKind::ALL {
            assert!(json.contains(k.as_str()), "{}", k.as_str());
        }
    }
}
