//! fdl's command line with one more experiment: `custom-architecture reproduce depth3-margin`.

fn main() {
    fdl_lab::Lab::with_builtins()
        .register::<custom_architecture::Depth3Margin>()
        .main()
}
