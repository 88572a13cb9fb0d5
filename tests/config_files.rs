//! The shipped experiment files are `fdl config NAME`'s output, generated from each config's
//! doc comments and declared rules, so they cannot drift from the defaults.

use fdl_lab::Lab;

#[test]
fn every_shipped_experiment_file_is_fdl_config_output() {
    let root = env!("CARGO_MANIFEST_DIR");
    let lab = Lab::with_builtins();
    for e in lab.experiments() {
        let path = format!("{root}/experiments/{}.toml", e.name());
        let shipped = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{path}: {err} (run `fdl config {}`)", e.name()));
        assert_eq!(
            shipped,
            e.config_toml(),
            "{path} differs from `fdl config {}`; regenerate it with `just configs`",
            e.name()
        );
    }
    let files = std::fs::read_dir(format!("{root}/experiments"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(files, lab.experiments().count(), "one file per experiment");
}

#[test]
fn every_key_of_every_experiment_is_documented() {
    for e in Lab::with_builtins().experiments() {
        let text = e.config_toml();
        let mut previous = "";
        for line in text.lines() {
            let is_key = !line.starts_with('#')
                && !line.starts_with('[')
                && !line.starts_with("experiment = ")
                && line.contains(" = ");
            assert!(
                !is_key || previous.starts_with('#'),
                "{}: `{line}` has no doc comment",
                e.name()
            );
            previous = line;
        }
    }
}

#[test]
fn every_gpu_preset_is_a_valid_config() {
    let root = env!("CARGO_MANIFEST_DIR");
    let lab = Lab::with_builtins();
    let presets: Vec<_> = std::fs::read_dir(format!("{root}/experiments/gpu"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(presets.len() >= 2, "the GPU presets of issue 15");
    for path in presets {
        let (experiment, table, dir) = fdl_lab::lab::read_config_file(&path).unwrap();
        let request = fdl_lab::RunRequest {
            experiment,
            file: Some((table, dir)),
            ..Default::default()
        };
        lab.validate(&request)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    }
}
