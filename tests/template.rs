//! The SAM template: lint-clean, and declaring every function crate, route and sample-event folder.

use std::{collections::BTreeSet, process::Command};
use system_tests::repo_root;

#[test]
fn cfn_lint_reports_nothing_for_the_template() {
    let out = Command::new("cfn-lint").arg("template.yaml").current_dir(repo_root()).output().expect(
        "cfn-lint is not installed: run the test command from the README (it installs it), or `pip install cfn-lint`",
    );
    assert!(
        out.status.success(),
        "cfn-lint exit {:?}:\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn every_function_crate_is_declared_in_the_template_runs_locally_and_has_sample_events() {
    let crates: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let stack = local::Stack::load(local::StackConfig::new(repo_root().join("template.yaml"), dir.path()))
        .expect("every binary in the template has a local handler");
    let binaries: BTreeSet<String> = stack.lambda().functions().map(|f| f.decl.binary.clone()).collect();
    assert_eq!(crates, binaries, "functions/ crates vs template binaries");
    for b in &binaries {
        let events = repo_root().join("events").join(b);
        assert!(events.is_dir() && std::fs::read_dir(&events).unwrap().count() > 0, "no sample events in events/{b}");
    }
    let raw = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    assert_eq!(raw.matches("BuildMethod: rust-cargolambda").count(), binaries.len());
    assert!(raw.contains("Runtime: provided.al2023") && raw.contains("Architectures: [arm64]"));
}
