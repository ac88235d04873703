//! What a revert decides for each record an import wrote (SPEC §9.4): undo it, or leave it
//! alone and say why. Pure; the store reads the journal and the records' versions, asks
//! [`conflict`], and writes what it says.

/// What the revert knows of one record the import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written<'a> {
    /// The record's version now; `None` when it was deleted since.
    pub version_now: Option<i64>,
    /// Its version after the import's last write to it.
    pub version_after: i64,
    /// A workflow that has already run a step for the record since an enrollment of this
    /// import, if one has.
    pub workflow_ran: Option<&'a str>,
}

/// Why the revert must leave this record as it is, or `None` when it may undo the import's
/// writes (delete what it created, restore what it updated).
pub fn conflict(w: Written<'_>) -> Option<String> {
    match w.version_now {
        None => Some("deleted since the import".to_string()),
        Some(v) if v != w.version_after => Some("changed since the import".to_string()),
        Some(_) => w
            .workflow_ran
            .map(|name| format!("workflow '{name}' has already run a step for it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (version now, version after the import, workflow that ran, conflict)
    type Case = (Option<i64>, i64, Option<&'static str>, Option<&'static str>);

    #[test]
    fn conflicts() {
        let cases: &[Case] = &[
            (Some(3), 3, None, None),
            (None, 3, None, Some("deleted since the import")),
            (None, 3, Some("Welcome"), Some("deleted since the import")),
            (Some(4), 3, None, Some("changed since the import")),
            (
                Some(4),
                3,
                Some("Welcome"),
                Some("changed since the import"),
            ),
            (
                Some(3),
                3,
                Some("Welcome"),
                Some("workflow 'Welcome' has already run a step for it"),
            ),
        ];
        for &(version_now, version_after, workflow_ran, want) in cases {
            let got = conflict(Written {
                version_now,
                version_after,
                workflow_ran,
            });
            assert_eq!(
                got.as_deref(),
                want,
                "{version_now:?} {version_after} {workflow_ran:?}"
            );
        }
    }
}
