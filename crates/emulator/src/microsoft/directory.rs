//! The Entra directory behind the emulator: Microsoft mailboxes as users (stable GUIDs,
//! userPrincipalName = address), tenants (a mailbox without tenant is a personal Microsoft
//! account in the consumers tenant, whose `mail` is null), and tenant path segments.

use std::sync::Arc;

use crate::ids::fnv;
use crate::state::EmulatorState;
use crate::store::{Mailbox, Provider};

/// Tenant id of personal Microsoft accounts.
pub const CONSUMERS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// What a `{tenant}` path segment designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSel {
    /// `common`: work and personal accounts.
    Common,
    /// `organizations`: work accounts only.
    Organizations,
    /// `consumers`: personal accounts only.
    Consumers,
    /// One tenant, by its id.
    Tenant(String),
}

impl TenantSel {
    pub fn admits(&self, mailbox: &Mailbox) -> bool {
        let tenant = tenant_of(mailbox);
        match self {
            Self::Common => true,
            Self::Organizations => tenant != CONSUMERS_TENANT,
            Self::Consumers => tenant == CONSUMERS_TENANT,
            Self::Tenant(id) => tenant.eq_ignore_ascii_case(id),
        }
    }
}

/// Resolve `common`, `organizations`, `consumers`, a tenant id or a verified domain (the
/// domain of one of the tenant's mailboxes); `None` for an unknown tenant.
pub fn resolve_tenant(state: &EmulatorState, segment: &str) -> Option<TenantSel> {
    let lower = segment.to_ascii_lowercase();
    match lower.as_str() {
        "common" => return Some(TenantSel::Common),
        "organizations" => return Some(TenantSel::Organizations),
        "consumers" => return Some(TenantSel::Consumers),
        CONSUMERS_TENANT => return Some(TenantSel::Tenant(CONSUMERS_TENANT.into())),
        _ => {}
    }
    if let Some(t) = super::tenants::find(state, &lower) {
        return Some(TenantSel::Tenant(t.id));
    }
    users(state).iter().find_map(|m| {
        let tenant = tenant_of(m);
        let domain = m.info.address.rsplit('@').next().unwrap_or_default();
        (tenant.eq_ignore_ascii_case(&lower) || (tenant != CONSUMERS_TENANT && domain == lower))
            .then_some(TenantSel::Tenant(tenant))
    })
}

/// Every Microsoft mailbox, sorted by address.
pub fn users(state: &EmulatorState) -> Vec<Arc<Mailbox>> {
    state.store.of_provider(Provider::Microsoft)
}

/// The tenant id of a mailbox.
pub fn tenant_of(mailbox: &Mailbox) -> String {
    mailbox
        .info
        .tenant
        .clone()
        .unwrap_or_else(|| CONSUMERS_TENANT.to_string())
}

/// Whether the mailbox is a personal Microsoft account.
pub fn is_personal(mailbox: &Mailbox) -> bool {
    tenant_of(mailbox) == CONSUMERS_TENANT
}

/// Stable object id (GUID) of a user.
pub fn user_id(address: &str) -> String {
    guid(
        fnv(address.as_bytes()),
        fnv(format!("user:{address}").as_bytes()),
    )
}

/// A GUID built from two 64-bit values.
pub fn guid(a: u64, b: u64) -> String {
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// A Microsoft mailbox by object id or userPrincipalName (case-insensitive).
pub fn find_user(state: &EmulatorState, key: &str) -> Option<Arc<Mailbox>> {
    let key = key.trim().to_ascii_lowercase();
    if let Some(m) = state.store.get(&key) {
        return (m.info.provider == Provider::Microsoft).then_some(m);
    }
    users(state)
        .into_iter()
        .find(|m| user_id(&m.info.address) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_have_the_canonical_shape() {
        let id = user_id("a@x.test");
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(id, user_id("a@x.test"));
        assert_ne!(id, user_id("b@x.test"));
    }
}
