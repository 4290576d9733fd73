//! Repository checks that no compiler runs: file headers, banned test attributes, and the
//! licenses of every dependency.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{StepResult, cargo};

/// License identifiers a dependency may use (alone or in an SPDX expression).
const ALLOWED_LICENSES: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "BSL-1.0",
    "CC0-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "CDLA-Permissive-2.0",
    "MPL-2.0",
    "Unlicense",
];

/// Runs every tidy check and reports all problems at once.
pub(crate) fn run(root: &Path) -> StepResult {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["crates", "tests", "xtask", "fuzz"] {
        collect_rust_files(&root.join(dir), &mut files);
    }
    for file in &files {
        check_file(root, file, &mut problems);
    }
    check_licenses(root, &mut problems)?;
    if problems.is_empty() {
        eprintln!(
            "tidy: {} Rust files and all dependency licenses OK",
            files.len()
        );
        Ok(())
    } else {
        Err(format!(
            "{} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != "corpus" && name != "artifacts" {
                collect_rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn check_file(root: &Path, file: &Path, problems: &mut Vec<String>) {
    let shown = file
        .strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string();
    let Ok(text) = fs::read_to_string(file) else {
        problems.push(format!("{shown}: not readable as UTF-8"));
        return;
    };
    if !text.trim_start().starts_with("//!") {
        problems.push(format!(
            "{shown}: must open with a `//!` doc comment saying what it is"
        ));
    }
    // Spelled in two halves so this file does not trip its own check.
    let banned = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    for (number, line) in text.lines().enumerate() {
        for pattern in banned {
            if line.trim_start().starts_with(pattern) {
                problems.push(format!(
                    "{shown}:{}: `{pattern}]` is not allowed: assert the error instead",
                    number + 1
                ));
            }
        }
    }
}

fn check_licenses(root: &Path, problems: &mut Vec<String>) -> StepResult {
    let mut cmd = cargo(root);
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--locked",
        "--all-features",
    ]);
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let json = String::from_utf8_lossy(&output.stdout);
    for (name, license) in packages_and_licenses(&json) {
        match license {
            None => problems.push(format!("dependency {name} declares no license")),
            Some(expr) if !license_allowed(&expr) => problems.push(format!(
                "dependency {name} has license `{expr}`, not on the allow-list in xtask/src/tidy.rs"
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Pulls `(name, license)` pairs out of `cargo metadata` JSON without a JSON parser: each
/// package object has `"name"` before `"license"`, and `"license"` is a string or null.
fn packages_and_licenses(json: &str) -> Vec<(String, Option<String>)> {
    let Some(start) = json.find("\"packages\":[") else {
        return Vec::new();
    };
    let end = json.find("\"workspace_members\"").unwrap_or(json.len());
    let packages = json.get(start..end).unwrap_or("");
    let mut out = Vec::new();
    let mut rest = packages;
    while let Some(pos) = rest.find("{\"name\":\"") {
        rest = rest.get(pos + 9..).unwrap_or("");
        let name = rest.split('"').next().unwrap_or("").to_string();
        let Some(lic_pos) = rest.find("\"license\":") else {
            break;
        };
        let after = rest.get(lic_pos + 10..).unwrap_or("");
        let license = after
            .strip_prefix('"')
            .and_then(|s| s.split('"').next())
            .map(str::to_string);
        out.push((name, license));
        rest = after;
    }
    out
}

/// An SPDX expression passes when, read with `OR` as a choice, some alternative has every
/// `AND` part on the allow-list.
fn license_allowed(expr: &str) -> bool {
    let cleaned = expr.replace(['(', ')'], " ").replace('/', " OR ");
    cleaned.split(" OR ").any(|alternative| {
        alternative
            .split(" AND ")
            .map(str::trim)
            .all(|part| ALLOWED_LICENSES.contains(&part))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions_are_read_as_spdx() {
        assert!(license_allowed("MIT OR Apache-2.0"));
        assert!(license_allowed("MIT/Apache-2.0"));
        assert!(license_allowed("Apache-2.0 AND ISC"));
        assert!(license_allowed("(MIT OR Apache-2.0) AND Unicode-3.0"));
        assert!(!license_allowed("GPL-3.0"));
        assert!(!license_allowed("MIT AND GPL-3.0"));
        assert!(license_allowed("GPL-3.0 OR MIT"));
    }

    #[test]
    fn metadata_pairs_names_with_licenses() {
        let json = r#"{"packages":[{"name":"a","version":"1","license":"MIT"},{"name":"b","license":null}],"workspace_members":[]}"#;
        assert_eq!(
            packages_and_licenses(json),
            vec![
                ("a".to_string(), Some("MIT".to_string())),
                ("b".to_string(), None)
            ]
        );
    }
}
