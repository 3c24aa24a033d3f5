//! Domain functions: one per user action, called by the web forms, the JSON API and the inbox
//! alike, so each rule lives in one place. Each runs its writes in one transaction.

pub mod accounts;
pub mod actors;
pub mod tokens;
