//! Records the git commit (if any) and whether the tree had uncommitted changes, for the run
//! manifest.
fn main() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    let dirty = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if s.is_empty() => "false",
        Some(_) => "true",
        None => "",
    };
    println!("cargo:rustc-env=FDL_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=FDL_GIT_DIRTY={dirty}");
    for watched in [
        "../../.git/HEAD",
        "../../.git/refs/heads",
        "../../.git/index",
        "../../crates",
        "../../Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
}
