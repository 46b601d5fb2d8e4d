//! Table-driven cases for the rules in `domain::threading`.
use threadline::domain::threading::{thread, ThreadInput};

use crate::support::{bare, msg, shapes, Build};

fn check(name: &str, inputs: &[ThreadInput], want: &[&str]) {
    assert_eq!(shapes(&thread(inputs)), want, "{name}");
}

#[test]
fn header_rules() {
    let cases: Vec<(&str, Vec<ThreadInput>, Vec<&str>)> = vec![
        (
            "cross-mailbox copies collapse into one node",
            vec![
                msg("a@x", 0).mailbox(1, "t1"),
                msg("a@x", 1).mailbox(2, "t9"),
                msg("b@x", 2).refs(&["a@x"]).mailbox(2, "t9"),
            ],
            vec!["<a@x> = <a@x>(<b@x>)"],
        ),
        (
            "the copy with the longer References supplies the parent",
            vec![
                msg("p@x", 0),
                msg("c@x", 1),
                msg("c@x", 2).refs(&["p@x"]).mailbox(2, "t"),
            ],
            vec!["<p@x> = <p@x>(<c@x>)"],
        ),
        (
            "a reply arriving before its parent",
            vec![msg("r@x", 5).irt("p@x"), msg("p@x", 0)],
            vec!["<p@x> = <p@x>(<r@x>)"],
        ),
        (
            "a lone reply keeps its missing parent as thread key",
            vec![msg("r@x", 5).refs(&["p@x"])],
            vec!["<p@x> = <r@x>"],
        ),
        (
            "missing middle: the placeholder is pruned below the root",
            vec![msg("a@x", 0), msg("c@x", 2).refs(&["a@x", "b@x"])],
            vec!["<a@x> = <a@x>(<c@x>)"],
        ),
        (
            "siblings under a missing root stay together under a placeholder",
            vec![msg("b@x", 1).refs(&["a@x"]), msg("c@x", 2).refs(&["a@x"])],
            vec!["<a@x> = ?a@x(<b@x>,<c@x>)"],
        ),
        (
            "cycle in References: no loop, both kept",
            vec![msg("a@x", 0).refs(&["b@x"]), msg("b@x", 1).refs(&["a@x"])],
            vec!["<b@x> = <b@x>(<a@x>)"],
        ),
        (
            "a message referencing itself",
            vec![msg("s@x", 0).refs(&["s@x"]).irt("s@x")],
            vec!["<s@x> = <s@x>"],
        ),
        (
            "broken client: In-Reply-To without References",
            vec![msg("a@x", 0), msg("b@x", 1).irt("a@x")],
            vec!["<a@x> = <a@x>(<b@x>)"],
        ),
        (
            "References beat a conflicting In-Reply-To",
            vec![
                msg("a@x", 0),
                msg("o@x", 1),
                msg("b@x", 2).refs(&["a@x"]).irt("o@x"),
            ],
            vec!["<a@x> = <a@x>(<b@x>)", "<o@x> = <o@x>"],
        ),
        (
            "another message's chain parents a header-less message",
            vec![
                msg("a@x", 0),
                msg("b@x", 1),
                msg("c@x", 2).refs(&["a@x", "b@x"]),
            ],
            vec!["<a@x> = <a@x>(<b@x>(<c@x>))"],
        ),
        (
            "the longer chain wins for a placeholder",
            vec![
                msg("c1@x", 1).refs(&["p@x", "m@x"]),
                msg("c2@x", 2).refs(&["r@x", "q@x", "m@x"]),
            ],
            vec!["<r@x> = ?r@x(<c1@x>,<c2@x>)"],
        ),
        (
            "ids with a quoted local part match the plain form",
            vec![
                msg("\"abc\"@x", 0).subject("Quoted"),
                msg("r@x", 1).irt("abc@x").subject("Re: Quoted"),
            ],
            vec!["<abc@x> = <\"abc\"@x>(<r@x>)"],
        ),
    ];
    for (name, inputs, want) in cases {
        check(name, &inputs, &want);
    }
}

#[test]
fn provider_thread_hint() {
    let cases: Vec<(&str, Vec<ThreadInput>, Vec<&str>)> = vec![
        (
            "same mailbox, same thread id: a header-less message joins",
            vec![
                msg("a@x", 0).subject("Quote").mailbox(1, "T"),
                msg("b@x", 1).subject("Your quote").mailbox(1, "T"),
            ],
            vec!["<a@x> = <a@x>(<b@x>)"],
        ),
        (
            "the same thread id in another mailbox is not a hint",
            vec![
                msg("a@x", 0).subject("Quote").mailbox(1, "T"),
                msg("b@x", 1).subject("Your quote").mailbox(2, "T"),
            ],
            vec!["<a@x> = <a@x>", "<b@x> = <b@x>"],
        ),
        (
            "header-backed threads sharing a thread id stay apart",
            vec![
                msg("a@x", 0).mailbox(1, "T"),
                msg("a2@x", 1).refs(&["a@x"]).mailbox(1, "T"),
                msg("b@x", 2).refs(&["z@x"]).mailbox(1, "T"),
            ],
            vec!["<a@x> = <a@x>(<a2@x>)", "<z@x> = <b@x>"],
        ),
        (
            "an earlier header-less message joins the thread of a header-backed member",
            vec![
                msg("b@x", 5).refs(&["z@x"]).mailbox(1, "T"),
                bare("x-local:1/g1", 0).mailbox(1, "T"),
            ],
            vec!["<z@x> = ?z@x(x-local:1/g1,<b@x>)"],
        ),
        (
            "without Message-ID and without hint, messages stay apart",
            vec![bare("x-local:1/a", 0), bare("x-local:1/b", 1)],
            vec!["x-local:1/a = x-local:1/a", "x-local:1/b = x-local:1/b"],
        ),
    ];
    for (name, inputs, want) in cases {
        check(name, &inputs, &want);
    }
}

#[test]
fn subject_fallback() {
    let cases: Vec<(&str, Vec<ThreadInput>, Vec<&str>)> = vec![
        (
            "a header-less reply joins the original",
            vec![
                msg("a@x", 0).subject("Pricing"),
                msg("b@x", 1).subject("RE: pricing"),
            ],
            vec!["<a@x> = <a@x>(<b@x>)"],
        ),
        (
            "two unrelated header-backed threads with the same subject stay apart",
            vec![
                msg("a@x", 0).subject("Invoice"),
                msg("a2@x", 1).subject("Re: Invoice").refs(&["a@x"]),
                msg("b@x", 2).subject("Invoice"),
                msg("b2@x", 3).subject("Re: Invoice").refs(&["b@x"]),
            ],
            vec!["<a@x> = <a@x>(<a2@x>)", "<b@x> = <b@x>(<b2@x>)"],
        ),
        (
            "a reply with headers is never moved by its subject",
            vec![
                msg("a@x", 0).subject("Invoice"),
                msg("b@x", 1).subject("Re: Invoice").irt("elsewhere@x"),
            ],
            vec!["<a@x> = <a@x>", "<elsewhere@x> = <b@x>"],
        ),
        (
            "equal subjects without a reply marker stay apart",
            vec![
                msg("a@x", 0).subject("Hello"),
                msg("b@x", 1).subject("Hello"),
            ],
            vec!["<a@x> = <a@x>", "<b@x> = <b@x>"],
        ),
        (
            "two header-less replies without their original stay apart",
            vec![
                msg("a@x", 0).subject("Re: Hello"),
                msg("b@x", 1).subject("Re: Hello"),
            ],
            vec!["<a@x> = <a@x>", "<b@x> = <b@x>"],
        ),
        (
            "the latest original before the reply wins",
            vec![
                msg("old@x", 0).subject("Weekly report"),
                msg("new@x", 60).subject("Weekly report"),
                msg("r@x", 90).subject("Re: Weekly report"),
            ],
            vec!["<old@x> = <old@x>", "<new@x> = <new@x>(<r@x>)"],
        ),
        (
            "a header-less reply can join a header-backed thread whose root is missing",
            vec![
                msg("b@x", 1).subject("Re: Plan").refs(&["a@x"]),
                msg("c@x", 2).subject("AW: Plan"),
            ],
            vec!["<a@x> = ?a@x(<b@x>,<c@x>)"],
        ),
    ];
    for (name, inputs, want) in cases {
        check(name, &inputs, &want);
    }
}

/// A long reply chain (each message answering the previous one with In-Reply-To only) on a
/// 2 MiB stack, the size of a tokio worker's: nesting stops at `MAX_DEPTH` (256).
#[test]
fn deep_chain_fits_a_worker_stack() {
    let inputs: Vec<ThreadInput> = (0..3000)
        .map(|i| {
            let me = msg(&format!("m{i}@x"), i);
            if i == 0 {
                me
            } else {
                me.irt(&format!("m{}@x", i - 1))
            }
        })
        .collect();
    let depth = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let threads = thread(&inputs);
            let mut depth = 0;
            let mut node = &threads[0].root;
            while let Some(child) = node.children.first() {
                depth += 1;
                node = child;
            }
            (threads.len(), depth, threads[0].keys().len())
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(depth, (1, 256, 3000));
}
