//! The experiment code unchanged on the wgpu backend (a GPU, or software Vulkan via lavapipe).
//! Built only with `--features wgpu`; run with `just test-wgpu`.
#![cfg(feature = "wgpu")]

mod common;
use common::*;

#[test]
fn depth_conv_quick_passes_on_wgpu() {
    let (_, dir, _) = run_passing(
        "wgpu",
        &[
            "reproduce",
            "depth-conv",
            "--quick",
            "--device",
            "wgpu",
            "--out",
            "run",
        ],
    );
    let manifest = std::fs::read_to_string(dir.join("run/manifest.json")).unwrap();
    assert!(manifest.contains("\"device\": \"wgpu\""));
}
