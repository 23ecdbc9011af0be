//! `ARCHITECTURE.md`'s dependency rules, checked against `cargo metadata` (normal and build
//! dependencies; dev-dependencies are test wiring and exempt):
//! - the stages (`perception`, `fusion`, `v2x`, `cloud-link`) never depend on each other;
//! - only `runtime`, `sim` and `hil` depend on several stages;
//! - `types` depends on no crate of ours, `models` only on `types`;
//! - nothing depends on `runtime`;
//! - the truck binary (`runtime`) carries no simulator or evaluator (`sim`) and no HIL harness.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure should panic.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

const STAGES: [&str; 4] = ["pitsense-perception", "pitsense-fusion", "pitsense-v2x", "pitsense-cloud-link"];

/// Workspace crate → the workspace crates it depends on (normal and build dependencies).
fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let ours: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|package| {
            let dependencies = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|name| ours.contains(name))
                .collect();
            (package["name"].as_str().unwrap().to_owned(), dependencies)
        })
        .collect()
}

#[test]
fn the_dependency_rules_of_architecture_md_hold() {
    let graph = workspace_dependencies();
    for crate_name in
        ["pitsense-types", "pitsense-models", "pitsense-runtime", "pitsense-sim", "pitsense-hil"]
            .into_iter()
            .chain(STAGES)
    {
        assert!(graph.contains_key(crate_name), "{crate_name} is not in the workspace: {graph:?}");
    }
    let mut broken = Vec::new();
    for (crate_name, dependencies) in &graph {
        let stages: Vec<&String> = dependencies.iter().filter(|d| STAGES.contains(&d.as_str())).collect();
        if STAGES.contains(&crate_name.as_str()) && !stages.is_empty() {
            broken.push(format!("stage {crate_name} depends on stage(s) {stages:?}"));
        }
        if stages.len() > 1
            && !["pitsense-runtime", "pitsense-sim", "pitsense-hil"].contains(&crate_name.as_str())
        {
            broken.push(format!("{crate_name} wires stages {stages:?}; only runtime, sim and hil may"));
        }
        if dependencies.contains("pitsense-runtime") {
            broken.push(format!("{crate_name} depends on pitsense-runtime"));
        }
    }
    if !graph["pitsense-types"].is_empty() {
        broken.push(format!("pitsense-types depends on {:?}", graph["pitsense-types"]));
    }
    if graph["pitsense-models"].iter().any(|d| d != "pitsense-types") {
        broken.push(format!("pitsense-models depends on {:?}", graph["pitsense-models"]));
    }
    for forbidden in ["pitsense-sim", "pitsense-hil"] {
        if graph["pitsense-runtime"].contains(forbidden) {
            broken.push(format!("the truck binary (pitsense-runtime) depends on {forbidden}"));
        }
    }
    assert!(broken.is_empty(), "ARCHITECTURE.md's rules are broken:\n{}", broken.join("\n"));
}

/// The truck build (`cargo build -p pitsense-runtime --no-default-features --features
/// camera-opencv`, as `bench/onboard_latency.sh` and the README's truck build do) links neither
/// the cloud ingest's databases (`rusqlite`, the PostgreSQL client `postgres`), nor Rerun, nor the simulator or HIL harness: its
/// resolved dependency tree, from `cargo tree`, names none of them. The workstation build (the
/// default features) has Rerun: the check can tell the two apart.
#[test]
fn the_truck_build_carries_no_database_viewer_or_simulator() {
    let tree = |features: &[&str]| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["tree", "-p", "pitsense-runtime", "-e", "normal", "--prefix", "none", "--offline"])
            .args(features)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .expect("cargo tree runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let crates: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect();
        crates
    };
    let truck = tree(&["--no-default-features", "--features", "camera-opencv"]);
    assert!(truck.contains("pitsense-cloud-link") && truck.contains("opencv"), "{truck:?}");
    for absent in ["rusqlite", "postgres", "rerun", "pitsense-sim", "pitsense-hil"] {
        assert!(!truck.contains(absent), "the truck build links {absent}");
    }
    let workstation = tree(&[]);
    assert!(workstation.contains("rerun"), "the default build lost its Rerun recordings");
    for database in ["rusqlite", "postgres"] {
        assert!(!workstation.contains(database), "the runtime links the ingest's database {database}");
    }
}

/// Every fuzz workspace (`CRATE/fuzz/`, outside the main workspace) has a committed lockfile
/// that needs no change (cargo-fuzz has no `--locked`: `./x fuzz` checks the same way first).
/// Only a lockfile that needs updating fails; a registry that cannot be reached skips.
#[test]
fn the_fuzz_workspaces_lockfiles_are_current() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for krate in ["perception", "v2x", "cloud-link", "runtime", "sim"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(krate).join("fuzz");
        assert!(dir.join("Cargo.lock").is_file(), "{krate}/fuzz has no Cargo.lock");
        let output = Command::new(&cargo)
            .args(["metadata", "--locked", "--format-version", "1"])
            .current_dir(&dir)
            .output()
            .expect("cargo metadata runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            continue;
        }
        assert!(!stderr.contains("lock file"), "{krate}/fuzz/Cargo.lock is stale: {stderr}");
        eprintln!("skipped {krate}/fuzz: cargo metadata failed for another reason: {stderr}");
    }
}

/// No stage reads the wall clock (ARCHITECTURE.md: stages get their clock injected, so that the
/// same input gives the same output): `SystemTime::now` and `Instant::now` appear in none of the
/// sources of `types`, `models`, `imaging`, `perception`, `fusion` and `v2x` (cloud-link's
/// uploader and ingest time their network I/O and are exempt, as `runtime` is).
#[test]
fn no_stage_reads_the_wall_clock() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["types", "models", "imaging", "perception", "fusion", "v2x"] {
        sources(&root.join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 50, "{} files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for call in ["SystemTime::now", "Instant::now"] {
                assert!(!code.contains(call), "{}:{}: {call} in a stage", file.display(), number + 1);
            }
        }
    }
}
