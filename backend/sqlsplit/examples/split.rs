//! Prints the split of a script file as JSON: `cargo run -p autodb-sqlsplit --example split -- postgres file.sql`.
use std::io::Read;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dialect: sqlsplit::Dialect =
        serde_json::from_value(serde_json::Value::String(args.next().unwrap_or_default()))?;
    let mut script = String::new();
    match args.next() {
        Some(path) => script = std::fs::read_to_string(path)?,
        None => {
            std::io::stdin().read_to_string(&mut script)?;
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&sqlsplit::split(dialect, &script))?
    );
    Ok(())
}
