//! The `fdl` binary: fdl's experiments on the lab's command line.

/// Burn's CPU backend allocates a fresh buffer for most tensor operations. The system allocator
/// hands large ones back to the kernel and faults them in again on the next step (page faults
/// were 14% of a two-layer GD step); mimalloc keeps and reuses them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    fdl_lab::Lab::with_builtins().main()
}
