//! The `api` step of `cargo xtask ci`: each library crate's public items, read from the
//! rustdoc HTML the `doc` step just wrote, compared with the committed lists in
//! `docs/api/<crate>.txt`, so that every change of the public surface shows up in review.
//!
//! A list has one line per item (`struct Inbound`, `fn apply_mask`, module paths as
//! `deflate::struct Inflater`) and one indented line per inherent method, enum variant and
//! public field. `cargo xtask api --bless` rewrites the lists after an intended change.
//! It also fails when an item's name is missing from its crate's `lib.rs` docs, whose
//! table of public items is the one-screen map of the crate.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::StepResult;

/// The library crates whose surface is tracked (rustdoc names).
const CRATES: &[&str] = &["ws_frame", "ws_handshake", "ws_net", "ws_client"];

/// Item kinds rustdoc writes one page for, by file-name prefix.
const KINDS: &[&str] = &[
    "struct", "enum", "trait", "fn", "type", "constant", "macro", "union", "static",
];

/// Compares the lists; with `bless`, writes them instead.
pub(crate) fn run(root: &Path, bless: bool) -> StepResult {
    let docs = root.join("target").join("doc");
    let out_dir = root.join("docs").join("api");
    let mut changed = Vec::new();
    let mut unmapped = Vec::new();
    let mut summary = String::new();
    for name in CRATES {
        let dir = docs.join(name);
        if !dir.join("index.html").exists() {
            return Err(format!(
                "no rustdoc output in {}: run `cargo xtask step doc` first",
                dir.display()
            ));
        }
        let list = surface(&dir, "")?;
        unmapped.extend(missing_from_map(root, name, &list)?);
        let (items, members) = count(&list);
        let _ = writeln!(
            summary,
            "{name}: {items} items, {members} methods/variants/fields"
        );
        let path = out_dir.join(format!("{name}.txt"));
        let old = fs::read_to_string(&path).unwrap_or_default();
        if old != list {
            if bless {
                fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
                fs::write(&path, &list).map_err(|e| format!("{}: {e}", path.display()))?;
            } else {
                changed.push(diff(name, &old, &list));
            }
        }
    }
    eprint!("{summary}");
    if !unmapped.is_empty() {
        return Err(format!(
            "public items missing from their crate's lib.rs docs (its map of the public \
             items): {}",
            unmapped.join(", ")
        ));
    }
    if changed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the public API changed; if intended, run `cargo xtask api --bless` and commit \
             docs/api/:\n{}",
            changed.join("\n")
        ))
    }
}

/// The items of `list` (one crate's surface) whose names its `lib.rs` docs (`//!` lines)
/// never mention: each crate's docs keep a one-screen map of its public items.
fn missing_from_map(root: &Path, name: &str, list: &str) -> Result<Vec<String>, String> {
    let lib = root
        .join("crates")
        .join(name.replace('_', "-"))
        .join("src")
        .join("lib.rs");
    let text = fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    let words: BTreeSet<&str> = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("//!"))
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .collect();
    Ok(list
        .lines()
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.rsplit([' ', ':']).next())
        .filter(|item| !words.contains(item))
        .map(|item| format!("{name}::{item}"))
        .collect())
}

/// The sorted item list of one crate or public module directory.
fn surface(dir: &Path, prefix: &str) -> Result<String, String> {
    let mut lines = BTreeSet::new();
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut modules = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            // A public module has an index page; private ones only redirect stubs.
            if path.join("index.html").exists() {
                modules.push((file, path));
            }
            continue;
        }
        let Some((kind, rest)) = file.split_once('.') else {
            continue;
        };
        let Some(item) = rest.strip_suffix(".html") else {
            continue;
        };
        if !KINDS.contains(&kind) {
            continue;
        }
        let html = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if html.contains("<title>Redirection</title>") {
            continue;
        }
        let mut entry = format!("{prefix}{kind} {item}\n");
        for member in members(&html) {
            let _ = writeln!(entry, "    {member}");
        }
        lines.insert(entry);
    }
    let mut out: String = lines.into_iter().collect();
    modules.sort();
    for (name, path) in modules {
        let _ = writeln!(out, "{prefix}mod {name}");
        out.push_str(&surface(&path, &format!("{prefix}{name}::"))?);
    }
    Ok(out)
}

/// Inherent methods, variants, fields and associated constants of an item page (trait
/// implementations are left out: they are not this crate's surface).
fn members(html: &str) -> Vec<String> {
    let own = html
        .split("id=\"trait-implementations\"")
        .next()
        .unwrap_or(html);
    let mut found = Vec::new();
    for (marker, label) in [
        ("id=\"method.", "fn"),
        ("id=\"tymethod.", "fn"),
        ("id=\"variant.", "variant"),
        ("id=\"structfield.", "field"),
        ("id=\"associatedconstant.", "const"),
    ] {
        for piece in own.split(marker).skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let entry = format!("{label} {name}");
            if !name.is_empty() && !found.contains(&entry) {
                found.push(entry);
            }
        }
    }
    found.sort();
    found
}

fn count(list: &str) -> (usize, usize) {
    let members = list.lines().filter(|l| l.starts_with("    ")).count();
    (list.lines().count() - members, members)
}

/// The lines only in `old` (`-`) and only in `new` (`+`).
fn diff(name: &str, old: &str, new: &str) -> String {
    let old_lines: BTreeSet<&str> = old.lines().collect();
    let new_lines: BTreeSet<&str> = new.lines().collect();
    let mut out = format!("{name}:\n");
    for line in old_lines.difference(&new_lines) {
        let _ = writeln!(out, "  - {}", line.trim());
    }
    for line in new_lines.difference(&old_lines) {
        let _ = writeln!(out, "  + {}", line.trim());
    }
    out
}
