//! Fail points for the crash tests (SPEC §9.5): `AESTHETIX_FAILPOINT=NAME:N` makes the
//! process abort — as `kill -9` would stop it — the N-th time it reaches the point NAME.
//! Without the variable a fail point is one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static HITS: AtomicU64 = AtomicU64::new(0);

fn configured() -> Option<&'static (String, u64)> {
    static POINT: OnceLock<Option<(String, u64)>> = OnceLock::new();
    POINT
        .get_or_init(|| {
            let v = std::env::var("AESTHETIX_FAILPOINT").ok()?;
            let (name, n) = v.split_once(':')?;
            Some((name.to_string(), n.parse().ok()?))
        })
        .as_ref()
}

/// Aborts the process when `name` is the configured fail point and this is its N-th hit.
pub fn hit(name: &str) {
    if let Some((point, n)) = configured()
        && point == name
        && HITS.fetch_add(1, Ordering::Relaxed) + 1 == *n
    {
        eprintln!("fail point {name} reached: aborting");
        std::process::abort();
    }
}
