//! The layering of `src/` holds (STYLE.md §1): imports flow web -> sync / mailboxes /
//! reassociation / providers -> db -> domain, `domain/` does no I/O, `web/` builds no queries,
//! the product library carries no emulator or tooling, and no two top-level modules import
//! each other (directly or round a loop).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// Code without `//` comments (doc comments name other modules freely).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a source text names through `crate::x` (also inside `crate::{x, y}`).
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// (importing module, imported module) -> files that import it, for the library's modules.
fn edges() -> BTreeMap<(String, String), Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for path in rust_files(&src) {
        let rel = path.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component");
        let top = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        // The binary's own modules (main.rs and what it declares) are not the library.
        if top == "main" || top == "lib" || top == "tools" {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&path).expect("read source"));
        for target in crate_imports(&code) {
            if target != top {
                edges
                    .entry((top.clone(), target))
                    .or_default()
                    .push(rel.display().to_string());
            }
        }
    }
    edges
}

#[test]
fn lower_layers_never_import_upper_ones() {
    // Each module, and the modules above it that it must not import.
    let forbidden = [
        (
            "domain",
            "providers db web sync mailboxes reassociation references accounts app",
        ),
        (
            "db",
            "providers sync web mailboxes reassociation references accounts app",
        ),
        (
            "providers",
            "db sync web mailboxes reassociation references accounts app",
        ),
        ("mailboxes", "web sync app"),
        ("reassociation", "web sync app"),
        ("references", "web sync app"),
        ("sync", "web app"),
        ("accounts", "web app"),
    ];
    let mut wrong = Vec::new();
    for ((from, to), files) in edges() {
        let banned = forbidden
            .iter()
            .find(|(m, _)| *m == from)
            .map_or("", |(_, b)| b);
        if banned.split_whitespace().any(|b| b == to) {
            wrong.push(format!("{from} -> {to} in {}", files.join(", ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

/// Depth-first search from `node`; a module reached again on the current path is a cycle.
fn visit<'a>(
    node: &'a str,
    graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeSet<&'a str>,
    cycles: &mut Vec<String>,
) {
    if let Some(at) = path.iter().position(|n| *n == node) {
        let mut cycle: Vec<&str> = path[at..].to_vec();
        cycle.push(node);
        cycles.push(cycle.join(" -> "));
        return;
    }
    if !done.insert(node) {
        return;
    }
    path.push(node);
    for next in graph.get(node).into_iter().flatten() {
        visit(next, graph, path, done, cycles);
    }
    path.pop();
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let edges = edges();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from).or_default().insert(to);
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn web_builds_no_queries() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let query_building = [
        "EntityTrait",
        "QueryFilter",
        "QuerySelect",
        "QueryOrder",
        "ColumnTrait",
        "ActiveModelTrait",
        "Statement::",
        "Entity::find",
        "Entity::insert",
        "Entity::update",
        "Entity::delete",
        "update_many(",
        "delete_many(",
        "insert_many(",
        "Expr::",
        "Condition::",
        "JoinType",
    ];
    let mut found = Vec::new();
    for path in rust_files(&web) {
        let code = code_of(&std::fs::read_to_string(&path).expect("read source"));
        for needle in query_building {
            if code.contains(needle) {
                found.push(format!("{} uses {needle}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "web/ builds queries (they belong in db/):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_product_library_carries_no_emulator_or_tooling() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("read lib.rs");
    let code = code_of(&lib);
    for tooling in [
        "mod emulator",
        "mod bench",
        "mod demo",
        "mod driver",
        "threadline_emulator",
    ] {
        assert!(!code.contains(tooling), "src/lib.rs still has `{tooling}`");
    }
    // Nothing in the library's modules names the emulator crate either.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let tools = src.join("tools");
    let mut found = Vec::new();
    for path in rust_files(&src) {
        if path.starts_with(&tools) || path.ends_with("main.rs") {
            continue;
        }
        if code_of(&std::fs::read_to_string(&path).expect("read source"))
            .contains("threadline_emulator")
        {
            found.push(path.display().to_string());
        }
    }
    assert!(
        found.is_empty(),
        "library modules use the emulator: {}",
        found.join(", ")
    );
}
