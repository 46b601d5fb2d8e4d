//! The checks of an import plan: each row against the file (duplicates) and the directory
//! (which record it updates, taken domains and addresses, the contact's business).
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DbErr};

use super::businesses::BusinessInput;
use super::contacts::ContactInput;
use super::import::{Action, Input, Plan, PlannedRow};
use super::records::{self, Stored};
use crate::domain::directory_csv::{business_record, contact_record, RawRow};
use crate::domain::domains::{registrable, Domain};
use crate::domain::records::RecordKind;

/// Notes an earlier row already used one of these keys.
fn claim<'a>(
    seen: &mut HashMap<String, u64>,
    keys: impl IntoIterator<Item = &'a str>,
    line: u64,
    errors: &mut Vec<String>,
) {
    for k in keys {
        if let Some(first) = seen.insert(k.to_string(), line) {
            errors.push(format!("{k} is also on row {first} of this file"));
            seen.insert(k.to_string(), first);
        }
    }
}

/// The existing record a row updates, claimed against the file's earlier rows.
fn claim_target(
    seen: &mut HashMap<String, u64>,
    target: Option<i64>,
    line: u64,
    errors: &mut Vec<String>,
) {
    claim(seen, target.map(|t| t.to_string()).as_deref(), line, errors);
}

/// A row's domains or addresses as text, each claimed against the file's earlier rows.
fn claim_listed<T: ToString>(
    seen: &mut HashMap<String, u64>,
    listed: Option<&[T]>,
    line: u64,
    errors: &mut Vec<String>,
) -> Vec<String> {
    let listed: Vec<String> = listed
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    claim(seen, listed.iter().map(String::as_str), line, errors);
    listed
}

fn planned(raw: &RawRow, action: Action, input: Option<Input>) -> PlannedRow {
    PlannedRow {
        line: raw.line,
        name: raw.name.clone(),
        list: raw.list.join(" "),
        action,
        input,
    }
}

pub(super) async fn businesses(
    db: &impl ConnectionTrait,
    org_id: i64,
    rows: &[RawRow],
) -> Result<Plan, DbErr> {
    let free_mail = super::free_mail(db, org_id).await?;
    let known = Existing::load(db, org_id, RecordKind::Business).await?;
    let (existing, owner, by_name) = (&known.records, &known.owner, &known.by_name);
    let (mut seen_keys, mut seen_names, mut targets) =
        (HashMap::new(), HashMap::new(), HashMap::new());
    let mut out = Vec::new();
    for raw in rows {
        let mut errors = Vec::new();
        let record = business_record(raw, &free_mail)
            .map_err(|e| errors.extend(e))
            .ok();
        let listed = record.as_ref().map(|r| r.domains.as_slice());
        let domains = claim_listed(&mut seen_keys, listed, raw.line, &mut errors);
        claim(
            &mut seen_names,
            [raw.name.to_lowercase().as_str()],
            raw.line,
            &mut errors,
        );
        let owners: BTreeSet<i64> = domains
            .iter()
            .filter_map(|d| owner.get(d))
            .copied()
            .collect();
        let target = match owners.len() {
            0 => match by_name.get(&raw.name.to_lowercase()).map(Vec::as_slice) {
                Some([id]) => Some(*id),
                Some([_, _, ..]) => {
                    errors.push(format!("several businesses are named {}", raw.name));
                    None
                }
                _ => None,
            },
            1 => owners.first().copied(),
            _ => {
                let names: Vec<&str> = owners
                    .iter()
                    .filter_map(|id| existing.get(id))
                    .map(|b| b.name.as_str())
                    .collect();
                errors.push(format!(
                    "its domains belong to different businesses: {}",
                    names.join(", ")
                ));
                None
            }
        };
        claim_target(&mut targets, target, raw.line, &mut errors);
        let (Some(record), true) = (record, errors.is_empty()) else {
            out.push(planned(raw, Action::Error(errors), None));
            continue;
        };
        let current = target.and_then(|t| existing.get(&t));
        // Without a notes column, an update keeps the notes.
        let notes = record
            .notes
            .or_else(|| current.map(|b| b.notes.clone()))
            .unwrap_or_default();
        let action = known.action(current, &record.name, &notes, None, &domains);
        let input = BusinessInput {
            name: record.name,
            notes,
            domains: record.domains,
        };
        out.push(planned(raw, action, Some(Input::Business(input))));
    }
    Ok(Plan { rows: out })
}

pub(super) async fn contacts(
    db: &impl ConnectionTrait,
    org_id: i64,
    rows: &[RawRow],
) -> Result<Plan, DbErr> {
    let known = Existing::load(db, org_id, RecordKind::Contact).await?;
    let (existing, owner) = (&known.records, &known.owner);
    let business = BusinessLookup::load(db, org_id).await?;
    let (mut seen_keys, mut targets) = (HashMap::new(), HashMap::new());
    let mut out = Vec::new();
    for raw in rows {
        let mut errors = Vec::new();
        let record = contact_record(raw).map_err(|e| errors.extend(e)).ok();
        let listed = record.as_ref().map(|r| r.addresses.as_slice());
        let addresses = claim_listed(&mut seen_keys, listed, raw.line, &mut errors);
        let owners: BTreeMap<i64, &str> = addresses
            .iter()
            .filter_map(|a| owner.get(a).map(|o| (*o, a.as_str())))
            .collect();
        let target = match owners.len() {
            0 => None,
            1 => owners.keys().next().copied(),
            _ => {
                for (id, a) in owners.iter().skip(1) {
                    let name = existing
                        .get(id)
                        .map_or("another contact", |c| c.name.as_str());
                    errors.push(format!("{a} is taken by another contact, {name}"));
                }
                None
            }
        };
        claim_target(&mut targets, target, raw.line, &mut errors);
        let current = target.and_then(|t| existing.get(&t));
        // Without a business (or notes) column, an update keeps the contact's.
        let business_id = match &raw.business {
            Some(cell) => business
                .resolve(cell)
                .map_err(|e| errors.push(e))
                .ok()
                .flatten(),
            None => current.and_then(|c| c.business_id),
        };
        let (Some(record), true) = (record, errors.is_empty()) else {
            out.push(planned(raw, Action::Error(errors), None));
            continue;
        };
        let notes = record
            .notes
            .or_else(|| current.map(|c| c.notes.clone()))
            .unwrap_or_default();
        let action = known.action(current, &record.name, &notes, business_id, &addresses);
        let input = ContactInput {
            name: record.name,
            notes,
            business_id,
            addresses: record.addresses,
        };
        out.push(planned(raw, action, Some(Input::Contact(input))));
    }
    Ok(Plan { rows: out })
}

/// The organization's records of one kind as a plan checks rows against them.
struct Existing {
    records: HashMap<i64, Stored>,
    /// The record each domain or address belongs to.
    owner: HashMap<String, i64>,
    identifiers: HashMap<i64, Vec<String>>,
    /// Record ids by lowercased name.
    by_name: HashMap<String, Vec<i64>>,
}

impl Existing {
    async fn load(db: &impl ConnectionTrait, org_id: i64, kind: RecordKind) -> Result<Self, DbErr> {
        let (records, stored) = records::all(db, org_id, kind).await?;
        let (mut owner, mut identifiers) = (HashMap::new(), HashMap::<i64, Vec<String>>::new());
        for (id, value) in stored {
            owner.insert(value.clone(), id);
            identifiers.entry(id).or_default().push(value);
        }
        let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
        for r in records.values() {
            by_name.entry(r.name.to_lowercase()).or_default().push(r.id);
        }
        Ok(Self {
            records,
            owner,
            identifiers,
            by_name,
        })
    }
}

impl Existing {
    /// What applying a valid row does to `current` (None: a new record): an update unless it
    /// changes nothing.
    fn action(
        &self,
        current: Option<&Stored>,
        name: &str,
        notes: &str,
        business_id: Option<i64>,
        identifiers: &[String],
    ) -> Action {
        let Some(c) = current else {
            return Action::Create;
        };
        let mut have = self.identifiers.get(&c.id).cloned().unwrap_or_default();
        have.sort();
        if c.name == name && c.notes == notes && c.business_id == business_id && have == identifiers
        {
            Action::Unchanged(c.id)
        } else {
            Action::Update(c.id)
        }
    }
}

/// A contact row's business, by domain or by (unique) name.
struct BusinessLookup {
    by_domain: HashMap<String, i64>,
    by_name: HashMap<String, Vec<i64>>,
}

impl BusinessLookup {
    async fn load(db: &impl ConnectionTrait, org_id: i64) -> Result<Self, DbErr> {
        let Existing { owner, by_name, .. } =
            Existing::load(db, org_id, RecordKind::Business).await?;
        Ok(Self {
            by_domain: owner,
            by_name,
        })
    }

    fn resolve(&self, cell: &str) -> Result<Option<i64>, String> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Ok(None);
        }
        match self.by_name.get(&cell.to_lowercase()).map(Vec::as_slice) {
            Some([id]) => return Ok(Some(*id)),
            Some([_, _, ..]) => {
                return Err(format!(
                    "several businesses are named {cell}; give its domain instead"
                ))
            }
            _ => {}
        }
        if let Ok(d) = Domain::parse(cell) {
            let found = self
                .by_domain
                .get(d.as_str())
                .or_else(|| registrable(d.as_str()).and_then(|r| self.by_domain.get(&r)));
            if let Some(id) = found {
                return Ok(Some(*id));
            }
        }
        Err(format!("no business named or with the domain {cell}"))
    }
}
