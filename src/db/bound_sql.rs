//! SQL written at run time with its values bound, for queries whose conditions depend on the
//! filters in use (the directory search, the diagnosis figures): `$n` placeholders are handed
//! out in order, so only the conditions in use appear in the statement (better plans than
//! `$n IS NULL OR …`), and no value is ever spliced into the text.

use chrono::{DateTime, Utc};
use diesel::{
    pg::Pg,
    query_builder::{BoxedSqlQuery, SqlQuery},
    sql_types::{Double, Text, Timestamptz},
};

/// A value bound to the statement.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Double(f64),
    Time(DateTime<Utc>),
}

/// The values bound so far; [`Sql::bind`] gives each its placeholder.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    /// In placeholder order (a statement run twice, e.g. a page and its count, reuses them).
    pub params: Vec<Param>,
}

impl Sql {
    /// Binds `p` and answers its placeholder (`$1`, `$2`…).
    pub fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// The statement `text` with every value bound, in order.
    pub fn query(self, text: String) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut query = diesel::sql_query(text).into_boxed::<Pg>();
        for p in self.params {
            query = match p {
                Param::Text(v) => query.bind::<Text, _>(v),
                Param::Double(v) => query.bind::<Double, _>(v),
                Param::Time(v) => query.bind::<Timestamptz, _>(v),
            };
        }
        query
    }
}
