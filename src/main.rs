//! The `fdl` binary: everything lives in `fdl-lab`; this only sets up logging and exits.

/// Burn's CPU backend allocates a fresh buffer for most tensor operations. The system allocator
/// hands large ones back to the kernel and faults them in again on the next step (page faults
/// were 14% of a two-layer GD step); mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(fdl_lab::cli::main());
}
