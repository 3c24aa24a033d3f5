//! Domain functions: one per user action, called by the web forms, the JSON API and the inbox
//! alike, so each rule lives in one place. Each runs its writes in one transaction.

pub mod account_links;
pub mod accounts;
pub mod actors;
pub mod admin;
pub mod alerts;
pub mod comments;
pub mod communes;
pub mod covers;
pub mod diagnosis;
pub mod digest;
pub mod directory;
pub mod domain_blocks;
pub mod follows;
pub mod forum;
pub mod instance_url;
pub mod login_limits;
pub mod mail;
pub mod mentions;
pub mod moderation;
pub mod network;
pub mod notifications;
pub mod outbound;
pub mod photos;
pub mod profile;
pub mod publishing;
pub mod rate_limit;
pub mod reactions;
pub mod resources;
pub mod sessions;
pub mod sharing;
pub mod storage;
pub mod tokens;
pub mod uploads;
pub mod venues;
pub mod workspaces;
