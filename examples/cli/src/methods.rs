//! One subcommand for each of the 29 methods, named as in the reference
//! (`get_progress` → `lastline get-progress`).

use std::path::PathBuf;

use clap::Subcommand;
use lastline_core::request::*;
use lastline_core::types::{
    AnyDigest, ArtifactId, Digest, Md5, ReportType, Sha1, Sha256, Timestamp, Uuid,
};
use lastline_ureq::{Client, Error};
use serde_json::{json, Value};

use crate::answer::{Answer, Download};
use crate::workflows::{self, SubmitArgs};

/// Parses a task, report or IOC UUID.
pub fn uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse(s).map_err(|e| e.to_string())
}

/// Parses a date (`YYYY-MM-DD`) or date and time (`YYYY-MM-DD HH:MM:SS`).
pub fn timestamp(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).map_err(|e| e.to_string())
}

/// Parses an MD5, SHA-1 or SHA-256 by its length.
pub fn digest(s: &str) -> Result<AnyDigest, String> {
    let bad = |e: lastline_core::types::InvalidDigest| e.to_string();
    Ok(match s.len() {
        32 => AnyDigest::Md5(Digest::parse(s).map_err(bad)?),
        40 => AnyDigest::Sha1(Digest::parse(s).map_err(bad)?),
        64 => AnyDigest::Sha256(Digest::parse(s).map_err(bad)?),
        _ => return Err("expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256) hex digits".into()),
    })
}

/// Parses a digest of exactly `N` bytes (`2N` hex digits).
fn digest_of<const N: usize>(s: &str) -> Result<Digest<N>, String> {
    Digest::parse(s).map_err(|_| format!("expected {} hex digits", 2 * N))
}

fn report_type(s: &str) -> Result<ReportType, String> {
    ReportType::parse(s).ok_or_else(|| {
        let all: Vec<_> = ReportType::ALL.iter().map(|r| r.as_str()).collect();
        format!("expected one of {}", all.join(", "))
    })
}

/// The methods, one subcommand each.
#[derive(Subcommand, Debug)]
pub enum Method {
    /// ping: checks the credentials.
    Ping {
        #[command(flatten)]
        answer: Answer,
    },
    /// login: opens a session (then prints nothing of it).
    Login {
        #[command(flatten)]
        answer: Answer,
    },
    /// get_api_utc_timestamp: the server's clock.
    GetApiUtcTimestamp {
        #[command(flatten)]
        answer: Answer,
    },
    /// submit_file: hash-first submission of FILE, or by hash alone with --md5/--sha1/--sha256.
    SubmitFile {
        /// The file (hashed, submitted by hash, uploaded on 101).
        file: Option<PathBuf>,
        /// Hex MD5 of the file.
        #[arg(long, value_parser = digest_of::<16>)]
        md5: Option<Md5>,
        /// Hex SHA1 of the file.
        #[arg(long, value_parser = digest_of::<20>)]
        sha1: Option<Sha1>,
        /// Hex SHA256 of the file.
        #[arg(long, value_parser = digest_of::<32>)]
        sha256: Option<Sha256>,
        #[command(flatten)]
        opts: SubmitArgs,
        #[command(flatten)]
        answer: Answer,
    },
    /// submit_url: submits a URL (--wait for its verdict).
    SubmitUrl {
        /// URL to analyse.
        url: String,
        /// HTTP Referer header to send with the request.
        #[arg(long)]
        referer: Option<String>,
        /// Wait for the verdict (exit status 3 suspicious, 4 malicious).
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        opts: SubmitArgs,
        #[command(flatten)]
        waiting: crate::workflows::WaitArgs,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_completed: tasks completed in a time range.
    GetCompleted {
        /// Only tasks completed after this time.
        #[arg(long, value_parser = timestamp)]
        after: Timestamp,
        /// Only tasks completed before this time.
        #[arg(long, value_parser = timestamp)]
        before: Option<Timestamp>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_completed_with_metadata: the same with task metadata.
    GetCompletedWithMetadata {
        /// Only tasks completed after this time.
        #[arg(long, value_parser = timestamp)]
        after: Timestamp,
        /// Only tasks completed before this time.
        #[arg(long, value_parser = timestamp)]
        before: Option<Timestamp>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_pending: tasks not completed yet.
    GetPending {
        /// Only pending tasks created after this time.
        #[arg(long, value_parser = timestamp)]
        after: Option<Timestamp>,
        /// Only pending tasks created before this time.
        #[arg(long, value_parser = timestamp)]
        before: Option<Timestamp>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_progress: one task's progress (do not poll it: use `wait`).
    GetProgress {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_result: a task's result summary.
    GetResult {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Only the score and the threat/threat_class classification (score_only=1).
        #[arg(long)]
        score_only: bool,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_results: a task's result (--full-report-score for the report).
    GetResults {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Score threshold controlling whether the detailed analysis report is returned.
        #[arg(long)]
        full_report_score: Option<i32>,
        /// Name of the report version to return.
        #[arg(long)]
        report_version: Option<String>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_task_metadata: a task's metadata.
    GetTaskMetadata {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_result_activities: a task's activities.
    GetResultActivities {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_report_activities: one report's activities.
    GetReportActivities {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Identifier of the report.
        #[arg(value_parser = uuid)]
        report_uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_analysis_tags: a task's tags.
    GetAnalysisTags {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_network_iocs: a task's network indicators.
    GetNetworkIocs {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_child_tasks_recursively: tasks spawned by a task.
    GetChildTasksRecursively {
        /// Identifier of the parent task.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// query_file_hash: what the server knows of a hash.
    QueryFileHash {
        /// An MD5, SHA-1 or SHA-256 of the file (by its length).
        #[arg(value_parser = digest)]
        hash: AnyDigest,
        /// Number of bytes, counted from the start of the file, over which hash_value was computed.
        #[arg(long)]
        hash_block_size: Option<u64>,
        #[command(flatten)]
        answer: Answer,
    },
    /// is_blocked_file_hash: the block decision for a hash.
    IsBlockedFileHash {
        /// An MD5, SHA-1 or SHA-256 of the file (by its length).
        #[arg(value_parser = digest)]
        hash: AnyDigest,
        /// Number of bytes, counted from the start of the file, over which hash_value was computed.
        #[arg(long)]
        hash_block_size: Option<u64>,
        #[command(flatten)]
        answer: Answer,
    },
    /// is_risky_analysis_artifact: whether an artifact is risky.
    IsRiskyAnalysisArtifact {
        /// `<report-UUID>:<artifact-name>`.
        artifact: String,
        /// Task identifier; only used to route the request to the right datacenter.
        #[arg(long, value_parser = uuid)]
        uuid: Option<Uuid>,
        #[command(flatten)]
        answer: Answer,
    },
    /// query_task_artifact: whether a task has an artifact.
    QueryTaskArtifact {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Name of the task artifact.
        artifact_name: String,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_result_artifact: downloads an artifact of a task.
    GetResultArtifact {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// `<report-UUID>:<artifact-name>`.
        artifact: String,
        #[arg(long)]
        /// Password of a protected artifact archive (password_protected).
        password: Option<String>,
        #[command(flatten)]
        out: Download,
    },
    /// get_report_artifact: downloads an artifact of a report.
    GetReportArtifact {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Identifier of the report the artifact belongs to.
        #[arg(value_parser = uuid)]
        report_uuid: Uuid,
        /// Name of the requested artifact within that report.
        artifact_name: String,
        #[arg(long)]
        /// Password of a protected artifact archive (password_protected).
        password: Option<String>,
        #[command(flatten)]
        out: Download,
    },
    /// create_ioc_from_result: makes an IOC report from a result.
    CreateIocFromResult {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// Identifier of the report to build the IOC from.
        #[arg(value_parser = uuid)]
        report_uuid: Uuid,
        /// Kind of IOC report to create.
        #[arg(long, default_value = "ioc:openioc")]
        report_version: String,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_ioc_metadata: an IOC report's metadata.
    GetIocMetadata {
        /// Identifier of the IOC.
        #[arg(value_parser = uuid)]
        ioc_uuid: Uuid,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_ioc_report: downloads an IOC report.
    GetIocReport {
        /// Identifier of the IOC.
        #[arg(value_parser = uuid)]
        ioc_uuid: Uuid,
        #[command(flatten)]
        out: Download,
    },
    /// export_report: starts exporting a report.
    ExportReport {
        /// Identifier of the task to query.
        #[arg(value_parser = uuid)]
        uuid: Uuid,
        /// What the export contains.
        #[arg(long, value_parser = report_type, default_value = "full")]
        report_type: ReportType,
        /// Format of the generated report.
        #[arg(long)]
        report_format: Option<String>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_completed_exported_reports: exports ready for download.
    GetCompletedExportedReports {
        #[arg(long, value_parser = uuid)]
        /// Only reports exported after this one (resume_after_report_uuid).
        resume_after: Option<Uuid>,
        #[command(flatten)]
        answer: Answer,
    },
    /// get_exported_report: downloads an exported report.
    GetExportedReport {
        /// UUID of the exported report to download.
        #[arg(value_parser = uuid)]
        exported_report_uuid: Uuid,
        #[command(flatten)]
        out: Download,
    },
}

fn artifact_id(s: &str) -> Result<ArtifactId<'_>, Error> {
    ArtifactId::parse(s).map_err(|_| {
        Error::from(lastline_core::Error::InvalidParam {
            param: "artifact",
            reason: "expected <report-UUID>:<artifact-name>",
        })
    })
}

/// Runs one method; returns what to print.
pub fn run(m: Method, c: &mut Client, ui: &mut crate::terminal::Ui) -> Result<Value, Error> {
    use Method as M;
    Ok(match m {
        M::Ping { answer } => answer.call(c, ui, &Ping)?,
        M::Login { answer } => answer.call(c, ui, &Login)?,
        M::GetApiUtcTimestamp { answer } => answer.call(c, ui, &GetApiUtcTimestamp)?,
        M::SubmitFile {
            answer,
            file: Some(file),
            md5: None,
            sha1: None,
            sha256: None,
            opts,
        } => {
            answer.needs_json("submit-file FILE (hash-first reads the JSON answer; give --md5/--sha1/--sha256 for XML)")?;
            let o = workflows::submit_one(c, &file, &opts, ui)?;
            let mut v = json!({"submission": o.submission, "uploaded": o.uploaded});
            if let Some(r) = &o.result {
                v["result"] = crate::rows::inline_result(r, &o.items);
            }
            v
        }
        M::SubmitFile {
            answer,
            file: None,
            md5,
            sha1,
            sha256,
            opts,
        } => {
            if md5.is_none() && sha1.is_none() && sha256.is_none() {
                return Err(Error::from(lastline_core::Error::MissingParam {
                    param: "FILE or a hash",
                }));
            }
            let req = SubmitFile {
                md5,
                sha1,
                sha256,
                ..opts.file_options(None)?
            };
            answer.call(c, ui, &req)?
        }
        M::SubmitFile { .. } => {
            return Err(Error::from(lastline_core::Error::InvalidParam {
                param: "FILE",
                reason: "give a file or hashes, not both",
            }))
        }
        // Its JSON answer is the submission workflow's (`main`): rows,
        // --wait. Here the method's own answer, as XML.
        M::SubmitUrl {
            answer,
            url,
            referer,
            opts,
            wait,
            ..
        } => {
            if wait {
                answer.needs_json("--wait (it reads the JSON answer)")?;
            }
            let mut req = opts.url_options(workflows::url_param(&url)?)?;
            req.referer = referer.as_deref();
            answer.call(c, ui, &req)?
        }
        M::GetCompleted {
            answer,
            after,
            before,
        } => answer.call(
            c,
            ui,
            &GetCompleted {
                after,
                before,
                include_score: Some(true),
            },
        )?,
        M::GetCompletedWithMetadata {
            answer,
            after,
            before,
        } => answer.call(c, ui, &GetCompletedWithMetadata { after, before })?,
        M::GetPending {
            answer,
            after,
            before,
        } => answer.call(c, ui, &GetPending { after, before })?,
        M::GetProgress { answer, uuid } => answer.call(c, ui, &GetProgress::new(uuid))?,
        M::GetResult {
            answer,
            uuid,
            score_only,
        } => answer.call(
            c,
            ui,
            &GetResult {
                score_only: score_only.then_some(true),
                ..GetResult::new(uuid)
            },
        )?,
        M::GetResults {
            answer,
            uuid,
            full_report_score,
            report_version,
        } => answer.call(
            c,
            ui,
            &GetResults {
                full_report_score: full_report_score.or(Some(-1)),
                report_version: report_version.as_deref(),
                ..GetResults::new(uuid)
            },
        )?,
        M::GetTaskMetadata { answer, uuid } => answer.call(c, ui, &GetTaskMetadata::new(uuid))?,
        M::GetResultActivities { answer, uuid } => {
            answer.call(c, ui, &GetResultActivities::new(uuid))?
        }
        M::GetReportActivities {
            answer,
            uuid,
            report_uuid,
        } => answer.call(
            c,
            ui,
            &GetReportActivities {
                uuid,
                report_uuid,
                allow_datacenter_redirect: None,
            },
        )?,
        M::GetAnalysisTags { answer, uuid } => answer.call(c, ui, &GetAnalysisTags::new(uuid))?,
        M::GetNetworkIocs { answer, uuid } => answer.call(c, ui, &GetNetworkIocs::new(uuid))?,
        M::GetChildTasksRecursively { answer, uuid } => {
            answer.call(c, ui, &GetChildTasksRecursively::new(uuid))?
        }
        M::QueryFileHash {
            answer,
            hash,
            hash_block_size,
        } => answer.call(
            c,
            ui,
            &QueryFileHash {
                hash,
                hash_block_size,
            },
        )?,
        M::IsBlockedFileHash {
            answer,
            hash,
            hash_block_size,
        } => answer.call(
            c,
            ui,
            &IsBlockedFileHash {
                hash,
                hash_block_size,
            },
        )?,
        M::IsRiskyAnalysisArtifact {
            answer,
            artifact,
            uuid,
        } => answer.call(
            c,
            ui,
            &IsRiskyAnalysisArtifact {
                artifact_uuid: artifact_id(&artifact)?,
                uuid,
                allow_datacenter_redirect: None,
            },
        )?,
        M::QueryTaskArtifact {
            answer,
            uuid,
            artifact_name,
        } => answer.call(
            c,
            ui,
            &QueryTaskArtifact {
                uuid,
                artifact_name: &artifact_name,
                allow_datacenter_redirect: None,
            },
        )?,
        M::GetResultArtifact {
            uuid,
            artifact,
            password,
            out,
        } => out.fetch(
            c,
            &GetResultArtifact {
                uuid,
                artifact_uuid: artifact_id(&artifact)?,
                password_protected: password.as_deref(),
                allow_datacenter_redirect: None,
            },
        )?,
        M::GetReportArtifact {
            uuid,
            report_uuid,
            artifact_name,
            password,
            out,
        } => out.fetch(
            c,
            &GetReportArtifact {
                uuid,
                report_uuid,
                artifact_name: &artifact_name,
                password_protected: password.as_deref(),
                allow_datacenter_redirect: None,
            },
        )?,
        M::CreateIocFromResult {
            answer,
            uuid,
            report_uuid,
            report_version,
        } => answer.call(
            c,
            ui,
            &CreateIocFromResult {
                uuid,
                report_version: &report_version,
                report_uuid,
                allow_datacenter_redirect: None,
            },
        )?,
        M::GetIocMetadata { answer, ioc_uuid } => answer.call(
            c,
            ui,
            &GetIocMetadata {
                ioc_uuid,
                allow_datacenter_redirect: None,
            },
        )?,
        M::GetIocReport { ioc_uuid, out } => out.fetch(c, &GetIocReport { ioc_uuid })?,
        M::ExportReport {
            answer,
            uuid,
            report_type,
            report_format,
        } => answer.call(
            c,
            ui,
            &ExportReport {
                uuid,
                report_type,
                report_format: report_format.as_deref(),
            },
        )?,
        M::GetCompletedExportedReports {
            answer,
            resume_after,
        } => answer.call(
            c,
            ui,
            &GetCompletedExportedReports {
                resume_after_report_uuid: resume_after,
            },
        )?,
        M::GetExportedReport {
            exported_report_uuid,
            out,
        } => out.fetch(
            c,
            &GetExportedReport {
                exported_report_uuid,
                cdn: None,
            },
        )?,
    })
}
