//! Database layer: rows, inserts and queries. Every function takes `&mut AsyncPgConnection` so
//! callers can pass a transaction. This layer knows neither the web nor federation.

pub mod account_tokens;
pub mod accounts;
pub mod activities;
pub mod actors;
pub mod alerts;
pub mod bound_sql;
pub mod comments;
pub mod database;
pub mod deliveries;
pub mod digests;
pub mod domain_blocks;
pub mod follows;
pub mod forum;
pub mod instance_identity;
pub mod instances;
pub mod listen;
pub mod loan_requests;
pub mod login_failures;
pub mod mails;
pub mod moderation_actions;
pub mod notifications;
pub mod offers;
pub mod photos;
pub mod pool;
pub mod postgres;
pub mod posts;
pub mod reactions;
pub mod received_activities;
pub mod reference;
pub mod reports;
pub mod resources;
pub mod rules;
pub mod schema;
pub mod sessions;
pub mod venues;
pub mod workspace_documents;
pub mod workspace_federation;
pub mod workspace_meetings;
pub mod workspace_messages;
pub mod workspaces;

pub use diesel_async::AsyncPgConnection as Conn;

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL `lower(text)`. Case-insensitive lookups compare `lower(column)` so that the
    /// `lower(…)` expression indexes of the migrations serve them, with the value bound.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
pub use pool::{DbPool, PooledConn};
