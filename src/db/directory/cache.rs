//! The directory a sync pass associates new mail with, loaded once and kept while it is
//! current: before each page one cheap statement reads a stamp of the organization's directory
//! (row counts, highest ids and last edits of businesses, domains, contacts, addresses and
//! internal domains, and the organization's settings); only when the stamp moved is the
//! directory loaded again. A business or contact added during a pass is therefore applied from
//! the next page on (mail stored before it is the re-association job's).
use sea_orm::{ConnectionTrait, DbErr};

use super::auto_contacts::AutoContacts;
use crate::db::exclusions::PassExclusions;
use crate::domain::association::Directory;
use crate::domain::exclusions::Exclusions;

/// What the stamp reads: per table, its rows of the organization, highest id and, where rows
/// are edited in place, the last edit; all as text, alike on both engines.
const STAMP: &str = "SELECT \
     (SELECT CAST(COUNT(*) AS TEXT) FROM businesses WHERE organization_id = ?) AS b_n, \
     (SELECT CAST(MAX(id) AS TEXT) FROM businesses WHERE organization_id = ?) AS b_id, \
     (SELECT CAST(MAX(updated_at) AS TEXT) FROM businesses WHERE organization_id = ?) AS b_at, \
     (SELECT CAST(COUNT(*) AS TEXT) FROM business_domains WHERE organization_id = ?) AS d_n, \
     (SELECT CAST(MAX(id) AS TEXT) FROM business_domains WHERE organization_id = ?) AS d_id, \
     (SELECT CAST(COUNT(*) AS TEXT) FROM contacts WHERE organization_id = ?) AS c_n, \
     (SELECT CAST(MAX(id) AS TEXT) FROM contacts WHERE organization_id = ?) AS c_id, \
     (SELECT CAST(MAX(updated_at) AS TEXT) FROM contacts WHERE organization_id = ?) AS c_at, \
     (SELECT CAST(COUNT(*) AS TEXT) FROM contact_addresses WHERE organization_id = ?) AS a_n, \
     (SELECT CAST(MAX(id) AS TEXT) FROM contact_addresses WHERE organization_id = ?) AS a_id, \
     (SELECT CAST(COUNT(*) AS TEXT) FROM organization_domains WHERE organization_id = ?) AS o_n, \
     (SELECT CAST(MAX(id) AS TEXT) FROM organization_domains WHERE organization_id = ?) AS o_id, \
     (SELECT free_mail_domains FROM organizations WHERE id = ?) AS free, \
     (SELECT auto_create_contacts FROM organizations WHERE id = ?) AS auto";

/// The directory's state as the stamp reads it: equal stamps, same directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Vec<Option<String>>);

struct Loaded {
    stamp: Stamp,
    directory: Directory,
    auto_contacts: Option<AutoContacts>,
}

/// One pass's directory for one mailbox (see the module docs).
pub struct PassDirectory {
    organization_id: i64,
    account_id: i64,
    loaded: Option<Loaded>,
    /// The exclusion rules covering the mailbox, kept alike.
    exclusions: PassExclusions,
}

impl PassDirectory {
    pub fn new(organization_id: i64, account_id: i64) -> Self {
        Self {
            organization_id,
            account_id,
            loaded: None,
            exclusions: PassExclusions::new(organization_id, account_id),
        }
    }

    /// The exclusion rules covering the mailbox now (see [`PassExclusions`]).
    pub async fn exclusions(&mut self, db: &impl ConnectionTrait) -> Result<&Exclusions, DbErr> {
        self.exclusions.current(db).await
    }

    /// The current directory and auto-create policy, loaded again only when the stamp moved.
    pub async fn current(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<(&mut Directory, Option<&AutoContacts>), DbErr> {
        let stamp = stamp(db, self.organization_id).await?;
        if self.loaded.as_ref().is_none_or(|l| l.stamp != stamp) {
            self.loaded = Some(Loaded {
                stamp,
                directory: super::load(db, self.organization_id).await?,
                auto_contacts: AutoContacts::load(db, self.organization_id, self.account_id)
                    .await?,
            });
        }
        let loaded = self.loaded.as_mut().expect("loaded above");
        Ok((&mut loaded.directory, loaded.auto_contacts.as_ref()))
    }

    /// Drop the kept directory: it was changed in memory by a transaction that may not commit
    /// (contacts created at ingest), so the next page loads what the database holds.
    pub fn forget(&mut self) {
        self.loaded = None;
    }
}

async fn stamp(db: &impl ConnectionTrait, organization_id: i64) -> Result<Stamp, DbErr> {
    let binds = STAMP.matches('?').count();
    let values = vec![sea_orm::Value::from(organization_id); binds];
    let statement = crate::db::batch::statement(db.get_database_backend(), STAMP, values);
    let row = db
        .query_one(statement)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("directory stamp".into()))?;
    let mut out = Vec::new();
    for col in [
        "b_n", "b_id", "b_at", "d_n", "d_id", "c_n", "c_id", "c_at", "a_n", "a_id", "o_n", "o_id",
        "free", "auto",
    ] {
        out.push(row.try_get::<Option<String>>("", col)?);
    }
    Ok(Stamp(out))
}
