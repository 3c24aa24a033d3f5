//! The row of a photo of a venue or of a sharing offer (one table, `photos`; the venue and
//! offer modules hold their queries).

use super::schema::photos;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = photos)]
pub struct DbPhoto {
    pub id: i64,
    /// Exactly one of `venue_id` and `offer_id` is set.
    pub venue_id: Option<i64>,
    pub offer_id: Option<i64>,
    /// File name under `<data_dir>/photos`.
    pub path: String,
    /// Its text alternative.
    pub alt: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}
