//! `cargo run -p sans-io-tokio -- HOST:PORT KEY TOKEN FILE`: submit FILE
//! hash-first to an Analyst API server (e.g. the emulator) and print its
//! score once the completion cursor reports it.

use lastline_core::exchange::{Origin, Settings};
use lastline_core::types::Timestamp;
use lastline_core::Credentials;
use sans_io_tokio::{submit_and_wait, Client};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, key, token, file] = args.as_slice() else {
        eprintln!("usage: sans-io-tokio HOST:PORT KEY TOKEN FILE");
        std::process::exit(2);
    };
    let sample = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let creds = Credentials::new(key, Some(token)).expect("credentials");
    let server = Origin::from_authority(addr, false).expect("HOST:PORT");
    let mut client = Client::new(Settings::new(server, creds));
    let since = Timestamp::from_unix(0).expect("epoch");
    match submit_and_wait(&mut client, &sample, since).await {
        Ok((task, uploaded, score)) => {
            println!("task {task} (uploaded: {uploaded}) scored {score}")
        }
        Err(e) => {
            eprintln!("failed: {e}");
            std::process::exit(1);
        }
    }
}
