//! Table-driven tests of the selection plan, and properties that hold for any directory.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;

use super::*;

fn user(n: usize, dept: &str) -> (DirectoryUser, &str) {
    let u = DirectoryUser {
        id: format!("id-{n}"),
        address: format!("u{n}@contoso.test"),
        display_name: format!("User {n}"),
        state: UserState::Active,
        has_mailbox: true,
        shared: false,
    };
    (u, if dept.is_empty() { "none" } else { dept })
}

fn shared(n: usize) -> DirectoryUser {
    DirectoryUser {
        id: format!("shared-{n}"),
        address: format!("shared{n}@contoso.test"),
        display_name: format!("Shared {n}"),
        state: UserState::Disabled,
        has_mailbox: true,
        shared: true,
    }
}

fn rule(id: i64, kind: RuleKind, value: &str) -> Rule {
    Rule {
        id,
        kind,
        value: value.into(),
    }
}

/// 10 users (even ones in Sales), 2 shared mailboxes; rule 1 is "department eq 'Sales'".
fn tenant() -> Listing {
    let mut users = Vec::new();
    let mut sales = BTreeSet::new();
    for n in 0..10 {
        let (u, _) = user(n, "");
        if n % 2 == 0 {
            sales.insert(u.id.clone());
        }
        users.push(u);
    }
    users.push(shared(1));
    users.push(shared(2));
    Listing {
        users,
        matched: HashMap::from([(1, sales)]),
    }
}

fn current_of(plan_adds: &[Addition]) -> Vec<Current> {
    plan_adds
        .iter()
        .enumerate()
        .map(|(i, a)| Current {
            account_id: i64::try_from(i).unwrap() + 100,
            directory_id: a.directory_id.clone(),
            address: a.address.clone(),
            display_name: a.display_name.clone(),
            paused: false,
            directory_state: Some("active".into()),
        })
        .collect()
}

fn addresses(v: &[Addition]) -> Vec<&str> {
    v.iter().map(|a| a.address.as_str()).collect()
}

#[test]
fn a_filter_plus_shared_mailboxes_selects_exactly_those() {
    let rules = [
        rule(1, RuleKind::Filter, "department eq 'Sales'"),
        rule(2, RuleKind::Shared, "shared1@contoso.test"),
    ];
    let p = plan(&rules, &tenant(), &[], &BTreeMap::new());
    assert_eq!(
        addresses(&p.add),
        [
            "shared1@contoso.test",
            "u0@contoso.test",
            "u2@contoso.test",
            "u4@contoso.test",
            "u6@contoso.test",
            "u8@contoso.test"
        ]
    );
    assert_eq!(p.selected.len(), 6);
    assert!(p.pause.is_empty() && p.skip.is_empty());
    // Applied, the same rules change nothing.
    let again = plan(&rules, &tenant(), &current_of(&p.add), &BTreeMap::new());
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.selected.len(), 6);
}

#[test]
fn all_users_leaves_shared_mailboxes_to_be_chosen() {
    let p = plan(
        &[rule(1, RuleKind::AllUsers, "")],
        &tenant(),
        &[],
        &BTreeMap::new(),
    );
    assert_eq!(p.add.len(), 10);
    let candidates: Vec<_> = shared_candidates(&tenant())
        .iter()
        .map(|u| u.address.clone())
        .collect();
    assert_eq!(candidates, ["shared1@contoso.test", "shared2@contoso.test"]);
}

#[test]
fn no_inclusion_rule_changes_nothing() {
    let current = current_of(
        &plan(
            &[rule(1, RuleKind::AllUsers, "")],
            &tenant(),
            &[],
            &BTreeMap::new(),
        )
        .add,
    );
    let p = plan(
        &[rule(9, RuleKind::MaxCount, "3")],
        &tenant(),
        &current,
        &BTreeMap::new(),
    );
    assert!(p.no_rules && p.is_empty());
}

#[test]
fn disabled_removed_and_renamed_users() {
    let rules = [rule(1, RuleKind::AllUsers, "")];
    let first = plan(&rules, &tenant(), &[], &BTreeMap::new());
    let current = current_of(&first.add);
    let mut t = tenant();
    t.users[1].state = UserState::Disabled; // u1
    t.users.retain(|u| u.id != "id-2"); // u2 removed
    t.users[2].address = "renamed3@contoso.test".into(); // u3 renamed
    t.users[2].display_name = "Renamed Three".into();
    let p = plan(&rules, &t, &current, &BTreeMap::new());
    let paused: Vec<_> = p
        .pause
        .iter()
        .map(|x| (x.address.as_str(), x.reason))
        .collect();
    assert_eq!(
        paused,
        [
            ("u1@contoso.test", PauseReason::Disabled),
            ("u2@contoso.test", PauseReason::Removed)
        ]
    );
    assert_eq!(p.rename.len(), 1);
    assert_eq!(p.rename[0].old_address, "u3@contoso.test");
    assert_eq!(p.rename[0].new_address, "renamed3@contoso.test");
    assert_eq!(p.rename[0].display_name, "Renamed Three");
    assert!(p.add.is_empty(), "a rename is not a new user: {:?}", p.add);

    // Paused and flagged: the next evaluation leaves them be; re-enabled, u1 resumes.
    let mut current = current;
    for c in &mut current {
        if let Some(x) = p.pause.iter().find(|x| x.account_id == c.account_id) {
            c.paused = true;
            c.directory_state = Some(x.reason.as_str().into());
        }
    }
    let p2 = plan(&rules, &t, &current, &BTreeMap::new());
    assert!(p2.pause.is_empty(), "{:?}", p2.pause);
    t.users[1].state = UserState::Active;
    let p3 = plan(&rules, &t, &current, &BTreeMap::new());
    assert_eq!(p3.resume.len(), 1);
    assert_eq!(p3.resume[0].address, "u1@contoso.test");
}

#[test]
fn an_admin_pause_is_not_undone() {
    let rules = [rule(1, RuleKind::AllUsers, "")];
    let mut current = current_of(&plan(&rules, &tenant(), &[], &BTreeMap::new()).add);
    current[0].paused = true; // paused by an admin; the directory said active
    let p = plan(&rules, &tenant(), &current, &BTreeMap::new());
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn max_count_keeps_existing_mailboxes_first() {
    let all = [rule(1, RuleKind::AllUsers, "")];
    let p = plan(
        &[all[0].clone(), rule(2, RuleKind::MaxCount, "4")],
        &tenant(),
        &[],
        &BTreeMap::new(),
    );
    assert_eq!(p.add.len(), 4);
    assert_eq!(p.over_max, 6);
    // u9 already synced: it stays, one of the new ones gives way.
    let mut t = tenant();
    t.users.rotate_left(3);
    let current = current_of(&[Addition {
        directory_id: "id-9".into(),
        address: "u9@contoso.test".into(),
        display_name: "User 9".into(),
    }]);
    let p = plan(
        &[all[0].clone(), rule(2, RuleKind::MaxCount, "4")],
        &t,
        &current,
        &BTreeMap::new(),
    );
    assert_eq!(
        addresses(&p.add),
        ["u0@contoso.test", "u1@contoso.test", "u2@contoso.test"]
    );
    assert!(p.pause.is_empty());
    // Lowered to 2 later: the one past it is paused as over the maximum.
    let current = current_of(&p.add);
    let p = plan(
        &[all[0].clone(), rule(2, RuleKind::MaxCount, "2")],
        &t,
        &current,
        &BTreeMap::new(),
    );
    assert_eq!(p.selected.len(), 2);
    assert!(p.pause.iter().all(|x| x.reason == PauseReason::OverMax));
    assert_eq!(p.pause.len(), 1);
}

#[test]
fn exclusions_and_taken_addresses() {
    let rules = [
        rule(1, RuleKind::Filter, "department eq 'Sales'"),
        rule(2, RuleKind::Exclude, "u4@contoso.test"),
        rule(3, RuleKind::Address, "u5@contoso.test"),
        rule(4, RuleKind::Address, "ghost@contoso.test"),
    ];
    let taken = BTreeMap::from([
        ("u0@contoso.test".to_string(), Taken::Personal),
        ("u2@contoso.test".to_string(), Taken::OtherConnection),
    ]);
    let p = plan(&rules, &tenant(), &[], &taken);
    assert_eq!(
        addresses(&p.add),
        ["u5@contoso.test", "u6@contoso.test", "u8@contoso.test"]
    );
    let skips: Vec<_> = p
        .skip
        .iter()
        .map(|s| (s.address.as_str(), s.reason))
        .collect();
    assert_eq!(
        skips,
        [
            ("ghost@contoso.test", SkipReason::Unknown),
            ("u0@contoso.test", SkipReason::LinkedByOwner),
            ("u2@contoso.test", SkipReason::OtherConnection),
        ]
    );
    assert!(!p.selected.iter().any(|s| s.address == "u4@contoso.test"));
}

#[test]
fn a_deselected_user_is_paused_and_a_user_without_mailbox_skipped() {
    let rules = [rule(1, RuleKind::Filter, "x")];
    let first = plan(&rules, &tenant(), &[], &BTreeMap::new());
    let current = current_of(&first.add);
    let mut t = tenant();
    t.matched.get_mut(&1).unwrap().remove("id-0");
    t.users[4].has_mailbox = false;
    let p = plan(&rules, &t, &current, &BTreeMap::new());
    let paused: Vec<_> = p
        .pause
        .iter()
        .map(|x| (x.address.as_str(), x.reason))
        .collect();
    assert_eq!(
        paused,
        [
            ("u0@contoso.test", PauseReason::NotSelected),
            ("u4@contoso.test", PauseReason::NoMailbox)
        ]
    );
}

#[test]
fn a_disabled_chosen_shared_mailbox_is_not_paused_but_a_disabled_user_is() {
    let rules = [
        rule(1, RuleKind::Shared, "shared1@contoso.test"),
        rule(2, RuleKind::Address, "u1@contoso.test"),
    ];
    let mut t = tenant();
    t.users[1].state = UserState::Disabled;
    let p = plan(&rules, &t, &[], &BTreeMap::new());
    assert_eq!(addresses(&p.add), ["shared1@contoso.test"]);
    assert_eq!(
        p.skip,
        [Skip {
            address: "u1@contoso.test".into(),
            reason: SkipReason::Inactive
        }]
    );
}

fn arb_listing() -> impl Strategy<Value = (Listing, Vec<Rule>, Vec<usize>)> {
    let users = prop::collection::vec((0u8..4, any::<bool>(), any::<bool>(), 0u8..3), 0..30);
    (
        users,
        0u8..6,
        prop::collection::vec(0usize..30, 0..5),
        prop::option::of(1usize..20),
    )
        .prop_map(|(specs, rule_pick, excluded, max)| {
            let mut listing = Listing::default();
            let mut matched = BTreeSet::new();
            for (i, (state, has_mailbox, is_shared, dept)) in specs.iter().enumerate() {
                let state = [
                    UserState::Active,
                    UserState::Disabled,
                    UserState::Suspended,
                    UserState::Active,
                ][usize::from(*state)];
                listing.users.push(DirectoryUser {
                    id: format!("id-{i}"),
                    address: format!("u{i}@d.test"),
                    display_name: format!("U {i}"),
                    state,
                    has_mailbox: *has_mailbox,
                    shared: *is_shared,
                });
                if *dept == 0 {
                    matched.insert(format!("id-{i}"));
                }
            }
            listing.matched.insert(1, matched);
            let mut rules = vec![if rule_pick % 2 == 0 {
                rule(1, RuleKind::Filter, "dept")
            } else {
                rule(1, RuleKind::AllUsers, "")
            }];
            rules.push(rule(2, RuleKind::Shared, "u3@d.test"));
            for (i, e) in excluded.iter().enumerate() {
                rules.push(rule(
                    10 + i64::try_from(i).unwrap(),
                    RuleKind::Exclude,
                    &format!("u{e}@d.test"),
                ));
            }
            if let Some(m) = max {
                rules.push(rule(3, RuleKind::MaxCount, &m.to_string()));
            }
            (listing, rules, excluded)
        })
}

proptest! {
    /// Whatever the directory: nobody excluded, inactive or without a mailbox is added; the
    /// maximum holds; applying the plan and evaluating again adds and pauses nothing.
    #[test]
    fn plans_are_safe_and_settle((listing, rules, excluded) in arb_listing()) {
        let p = plan(&rules, &listing, &[], &BTreeMap::new());
        let max = rules.iter().filter_map(Rule::max).min().unwrap_or(usize::MAX);
        prop_assert!(p.selected.len() <= max);
        prop_assert_eq!(p.add.len(), p.selected.len());
        for a in &p.add {
            let u = listing.users.iter().find(|u| u.id == a.directory_id).unwrap();
            prop_assert!(u.has_mailbox);
            prop_assert!(u.state == UserState::Active || u.shared);
            let named = excluded.iter().any(|e| format!("u{e}@d.test") == a.address);
            prop_assert!(!named, "{} is excluded", a.address);
        }
        let again = plan(&rules, &listing, &current_of(&p.add), &BTreeMap::new());
        prop_assert!(again.is_empty(), "{:?}", again);
        prop_assert_eq!(again.selected.len(), p.selected.len());
    }
}
