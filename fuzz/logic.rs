//! What each fuzz target does, shared with `core/tests/fuzz_replay.rs`,
//! which replays the corpora on stable so regressions fail CI.
//!
//! Each function takes arbitrary bytes and must neither panic nor hang;
//! where it can, it also checks an invariant.
#![allow(dead_code, clippy::result_large_err, clippy::type_complexity)]

use lastline_core::decoders::*;
use lastline_core::envelope::{decode_with, DataDecoder, EnvelopeDecoder, UnitBuffer};
use lastline_core::http::{
    ClientConfig, EncodeStep, RequestEncoder, ResponseDecoder, ResponseHead, CAPTURE_CAPACITY,
};
use lastline_core::request::SubmitFile;
use lastline_core::response::{EnvelopeResponse, Progress, RawResponse};
use lastline_core::types::PasswordCandidates;
use lastline_core::Credentials;
use lastline_core::{Error, HttpError};

/// Reads every header a head captured: each fits the shared capture area.
fn check_head(head: Option<&ResponseHead>) {
    let Some(h) = head else { return };
    let lens = [
        h.filename().map_or(0, str::len),
        h.location().map_or(0, str::len),
        h.session_cookie().map_or(0, |c| c.as_str().len()),
    ];
    assert!(lens.iter().sum::<usize>() <= CAPTURE_CAPACITY, "{lens:?}");
    let _ = h.is_redirect();
}

/// Feeds `input` to an envelope response reader in reads of `step` bytes.
fn drive<D: DataDecoder + Default>(input: &[u8], step: usize) -> usize {
    let mut r = EnvelopeResponse::<D, 256>::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut src = input.chunks(step.max(1));
    let mut items = 0usize;
    // Every call consumes bytes or yields; a bound catches a hang.
    for _ in 0..(input.len() * 4 + 64) {
        let (n, p) = match r.feed(&pending) {
            Ok(x) => x,
            Err(_) => return items,
        };
        assert!(n <= pending.len());
        pending.drain(..n);
        match p {
            Progress::Item(_) => items += 1,
            Progress::Done => {
                if r.finish().is_err() {
                    // A failure envelope's message, decoded on demand.
                    let _ = r.api_message();
                }
                return items;
            }
            Progress::Head => check_head(r.head()),
            Progress::NeedMore => match src.next() {
                Some(c) => pending.extend_from_slice(c),
                None => {
                    if let Ok(Progress::Done) = r.close() {
                        let _ = r.finish();
                    }
                    return items;
                }
            },
        }
    }
    panic!("response reader did not finish");
}

fn drive_raw(input: &[u8], step: usize) {
    let mut r = RawResponse::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut src = input.chunks(step.max(1));
    for _ in 0..(input.len() * 4 + 64) {
        let (n, ev) = match r.feed(&pending) {
            Ok(x) => x,
            Err(_) => return,
        };
        let head = matches!(ev, Progress::Head);
        let done = matches!(ev, Progress::Done);
        let need = matches!(ev, Progress::NeedMore);
        if head {
            check_head(r.head());
        }
        pending.drain(..n);
        if done {
            return;
        }
        if need {
            match src.next() {
                Some(c) => pending.extend_from_slice(c),
                None => {
                    let _ = r.close();
                    return;
                }
            }
        }
    }
    panic!("raw reader did not finish");
}

/// The head as the decoder reads it against httparse, the oracle of the
/// hand-written head parser: refused exactly where httparse refuses it,
/// incomplete where httparse says partial, and else read to the same
/// length and status (unless a header we act on is wrong, which httparse
/// does not judge).
fn head_against_httparse(input: &[u8]) {
    // A slot for every possible header line: no "too many headers".
    let mut slots = vec![httparse::EMPTY_HEADER; input.len() / 2 + 1];
    let mut oracle = httparse::Response::new(&mut slots);
    let expected = oracle.parse(input);
    let mut ours = ResponseDecoder::new();
    let got = ours.decode(input, 0);
    match (expected, got) {
        (Err(_), Err(Error::Http(HttpError::MalformedHead(_)))) => {}
        (Ok(httparse::Status::Partial), Ok((0, Progress::NeedMore))) => {}
        // Interim (1xx) heads are skipped by ours, not by httparse.
        (Ok(httparse::Status::Complete(_)), _)
            if oracle.code.is_some_and(|c| (100..200).contains(&c)) => {}
        (Ok(httparse::Status::Complete(n)), Ok((m, Progress::Head))) => {
            assert_eq!(n, m);
            assert_eq!(oracle.code, ours.head().map(|h| h.status));
        }
        (Ok(httparse::Status::Complete(_)), Err(e)) => {
            assert!(
                !matches!(e, Error::Http(HttpError::MalformedHead(_))),
                "{e:?}"
            )
        }
        (expected, got) => panic!("httparse {expected:?}, ours {got:?}"),
    }
}

/// Target `response`: HTTP head + framing + every envelope type.
pub(crate) fn response(data: &[u8]) {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    head_against_httparse(input);
    let step = usize::from(sel >> 5) * 9 + 1;
    match sel & 31 {
        0 => drop(drive::<SubmitDecoder>(input, step)),
        1 => drop(drive::<ResultDecoder>(input, step)),
        2 => drop(drive::<ResultActivitiesDecoder>(input, step)),
        3 => drop(drive::<ReportActivitiesDecoder>(input, step)),
        4 => drop(drive::<CompletedDecoder>(input, step)),
        5 => drop(drive::<CompletedWithMetadataDecoder>(input, step)),
        6 => drop(drive::<PendingDecoder>(input, step)),
        7 => drop(drive::<ProgressDecoder>(input, step)),
        8 => drop(drive::<TaskMetadataDecoder>(input, step)),
        9 => drop(drive::<FileHashDecoder>(input, step)),
        10 => drop(drive::<BlockedDecoder>(input, step)),
        11 => drop(drive::<TaskArtifactDecoder>(input, step)),
        12 => drop(drive::<NetworkIocsDecoder>(input, step)),
        13 => drop(drive::<IocMetadataDecoder>(input, step)),
        14 => drop(drive::<UtcTimestampDecoder>(input, step)),
        15 => drop(drive::<AnalysisTagsDecoder>(input, step)),
        16 => drop(drive::<ChildTasksDecoder>(input, step)),
        17 => drop(drive::<ExportDecoder>(input, step)),
        18 => drop(drive::<ExportedReportsDecoder>(input, step)),
        19 => drop(drive::<IsRiskyDecoder>(input, step)),
        20 => drop(drive::<StringData>(input, step)),
        21 => drop(drive::<NoData>(input, step)),
        22 => drop(drive::<SubmitResultDecoder>(input, step)),
        23 => drop(drive::<ResultSummaryDecoder>(input, step)),
        _ => drive_raw(input, step),
    }
}

/// Streams a bare envelope body through a small unit buffer in reads of
/// `step` bytes; returns the entries seen, or None on error.
fn stream<D: DataDecoder + Default>(body: &[u8], step: usize) -> Option<usize> {
    let mut dec = EnvelopeDecoder::<D>::default();
    let mut units = UnitBuffer::<96>::default();
    let mut src = body.chunks(step.max(1));
    let mut items = 0usize;
    for _ in 0..(body.len() * 4 + 64) {
        match units.decode(&mut dec).ok()? {
            Progress::Item(_) => items += 1,
            Progress::Done => return dec.finish().ok().map(|_| items),
            // An envelope decoder reports no head.
            Progress::Head => panic!("an envelope decoder reported a head"),
            Progress::NeedMore => {
                let c = src.next()?;
                let mut c = c;
                while !c.is_empty() {
                    let n = units.push(c);
                    c = &c[n..];
                    if !c.is_empty() {
                        match units.decode(&mut dec).ok()? {
                            Progress::Item(_) => items += 1,
                            Progress::Done => return dec.finish().ok().map(|_| items),
                            Progress::Head => panic!("an envelope decoder reported a head"),
                            Progress::NeedMore => {}
                        }
                    }
                }
            }
        }
    }
    panic!("list stream did not finish");
}

/// The entries `decode_with` hands over for a whole body (its own path:
/// entries go to the callback from inside the decoder, which reads on).
fn whole<D: DataDecoder + Default>(body: &[u8]) -> Option<usize> {
    let mut items = 0usize;
    decode_with(D::default(), body, |_| {
        items += 1;
        Ok(())
    })
    .ok()
    .map(|_| items)
}

/// A body streamed in pieces of `step`, streamed whole, and decoded by
/// `decode_with`.
fn three<D: DataDecoder + Default>(body: &[u8], step: usize) -> [Option<usize>; 3] {
    [
        stream::<D>(body, step),
        stream::<D>(body, body.len() + 1),
        whole::<D>(body),
    ]
}

/// Target `list_stream`: completion lists streamed with fixed memory; the
/// entries seen must not depend on how the body was split, nor on whether
/// `decode_with` or the streaming decoder read it.
pub(crate) fn list_stream(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(sel >> 2) + 1;
    let counts = match sel & 3 {
        0 => three::<CompletedDecoder>(body, step),
        1 => three::<CompletedWithMetadataDecoder>(body, step),
        2 => three::<PendingDecoder>(body, step),
        _ => three::<ChildTasksDecoder>(body, step),
    };
    // One pass may fail where another cannot hold a unit (buffer too
    // small), and the streamed ones end at the envelope without reading
    // what trails it; successes agree.
    let ok: Vec<usize> = counts.iter().flatten().copied().collect();
    assert!(ok.windows(2).all(|w| w[0] == w[1]), "{counts:?}");
}

/// Target `multipart`: any field values and sample, any buffer size; the
/// bytes written equal the announced length, the sample appears whole.
pub(crate) fn multipart(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let buf_size = usize::from(data[0]) + 1;
    let split = usize::from(data[1]) % (data.len() - 2);
    let (fields, sample) = data[2..].split_at(split);
    let text = String::from_utf8_lossy(fields);
    let mut parts = text.split('\u{0}');
    let filename = parts.next();
    let host = parts.next();
    let pw: Vec<&str> = parts.collect();
    let candidates = PasswordCandidates::new(&pw).ok().filter(|_| !pw.is_empty());
    let req = SubmitFile {
        upload: Some(sample.len() as u64),
        filename,
        download_host: host,
        password_candidates: candidates,
        ..SubmitFile::default()
    };
    let creds = Credentials::new("k", Some("t")).unwrap();
    let cfg = ClientConfig::new("h", creds);
    let Ok(mut enc) = RequestEncoder::new(&req, &cfg, [data[0]; 16]) else {
        return;
    };
    let total = enc.total_len();
    let mut out = vec![0u8; buf_size];
    let mut written = 0u64;
    let mut wire = Vec::new();
    for _ in 0..(total as usize + 8) {
        match enc.poll(&mut out) {
            EncodeStep::Write(n) => {
                assert!(n > 0 && n <= buf_size);
                written += n as u64;
                wire.extend_from_slice(&out[..n]);
            }
            EncodeStep::SendFile { len } => {
                assert_eq!(len, sample.len() as u64);
                written += len;
                wire.extend_from_slice(sample);
                enc.file_sent();
            }
            EncodeStep::Done => {
                assert_eq!(written, total);
                let head_end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                assert_eq!((wire.len() - head_end) as u64, enc.content_length());
                return;
            }
        }
    }
    panic!("encoder did not finish");
}

/// The exchange machine against arbitrary server bytes in arbitrary read
/// sizes: byte 0 picks the mode (bit 0 a download, bit 1 a session, bit 2
/// body-field credentials, bit 3 an upload), byte 1 the read size, byte 2
/// how often a read fails; the rest is what each connection answers,
/// connections separated by `FE ED FA CE`. Every run must end within the
/// retry budget, and no credential may be written to another origin.
/// With bit 5, a second call (`ping`) follows on the same link: bytes of
/// a connection after `FE ED 1A 7E` arrive only once the first exchange
/// ended (a late answer), and the driver, as lastline-ureq's does, drops
/// a kept-alive connection with unread bytes before reusing it.
pub(crate) fn exchange(data: &[u8]) {
    use lastline_core::exchange::{
        AuthMode, Drive, Driven, Exchange, Link, Origin, Settings, Step,
    };
    use lastline_core::request::{GetExportedReport, Ping};
    use lastline_core::types::Uuid;
    use lastline_core::Transport;

    let (mode, chunk, fail_every) = match data {
        [m, c, f, ..] => (*m, usize::from(*c).max(1), usize::from(*f)),
        _ => return,
    };
    let body = data.get(3..).unwrap_or(&[]);
    let mut segments: std::collections::VecDeque<&[u8]> = Default::default();
    let mut rest = body;
    while let Some(i) = rest.windows(4).position(|w| w == [0xFE, 0xED, 0xFA, 0xCE]) {
        segments.push_back(&rest[..i]);
        rest = &rest[i + 4..];
    }
    segments.push_back(rest);
    let server = Origin {
        https: false,
        host: "127.0.0.1",
        port: 8642,
    };
    let mut settings = Settings::new(
        server,
        Credentials::new("fuzz-key", Some("fuzz-token")).unwrap(),
    );
    settings.auth = match (mode & 2 != 0, mode & 4 != 0) {
        (true, _) => AuthMode::Session,
        (false, true) => AuthMode::BodyFields,
        _ => AuthMode::Basic,
    };
    let mut link = Link::new();
    let mut buf = vec![0u8; 2048];
    let sample = b"8 bytes!";
    let upload = SubmitFile {
        upload: Some(sample.len() as u64),
        ..SubmitFile::default()
    };
    let export = GetExportedReport {
        exported_report_uuid: Uuid::parse("0123456789abcdef0123456789abcdef").unwrap(),
        cdn: None,
    };
    let mut none = |_| {};
    // The open connection: to another origin, its bytes now, its late bytes.
    // (Copy, in a Cell: the driving closure and the code between calls
    // both reach it.)
    let conn: std::cell::Cell<Option<(bool, &[u8], &[u8])>> = Default::default();
    let late_marker = [0xFE, 0xED, 0x1A, 0x7E];
    let mut drive_it = |ex: &mut dyn Drive| {
        let (mut now, mut reads) = (0u64, 0usize);
        for _ in 0..200_000 {
            match ex.poll(now, (now as u32).wrapping_mul(2_654_435_761)) {
                Step::Connect(o) => {
                    let other = !o.same_as(&server);
                    conn.set(segments.pop_front().map(|s| {
                        match s.windows(4).position(|w| w == late_marker) {
                            Some(i) => (other, &s[..i], &s[i + 4..]),
                            None => (other, s, &s[s.len()..]),
                        }
                    }));
                    if conn.get().is_none() {
                        ex.failed(Transport::Connect);
                    }
                }
                Step::Write(bytes) => {
                    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
                    if conn.get().is_some_and(|(other, _, _)| other) {
                        assert!(
                            !text.contains("authorization:")
                                && !text.contains("cookie:")
                                && !text.contains("fuzz-key")
                                && !text.contains("fuzz-token"),
                            "credentials to another origin: {text}"
                        );
                    }
                }
                Step::SendSample { len, .. } => assert_eq!(len, sample.len() as u64),
                Step::Read(space) => {
                    reads += 1;
                    if fail_every > 0 && reads % fail_every == 0 {
                        ex.failed(Transport::Closed);
                        continue;
                    }
                    let Some((other, seg, late)) = conn.get() else {
                        ex.failed(Transport::Closed);
                        continue;
                    };
                    let n = space.len().min(chunk).min(seg.len());
                    space[..n].copy_from_slice(&seg[..n]);
                    conn.set(Some((other, &seg[n..], late)));
                    ex.received(n);
                }
                Step::Sleep { until_ms } => {
                    assert!(until_ms > now);
                    now = until_ms;
                }
                Step::Item(never) => match never {},
                Step::Data(_) | Step::Event(_) => {}
                Step::RestartSink => {
                    if mode & 16 != 0 {
                        ex.cannot_restart();
                    }
                }
                Step::Done(_) => return,
            }
        }
        panic!("the exchange did not end");
    };
    if mode & 1 != 0 {
        let ex = Exchange::<_, NoData, 0>::download(&export, &settings, &mut link, &mut buf);
        drive_it(&mut Driven::new(ex, &mut none));
    } else if mode & 8 != 0 {
        let ex = Exchange::<_, SubmitDecoder, 256>::call(&upload, &settings, &mut link, &mut buf);
        drive_it(&mut Driven::new(ex, &mut none));
    } else {
        let ex = Exchange::<_, StringData, 64>::call(&Ping, &settings, &mut link, &mut buf);
        drive_it(&mut Driven::new(ex, &mut none));
    }
    if mode & 32 == 0 {
        return;
    }
    if !link.connection_open() {
        conn.set(None);
    }
    // The late bytes arrive; the driver's idle check before reuse.
    if let Some((_, now_bytes, late)) = conn.get() {
        if !now_bytes.is_empty() || !late.is_empty() {
            link.disconnected();
            conn.set(None);
        }
    }
    let ex = Exchange::<_, StringData, 64>::call(&Ping, &settings, &mut link, &mut buf);
    drive_it(&mut Driven::new(ex, &mut none));
}
