//! Every one of the 29 methods called by number through the C functions
//! (`ll_exchange_call`, parameters as text), against the emulator over
//! std sockets; hash-first and the completion cursor through theirs. The
//! emulator's log proves each method reached it.

use std::ffi::{CStr, CString};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use lastline_emulator::{Config, Emulator, EICAR};
use lastline_ffi::*;
use serde_json::Value;

/// One exchange handle and its connection, driven by a blocking loop.
struct Driver {
    ex: Box<std::mem::MaybeUninit<ll_exchange>>,
    api: SocketAddr,
    conn: Option<TcpStream>,
    start: Instant,
}

/// What an operation gave: its DONE step, its entries, its download.
struct Outcome {
    done: ll_step,
    answer: Vec<u8>,
    entries: Vec<(String, Value)>,
    tasks: Vec<(String, Option<i32>)>,
    data: Vec<u8>,
}

impl Driver {
    fn new(emu: &Emulator) -> Self {
        let (key, token) = emu.credentials();
        let (key, token) = (CString::new(key).unwrap(), CString::new(token).unwrap());
        let mut d = Driver {
            ex: Box::new(std::mem::MaybeUninit::uninit()),
            api: emu.addr(),
            conn: None,
            start: Instant::now(),
        };
        let cfg = ll_config {
            host: c"127.0.0.1".as_ptr(),
            port: emu.addr().port(),
            tls: 0,
            key: key.as_ptr(),
            token: token.as_ptr(),
            auth: LL_AUTH_SESSION,
            base_path: std::ptr::null(),
            user_agent: std::ptr::null(),
            seed: 99,
            max_attempts: 0,
        };
        // SAFETY: the handle's storage is boxed (it never moves) and of its size.
        let r = unsafe { ll_exchange_init(d.ex.as_mut_ptr(), size_of::<ll_exchange>(), &cfg) };
        assert_eq!(r, LL_OK);
        d
    }

    fn ex(&mut self) -> *mut ll_exchange {
        self.ex.as_mut_ptr()
    }

    /// Drives the started operation to DONE; `sample` answers SEND_SAMPLE.
    fn run(&mut self, sample: &[u8]) -> Outcome {
        let mut out = Outcome {
            // SAFETY: a plain C struct; all zeros is valid.
            done: unsafe { std::mem::zeroed() },
            answer: vec![],
            entries: vec![],
            tasks: vec![],
            data: vec![],
        };
        // SAFETY: a plain C struct; all zeros is valid.
        let mut st: ll_step = unsafe { std::mem::zeroed() };
        loop {
            let now = self.start.elapsed().as_millis() as u64;
            let ex = self.ex();
            // SAFETY: a live handle; the step's pointers are used before
            // the next call on it.
            unsafe {
                assert_eq!(ll_exchange_next(ex, now, &mut st), LL_OK);
                match st.kind {
                    LL_STEP_CONNECT => {
                        let host = CStr::from_ptr(st.host).to_str().unwrap();
                        // Other origins (the CDN, a datacenter) are the
                        // emulator's own listeners on loopback.
                        let addr: SocketAddr =
                            format!("{host}:{}", st.port).parse().unwrap_or(self.api);
                        match TcpStream::connect(addr) {
                            Ok(c) => {
                                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                                self.conn = Some(c);
                            }
                            Err(_) => {
                                assert_eq!(ll_exchange_failed(ex, LL_TRANSPORT_CONNECT), LL_OK)
                            }
                        }
                    }
                    LL_STEP_WRITE | LL_STEP_SEND_SAMPLE => {
                        let bytes = if st.kind == LL_STEP_WRITE {
                            std::slice::from_raw_parts(st.data, st.data_len)
                        } else {
                            let at = st.sample_offset as usize;
                            &sample[at..at + st.sample_len as usize]
                        };
                        match self.conn.as_mut().unwrap().write(bytes) {
                            Ok(n) => assert_eq!(ll_exchange_wrote(ex, n), LL_OK),
                            Err(_) => assert_eq!(ll_exchange_failed(ex, LL_TRANSPORT_IO), LL_OK),
                        }
                    }
                    LL_STEP_READ => {
                        let space = std::slice::from_raw_parts_mut(st.space, st.space_len);
                        match self.conn.as_mut().unwrap().read(space) {
                            Ok(n) => assert_eq!(ll_exchange_read(ex, n), LL_OK),
                            Err(_) => {
                                assert_eq!(ll_exchange_failed(ex, LL_TRANSPORT_CLOSED), LL_OK)
                            }
                        }
                    }
                    LL_STEP_SLEEP => {
                        std::thread::sleep(Duration::from_millis(st.until_ms.saturating_sub(now)))
                    }
                    LL_STEP_ENTRY if st.data.is_null() => {
                        let uuid = CStr::from_ptr(st.task_uuid.as_ptr()).to_str().unwrap();
                        out.tasks
                            .push((uuid.to_string(), (st.has_score == 1).then_some(st.score)));
                    }
                    LL_STEP_ENTRY => {
                        let name = std::slice::from_raw_parts(st.name, st.name_len);
                        let json = std::slice::from_raw_parts(st.data, st.data_len);
                        out.entries.push((
                            String::from_utf8(name.to_vec()).unwrap(),
                            serde_json::from_slice(json).unwrap(),
                        ));
                    }
                    LL_STEP_DATA => out
                        .data
                        .extend_from_slice(std::slice::from_raw_parts(st.data, st.data_len)),
                    LL_STEP_RESTART => out.data.clear(),
                    LL_STEP_EVENT => {}
                    LL_STEP_DONE => {
                        if !st.data.is_null() {
                            out.answer = std::slice::from_raw_parts(st.data, st.data_len).to_vec();
                        }
                        if st.keep_connection == 0 {
                            self.conn = None;
                        }
                        out.done = st;
                        return out;
                    }
                    other => panic!("step {other}"),
                }
            }
        }
    }

    /// Calls `method` with `params`; the answer's data as JSON (or the
    /// download's bytes in `data`). Panics on a failure.
    fn call(&mut self, method: u32, params: &[(&str, &str)], format: u32) -> Outcome {
        let out = self.try_call(method, params, format);
        if out.done.result != LL_OK {
            let mut text = [0 as std::ffi::c_char; 1024];
            let ex = self.ex();
            // SAFETY: a live handle and a buffer of its length.
            unsafe {
                ll_exchange_error_text(ex, text.as_mut_ptr(), text.len(), std::ptr::null_mut())
            };
            // SAFETY: NUL-terminated by the call.
            let text = unsafe { CStr::from_ptr(text.as_ptr()) };
            panic!("method {method} failed: {text:?}");
        }
        out
    }

    /// As [`Self::call`], a failure returned in `done.result`.
    fn try_call(&mut self, method: u32, params: &[(&str, &str)], format: u32) -> Outcome {
        let owned: Vec<(CString, CString)> = params
            .iter()
            .map(|(n, v)| (CString::new(*n).unwrap(), CString::new(*v).unwrap()))
            .collect();
        let list: Vec<ll_param> = owned
            .iter()
            .map(|(n, v)| ll_param {
                name: n.as_ptr(),
                value: v.as_ptr(),
            })
            .collect();
        let ex = self.ex();
        // SAFETY: a live handle; the parameters outlive the call (they are
        // copied by it).
        let r = unsafe { ll_exchange_call(ex, method, list.as_ptr(), list.len(), format) };
        assert_eq!(r, LL_OK, "starting method {method}");
        self.run(&[])
    }
}

fn json(o: &Outcome) -> Value {
    serde_json::from_slice(&o.answer).unwrap()
}

#[test]
fn every_method_by_number_hash_first_and_the_cursor() {
    let emu = Emulator::start(Config::default()).unwrap();
    let mut d = Driver::new(&emu);
    let ex = d.ex();

    // Hash-first through its own entry point: uploaded on 101.
    let mut sample = b"captured by C: ".to_vec();
    sample.extend_from_slice(EICAR);
    let mut h = std::mem::MaybeUninit::<ll_hasher>::uninit();
    let mut digests = ll_digests::default();
    // SAFETY: local storage of the handle's size; buffers of their lengths.
    unsafe {
        assert_eq!(
            ll_hasher_init(h.as_mut_ptr(), size_of::<ll_hasher>()),
            LL_OK
        );
        assert_eq!(
            ll_hasher_update(h.as_mut_ptr(), sample.as_ptr(), sample.len()),
            LL_OK
        );
        assert_eq!(ll_hasher_finish(h.as_mut_ptr(), &mut digests), LL_OK);
        assert_eq!(
            ll_exchange_submit(
                ex,
                &digests,
                [ll_param {
                    name: c"filename".as_ptr(),
                    value: c"sample.bin".as_ptr()
                }]
                .as_ptr(),
                1
            ),
            LL_OK
        );
    }
    let submitted = d.run(&sample);
    assert_eq!(submitted.done.result, LL_OK);
    assert_eq!(submitted.done.uploaded, 1);
    // SAFETY: NUL-terminated by the library.
    let task = unsafe { CStr::from_ptr(submitted.done.task_uuid.as_ptr()) }
        .to_str()
        .unwrap()
        .to_string();

    // The cursor: the task once, with its score.
    let mut cursor = std::mem::MaybeUninit::<ll_cursor>::uninit();
    // SAFETY: local storage of the handle's size.
    unsafe {
        assert_eq!(
            ll_cursor_init(cursor.as_mut_ptr(), size_of::<ll_cursor>(), 0),
            LL_OK
        );
        assert_eq!(ll_exchange_completed(ex, cursor.as_mut_ptr(), 0), LL_OK);
    }
    let page = d.run(&[]);
    assert_eq!(page.done.result, LL_OK);
    assert!(
        page.tasks.contains(&(task.clone(), Some(100))),
        "{:?}",
        page.tasks
    );
    // SAFETY: as above.
    unsafe { assert_eq!(ll_exchange_completed(ex, cursor.as_mut_ptr(), 0), LL_OK) };
    assert!(d.run(&[]).tasks.is_empty());

    // Every method, by number, parameters as text.
    let t = task.as_str();
    assert_eq!(json(&d.call(LL_METHOD_PING, &[], LL_FORMAT_JSON)), "pong");
    d.call(LL_METHOD_LOGIN, &[], LL_FORMAT_JSON);
    d.call(
        LL_METHOD_SUBMIT_FILE,
        &[("md5", &hex(&digests.md5))],
        LL_FORMAT_JSON,
    );
    let url = json(&d.call(
        LL_METHOD_SUBMIT_URL,
        &[("url", "http://files.example/setup.exe")],
        LL_FORMAT_JSON,
    ));
    let url_task = url["task_uuid"].as_str().unwrap().to_string();
    let after = [("after", "1970-01-01 00:00:00")];
    let completed = d.call(LL_METHOD_GET_COMPLETED, &after, LL_FORMAT_JSON);
    assert!(
        completed
            .entries
            .iter()
            .any(|(m, v)| m == "tasks" && v == t),
        "{:?}",
        completed.entries
    );
    d.call(
        LL_METHOD_GET_COMPLETED_WITH_METADATA,
        &after,
        LL_FORMAT_JSON,
    );
    d.call(LL_METHOD_GET_PENDING, &[], LL_FORMAT_JSON);
    let uuid = [("uuid", t)];
    assert_eq!(
        json(&d.call(LL_METHOD_GET_PROGRESS, &uuid, LL_FORMAT_JSON))["completed"],
        1
    );
    assert_eq!(
        json(&d.call(LL_METHOD_GET_RESULT, &uuid, LL_FORMAT_JSON))["score"],
        100
    );
    let results = d.call(
        LL_METHOD_GET_RESULTS,
        &[("uuid", t), ("full_report_score", "-1")],
        LL_FORMAT_JSON,
    );
    let report = results
        .entries
        .iter()
        .find_map(|(_, v)| v["report_uuid"].as_str())
        .expect("a report")
        .to_string();
    // The whole report is larger than a unit: an error, never a cut; as
    // XML it comes whole, as download bytes.
    let whole = [("uuid", t), ("full_report_score", "0")];
    let too_large = d.try_call(LL_METHOD_GET_RESULTS, &whole, LL_FORMAT_JSON);
    assert_eq!(too_large.done.result, LL_ERR_CAPACITY);
    let xml = d.call(LL_METHOD_GET_RESULTS, &whole, LL_FORMAT_XML);
    assert!(xml.data.len() > 1024 && xml.data.starts_with(b"<?xml"));
    let pdf = d.call(LL_METHOD_GET_RESULTS, &uuid, LL_FORMAT_PDF);
    assert!(pdf.data.starts_with(b"%PDF"));
    d.call(LL_METHOD_GET_TASK_METADATA, &uuid, LL_FORMAT_JSON);
    d.call(LL_METHOD_GET_RESULT_ACTIVITIES, &uuid, LL_FORMAT_JSON);
    d.call(
        LL_METHOD_GET_REPORT_ACTIVITIES,
        &[("uuid", t), ("report_uuid", &report)],
        LL_FORMAT_JSON,
    );
    d.call(LL_METHOD_GET_ANALYSIS_TAGS, &uuid, LL_FORMAT_JSON);
    d.call(LL_METHOD_GET_NETWORK_IOCS, &uuid, LL_FORMAT_JSON);
    let children = d.call(
        LL_METHOD_GET_CHILD_TASKS_RECURSIVELY,
        &[("uuid", &url_task)],
        LL_FORMAT_JSON,
    );
    assert_eq!(children.entries.len(), 1);
    let hash = [
        ("hash_value", hex(&digests.md5)),
        ("hash_algorithm", "md5".into()),
    ];
    let hash: Vec<(&str, &str)> = hash.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let found = d.call(LL_METHOD_QUERY_FILE_HASH, &hash, LL_FORMAT_JSON);
    assert_eq!(json(&found)["files_found"], 1);
    d.call(LL_METHOD_IS_BLOCKED_FILE_HASH, &hash, LL_FORMAT_JSON);
    let artifact = format!("{report}:primary_analysis_subject");
    d.call(
        LL_METHOD_IS_RISKY_ANALYSIS_ARTIFACT,
        &[("artifact_uuid", &artifact), ("uuid", t)],
        LL_FORMAT_JSON,
    );
    d.call(
        LL_METHOD_QUERY_TASK_ARTIFACT,
        &[("uuid", t), ("artifact_name", "primary_analysis_subject")],
        LL_FORMAT_JSON,
    );
    let bytes = d.call(
        LL_METHOD_GET_RESULT_ARTIFACT,
        &[("uuid", t), ("artifact_uuid", &artifact)],
        LL_FORMAT_JSON,
    );
    assert_eq!(bytes.data, sample);
    let bytes = d.call(
        LL_METHOD_GET_REPORT_ARTIFACT,
        &[
            ("uuid", t),
            ("report_uuid", &report),
            ("artifact_name", "primary_analysis_subject"),
        ],
        LL_FORMAT_JSON,
    );
    assert_eq!(bytes.data, sample);
    let ioc = json(&d.call(
        LL_METHOD_CREATE_IOC_FROM_RESULT,
        &[
            ("uuid", t),
            ("report_version", "ioc:openioc"),
            ("report_uuid", &report),
        ],
        LL_FORMAT_JSON,
    ));
    let ioc = ioc["ioc_uuid"].as_str().unwrap().to_string();
    d.call(
        LL_METHOD_GET_IOC_METADATA,
        &[("ioc_uuid", &ioc)],
        LL_FORMAT_JSON,
    );
    let doc = d.call(
        LL_METHOD_GET_IOC_REPORT,
        &[("ioc_uuid", &ioc)],
        LL_FORMAT_JSON,
    );
    assert!(doc.data.starts_with(b"<?xml"));
    let export = json(&d.call(
        LL_METHOD_EXPORT_REPORT,
        &[("uuid", t), ("report_type", "full")],
        LL_FORMAT_JSON,
    ));
    let export = export["exported_report_uuid"].as_str().unwrap().to_string();
    let ready = d.call(
        LL_METHOD_GET_COMPLETED_EXPORTED_REPORTS,
        &[],
        LL_FORMAT_JSON,
    );
    assert!(ready
        .entries
        .iter()
        .any(|(_, v)| v["exported_report_uuid"] == export.as_str()));
    let pdf = d.call(
        LL_METHOD_GET_EXPORTED_REPORT,
        &[("exported_report_uuid", &export)],
        LL_FORMAT_JSON,
    );
    assert!(pdf.data.starts_with(b"%PDF"));
    d.call(LL_METHOD_GET_API_UTC_TIMESTAMP, &[], LL_FORMAT_JSON);
    // XML, handed over as bytes.
    let xml = d.call(LL_METHOD_GET_PROGRESS, &uuid, LL_FORMAT_XML);
    assert!(
        xml.data.starts_with(b"<?xml"),
        "{:?}",
        String::from_utf8_lossy(&xml.data)
    );

    let called = emu.log().methods_called();
    let mut all = lastline_emulator::method_names();
    all.sort();
    assert_eq!(called, all);
    assert_eq!(all.len(), LL_METHOD_COUNT as usize);
    // SAFETY: live handles.
    unsafe {
        assert_eq!(ll_cursor_drop(cursor.as_mut_ptr()), LL_OK);
        assert_eq!(ll_exchange_drop(ex), LL_OK);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
