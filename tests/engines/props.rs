//! Properties: input order does not matter, every input appears once, no cycles.
use std::collections::{BTreeSet, HashSet};

use proptest::prelude::*;
use threadline::domain::threading::{thread, Node, Thread, ThreadInput};

use crate::support::{at, id};

const IDS: [&str; 6] = ["a@x", "b@x", "c@x", "d@x", "e@x", "f@x"];
const SUBJECTS: [&str; 4] = ["Hello", "Re: Hello", "Other", "Fwd: Other"];

fn input() -> impl Strategy<Value = ThreadInput> {
    (
        (proptest::option::of(0..IDS.len()), 0..1000u32),
        proptest::collection::vec(0..IDS.len(), 0..4),
        proptest::option::of(0..IDS.len()),
        (
            0..SUBJECTS.len(),
            0..20i64,
            1..3i64,
            proptest::option::of(0..2u8),
        ),
    )
        .prop_map(
            |((mid, n), refs, irt, (subject, minute, mailbox, ptid))| ThreadInput {
                key: mid.map_or_else(|| format!("x-local:{n}"), |i| format!("<{}>", IDS[i])),
                message_id: mid.map(|i| id(IDS[i])),
                in_reply_to: irt.map(|i| id(IDS[i])),
                references: refs.into_iter().map(|i| id(IDS[i])).collect(),
                subject: SUBJECTS[subject].into(),
                date: at(minute),
                mailbox,
                provider_thread_id: ptid.map(|t| format!("T{t}")),
            },
        )
}

fn partition(threads: &[Thread]) -> BTreeSet<BTreeSet<String>> {
    threads
        .iter()
        .map(|t| t.keys().into_iter().map(String::from).collect())
        .collect()
}

fn ids<'n>(node: &'n Node, out: &mut Vec<&'n str>) {
    if let Some(id) = &node.message_id {
        out.push(id.as_str());
    }
    for child in &node.children {
        ids(child, out);
    }
}

fn shuffled() -> impl Strategy<Value = (Vec<ThreadInput>, Vec<ThreadInput>)> {
    proptest::collection::vec(input(), 0..12)
        .prop_flat_map(|inputs| (Just(inputs.clone()), Just(inputs).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn input_order_does_not_matter((inputs, shuffled) in shuffled()) {
        let a = thread(&inputs);
        let b = thread(&shuffled);
        prop_assert_eq!(partition(&a), partition(&b));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn every_input_appears_once_and_trees_have_no_cycles(inputs in proptest::collection::vec(input(), 0..12)) {
        let threads = thread(&inputs);
        let mut seen: Vec<&str> = threads.iter().flat_map(Thread::keys).collect();
        let wanted: BTreeSet<&str> = inputs.iter().map(|i| i.key.as_str()).collect();
        prop_assert_eq!(seen.len(), wanted.len(), "a key appears twice: {:?}", seen);
        seen.sort_unstable();
        prop_assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), wanted);

        let mut all = Vec::new();
        for t in &threads {
            ids(&t.root, &mut all);
        }
        let unique: HashSet<&str> = all.iter().copied().collect();
        prop_assert_eq!(unique.len(), all.len(), "a message id appears twice (a cycle?)");
        let thread_keys: HashSet<&str> = threads.iter().map(|t| t.thread_key.as_str()).collect();
        prop_assert_eq!(thread_keys.len(), threads.len(), "thread keys are unique");
    }
}
