//! The `fdl` binary: everything lives in `fdl-lab`; this only sets up logging and exits.

fn main() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(fdl_lab::cli::main());
}
