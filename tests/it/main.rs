//! Integration tests: one binary (linking is the slow part of a Rust test build), one module
//! per capability. Each test gets its own database cloned from a migrated template.

mod common;
mod helpers;

mod accessibility;
mod accounts_mail;
mod alerts;
mod api;
mod browser;
mod channel;
mod collections_counts;
mod comments;
mod comments_more;
mod comments_paging;
mod config_cli;
mod covers_mentions;
mod delivery;
mod directory_foundation;
mod directory_search;
mod domain_blocks;
mod fault_tolerance;
mod federation_actors;
mod federation_inbox;
mod feeds;
mod follows;
mod foundation;
mod inbound_links;
mod inbox_mutations;
mod instance_url;
mod mail;
mod moderation_decisions;
mod moderation_domains;
mod moderation_flags;
mod moderation_queue;
mod moderation_reports;
mod moderation_sanctions;
mod notifications;
mod publishing;
mod rate_limits;
mod reactions;
mod several_servers;
mod sink;
mod smtp_server;
mod ssrf;
mod unsubscribe;
mod web_accounts;
