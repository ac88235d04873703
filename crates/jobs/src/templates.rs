//! Saved import templates (SPEC §11): an import's choices — mapping by header, value mappings,
//! fill-only columns, mode and options, tags, workflow, preset, date orders — saved under a
//! name from a job (`template save --from-job`, the wizard's "Save these choices as a
//! template") and applied to the next file (`--template NAME`, the wizard's picker): columns
//! are matched by the saved headers, a saved column missing from the file is ignored, a new
//! column auto-maps as usual. `template list` shows them beside the built-in presets.

use domain::job::Mode;
use serde::{Deserialize, Serialize};
use store::{LocationId, Store, StoreError};

use crate::import::ImportRequest;

/// A template as applied to an import: its name and its columns (`(header, field key | None)`).
pub type AppliedTemplate = (String, Vec<(String, Option<String>)>);

/// The choices a template keeps (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Choices {
    /// Per column of the file it was saved from: `(header, field key | None)` — None is
    /// "don't import".
    pub columns: Vec<(String, Option<String>)>,
    pub map_values: Vec<(String, String, String)>,
    pub fill_only: Vec<String>,
    pub mode: Option<String>,
    pub skip_unmapped: bool,
    pub no_update_empty: bool,
    pub skip_existing_phone: bool,
    pub tags: Vec<String>,
    pub workflow: Option<String>,
    pub suppress_tag_triggers: bool,
    /// `None` to detect, `none`, or a preset's key.
    pub preset: Option<String>,
    pub date_order: Option<domain::DateOrder>,
    pub column_date_orders: Vec<(String, domain::DateOrder)>,
}

/// Why a template could not be saved or used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl Choices {
    /// The choices an import job ran with: its request and its columns as they were mapped.
    pub fn of_job(stored: &ImportRequest, columns: Vec<(String, Option<String>)>) -> Choices {
        Choices {
            columns,
            map_values: stored.map_values.clone(),
            fill_only: stored.fill_only.clone(),
            mode: Some(stored.mode.token().to_string()),
            skip_unmapped: stored.skip_unmapped,
            no_update_empty: stored.no_update_empty,
            skip_existing_phone: stored.skip_existing_phone,
            tags: stored.tags.clone(),
            workflow: stored.workflow.clone(),
            suppress_tag_triggers: stored.suppress_tag_triggers,
            preset: stored.preset.clone(),
            date_order: stored.date_order,
            column_date_orders: stored.column_date_orders.clone(),
        }
    }

    /// A one-line summary for `template list`.
    pub fn summary(&self) -> String {
        let mapped = self.columns.iter().filter(|(_, k)| k.is_some()).count();
        let mut parts = vec![format!("{mapped} columns mapped")];
        if let Some(m) = &self.mode {
            parts.push(format!("mode {m}"));
        }
        if !self.tags.is_empty() {
            parts.push(format!("tags {}", self.tags.join(", ")));
        }
        if let Some(w) = &self.workflow {
            parts.push(format!("workflow {w}"));
        }
        if self.no_update_empty {
            parts.push("don't update empty values".into());
        }
        parts.join("; ")
    }

    /// Applies the template to a request: what the request gives itself wins (its mode when
    /// given, its own mappings, value mappings and workflow); lists are joined; options the
    /// template turned on stay on.
    pub fn apply(&self, name: &str, request: &mut ImportRequest) -> Result<(), TemplateError> {
        request.template_mapping = Some((name.to_string(), self.columns.clone()));
        if !request.mode_given
            && let Some(mode) = &self.mode
        {
            request.mode = Mode::parse_user(mode).map_err(TemplateError::Invalid)?;
            request.mode_given = true;
        }
        for (k, from, to) in &self.map_values {
            if !request
                .map_values
                .iter()
                .any(|(k2, f2, _)| k2 == k && f2.eq_ignore_ascii_case(from))
            {
                request
                    .map_values
                    .push((k.clone(), from.clone(), to.clone()));
            }
        }
        for f in &self.fill_only {
            if !request.fill_only.iter().any(|g| g == f) {
                request.fill_only.push(f.clone());
            }
        }
        let mut tags = self.tags.clone();
        for t in &request.tags {
            if !tags.iter().any(|u| u == t) {
                tags.push(t.clone());
            }
        }
        request.tags = tags;
        request.skip_unmapped |= self.skip_unmapped;
        request.no_update_empty |= self.no_update_empty;
        request.skip_existing_phone |= self.skip_existing_phone;
        request.suppress_tag_triggers |= self.suppress_tag_triggers;
        if request.workflow.is_none() {
            request.workflow = self.workflow.clone();
        }
        if request.preset.is_none() {
            request.preset = self.preset.clone();
        }
        if request.date_order.is_none() {
            request.date_order = self.date_order;
        }
        for (h, o) in &self.column_date_orders {
            if !request.column_date_orders.iter().any(|(g, _)| g == h) {
                request.column_date_orders.push((h.clone(), *o));
            }
        }
        Ok(())
    }
}

/// Loads a location's template by name; the error lists the templates there are.
pub async fn load(
    store: &Store,
    location: LocationId,
    name: &str,
) -> Result<Choices, TemplateError> {
    match store.template(location, name).await {
        Ok(t) => serde_json::from_str(&t.choices).map_err(|e| {
            TemplateError::Store(StoreError::Corrupt(format!("the template '{name}': {e}")))
        }),
        Err(e) if e.is_not_found() => {
            let known: Vec<String> = store
                .templates(location)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect();
            Err(TemplateError::Invalid(if known.is_empty() {
                format!(
                    "there is no template named '{name}'; save one from an import with `aesthetix template save --from-job JOB`"
                )
            } else {
                format!(
                    "there is no template named '{name}'; this location's templates are: {}",
                    known.join(", ")
                )
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// Saves the choices of an import job of the location under `name` (replacing a template of
/// that name). Returns whether it replaced one.
pub async fn save_from_job(
    store: &Store,
    location: LocationId,
    job: i64,
    name: &str,
) -> Result<bool, TemplateError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TemplateError::Invalid("a template needs a name".into()));
    }
    let j = store.job(location, job).await?;
    if j.operation != domain::job::Operation::Import {
        return Err(TemplateError::Invalid(format!(
            "job {job} is an {}, not an import; a template is saved from an import",
            j.operation
        )));
    }
    let options: serde_json::Value = serde_json::from_str(&store.job_options(location, job).await?)
        .map_err(|e| TemplateError::Invalid(format!("job {job}'s options are unreadable ({e})")))?;
    let stored: ImportRequest = serde_json::from_value(options["request"].clone())
        .map_err(|e| TemplateError::Invalid(format!("job {job}'s options are unreadable ({e})")))?;
    // The columns as the job mapped them; a job from before mappings were kept has its
    // explicit choices only.
    let columns: Vec<(String, Option<String>)> =
        serde_json::from_value(options["mapping"].clone()).unwrap_or_else(|_| stored.map.clone());
    let choices = Choices::of_job(&stored, columns);
    let json = serde_json::to_string(&choices).expect("choices serialise");
    Ok(store
        .save_template(location, name, &json, Some(job))
        .await?)
}

/// Saves choices made elsewhere (the wizard's "Save these choices as a template").
pub async fn save(
    store: &Store,
    location: LocationId,
    name: &str,
    choices: &Choices,
    from_job: Option<i64>,
) -> Result<bool, TemplateError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TemplateError::Invalid("a template needs a name".into()));
    }
    let json = serde_json::to_string(choices).expect("choices serialise");
    Ok(store.save_template(location, name, &json, from_job).await?)
}

/// One row of `template list`: a saved template or a built-in preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateInfo {
    pub name: String,
    /// True for the exporters' presets.
    pub builtin: bool,
    /// A preset's `--preset` key.
    pub key: Option<String>,
    pub description: String,
    pub from_job: Option<i64>,
}

/// The location's templates, then the built-in presets (SPEC §13.1: "presets included,
/// marked built-in").
pub async fn list(store: &Store, location: LocationId) -> Result<Vec<TemplateInfo>, TemplateError> {
    let mut out = Vec::new();
    for t in store.templates(location).await? {
        let choices: Choices = serde_json::from_str(&t.choices).unwrap_or_default();
        out.push(TemplateInfo {
            name: t.name,
            builtin: false,
            key: None,
            description: choices.summary(),
            from_job: t.from_job,
        });
    }
    for p in engine::presets::PRESETS {
        out.push(TemplateInfo {
            name: p.name.to_string(),
            builtin: true,
            key: Some(p.key.to_string()),
            description: p.source.to_string(),
            from_job: None,
        });
    }
    Ok(out)
}
