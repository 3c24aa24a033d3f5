//! Database layer: rows, inserts and queries. Every function takes `&mut AsyncPgConnection` so
//! callers can pass a transaction. This layer knows neither the web nor federation.

pub mod accounts;
pub mod actors;
pub mod database;
pub mod pool;
pub mod postgres;
pub mod schema;

pub use diesel_async::AsyncPgConnection as Conn;
pub use pool::{DbPool, PooledConn};
