//! Mapping a file for an import (SPEC §5.3, §6.1, §11): the exporter's preset, a saved
//! template, the user's choices, the one pass over the values that decides which option and
//! date columns auto-map and in which day/month order each date column is read. The CLI
//! prints the result ([`FileMapping::lines`]), the wizard shows it, `prepare` imports with it:
//! one mapping for every front end.

use std::collections::HashMap;
use std::path::Path;

use domain::DateOrder;
use domain::field::FieldKind;
use domain::message::code;
use domain::value::ReadContext;
use engine::mapping::fit::{FitContext, Scan, ScanResult, order_notice};
use engine::mapping::plan::{self, Proposal};
use engine::presets::PresetChoice;
use engine::{ColumnPlan, ColumnUse, MappingError, MappingInput, Preset, Target};
use serde::{Deserialize, Serialize};
use tabular::{FileInfo, FileKind, Refusal};

/// What the mapping starts from, besides the file.
#[derive(Debug, Clone)]
pub struct MapRequest<'a> {
    pub headers: &'a [String],
    pub ignored: &'a [bool],
    /// The object's standard fields (`engine::mapping::contact_targets()` for contacts).
    pub standard: &'a [Target],
    pub custom: &'a [Target],
    pub preset: PresetChoice,
    /// A saved template: its name and its columns.
    pub template: Option<(&'a str, &'a engine::mapping::plan::TemplateColumns)>,
    /// `--map` / the wizard's changes.
    pub overrides: &'a [(String, Option<String>)],
    /// `--map-value`, as given (a value mapped to an option fits its field).
    pub value_map: &'a HashMap<String, HashMap<String, String>>,
    /// `--date-order`: every date column read in this order.
    pub date_order: Option<DateOrder>,
    /// The wizard's choice beside a date column: `(header, order)`.
    pub column_date_orders: &'a [(String, DateOrder)],
}

/// How one date column is read (SPEC §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnOrder {
    pub order: DateOrder,
    /// `location`, `file` (its values prove it: `date.order_from_file`) or `chosen`.
    pub from: OrderFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderFrom {
    Location,
    File,
    Chosen,
}

/// A column-level notice of the mapping and the report: said once per column, never per line
/// (SPEC §5.3 `date.order_from_file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub code: String,
    /// The column's header.
    pub column: String,
    /// The field key it feeds.
    pub field: String,
    pub message: String,
}

/// A file's mapping, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMapping {
    /// The preset the header row carries the signature of, whatever the user chose.
    pub detected: Option<&'static Preset>,
    /// The preset applied.
    pub preset: Option<&'static Preset>,
    /// One per column, in file order.
    pub plans: Vec<ColumnPlan>,
    /// Per date column, how it is read.
    pub orders: HashMap<usize, ColumnOrder>,
    pub notices: Vec<Notice>,
}

impl FileMapping {
    pub fn uses(&self) -> Vec<ColumnUse> {
        self.plans.iter().map(|p| p.used.clone()).collect()
    }

    /// The columns of additional emails or phones whose first value may stand in for a blank
    /// primary on a line: those not headed with the additional field's own name.
    pub fn promotable(&self) -> std::collections::HashSet<usize> {
        self.plans
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                matches!(&p.used, ColumnUse::Field(t)
                    if t.key == "additional_emails" || t.key == "additional_phones")
                    && !engine::mapping::plan::names_additional_field(&engine::normalise_header(
                        &p.header,
                    ))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The columns read in another order than the location's, for the row reader.
    pub fn date_orders(&self, location: DateOrder) -> HashMap<usize, DateOrder> {
        self.orders
            .iter()
            .filter(|(_, o)| o.order != location)
            .map(|(c, o)| (*c, o.order))
            .collect()
    }

    /// What the CLI prints before it imports (SPEC §13.1): the preset, then one column a line,
    /// `Header → Field (why)` or `Header → not imported (why)`, a date column's order beside it.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.plans.len() + 1);
        if let Some(p) = self.preset {
            out.push(format!("{} (preset {}).", p.looks_like(), p.key));
        }
        for (i, p) in self.plans.iter().enumerate() {
            let mut line = p.line();
            if let Some(o) = self.orders.get(&i) {
                let order = match o.order {
                    DateOrder::Mdy => "MDY",
                    DateOrder::Dmy => "DMY",
                };
                match o.from {
                    OrderFrom::File => line.push_str(&format!(
                        " — dates read {order}, as the column's values show ({})",
                        code::DATE_ORDER_FROM_FILE
                    )),
                    OrderFrom::Chosen => {
                        line.push_str(&format!(" — dates read {order}, as chosen"))
                    }
                    OrderFrom::Location => {}
                }
            }
            out.push(line);
        }
        out
    }
}

/// Step 1 of mapping a file: what the headers say, and the pass over the values it needs.
pub fn propose(
    req: &MapRequest<'_>,
) -> Result<(Option<&'static Preset>, Proposal, Scan), MappingError> {
    let preset = req.preset.resolve(req.headers);
    let proposal = plan::propose(&MappingInput {
        headers: req.headers,
        ignored: req.ignored,
        standard: req.standard,
        custom: req.custom,
        preset,
        template: req.template,
        overrides: req.overrides,
    })?;
    let dates: Vec<usize> = if req.date_order.is_some() {
        Vec::new()
    } else {
        proposal
            .date_columns()
            .into_iter()
            .filter(|c| chosen_order(req, &req.headers[*c]).is_none())
            .collect()
    };
    let scan = Scan::new(proposal.to_check(), dates);
    Ok((preset, proposal, scan))
}

fn chosen_order(req: &MapRequest<'_>, header: &str) -> Option<DateOrder> {
    req.column_date_orders
        .iter()
        .find(|(h, _)| engine::normalise_header(h) == engine::normalise_header(header))
        .map(|(_, o)| *o)
}

/// The fit context of a file: its reading context, the value mappings, its workbook date
/// system.
pub fn fit_context(
    read: &ReadContext,
    info: &FileInfo,
    value_map: &HashMap<String, HashMap<String, String>>,
) -> FitContext {
    FitContext {
        read: read.clone(),
        value_map: value_map.clone(),
        workbook: (info.kind == FileKind::Xlsx).then_some(info.date_1904),
    }
}

/// The pass over the values (blocking: call it on a blocking thread): every non-blank row
/// fed to `scan` until it is settled.
pub fn read_values(
    path: &Path,
    info: &FileInfo,
    mut scan: Scan,
    ctx: &FitContext,
) -> Result<ScanResult, Refusal> {
    if scan.is_empty() {
        return Ok(scan.finish());
    }
    let mut rows = tabular::rows(path, info)?;
    let mut row = tabular::Row::default();
    while rows.next_into(&mut row)? {
        if row.blank {
            continue;
        }
        scan.feed(&row.cells, ctx);
        if scan.settled() {
            break;
        }
    }
    Ok(scan.finish())
}

/// Step 2: the mapping, from the proposal and what the values said.
pub fn finish(
    req: &MapRequest<'_>,
    preset: Option<&'static Preset>,
    proposal: Proposal,
    values: &ScanResult,
    location_order: DateOrder,
) -> Result<FileMapping, MappingError> {
    let plans = plan::resolve(proposal, &values.unfit_map())?;
    let mut orders = HashMap::new();
    let mut notices = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let ColumnUse::Field(t) = &p.used else {
            continue;
        };
        if t.kind != FieldKind::Date {
            continue;
        }
        let order = if let Some(order) = chosen_order(req, &p.header).or(req.date_order) {
            ColumnOrder {
                order,
                from: OrderFrom::Chosen,
            }
        } else {
            match values.date(i) {
                Some(evidence) => {
                    let (order, from_file) = evidence.order(location_order);
                    if from_file {
                        notices.push(Notice {
                            code: code::DATE_ORDER_FROM_FILE.to_string(),
                            column: p.header.clone(),
                            field: t.key.clone(),
                            message: order_notice(&p.header, order, evidence.example(order)),
                        });
                    }
                    ColumnOrder {
                        order,
                        from: if from_file {
                            OrderFrom::File
                        } else {
                            OrderFrom::Location
                        },
                    }
                }
                None => ColumnOrder {
                    order: location_order,
                    from: OrderFrom::Location,
                },
            }
        };
        orders.insert(i, order);
    }
    Ok(FileMapping {
        detected: engine::presets::detect(req.headers),
        preset,
        plans,
        orders,
        notices,
    })
}

/// The whole mapping of a file: propose, read the values (on a blocking thread), finish.
/// `known` is a pass already made for the same proposal (the wizard keeps it with the draft).
pub async fn map_file(
    path: &Path,
    info: &FileInfo,
    req: &MapRequest<'_>,
    read: &ReadContext,
    known: Option<ScanResult>,
) -> Result<(FileMapping, ScanResult), crate::ImportError> {
    let (preset, proposal, scan) = propose(req)?;
    let values = match known {
        Some(v) => v,
        None => {
            let path = path.to_path_buf();
            let info = info.clone();
            let ctx = fit_context(read, &info, req.value_map);
            tokio::task::spawn_blocking(move || read_values(&path, &info, scan, &ctx))
                .await
                .map_err(|e| {
                    crate::ImportError::Invalid(format!("reading the file stopped: {e}"))
                })??
        }
    };
    let mapping = finish(req, preset, proposal, &values, read.date_order)?;
    Ok((mapping, values))
}

/// The mapping from a pass over the values made before (for the same [`scan_key`]).
pub fn map_known(
    req: &MapRequest<'_>,
    location_order: DateOrder,
    values: &ScanResult,
) -> Result<FileMapping, MappingError> {
    let (preset, proposal, _) = propose(req)?;
    finish(req, preset, proposal, values, location_order)
}

/// A key for the values pass a proposal needs, so a kept pass is reused only for the same
/// questions.
pub fn scan_key(req: &MapRequest<'_>) -> Result<String, MappingError> {
    let (_, proposal, _) = propose(req)?;
    let checks: Vec<(usize, String, Vec<String>)> = proposal
        .to_check()
        .into_iter()
        .map(|(i, t)| (i, t.key, t.options))
        .collect();
    let mut maps: Vec<(&String, Vec<&String>)> = req
        .value_map
        .iter()
        .map(|(k, m)| (k, m.keys().collect()))
        .collect();
    maps.sort();
    for (_, m) in maps.iter_mut() {
        m.sort();
    }
    Ok(serde_json::to_string(&(
        checks,
        proposal.date_columns(),
        maps,
        req.date_order.map(|o| o.token()),
        req.column_date_orders
            .iter()
            .map(|(h, o)| (h, o.token()))
            .collect::<Vec<_>>(),
    ))
    .expect("the key serialises"))
}

#[cfg(test)]
mod tests;
