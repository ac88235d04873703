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

/// `?, ?, …` for `n` positional parameters (see [`positional`]).
pub(crate) fn qmarks(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        s.push_str(if i == 0 { "?" } else { ", ?" });
    }
    s
}

/// A statement written with positional `?` parameters, for PostgreSQL: `$1`, `$2`, … in
/// order. Our SQL never holds a `?` inside a string literal.
pub(crate) fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + sql.len() / 4);
    let mut k = 0;
    for c in sql.chars() {
        if c == '?' {
            k += 1;
            out.push('$');
            out.push_str(&k.to_string());
        } else {
            out.push(c);
        }
    }
    out
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
