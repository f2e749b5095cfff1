//! `portolan`: parse the command line, run the scan, exit.

use portolan::cli::{self, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::help_text());
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            print!("{}", cli::version_text());
            ExitCode::SUCCESS
        }
        Ok(Command::Scan(opts)) => match portolan::run::run(*opts) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("portolan: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            eprintln!("portolan: {e}");
            ExitCode::from(1)
        }
    }
}
