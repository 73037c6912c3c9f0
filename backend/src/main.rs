use clap::Parser;

fn main() {
    autodb::logging::init();
    let cli = autodb::cli::Cli::parse();
    if let Err(e) = autodb::cli::run(cli) {
        eprintln!("autodb: {e}");
        std::process::exit(e.exit_code());
    }
}
