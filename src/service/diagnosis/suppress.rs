//! What a public reader may see of a table of counts: the one suppression rule.
//!
//! For [`Audience::Staff`] every cell is its exact count. For [`Audience::Public`]:
//!
//! 1. **Primary suppression.** Every count below [`THRESHOLD`] (5, zero included) is shown as
//!    `< 5` ([`Cell::Suppressed`], `"<5"` in JSON), and so is a total below it.
//! 2. **Complementary suppression.** When the total is shown and some rows are suppressed,
//!    more rows are suppressed — the smallest shown ones first, ties by code — until at least
//!    two rows are hidden and the hidden rows add up to at least [`THRESHOLD`]: the total
//!    minus the shown rows then gives only the sum of several hidden rows, itself not a small
//!    number, never one hidden row.
//! 3. **Rounding.** Every shown count (rows and totals) is rounded to the nearest multiple of
//!    [`ROUNDING_BASE`] (5; halves up). Complementary suppression protects a table against
//!    itself; rounding protects it against the *other* tables a reader can ask for with other
//!    filters (a figure for the whole département minus the same figure for one EPCI, or a
//!    kind's total minus its disciplines…): each shown figure is uncertain by ±2, so a
//!    difference of two figures never yields an exact small count.
//!
//! Rates per 10 000 inhabitants are computed from the shown (rounded) count, and hidden
//! with it, so that a rate times the population never gives back the exact count.

use super::{Audience, Row, Series, Table, per_10k};

/// Counts below this are never shown to the public.
pub const THRESHOLD: i64 = 5;
/// How a suppressed count is written in JSON and CSV.
pub const SUPPRESSED_JSON: &str = "<5";
/// Shown public counts are multiples of this.
pub const ROUNDING_BASE: i64 = 5;

/// One displayable figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Value(i64),
    /// Below the threshold, or hidden so that another hidden cell cannot be computed.
    Suppressed,
}

impl Cell {
    /// The shown value, if any.
    pub fn value(self) -> Option<i64> {
        match self {
            Cell::Value(n) => Some(n),
            Cell::Suppressed => None,
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Value(n) => write!(f, "{n}"),
            Cell::Suppressed => f.write_str("< 5"),
        }
    }
}

impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Value(n) => s.serialize_i64(*n),
            Cell::Suppressed => s.serialize_str(SUPPRESSED_JSON),
        }
    }
}

/// A row as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownRow {
    pub code: String,
    pub label: String,
    pub cell: Cell,
    /// Per 10 000 inhabitants, from the shown count.
    pub rate_per_10k: Option<f64>,
}

/// A table as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownTable {
    pub rows: Vec<ShownRow>,
    pub total: Cell,
}

/// `n` rounded to the nearest multiple of [`ROUNDING_BASE`], halves up.
pub fn round(n: i64) -> i64 {
    (n + ROUNDING_BASE / 2).div_euclid(ROUNDING_BASE) * ROUNDING_BASE
}

/// One count on its own (no total, no parts), as `audience` may see it.
pub fn cell(count: i64, audience: Audience) -> Cell {
    match audience {
        Audience::Staff => Cell::Value(count),
        Audience::Public if count < THRESHOLD => Cell::Suppressed,
        Audience::Public => Cell::Value(round(count)),
    }
}

/// Which rows of `counts` (with their `total`) must be hidden from the public: primary then
/// complementary suppression (steps 1 and 2 of the module header).
pub fn hidden_rows(counts: &[(&str, i64)], total: i64) -> Vec<bool> {
    let mut hidden: Vec<bool> = counts.iter().map(|(_, n)| *n < THRESHOLD).collect();
    if total < THRESHOLD || !hidden.iter().any(|h| *h) {
        return hidden;
    }
    loop {
        let n_hidden = hidden.iter().filter(|h| **h).count();
        let sum_hidden: i64 = counts
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| **h)
            .map(|((_, n), _)| *n)
            .sum();
        if n_hidden >= 2 && sum_hidden >= THRESHOLD {
            return hidden;
        }
        // The smallest row still shown, ties by code.
        let next = counts
            .iter()
            .enumerate()
            .filter(|(i, _)| !hidden[*i])
            .min_by(|(_, a), (_, b)| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)))
            .map(|(i, _)| i);
        match next {
            Some(i) => hidden[i] = true,
            // Every row is hidden: the total alone reveals no single row.
            None => return hidden,
        }
    }
}

/// `table` as `audience` may see it.
pub fn table(table: &Table, audience: Audience) -> ShownTable {
    let shown = |row: &Row, cell: Cell| ShownRow {
        code: row.code.clone(),
        label: row.label.clone(),
        cell,
        rate_per_10k: cell.value().and_then(|n| per_10k(n, row.population)),
    };
    match audience {
        Audience::Staff => ShownTable {
            rows: table
                .rows
                .iter()
                .map(|r| shown(r, Cell::Value(r.count)))
                .collect(),
            total: Cell::Value(table.total),
        },
        Audience::Public => {
            let counts: Vec<(&str, i64)> = table
                .rows
                .iter()
                .map(|r| (r.code.as_str(), r.count))
                .collect();
            let hidden = hidden_rows(&counts, table.total);
            ShownTable {
                rows: table
                    .rows
                    .iter()
                    .zip(hidden)
                    .map(|(r, h)| {
                        shown(
                            r,
                            if h {
                                Cell::Suppressed
                            } else {
                                Cell::Value(round(r.count))
                            },
                        )
                    })
                    .collect(),
                total: cell(table.total, audience),
            }
        }
    }
}

/// A series as `audience` may see it: each point on its own (a series has no totals to
/// subtract from), by month then code.
pub fn series(series: &Series, audience: Audience) -> Vec<(String, String, Cell)> {
    series
        .points
        .iter()
        .map(|(m, c, n)| (m.clone(), c.clone(), cell(*n, audience)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: &[(&str, i64)], total: i64) -> Table {
        Table {
            rows: rows
                .iter()
                .map(|(c, n)| Row {
                    code: (*c).into(),
                    label: (*c).into(),
                    count: *n,
                    population: None,
                })
                .collect(),
            total,
        }
    }

    fn cells(s: &ShownTable) -> Vec<Cell> {
        s.rows.iter().map(|r| r.cell).collect()
    }

    #[test]
    fn staff_see_everything() {
        let s = table(&t(&[("a", 1), ("b", 20)], 21), Audience::Staff);
        assert_eq!(cells(&s), vec![Cell::Value(1), Cell::Value(20)]);
        assert_eq!(s.total, Cell::Value(21));
    }

    #[test]
    fn small_counts_are_hidden_and_shown_ones_rounded() {
        assert_eq!(cell(0, Audience::Public), Cell::Suppressed);
        assert_eq!(cell(4, Audience::Public), Cell::Suppressed);
        assert_eq!(cell(5, Audience::Public), Cell::Value(5));
        assert_eq!(cell(7, Audience::Public), Cell::Value(5));
        assert_eq!(cell(8, Audience::Public), Cell::Value(10));
        assert_eq!(cell(12, Audience::Public), Cell::Value(10));
        assert_eq!(cell(4, Audience::Staff), Cell::Value(4));
        assert_eq!(serde_json::to_value(Cell::Suppressed).expect("json"), "<5");
        assert_eq!(serde_json::to_value(Cell::Value(10)).expect("json"), 10);
        assert_eq!(Cell::Suppressed.to_string(), "< 5");
    }

    /// The subtraction attack: total − shown parts must never give one hidden part.
    #[test]
    fn a_lone_hidden_cell_gets_a_complement() {
        // Without complement: 23 − 10 − 10 = 3, the hidden row.
        let s = table(&t(&[("a", 10), ("b", 10), ("c", 3)], 23), Audience::Public);
        assert_eq!(
            cells(&s),
            vec![Cell::Suppressed, Cell::Value(10), Cell::Suppressed],
            "the smallest shown row (a, by code) is hidden too"
        );
        // Two hidden rows whose sum is small (1 + 2 = 3) are not enough: a third goes.
        let hidden = hidden_rows(&[("a", 1), ("b", 2), ("c", 6), ("d", 30)], 39);
        assert_eq!(hidden, vec![true, true, true, false]);
    }

    /// Whatever the table, a reader who knows the total and the shown rows exactly (the
    /// worst case: before rounding) learns at most the sum of two or more hidden rows, and
    /// that sum is not small.
    #[test]
    fn no_hidden_cell_is_derivable_by_subtraction() {
        let tables: Vec<Vec<i64>> = vec![
            vec![1, 50],
            vec![4, 5, 6],
            vec![0, 0, 9, 9],
            vec![3, 3, 3, 40],
            vec![2, 100, 100, 100],
            vec![1, 1, 1, 1, 1, 1],
        ];
        for counts in tables {
            let named: Vec<(String, i64)> = counts
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("r{i}"), *n))
                .collect();
            let refs: Vec<(&str, i64)> = named.iter().map(|(c, n)| (c.as_str(), *n)).collect();
            let total: i64 = counts.iter().sum();
            let hidden = hidden_rows(&refs, total);
            for (i, n) in counts.iter().enumerate() {
                if *n < THRESHOLD {
                    assert!(hidden[i], "{counts:?}: small row {i} shown");
                }
            }
            if total >= THRESHOLD && hidden.iter().any(|h| *h) {
                let n_hidden = hidden.iter().filter(|h| **h).count();
                let derivable: i64 = counts
                    .iter()
                    .zip(&hidden)
                    .filter(|(_, h)| **h)
                    .map(|(n, _)| n)
                    .sum();
                assert!(n_hidden >= 2, "{counts:?}: one hidden row alone");
                assert!(derivable >= THRESHOLD, "{counts:?}: hidden sum {derivable}");
            }
        }
    }

    #[test]
    fn a_small_total_is_hidden_with_its_rows() {
        let s = table(&t(&[("a", 1), ("b", 2)], 3), Audience::Public);
        assert_eq!(s.total, Cell::Suppressed);
        assert_eq!(cells(&s), vec![Cell::Suppressed, Cell::Suppressed]);
    }

    #[test]
    fn rates_come_from_the_shown_count() {
        let mut table_ = t(&[("88160", 12), ("88413", 2), ("88465", 9)], 23);
        table_.rows[0].population = Some(30_000);
        table_.rows[1].population = Some(1_000);
        table_.rows[2].population = Some(4_500);
        let s = table(&table_, Audience::Public);
        // 12 is shown as 10: 10 per 30 000 = 3.33… per 10 000, never 12's 4.0.
        let rate = s.rows[0].rate_per_10k.expect("rate");
        assert!((rate - 10.0 / 3.0).abs() < 1e-9, "{rate}");
        // Hidden counts (2, and 9 as its complement) have no rate either.
        assert_eq!(s.rows[1].rate_per_10k, None);
        assert_eq!(s.rows[2].rate_per_10k, None);
        let staff = super::table(&table_, Audience::Staff);
        assert_eq!(staff.rows[1].rate_per_10k, Some(20.0));
    }
}
