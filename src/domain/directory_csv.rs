//! The CSV format of directory import and export: reading a file into rows (BOM, `,` or `;`
//! delimiter, case-insensitive header), checking each row into a record, and escaping cells so
//! a spreadsheet never runs them as formulas.
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::address::EmailAddress;
use super::association::business_domain;
use super::domains::Domain;
use super::freemail::FreeMail;

const NAME_MAX: usize = 200;
const NOTES_MAX: usize = 10_000;

/// Which directory a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Businesses,
    Contacts,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "businesses" => Some(Self::Businesses),
            "contacts" => Some(Self::Contacts),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Businesses => "businesses",
            Self::Contacts => "contacts",
        }
    }

    /// The header export writes (and import accepts, in any case and order).
    pub fn header(self) -> &'static [&'static str] {
        match self {
            Self::Businesses => &["name", "domains", "notes"],
            Self::Contacts => &["name", "addresses", "business", "notes"],
        }
    }

    /// The column that lists domains or addresses.
    fn list_column(self) -> &'static str {
        self.header()[1]
    }
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is empty; the first row must name the columns ({0})")]
    Empty(String),
    #[error("unknown column “{0}”; the columns are {1}")]
    UnknownColumn(String, String),
    #[error("the header has no “{0}” column")]
    MissingColumn(&'static str),
    #[error("the file is not valid CSV: {0}")]
    Malformed(String),
}

/// One data row as read, cells trimmed and un-escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRow {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub line: u64,
    pub name: String,
    /// Domains or addresses, split on `;`, `,` and whitespace.
    pub list: Vec<String>,
    /// Contacts only: a business name or domain. None when the file has no such column (an
    /// update then keeps the contact's business); likewise for notes.
    pub business: Option<String>,
    pub notes: Option<String>,
}

/// Read a file of `kind`. Rows with every cell empty are skipped.
pub fn read(bytes: &[u8], kind: Kind) -> Result<Vec<RawRow>, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| first_line.split(|b| *b == c).count();
    let delimiter = if count(b';') > count(b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(bytes);
    let known = kind.header().join(", ");
    let headers = reader
        .headers()
        .map_err(|e| CsvError::Malformed(e.to_string()))?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(CsvError::Empty(known));
    }
    let mut columns: Vec<Option<usize>> = vec![None; kind.header().len()];
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_lowercase();
        if h.is_empty() {
            continue;
        }
        let pos = kind
            .header()
            .iter()
            .position(|k| *k == h)
            .ok_or_else(|| CsvError::UnknownColumn(h.clone(), known.clone()))?;
        columns[pos] = Some(i);
    }
    for (pos, name) in kind.header().iter().enumerate().take(2) {
        if columns[pos].is_none() {
            return Err(CsvError::MissingColumn(name));
        }
    }
    let mut rows = Vec::new();
    for (index, record) in (2_u64..).zip(reader.records()) {
        let record = record.map_err(|e| CsvError::Malformed(e.to_string()))?;
        // The spreadsheet row: the header is row 1.
        let line = index;
        let cell = |pos: usize| {
            columns
                .get(pos)
                .copied()
                .flatten()
                .and_then(|i| record.get(i))
                .map(|c| unescape(c.trim()).to_string())
                .unwrap_or_default()
        };
        let optional = |pos: usize| columns[pos].map(|_| cell(pos));
        let (name, list) = (cell(0), cell(1));
        let (business, notes) = match kind {
            Kind::Businesses => (None, optional(2)),
            Kind::Contacts => (optional(2), optional(3)),
        };
        let blank = |c: &Option<String>| c.as_deref().is_none_or(str::is_empty);
        if name.is_empty() && list.is_empty() && blank(&business) && blank(&notes) {
            continue;
        }
        rows.push(RawRow {
            line,
            name,
            list: split_list(&list),
            business,
            notes,
        });
    }
    Ok(rows)
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A checked business row (notes None: keep them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessRecord {
    pub name: String,
    pub notes: Option<String>,
    pub domains: Vec<Domain>,
}

/// A checked contact row; `business` is still a name or domain to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub name: String,
    pub notes: Option<String>,
    pub addresses: Vec<EmailAddress>,
    pub business: Option<String>,
}

fn check_common(row: &RawRow, errors: &mut Vec<String>) {
    if row.name.is_empty() {
        errors.push("the name is missing".into());
    } else if row.name.chars().count() > NAME_MAX {
        errors.push(format!("keep the name under {NAME_MAX} characters"));
    }
    if row.notes.as_deref().unwrap_or_default().chars().count() > NOTES_MAX {
        errors.push(format!("keep notes under {NOTES_MAX} characters"));
    }
}

/// Check a business row: a name and at least one valid business domain.
pub fn business_record(row: &RawRow, free_mail: &FreeMail) -> Result<BusinessRecord, Vec<String>> {
    let mut errors = Vec::new();
    check_common(row, &mut errors);
    let mut domains: Vec<Domain> = Vec::new();
    for d in &row.list {
        match business_domain(d, free_mail) {
            Ok(d) if !domains.contains(&d) => domains.push(d),
            Ok(_) => {}
            Err(e) => errors.push(format!("{d}: {e}")),
        }
    }
    if row.list.is_empty() {
        errors.push(format!("no {}", Kind::Businesses.list_column()));
    }
    domains.sort();
    if errors.is_empty() {
        Ok(BusinessRecord {
            name: row.name.clone(),
            notes: row.notes.clone(),
            domains,
        })
    } else {
        Err(errors)
    }
}

/// Check a contact row: a name and at least one valid address.
pub fn contact_record(row: &RawRow) -> Result<ContactRecord, Vec<String>> {
    let mut errors = Vec::new();
    check_common(row, &mut errors);
    let mut addresses: Vec<EmailAddress> = Vec::new();
    for a in &row.list {
        match EmailAddress::parse(a) {
            Ok(a) if !addresses.contains(&a) => addresses.push(a),
            Ok(_) => {}
            Err(e) => errors.push(format!("{a}: {e}")),
        }
    }
    if row.list.is_empty() {
        errors.push(format!("no {}", Kind::Contacts.list_column()));
    }
    addresses.sort();
    if errors.is_empty() {
        Ok(ContactRecord {
            name: row.name.clone(),
            notes: row.notes.clone(),
            addresses,
            business: row.business.clone(),
        })
    } else {
        Err(errors)
    }
}

const FORMULA: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Would a spreadsheet run this cell, or is it one that [`unescape`] would change?
fn needs_escape(cell: &str) -> bool {
    cell.starts_with(FORMULA) || cell.strip_prefix('\'').is_some_and(needs_escape)
}

/// A cell a spreadsheet would run as a formula gets a leading `'` (OWASP CSV injection); so
/// does a cell that already starts with `'` before such a character, so import restores it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_escape(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undo [`escape`], so an exported file imports unchanged.
fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_escape(rest) => rest,
        _ => cell,
    }
}

/// One CSV line (with its newline) of escaped cells.
pub fn line<'a>(cells: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(cells.into_iter().map(|c| escape(c).into_owned()));
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{business_record, contact_record, escape, line, read, CsvError, Kind};
    use crate::domain::freemail::FreeMail;

    #[test]
    fn reads_bom_semicolons_and_any_header_case() {
        let file = "\u{feff}Notes;NAME;Domains\r\n\"a; b\";Acme;acme.test beta.acme.test\r\n;;\r\n";
        let rows = read(file.as_bytes(), Kind::Businesses).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Acme");
        assert_eq!(rows[0].notes.as_deref(), Some("a; b"));
        assert_eq!(rows[0].list, vec!["acme.test", "beta.acme.test"]);
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn refuses_unknown_and_missing_columns() {
        assert!(matches!(
            read(b"name,domains,colour\n", Kind::Businesses),
            Err(CsvError::UnknownColumn(c, _)) if c == "colour"
        ));
        assert_eq!(
            read(b"name,notes\n", Kind::Contacts),
            Err(CsvError::MissingColumn("addresses"))
        );
        assert!(matches!(read(b"", Kind::Contacts), Err(CsvError::Empty(_))));
    }

    #[test]
    fn checks_rows() {
        let rows = read(
            b"name,domains\n,gmail.com co.uk bad..x\nAcme,acme.test;acme.test\n",
            Kind::Businesses,
        )
        .unwrap();
        let errors = business_record(&rows[0], &FreeMail::default()).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[1].contains("free-mail"));
        assert!(errors[2].contains("public suffix"));
        let ok = business_record(&rows[1], &FreeMail::default()).unwrap();
        assert_eq!(ok.domains.len(), 1);

        let rows = read(
            b"name,addresses,business\nAnn,ANN@acme.test,Acme\nBo,nope\n",
            Kind::Contacts,
        )
        .unwrap();
        assert_eq!(
            contact_record(&rows[0]).unwrap().addresses[0].as_str(),
            "ann@acme.test"
        );
        assert!(contact_record(&rows[1]).is_err());
    }

    #[test]
    fn formulas_are_escaped_and_round_trip() {
        assert_eq!(escape("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(escape("@cmd"), "'@cmd");
        assert_eq!(escape("Acme"), "Acme");
        assert_eq!(escape("'=x"), "''=x");
        assert_eq!(escape("'quoted'"), "'quoted'");
        for cell in ["=x", "'=x", "''@x", "'plain", "-", "a=b"] {
            assert_eq!(super::unescape(&escape(cell)), cell, "{cell}");
        }
        let mut file = line(["name", "domains", "notes"]);
        file.extend(line(["=HYPERLINK(\"x\")", "acme.test", "-2+3, \"quoted\""]));
        assert!(String::from_utf8_lossy(&file).contains("\"'=HYPERLINK(\"\"x\"\")\""));
        let rows = read(&file, Kind::Businesses).unwrap();
        assert_eq!(rows[0].name, "=HYPERLINK(\"x\")");
        assert_eq!(rows[0].notes.as_deref(), Some("-2+3, \"quoted\""));
    }
}
