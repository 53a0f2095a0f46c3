//! Scenarios both transports' host tests run against the emulator (the
//! std transport's tests include this file too), so their results can be
//! compared.

/// Retries fast enough for tests.
pub(crate) fn fast_retry() -> lastline_core::workflow::RetryPolicy {
    lastline_core::workflow::RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 5,
        max_delay_ms: 20,
        deadline_ms: 5_000,
    }
}

/// Asserts the emulator's log shows every one of the 29 methods.
pub(crate) fn assert_every_method_called(emu: &lastline_emulator::Emulator) {
    let called = emu.log().methods_called();
    let mut all = lastline_emulator::method_names();
    all.sort();
    assert_eq!(called, all);
    assert_eq!(all.len(), lastline_core::request::METHODS.len());
}

/// Debug output with timestamps blanked (two emulators' clocks differ).
pub(crate) fn norm(s: String) -> String {
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("Timestamp(") {
        out.push_str(&rest[..i + 10]);
        rest = &rest[i + 10..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.push('_');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Downloads `$req` with the embedded client `$c` into a vector.
#[macro_export]
macro_rules! dl_embedded {
    ($c:expr, $req:expr) => {{
        let mut v = Vec::new();
        $c.download($req, &mut |d: &[u8]| {
            v.extend_from_slice(d);
            Ok(())
        })
        .map(|_| v)
    }};
}

/// Every one of the 29 methods through a client; returns what each gave
/// (Debug, timestamps blanked). `$submit` submits the sample hash-first.
#[macro_export]
macro_rules! every_method {
    ($c:expr, $download:ident, $submit:expr, $sample:expr) => {{
        use lastline_core::request::*;
        use lastline_core::types::{AnyDigest, ArtifactId, ReportType, Timestamp, Url, Uuid};
        use lastline_core::ErrorCode;
        let c = &mut $c;
        let sample: &[u8] = $sample;
        let mut seen: Vec<String> = Vec::new();
        let mut log =
            |name: &str, v: String| seen.push($crate::scenarios::norm(format!("{name}: {v}")));
        log("ping", format!("{:?}", c.call(&Ping, |_| {}).unwrap()));
        log("login", format!("{:?}", c.call(&Login, |_| {}).is_ok()));
        let first = $submit(&mut *c);
        let task = first.submission.task_uuid;
        log("submit_file", format!("{:?}", first));
        let url = c
            .call(
                &SubmitUrl::new(Url::parse("http://files.example/setup.exe").unwrap()),
                |_| {},
            )
            .unwrap();
        log("submit_url", format!("{url:?}"));
        let mut items = vec![];
        let page = c
            .call(
                &GetCompleted {
                    after: Timestamp::from_unix(0).unwrap(),
                    before: None,
                    include_score: Some(true),
                },
                |t| items.push(t),
            )
            .unwrap();
        log("get_completed", format!("{page:?} {items:?}"));
        let mut items = vec![];
        let page = c
            .call(
                &GetCompletedWithMetadata {
                    after: Timestamp::from_unix(0).unwrap(),
                    before: None,
                },
                |t| items.push(format!("{t:?}")),
            )
            .unwrap();
        log("get_completed_with_metadata", format!("{page:?} {items:?}"));
        let mut items = vec![];
        log(
            "get_pending",
            format!(
                "{:?}",
                c.call(&GetPending::default(), |t| items.push(t)).unwrap()
            ),
        );
        log(
            "get_progress",
            format!("{:?}", c.call(&GetProgress::new(task), |_| {}).unwrap()),
        );
        log(
            "get_result",
            format!("{:?}", c.call(&GetResult::new(task), |_| {}).unwrap()),
        );
        let mut items = vec![];
        let results = c
            .call(
                &GetResults {
                    full_report_score: Some(0),
                    ..GetResults::new(task)
                },
                |i| items.push(format!("{i:?}")),
            )
            .unwrap();
        log("get_results", format!("{results:?} {items:?}"));
        let report: Uuid = items
            .iter()
            .find_map(|i| {
                i.split("report_uuid: Uuid(")
                    .nth(1)
                    .map(|r| r[..32].to_string())
            })
            .map(|hex| Uuid::parse(&hex).unwrap())
            .expect("a report");
        let pdf = $download!(
            c,
            &GetResults {
                format: ResultsFormat::Pdf,
                ..GetResults::new(task)
            }
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        log("get_results pdf", format!("{}", pdf.len()));
        log(
            "get_task_metadata",
            format!("{:?}", c.call(&GetTaskMetadata::new(task), |_| {}).unwrap()),
        );
        let mut items = vec![];
        c.call(&GetResultActivities::new(task), |i| {
            items.push(format!("{i:?}"))
        })
        .unwrap();
        log("get_result_activities", format!("{items:?}"));
        let mut items = vec![];
        c.call(
            &GetReportActivities {
                uuid: task,
                report_uuid: report,
                allow_datacenter_redirect: None,
            },
            |i| items.push(format!("{i:?}")),
        )
        .unwrap();
        log("get_report_activities", format!("{items:?}"));
        let mut items = vec![];
        c.call(&GetAnalysisTags::new(task), |i| {
            items.push(format!("{i:?}"))
        })
        .unwrap();
        log("get_analysis_tags", format!("{items:?}"));
        let mut items = vec![];
        c.call(&GetNetworkIocs::new(task), |i| items.push(format!("{i:?}")))
            .unwrap();
        log("get_network_iocs", format!("{items:?}"));
        let mut items = vec![];
        c.call(&GetChildTasksRecursively::new(url.task_uuid), |i| {
            items.push(format!("{i:?}"))
        })
        .unwrap();
        assert_eq!(items.len(), 1);
        log("get_child_tasks_recursively", format!("{items:?}"));
        let md5 = lastline_core::hashing::digest(lastline_core::hashing::Algorithms::ALL, sample)
            .md5
            .unwrap();
        let hash = AnyDigest::Md5(md5);
        let mut items = vec![];
        let q = c
            .call(
                &QueryFileHash {
                    hash,
                    hash_block_size: None,
                },
                |i| items.push(format!("{i:?}")),
            )
            .unwrap();
        assert_eq!(q.files_found, 1);
        log("query_file_hash", format!("{q:?} {items:?}"));
        log(
            "is_blocked_file_hash",
            format!(
                "{:?}",
                c.call(
                    &IsBlockedFileHash {
                        hash,
                        hash_block_size: None
                    },
                    |_| {}
                )
                .unwrap()
            ),
        );
        let art_name = format!("{report}:primary_analysis_subject");
        let art = ArtifactId::parse(&art_name).unwrap();
        log(
            "is_risky_analysis_artifact",
            format!(
                "{:?}",
                c.call(
                    &IsRiskyAnalysisArtifact {
                        artifact_uuid: art,
                        uuid: Some(task),
                        allow_datacenter_redirect: None
                    },
                    |_| {}
                )
                .unwrap()
            ),
        );
        log(
            "query_task_artifact",
            format!(
                "{:?}",
                c.call(
                    &QueryTaskArtifact {
                        uuid: task,
                        artifact_name: "primary_analysis_subject",
                        allow_datacenter_redirect: None
                    },
                    |_| {}
                )
                .unwrap()
            ),
        );
        let bytes = $download!(
            c,
            &GetResultArtifact {
                uuid: task,
                artifact_uuid: art,
                password_protected: None,
                allow_datacenter_redirect: None
            }
        )
        .unwrap();
        assert_eq!(bytes, sample);
        let bytes = $download!(
            c,
            &GetReportArtifact {
                uuid: task,
                report_uuid: report,
                artifact_name: "primary_analysis_subject",
                password_protected: None,
                allow_datacenter_redirect: None
            }
        )
        .unwrap();
        assert_eq!(bytes, sample);
        log("artifacts", format!("{}", bytes.len()));
        let ioc = c
            .call(
                &CreateIocFromResult {
                    uuid: task,
                    report_version: "ioc:openioc",
                    report_uuid: report,
                    allow_datacenter_redirect: None,
                },
                |_| {},
            )
            .unwrap();
        log("create_ioc_from_result", format!("{ioc:?}"));
        let ioc_uuid = ioc.ioc_uuid.unwrap();
        log(
            "get_ioc_metadata",
            format!(
                "{:?}",
                c.call(
                    &GetIocMetadata {
                        ioc_uuid,
                        allow_datacenter_redirect: None
                    },
                    |_| {}
                )
                .unwrap()
            ),
        );
        let doc = $download!(c, &GetIocReport { ioc_uuid }).unwrap();
        assert!(doc.starts_with(b"<?xml"));
        log("get_ioc_report", format!("{}", doc.len()));
        let export = c
            .call(
                &ExportReport {
                    uuid: task,
                    report_type: ReportType::Full,
                    report_format: None,
                },
                |_| {},
            )
            .unwrap();
        log("export_report", format!("{export:?}"));
        let mut ready = vec![];
        c.call(&GetCompletedExportedReports::default(), |r| {
            ready.push(r.exported_report_uuid)
        })
        .unwrap();
        assert!(ready.contains(&export.exported_report_uuid));
        log("get_completed_exported_reports", format!("{ready:?}"));
        let pdf = $download!(
            c,
            &GetExportedReport {
                exported_report_uuid: export.exported_report_uuid,
                cdn: None
            }
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        log("get_exported_report", format!("{}", pdf.len()));
        let utc = c.call(&GetApiUtcTimestamp, |_| {}).unwrap();
        log("get_api_utc_timestamp", format!("{utc:?}"));
        // An API error and a documented raw-download status.
        let e = c
            .call(&GetResult::new(Uuid::from_bytes([1; 16])), |_| {})
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ErrorCode::InvalidUuid));
        let missing_name = format!("{report}:no_such_artifact");
        let missing = ArtifactId::parse(&missing_name).unwrap();
        let e = $download!(
            c,
            &GetResultArtifact {
                uuid: task,
                artifact_uuid: missing,
                password_protected: None,
                allow_datacenter_redirect: None
            }
        )
        .unwrap_err();
        log("errors", format!("{:?}", e.to_string().contains("404")));
        seen
    }};
}

/// The emulator's fault matrix through a client with `call`: each fault
/// ends in success or the right error. `$submit(client, bytes)` submits
/// hash-first; `$is_413(&error)` recognises an upload over the limit.
#[macro_export]
macro_rules! fault_matrix {
    ($emu:expr, $c:expr, $submit:expr, $is_413:expr) => {{
        use lastline_core::request::{GetApiUtcTimestamp, Ping};
        let emu = &$emu;
        let c = &mut $c;
        emu.faults().set(|f| f.unavailable_next = 2);
        assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
        emu.faults().set(|f| f.http_503_next = 2);
        assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
        emu.faults().set(|f| f.reset_next = 1);
        assert!(c.call(&GetApiUtcTimestamp, |_| {}).is_ok());
        // The answer to the hash submission cut off: asked again.
        emu.faults().set(|f| f.reset_next = 1);
        assert!($submit(&mut *c, vec![6u8; 1000]).unwrap().uploaded);
        // A reset in the middle of an upload: the upload is sent again.
        emu.faults().set(|f| f.reset_upload_next = 1);
        assert!($submit(&mut *c, vec![7u8; 300_000]).unwrap().uploaded);
        let log = emu.log().entries();
        let broken = log
            .iter()
            .position(|e| e.status == 0)
            .expect("an upload was broken off");
        assert!(log[broken + 1..].iter().any(|e| e.status == 200
            && e.parts
                .iter()
                .any(|p| p.name == "file" && p.size == 300_000)));
        emu.faults().set(|f| {
            f.chunked = true;
            f.connection_close = true;
            f.dribble = Some((7, std::time::Duration::from_millis(1)));
        });
        for _ in 0..3 {
            assert_eq!(c.call(&Ping, |_| {}).unwrap().as_str(), "pong");
        }
        emu.faults().set(|f| *f = Default::default());
        // Too many 107s: the schedule gives up with the API's error.
        emu.faults().set(|f| f.unavailable_next = 50);
        let e = c.call(&Ping, |_| {}).unwrap_err();
        assert_eq!(
            e.api_code(),
            Some(lastline_core::ErrorCode::TemporarilyUnavailable)
        );
        emu.faults().set(|f| f.unavailable_next = 0);
        // 413 for an upload over the limit is final, not retried.
        emu.configure(|cfg| cfg.upload_limit = 10);
        emu.forget_files();
        let e = $submit(&mut *c, vec![b'z'; 5000]).unwrap_err();
        assert!($is_413(&e), "{e:?}");
        emu.configure(|cfg| cfg.upload_limit = 10 << 20);
    }};
}
