//! The recipe against the emulator: both hash-first branches and a
//! completion read; and, because the exchange machine holds the policy,
//! `Connection: close`, the CDN redirect, a datacenter redirect, faults on
//! downloads and a session, without a line of policy in the recipe.

use lastline_core::decoders::{ExportDecoder, StringData, UtcTimestampDecoder};
use lastline_core::exchange::{AuthMode, Event, Origin, Settings};
use lastline_core::request::{
    ExportReport, GetApiUtcTimestamp, GetExportedReport, GetResults, Ping, ResultsFormat,
};
use lastline_core::types::{ReportType, Timestamp};
use lastline_core::workflow::RetryPolicy;
use lastline_core::Credentials;
use lastline_emulator::{
    Config, CredentialSource, Emulator, Fault, FaultRule, Origin as At, Redirect, EICAR,
};
use sans_io_tokio::{submit_and_wait, Client};

fn settings<'a>(emu: &'a Emulator, key: &'a str, token: &'a str) -> Settings<'a> {
    let addr: &'static str = Box::leak(emu.addr().to_string().into_boxed_str());
    let mut s = Settings::new(
        Origin::from_authority(addr, false).unwrap(),
        Credentials::new(key, Some(token)).unwrap(),
    );
    s.retry = RetryPolicy {
        base_delay_ms: 20,
        max_delay_ms: 100,
        ..RetryPolicy::default()
    };
    s
}

fn eicar() -> Vec<u8> {
    let mut v = b"sensor capture: ".to_vec();
    v.extend_from_slice(EICAR);
    v
}

#[tokio::test(flavor = "current_thread")]
async fn recipe_submits_and_reads_verdicts() {
    let emu = Emulator::start(Config {
        completion_delay: std::time::Duration::from_secs(1),
        ..Config::default()
    })
    .unwrap();
    let (key, token) = emu.credentials();
    let mut client = Client::new(settings(&emu, &key, &token));
    let since = Timestamp::from_unix(0).unwrap();
    let (task, uploaded, score) = submit_and_wait(&mut client, &eicar(), since).await.unwrap();
    assert!(uploaded, "unknown file: uploaded after 101");
    assert_eq!(score, 100);
    // The same file again: known by hash, no upload.
    let (task2, uploaded2, score2) = submit_and_wait(&mut client, &eicar(), since).await.unwrap();
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
async fn connection_close_redirects_download_faults_and_sessions() {
    let emu = Emulator::start(Config::default()).unwrap();
    let (key, token) = emu.credentials();
    let mut client = Client::new(settings(&emu, &key, &token));
    // Connection: close on every answer: each request on a new connection.
    emu.faults().set(|f| f.connection_close = true);
    for _ in 0..3 {
        let pong = client
            .call::<_, StringData>(&Ping, &[], |_| {})
            .await
            .unwrap();
        assert_eq!(pong.as_str(), "pong");
    }
    emu.faults().set(|f| f.connection_close = false);
    // A task, its PDF report with a reset mid-body (restarted), and an
    // export fetched through the CDN redirect.
    let (task, _, _) = submit_and_wait(&mut client, &eicar(), Timestamp::from_unix(0).unwrap())
        .await
        .unwrap();
    emu.faults()
        .add(FaultRule::new(Some("get_results"), Fault::ResetMidBody, 1));
    emu.faults()
        .add(FaultRule::new(Some("get_results"), Fault::Unavailable, 1));
    let pdf = client
        .download(&GetResults {
            format: ResultsFormat::Pdf,
            ..GetResults::new(task)
        })
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF") && pdf.ends_with(b"%%EOF\n"));
    let export = client
        .call::<_, ExportDecoder>(
            &ExportReport {
                uuid: task,
                report_type: ReportType::Overview,
                report_format: None,
            },
            &[],
            |_| {},
        )
        .await
        .unwrap();
    let report = client
        .download(&GetExportedReport {
            exported_report_uuid: export.exported_report_uuid,
            cdn: None,
        })
        .await
        .unwrap();
    assert!(report.starts_with(b"%PDF"));
    let cdn: Vec<_> = emu
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.origin == At::Cdn)
        .collect();
    assert_eq!(cdn.len(), 1);
    assert!(
        cdn[0].credentials.is_empty() && cdn[0].violations.is_empty(),
        "{:?}",
        cdn[0]
    );
    // A datacenter redirect: followed, and the credentials stay home.
    emu.configure(|c| c.datacenter_redirect = Redirect::Once);
    let t = client
        .call::<_, UtcTimestampDecoder>(&GetApiUtcTimestamp, &[], |_| {})
        .await
        .unwrap();
    let _ = t;
    let dc: Vec<_> = emu
        .log()
        .entries()
        .into_iter()
        .filter(|e| e.origin == At::Datacenter)
        .collect();
    assert_eq!(dc.len(), 1);
    assert!(dc[0].credentials.is_empty(), "{:?}", dc[0]);
    assert!(client.events.iter().any(|e| matches!(
        e,
        Event::Redirect {
            status: 307,
            other_origin: true
        }
    )));
    assert!(client
        .events
        .iter()
        .any(|e| matches!(e, Event::Retry { .. })));
    // A session: login once, cookie only, again on 122.
    let mut s = settings(&emu, &key, &token);
    s.auth = AuthMode::Session;
    let mut session = Client::new(s);
    emu.log().clear();
    emu.faults()
        .add(FaultRule::new(Some("ping"), Fault::SessionGone, 1));
    for _ in 0..2 {
        session
            .call::<_, StringData>(&Ping, &[], |_| {})
            .await
            .unwrap();
    }
    let log = emu.log().entries();
    let logins = log.iter().filter(|e| e.api_method == Some("login")).count();
    assert_eq!(logins, 2, "first, and after the 122");
    assert!(log
        .iter()
        .filter(|e| e.api_method == Some("ping"))
        .all(|e| e.credentials == [CredentialSource::Cookie]));
    assert_eq!(session.events, [Event::Relogin]);
}

#[tokio::test(flavor = "current_thread")]
async fn an_endless_head_stops_at_the_buffer_limit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: &'static str = Box::leak(listener.local_addr().unwrap().to_string().into_boxed_str());
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
    let s = Settings::new(
        Origin::from_authority(addr, false).unwrap(),
        Credentials::new("k", Some("t")).unwrap(),
    );
    let mut client = Client::new(s);
    let r = client.call::<_, StringData>(&Ping, &[], |_| {}).await;
    let e = r.unwrap_err();
    assert!(
        matches!(
            e.error,
            lastline_core::Error::BufferTooSmall { .. }
                | lastline_core::Error::Http(lastline_core::HttpError::HeadTooLarge)
        ),
        "{e:?}"
    );
}
