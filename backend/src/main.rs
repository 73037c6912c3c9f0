use clap::Parser;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        // Target drivers log each statement's text at debug level, and a job script may hold
        // a password (`CREATE ROLE … PASSWORD`): never below info for them, whatever RUST_LOG says.
        .filter_module("tokio_postgres", log::LevelFilter::Info)
        .filter_module("postgres", log::LevelFilter::Info)
        .filter_module("mysql", log::LevelFilter::Info)
        .filter_module("mysql_common", log::LevelFilter::Info)
        .filter_module("oracle", log::LevelFilter::Info)
        .filter_module("rusqlite", log::LevelFilter::Info)
        .init();
    let cli = autodb::cli::Cli::parse();
    if let Err(e) = autodb::cli::run(cli) {
        eprintln!("autodb: {e}");
        std::process::exit(e.exit_code());
    }
}
