//! Placeholder helpers for the SQL the store writes, once for every module: sqlx numbers
//! parameters `$1`, `$2`, … on both backends (its SQLite driver maps `$N` to the N-th
//! argument), rusqlite takes SQLite's `?N`.

/// `$first, $first+1, …` for `n` parameters.
pub(crate) fn params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$N` placeholders (sqlx's, shared with PostgreSQL) as SQLite's numbered `?N`, which bind by
/// position in rusqlite. Our SQL never holds a `$` inside a literal.
pub(crate) fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(params(3, 3), "$3, $4, $5");
        assert_eq!(params(1, 0), "");
        assert_eq!(numbered("a = $1 AND b = $12"), "a = ?1 AND b = ?12");
    }
}
