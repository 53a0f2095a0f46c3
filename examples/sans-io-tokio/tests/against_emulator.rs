//! The recipe runs against the emulator: both hash-first branches and a
//! completion read, over one keep-alive connection.

use lastline_core::http::ClientConfig;
use lastline_core::types::Timestamp;
use lastline_core::Credentials;
use lastline_emulator::{Config, Emulator, EICAR};
use sans_io_tokio::{submit_and_wait, Conn};

#[tokio::test(flavor = "current_thread")]
async fn recipe_submits_and_reads_verdicts() {
    let emu = Emulator::start(Config {
        completion_delay: std::time::Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    let (key, token) = emu.credentials();
    let addr = emu.addr().to_string();
    let cfg = ClientConfig::new(&addr, Credentials::new(&key, Some(&token)).unwrap());
    let since = Timestamp::from_unix(0).unwrap();
    let mut conn = Conn::connect(&addr).await.unwrap();
    let mut eicar = b"sensor capture: ".to_vec();
    eicar.extend_from_slice(EICAR);
    let (task, uploaded, score) = submit_and_wait(&mut conn, &cfg, &eicar, since)
        .await
        .unwrap();
    assert!(uploaded, "unknown file: uploaded after 101");
    assert_eq!(score, 100);
    // The same file again: known by hash, no upload.
    let (task2, uploaded2, score2) = submit_and_wait(&mut conn, &cfg, &eicar, since)
        .await
        .unwrap();
    assert!(!uploaded2);
    assert_eq!(score2, 100);
    // Within `expires` the server may return the earlier task (the
    // emulator does, as the reference allows).
    assert_eq!(task, task2);
    // No per-task polling: only submissions and completion reads.
    let methods: Vec<_> = emu
        .log()
        .entries()
        .iter()
        .filter_map(|e| e.api_method)
        .collect();
    assert!(
        methods
            .iter()
            .all(|m| ["submit_file", "get_completed"].contains(m)),
        "{methods:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_endless_head_stops_at_the_buffer_limit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut req = [0u8; 4096];
        let _ = s.read(&mut req).await;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Endless: ").await;
        let chunk = vec![b'a'; 16 * 1024];
        for _ in 0..16 {
            if s.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let cfg = ClientConfig::new(&addr, Credentials::new("k", Some("t")).unwrap());
    let mut conn = Conn::connect(&addr).await.unwrap();
    let r = conn
        .exchange::<_, lastline_core::responses::StringData>(
            &lastline_core::request::Ping,
            &cfg,
            &[],
            |_| {},
        )
        .await;
    assert!(
        matches!(
            r,
            Err(sans_io_tokio::Failure::Api(lastline_core::Error::Http(
                lastline_core::HttpError::HeadTooLarge
            )))
        ),
        "{r:?}"
    );
}
