//! The committed generated files are exactly what the generator makes from the data root's
//! ASN.1 modules today.

use pitsense_testkit::data_root;
use std::process::Command;

#[test]
fn generated_code_is_reproducible() {
    let output = Command::new(env!("CARGO_BIN_EXE_v2x-codegen"))
        .arg("--check")
        .arg("--data-root")
        .arg(data_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run v2x-codegen: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "v2x-codegen --check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("etsi: v2x/src/etsi/generated.rs is up to date"), "{stdout}");
    assert!(stdout.contains("csae53: v2x/src/csae/csae53_2019_generated.rs is up to date"), "{stdout}");
}
