//! The incremental `assign` helper.
use std::collections::HashMap;

use threadline::domain::message::MessageId;
use threadline::domain::threading::{assign, Assignment};

use crate::support::{bare, msg, Build};

fn store(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(id, key)| ((*id).to_string(), (*key).to_string()))
        .collect()
}

#[test]
fn assignments() {
    let known = store(&[
        ("a@x", "<a@x>"),
        ("b@x", "<a@x>"),
        ("q@x", "<p@x>"),
        ("r@x", "<r@x>"),
    ]);
    let lookup = |id: &MessageId| known.get(id.as_str()).cloned();
    let cases = [
        (
            "a new root names its own thread",
            msg("n@x", 0),
            "<n@x>",
            vec![],
        ),
        (
            "without Message-ID, its key",
            bare("x-local:1/9", 0),
            "x-local:1/9",
            vec![],
        ),
        (
            "a reply joins its parent's thread",
            msg("n@x", 0).refs(&["a@x", "b@x"]),
            "<a@x>",
            vec![],
        ),
        (
            "In-Reply-To alone is enough",
            msg("n@x", 0).irt("b@x"),
            "<a@x>",
            vec![],
        ),
        (
            "unknown ancestors: the root-most id",
            msg("n@x", 0).refs(&["m@x", "o@x"]),
            "<m@x>",
            vec![],
        ),
        (
            "the root-most known thread wins, others merge",
            msg("n@x", 0).refs(&["q@x", "b@x", "r@x"]),
            "<p@x>",
            vec!["<a@x>", "<r@x>"],
        ),
        (
            "a parent arriving after its reply",
            msg("r@x", 0),
            "<r@x>",
            vec![],
        ),
        (
            "a parent arriving after its reply, itself a reply",
            msg("r@x", 0).refs(&["a@x"]),
            "<a@x>",
            vec!["<r@x>"],
        ),
    ];
    for (name, input, key, merges) in cases {
        assert_eq!(
            assign(&input, &lookup),
            Assignment {
                thread_key: key.into(),
                merges: merges.into_iter().map(String::from).collect(),
            },
            "{name}"
        );
    }
}
