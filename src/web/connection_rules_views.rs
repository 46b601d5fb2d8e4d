//! View models of the connection rules pages: a connection's rules, the preview of what they
//! select in the live directory, and the last directory sync.
use crate::db::directory_syncs::{self, Change};
use crate::db::entities::connection_rules::Model as RuleRow;
use crate::db::entities::connections::Model as Connection;
use crate::db::entities::directory_syncs::Model as Run;
use crate::directory_sync::Evaluation;
use crate::domain::selection::{self, Directory, RuleKind};

pub struct ConnectionView {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub tenant: String,
    pub last_sync: String,
    pub microsoft: bool,
}

impl ConnectionView {
    pub fn new(c: &Connection) -> Self {
        let directory = Directory::of_connection_kind(&c.kind);
        Self {
            id: c.id,
            name: c.name.clone(),
            kind: match directory {
                Some(Directory::Microsoft) => "Microsoft 365",
                Some(Directory::Google) => "Google Workspace",
                None => "Unknown",
            },
            tenant: c.tenant.clone(),
            last_sync: c.last_directory_sync_at.map_or_else(
                || "never".into(),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
            microsoft: directory == Some(Directory::Microsoft),
        }
    }
}

pub struct RuleView {
    pub id: i64,
    pub label: &'static str,
    pub value: String,
}

impl RuleView {
    pub fn new(r: &RuleRow) -> Self {
        Self {
            id: r.id,
            label: RuleKind::parse(&r.kind).map_or("Unknown rule", RuleKind::label),
            value: r.value.clone(),
        }
    }
}

/// A kind the add form offers, with a hint for its value.
pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
}

pub fn kind_options(directory: Directory) -> Vec<KindOption> {
    RuleKind::offered(directory)
        .into_iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: k.label(),
            hint: match (k, directory) {
                (RuleKind::AllUsers, _) => "(no value)",
                (RuleKind::Filter, Directory::Microsoft) => {
                    "department eq 'Sales' or startswith(mail,'sales')"
                }
                (RuleKind::Filter, Directory::Google) => "isAdmin=false or email:sales*",
                (RuleKind::OrgUnit, _) => "/Sales",
                (RuleKind::Group, _) => "the group's object id (GUID)",
                (RuleKind::Address | RuleKind::Shared | RuleKind::Exclude, _) => {
                    "support@example.com"
                }
                (RuleKind::MaxCount, _) => "100",
            },
        })
        .collect()
}

pub struct ChangeView {
    pub action: String,
    pub address: String,
    pub detail: String,
}

impl From<Change> for ChangeView {
    fn from(c: Change) -> Self {
        Self {
            action: c.action,
            address: c.address,
            detail: c.detail,
        }
    }
}

pub struct LastRunView {
    pub when: String,
    pub trigger: String,
    pub summary: String,
    pub error: Option<String>,
    pub changes: Vec<ChangeView>,
}

impl LastRunView {
    pub fn new(run: &Run) -> Self {
        Self {
            when: run
                .finished_at
                .unwrap_or(run.started_at)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
            trigger: run.trigger.clone(),
            summary: directory_syncs::summary(run).to_string(),
            error: run.error.clone(),
            changes: directory_syncs::changes(run)
                .into_iter()
                .map(ChangeView::from)
                .collect(),
        }
    }
}

pub struct SelectedView {
    pub address: String,
    pub display_name: String,
    pub via: &'static str,
    pub new: bool,
}

pub struct LineView {
    pub address: String,
    pub detail: String,
}

pub struct SharedView {
    pub address: String,
    pub display_name: String,
    pub chosen: bool,
}

/// The preview: who the rules select, and what Apply would change.
pub struct PreviewView {
    pub selected: Vec<SelectedView>,
    pub add: usize,
    pub pause: Vec<LineView>,
    pub resume: Vec<LineView>,
    pub rename: Vec<LineView>,
    pub skip: Vec<LineView>,
    pub over_max: usize,
    pub no_rules: bool,
    pub changes: bool,
    pub shared: Vec<SharedView>,
}

impl PreviewView {
    pub fn new(eval: &Evaluation) -> Self {
        let p = &eval.plan;
        let line = |address: &str, detail: String| LineView {
            address: address.to_string(),
            detail,
        };
        Self {
            selected: p
                .selected
                .iter()
                .map(|s| SelectedView {
                    address: s.address.clone(),
                    display_name: s.display_name.clone(),
                    via: s.via.label(),
                    new: !s.existing && p.add.iter().any(|a| a.directory_id == s.directory_id),
                })
                .collect(),
            add: p.add.len(),
            pause: p
                .pause
                .iter()
                .map(|x| {
                    let what = if x.already_paused {
                        "stays paused: "
                    } else {
                        ""
                    };
                    line(&x.address, format!("{what}{}", x.reason.describe()))
                })
                .collect(),
            resume: p
                .resume
                .iter()
                .map(|r| line(&r.address, "re-enabled in the directory".into()))
                .collect(),
            rename: p
                .rename
                .iter()
                .map(|r| {
                    line(
                        &r.new_address,
                        format!("was {} ({})", r.old_address, r.display_name),
                    )
                })
                .collect(),
            skip: p
                .skip
                .iter()
                .map(|s| line(&s.address, s.reason.describe().into()))
                .collect(),
            over_max: p.over_max,
            no_rules: p.no_rules,
            changes: !p.is_empty(),
            shared: selection::shared_candidates(&eval.listing)
                .into_iter()
                .map(|u| SharedView {
                    address: u.address.clone(),
                    display_name: u.display_name.clone(),
                    chosen: eval.rules.iter().any(|r| {
                        matches!(r.kind, RuleKind::Shared | RuleKind::Address)
                            && r.value == u.address
                    }),
                })
                .collect(),
        }
    }
}
