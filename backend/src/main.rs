use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = autodb::cli::Cli::parse();
    if let Err(e) = autodb::cli::run(cli) {
        eprintln!("autodb: {e}");
        std::process::exit(e.exit_code());
    }
}
