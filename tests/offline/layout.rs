//! The module graph reads as the pipeline: no import cycles between the top-level modules of
//! `src/`, and each layer only reaches down (docs/architecture.md's "Layout" shows the same graph).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a file of `src/` belongs to (`src/enforce/sweep.rs` → `enforce`).
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Which top-level modules each top-level module names through `crate::…` (tests included:
/// a unit test that needs another layer is a dependency too).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f, &src)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(file, &src) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(from.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != from && modules.contains(&name) {
                edges.insert(name);
            }
        }
        // `use crate::{a, b}` groups.
        for (at, _) in text.match_indices("crate::{") {
            let rest = &text[at + "crate::{".len()..];
            let group = &rest[..rest.find('}').unwrap_or(0)];
            for part in group.split(',') {
                let name = part.trim().split("::").next().unwrap_or("").to_owned();
                if name != from && modules.contains(&name) {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(node) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph();
    let cycles: Vec<String> = graph
        .iter()
        .flat_map(|(from, edges)| edges.iter().map(move |to| (from, to)))
        .filter(|(from, to)| reaches(&graph, to, from))
        .map(|(from, to)| format!("{from} -> {to} -> … -> {from}"))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles: {cycles:#?}\ngraph: {graph:#?}"
    );
}

#[test]
fn each_layer_only_reaches_down() {
    let graph = graph();
    // (module, modules it must never depend on, even indirectly)
    let rules: &[(&str, &[&str])] = &[
        (
            "ids",
            &[
                "rule", "finding", "input", "policy", "enforce", "report", "aws", "outcome",
            ],
        ),
        (
            "rule",
            &["finding", "input", "policy", "enforce", "report", "aws"],
        ),
        (
            "finding",
            &["input", "policy", "enforce", "report", "aws", "outcome"],
        ),
        ("input", &["policy", "enforce", "report", "aws", "outcome"]),
        ("policy", &["input", "enforce", "report", "aws", "outcome"]),
        ("aws", &["policy", "enforce", "report", "outcome"]),
        ("report", &["enforce", "input"]),
        ("enforce", &["cli", "lambda", "handler"]),
        ("handler", &["cli", "lambda"]),
        ("cli", &["lambda"]),
        ("lambda", &["cli"]),
        ("telemetry", &["cli", "lambda", "enforce"]),
    ];
    for (module, forbidden) in rules {
        assert!(graph.contains_key(*module), "no module `{module}` in src/");
        for other in *forbidden {
            assert!(
                !reaches(&graph, module, other),
                "`{module}` depends on `{other}`: {graph:#?}"
            );
        }
    }
}
