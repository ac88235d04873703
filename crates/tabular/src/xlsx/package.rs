//! The workbook as a package of parts: `_rels/.rels` names the workbook part, the workbook's
//! relationships name its sheets, styles and shared strings, and `workbook.xml` lists the
//! sheets (name, visibility, relationship) and the date system. Opening a workbook reads the
//! styles and the shared-string table; a sheet's cells are then streamed from its part.

use std::io::{BufReader, Read, Seek};

use quick_xml::events::Event;
use zip::ZipArchive;
use zip::read::ZipFile;

use super::sheet::SheetCells;
use super::strings::SharedStrings;
use super::styles::{self, NumberKind};
use super::xml::{Part, attribute_text, attributes};
use super::{Budget, invalid};
use crate::Refusal;

/// A part being read straight from the archive.
pub(crate) type ZipPart<'a, R> = Part<BufReader<ZipFile<'a, R>>>;

/// One entry of the workbook's sheet list.
pub(crate) struct Sheet {
    pub(crate) name: String,
    /// A worksheet (not a chart sheet or a dialog sheet).
    pub(crate) worksheet: bool,
    /// Not `hidden` or `veryHidden`.
    pub(crate) visible: bool,
    path: String,
}

pub(crate) struct Workbook<R: Read + Seek> {
    archive: ZipArchive<R>,
    pub(crate) sheets: Vec<Sheet>,
    pub(crate) is_1904: bool,
    kinds: Vec<NumberKind>,
    strings: SharedStrings,
}

/// A relationship: its id, its type's last segment (`worksheet`, `styles`, …) and the part
/// it points at, resolved against the folder of the part that holds it.
struct Relationship {
    id: String,
    kind: String,
    path: String,
}

impl<R: Read + Seek> Workbook<R> {
    /// Reads what every sheet needs: the sheet list, the date system, the cell styles and the
    /// shared strings (charged to `budget`).
    pub(crate) fn open(reader: R, budget: &mut Budget) -> Result<Workbook<R>, Refusal> {
        let mut archive = ZipArchive::new(reader).map_err(invalid)?;
        let main = relationships(&mut archive, "", "")?
            .into_iter()
            .find(|r| r.kind == "officeDocument")
            .ok_or_else(|| invalid("the archive names no workbook part in _rels/.rels"))?
            .path;
        let (folder, file) = main.rsplit_once('/').unwrap_or(("", &main));
        let folder = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        let related = relationships(&mut archive, &folder, file)?;
        let (listed, is_1904) = {
            let mut part = open_part(&mut archive, &main)?
                .ok_or_else(|| invalid(format!("the workbook part {main} is missing")))?;
            read_workbook(&mut part)?
        };
        let sheets = listed
            .into_iter()
            .map(|Listed { name, visible, id }| {
                let target = related.iter().find(|r| r.id == id);
                Sheet {
                    name,
                    worksheet: target.is_some_and(|r| r.kind == "worksheet"),
                    visible,
                    path: target.map(|r| r.path.clone()).unwrap_or_default(),
                }
            })
            .collect();
        // Excel always relates both; without a relationship, look where Excel puts them.
        let named = |kind: &str, default: &str| {
            related
                .iter()
                .find(|r| r.kind == kind)
                .map_or_else(|| format!("{folder}{default}"), |r| r.path.clone())
        };
        let kinds = match open_part(&mut archive, &named("styles", "styles.xml"))? {
            Some(mut part) => styles::read(&mut part)?,
            None => Vec::new(),
        };
        let strings = match open_part(&mut archive, &named("sharedStrings", "sharedStrings.xml"))? {
            Some(mut part) => SharedStrings::read(&mut part, budget)?,
            None => SharedStrings::default(),
        };
        Ok(Workbook {
            archive,
            sheets,
            is_1904,
            kinds,
            strings,
        })
    }

    /// The cells of the sheet named `name` (one of [`Workbook::sheets`]), in file order.
    pub(crate) fn cells(
        &mut self,
        name: &str,
    ) -> Result<SheetCells<'_, BufReader<ZipFile<'_, R>>>, Refusal> {
        let path = self
            .sheets
            .iter()
            .find(|s| s.name == name && s.worksheet)
            .map(|s| s.path.clone())
            .ok_or_else(|| invalid(format!("the workbook has no worksheet {name}")))?;
        let part = open_part(&mut self.archive, &path)?
            .ok_or_else(|| invalid(format!("the sheet part {path} is missing")))?;
        SheetCells::new(part, &self.strings, &self.kinds, self.is_1904)
    }
}

/// A sheet as `workbook.xml` lists it.
struct Listed {
    name: String,
    visible: bool,
    /// Its relationship's id.
    id: String,
}

/// The sheets of `workbook.xml`, and whether it uses the 1904 date system.
fn read_workbook<R: std::io::BufRead>(part: &mut Part<R>) -> Result<(Vec<Listed>, bool), Refusal> {
    let mut sheets = Vec::new();
    let mut is_1904 = false;
    loop {
        match part.next()? {
            Event::Start(e) => match e.local_name().as_ref() {
                b"sheet" => {
                    let [name, state, id] = attributes(&e, [b"name", b"state", b"id"]);
                    let visible = !matches!(state, Some(b"hidden") | Some(b"veryHidden"));
                    let name = name.map_or(Ok(String::new()), attribute_text)?;
                    let id = id.map_or(Ok(String::new()), attribute_text)?;
                    sheets.push(Listed { name, visible, id });
                }
                // `<x15:workbookPr>` in an extension list shares the name, without the flag.
                b"workbookPr" => {
                    if let [Some(flag)] = attributes(&e, [b"date1904"]) {
                        is_1904 = matches!(flag, b"1" | b"true");
                    }
                }
                _ => {}
            },
            Event::Eof => return Ok((sheets, is_1904)),
            _ => {}
        }
    }
}

/// The relationships of the part `file` in `folder` (`""`, `""`: the package's own,
/// `_rels/.rels`), resolved against `folder`; external targets are left out.
fn relationships<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    folder: &str,
    file: &str,
) -> Result<Vec<Relationship>, Refusal> {
    let path = format!("{folder}_rels/{file}.rels");
    let Some(mut part) = open_part(archive, &path)? else {
        return Err(invalid(format!("the archive has no {path}")));
    };
    let mut found = Vec::new();
    loop {
        match part.next()? {
            Event::Start(e) if e.local_name().as_ref() == b"Relationship" => {
                let [id, kind, target, mode] =
                    attributes(&e, [b"Id", b"Type", b"Target", b"TargetMode"]);
                if mode == Some(b"External") {
                    continue;
                }
                let (Some(id), Some(kind), Some(target)) = (id, kind, target) else {
                    continue;
                };
                let kind = attribute_text(kind)?;
                found.push(Relationship {
                    id: attribute_text(id)?,
                    kind: kind.rsplit('/').next().unwrap_or_default().to_owned(),
                    path: resolve(folder, &attribute_text(target)?),
                });
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
    }
}

/// A relationship's target as a path in the archive: an absolute target (`/xl/sheet1.xml`)
/// from the root, a relative one (`worksheets/sheet1.xml`, `../xl/sheet1.xml`) from `folder`.
fn resolve(folder: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("{folder}{target}"),
    };
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

/// The index of the member at `path`: exactly, else ignoring ASCII case and `\` for `/` (as
/// Excel does).
fn find<R: Read + Seek>(archive: &ZipArchive<R>, path: &str) -> Option<usize> {
    if path.is_empty() {
        return None;
    }
    archive.index_for_name(path).or_else(|| {
        let wanted = path.to_ascii_lowercase();
        archive.file_names().position(|name| {
            name.is_ok_and(|n| n.replace('\\', "/").to_ascii_lowercase() == wanted)
        })
    })
}

/// The part at `path`, ready to read; `None` when the archive has no such member.
fn open_part<'a, R: Read + Seek>(
    archive: &'a mut ZipArchive<R>,
    path: &str,
) -> Result<Option<ZipPart<'a, R>>, Refusal> {
    let Some(index) = find(archive, path) else {
        return Ok(None);
    };
    let member = archive.by_index(index).map_err(invalid)?;
    Ok(Some(Part::new(
        path,
        BufReader::with_capacity(1 << 16, member),
    )))
}
