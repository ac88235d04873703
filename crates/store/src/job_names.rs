//! Bulk Actions' names told apart (issue 18): two exports started in the same minute got the
//! same name and the same file name, so an admin could not tell their downloads apart.

use crate::{LocationId, Result, Store, on_pool};

impl Store {
    /// `name` and `file_name` as a new Bulk Action of the location should take them: as given
    /// when no earlier job of the location has that name or that file name, else both with
    /// ` (2)`, ` (3)`, … after the name and before the file's extension.
    pub async fn distinct_job_name(
        &self,
        location: LocationId,
        name: &str,
        file_name: &str,
    ) -> Result<(String, String)> {
        let (stem, ext) = match file_name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
            _ => (file_name, None),
        };
        let name_like = format!("{} (%", like_escape(name));
        let file_like = format!("{} (%", like_escape(stem));
        let (same_name, same_file): (i64, i64) = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT \
                   COALESCE(SUM(CASE WHEN name = $2 OR name LIKE $3 ESCAPE '\\' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN file_name = $4 OR file_name LIKE $5 ESCAPE '\\' THEN 1 ELSE 0 END), 0) \
                 FROM jobs WHERE location_id = $1",
            )
            .bind(location.0)
            .bind(name)
            .bind(&name_like)
            .bind(file_name)
            .bind(&file_like)
            .fetch_one(p)
            .await
        })?;
        let same = same_name.max(same_file);
        if same == 0 {
            return Ok((name.to_string(), file_name.to_string()));
        }
        let n = same + 1;
        let file = match ext {
            Some(ext) => format!("{stem} ({n}).{ext}"),
            None => format!("{file_name} ({n})"),
        };
        Ok((format!("{name} ({n})"), file))
    }
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
