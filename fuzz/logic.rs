//! What each fuzz target does, shared with `core/tests/fuzz_replay.rs`,
//! which replays the corpora on stable so regressions fail CI.
//!
//! Each function takes arbitrary bytes and must neither panic nor hang;
//! where it can, it also checks an invariant.
#![allow(dead_code, clippy::result_large_err, clippy::type_complexity)]

use lastline_core::envelope::{DataDecoder, EnvelopeDecoder, Step, UnitBuffer};
use lastline_core::http::{
    ClientConfig, EncodeStep, RequestEncoder, ResponseHead, CAPTURE_CAPACITY,
};
use lastline_core::request::SubmitFile;
use lastline_core::response::{EnvelopeResponse, Progress, RawEvent, RawResponse};
use lastline_core::responses::*;
use lastline_core::types::PasswordCandidates;
use lastline_core::Credentials;

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
        let head = matches!(ev, RawEvent::Head);
        let done = matches!(ev, RawEvent::Done);
        let need = matches!(ev, RawEvent::NeedMore);
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

/// Target `response`: HTTP head + framing + every envelope type.
pub fn response(data: &[u8]) {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
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
            Step::Item(_) => items += 1,
            Step::Done => return dec.finish().ok().map(|_| items),
            Step::NeedMore => {
                let c = src.next()?;
                let mut c = c;
                while !c.is_empty() {
                    let n = units.push(c);
                    c = &c[n..];
                    if !c.is_empty() {
                        match units.decode(&mut dec).ok()? {
                            Step::Item(_) => items += 1,
                            Step::Done => return dec.finish().ok().map(|_| items),
                            Step::NeedMore => {}
                        }
                    }
                }
            }
        }
    }
    panic!("list stream did not finish");
}

/// Target `list_stream`: completion lists streamed with fixed memory; the
/// entries seen must not depend on how the body was split.
pub fn list_stream(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(sel >> 2) + 1;
    let (a, b) = match sel & 3 {
        0 => (
            stream::<CompletedDecoder>(body, step),
            stream::<CompletedDecoder>(body, body.len() + 1),
        ),
        1 => (
            stream::<CompletedWithMetadataDecoder>(body, step),
            stream::<CompletedWithMetadataDecoder>(body, body.len() + 1),
        ),
        2 => (
            stream::<PendingDecoder>(body, step),
            stream::<PendingDecoder>(body, body.len() + 1),
        ),
        _ => (
            stream::<ChildTasksDecoder>(body, step),
            stream::<ChildTasksDecoder>(body, body.len() + 1),
        ),
    };
    // A whole-body pass may fail where a split one cannot hold a unit
    // (buffer too small) and vice versa only by that error; successes agree.
    if let (Some(a), Some(b)) = (a, b) {
        assert_eq!(a, b);
    }
}

/// Target `multipart`: any field values and sample, any buffer size; the
/// bytes written equal the announced length, the sample appears whole.
pub fn multipart(data: &[u8]) {
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
