//! `submit_file` and `submit_url`: the requests, and the decoders of the
//! answer — the task alone ([`SubmitDecoder`], what firmware reads), or
//! whole with a cached result inline ([`SubmitResultDecoder`]).

use core::net::Ipv4Addr;

use heapless::String;

use super::results::{result_element, AnalysisResult, ResultDecoder, ResultItem};
use super::{
    check_opt_text, check_opt_url, opt_flag, opt_text, opt_value, Allowed, BodyKind, ParamInfo,
    Params, Request, ResponseKind,
};
use crate::decoders::{need, opt};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{
    Direction, Md5, PasswordCandidates, Priority, Protocol, Sha1, Sha256, Timestamp, Url, Uuid,
};

/// `submit_file`: submit a file by hash, or upload its content.
///
/// Set `md5`/`sha1`/`sha256` for a submission by hash (sent as a small
/// form body); set `upload` to the sample's length to send its content as
/// the multipart `file` part, whose bytes the transport streams between
/// the encoder's prefix and suffix. The hash-first workflow
/// ([`crate::workflow::HashFirst`]) does both in order.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubmitFile<'a> {
    /// MD5 of the sample, for submission by hash.
    pub md5: Option<Md5>,
    /// SHA-1 of the sample, for submission by hash.
    pub sha1: Option<Sha1>,
    /// SHA-256 of the sample, for submission by hash.
    pub sha256: Option<Sha256>,
    /// Length of the sample when its content is uploaded.
    pub upload: Option<u64>,
    /// `-1` never include the detailed report; `0` always; otherwise the
    /// minimum score at which it is included.
    pub full_report_score: Option<i32>,
    /// Delete the file after analysis.
    pub delete_after_analysis: Option<bool>,
    /// Analyse again even if cached (privileged).
    pub bypass_cache: Option<bool>,
    /// Analysis time in seconds (privileged).
    pub analysis_timeout: Option<u32>,
    /// Analysis environment, e.g. `windows10` (privileged).
    pub analysis_env: Option<&'a str>,
    /// Let the sample use the network (privileged; default 1).
    pub allow_network_traffic: Option<bool>,
    /// The sample's real file name (helps file-type detection).
    pub filename: Option<&'a str>,
    /// Keep file dumps (privileged).
    pub keep_file_dumps: Option<bool>,
    /// Keep memory dumps (privileged).
    pub keep_memory_dumps: Option<bool>,
    /// Keep the behaviour log (privileged).
    pub keep_behavior_log: Option<bool>,
    /// Push the result to this portal account (discouraged for bulk).
    pub push_to_portal_account: Option<&'a str>,
    /// Protocol the file was seen on.
    pub protocol: Option<Protocol>,
    /// Server address of the transfer.
    pub server_ip: Option<Ipv4Addr>,
    /// Server port of the transfer.
    pub server_port: Option<u16>,
    /// Client address of the transfer.
    pub client_ip: Option<Ipv4Addr>,
    /// Client port of the transfer.
    pub client_port: Option<u16>,
    /// Direction of the transfer.
    pub direction: Option<Direction>,
    /// Report version to return.
    pub report_version: Option<&'a str>,
    /// Deprecated download address.
    pub download_ip: Option<Ipv4Addr>,
    /// Deprecated download port.
    pub download_port: Option<u16>,
    /// Deprecated APK package name.
    pub apk_package_name: Option<&'a str>,
    /// Password of an encrypted archive.
    pub password: Option<&'a str>,
    /// Priority 1..=10.
    pub priority: Option<Priority>,
    /// Skip the prefilter (privileged).
    pub bypass_prefilter: Option<bool>,
    /// Fast analysis (privileged).
    pub fast_analysis: Option<bool>,
    /// FILE parameter: host the file was downloaded from.
    pub download_host: Option<&'a str>,
    /// FILE parameter: path it was downloaded from.
    pub download_path: Option<&'a str>,
    /// FILE parameter: user agent of the download.
    pub download_user_agent: Option<&'a str>,
    /// FILE parameter: referer of the download.
    pub download_referer: Option<&'a str>,
    /// FILE parameter: the download's HTTP request.
    pub download_request: Option<&'a str>,
    /// FILE parameter: passwords to try on encrypted content.
    pub password_candidates: Option<PasswordCandidates<'a>>,
}

impl SubmitFile<'_> {
    fn has_file_params(&self) -> bool {
        self.upload.is_some()
            || self.download_host.is_some()
            || self.download_path.is_some()
            || self.download_user_agent.is_some()
            || self.download_referer.is_some()
            || self.download_request.is_some()
            || self.password_candidates.is_some()
    }
}

impl Request for SubmitFile<'_> {
    const NAME: &'static str = "submit_file";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("md5"),
        ParamInfo::field("sha1"),
        ParamInfo::field("sha256"),
        ParamInfo::field("full_report_score"),
        ParamInfo::field("delete_after_analysis"),
        ParamInfo::field("bypass_cache"),
        ParamInfo::field("analysis_timeout"),
        ParamInfo::field("analysis_env"),
        ParamInfo::field("allow_network_traffic"),
        ParamInfo::field("filename"),
        ParamInfo::field("keep_file_dumps"),
        ParamInfo::field("keep_memory_dumps"),
        ParamInfo::field("keep_behavior_log"),
        ParamInfo::field("push_to_portal_account"),
        ParamInfo::field("protocol"),
        ParamInfo::field("server_ip"),
        ParamInfo::field("server_port"),
        ParamInfo::field("client_ip"),
        ParamInfo::field("client_port"),
        ParamInfo::field("direction"),
        ParamInfo::field("report_version"),
        ParamInfo::field("download_ip"),
        ParamInfo::field("download_port"),
        ParamInfo::field("apk_package_name"),
        ParamInfo::field("password"),
        ParamInfo::field("priority"),
        ParamInfo::field("bypass_prefilter"),
        ParamInfo::field("fast_analysis"),
        ParamInfo::sample("file"),
        ParamInfo::part("download_host"),
        ParamInfo::part("download_path"),
        ParamInfo::part("download_user_agent"),
        ParamInfo::part("download_referer"),
        ParamInfo::part("download_request"),
        ParamInfo::part("password_candidates"),
    ];
    const PATH: &'static str = "/analysis/submit/file";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = SubmitDecoder;

    fn validate(&self) -> Result<(), Error> {
        if self.upload.is_none()
            && self.md5.is_none()
            && self.sha1.is_none()
            && self.sha256.is_none()
        {
            return Err(Error::MissingParam { param: "file" });
        }
        for (name, v) in [
            ("analysis_env", self.analysis_env),
            ("filename", self.filename),
            ("push_to_portal_account", self.push_to_portal_account),
            ("report_version", self.report_version),
            ("apk_package_name", self.apk_package_name),
            ("password", self.password),
            ("download_host", self.download_host),
            ("download_path", self.download_path),
            ("download_user_agent", self.download_user_agent),
            ("download_referer", self.download_referer),
        ] {
            check_opt_text(name, v)?;
        }
        // A raw HTTP request legitimately spans lines.
        if let Some(r) = self.download_request {
            if r.len() > 65_536 || r.bytes().any(|b| b == 0) {
                return Err(Error::InvalidParam {
                    param: "download_request",
                    reason: text!("longer than 64 KiB or contains NUL"),
                });
            }
        }
        if self.server_port == Some(0)
            || self.client_port == Some(0)
            || self.download_port == Some(0)
        {
            return Err(Error::InvalidParam {
                param: "server_port",
                reason: text!("port 0 is not a port"),
            });
        }
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        opt_value(p, "md5", self.md5.as_ref());
        opt_value(p, "sha1", self.sha1.as_ref());
        opt_value(p, "sha256", self.sha256.as_ref());
        opt_value(p, "full_report_score", self.full_report_score);
        opt_flag(p, "delete_after_analysis", self.delete_after_analysis);
        opt_flag(p, "bypass_cache", self.bypass_cache);
        opt_value(p, "analysis_timeout", self.analysis_timeout);
        opt_text(p, "analysis_env", self.analysis_env);
        opt_flag(p, "allow_network_traffic", self.allow_network_traffic);
        opt_text(p, "filename", self.filename);
        opt_flag(p, "keep_file_dumps", self.keep_file_dumps);
        opt_flag(p, "keep_memory_dumps", self.keep_memory_dumps);
        opt_flag(p, "keep_behavior_log", self.keep_behavior_log);
        opt_text(p, "push_to_portal_account", self.push_to_portal_account);
        opt_value(p, "protocol", self.protocol);
        opt_value(p, "server_ip", self.server_ip);
        opt_value(p, "server_port", self.server_port);
        opt_value(p, "client_ip", self.client_ip);
        opt_value(p, "client_port", self.client_port);
        opt_value(p, "direction", self.direction);
        opt_text(p, "report_version", self.report_version);
        opt_value(p, "download_ip", self.download_ip);
        opt_value(p, "download_port", self.download_port);
        opt_text(p, "apk_package_name", self.apk_package_name);
        opt_text(p, "password", self.password);
        opt_value(p, "priority", self.priority);
        opt_flag(p, "bypass_prefilter", self.bypass_prefilter);
        opt_flag(p, "fast_analysis", self.fast_analysis);
        for (name, v) in [
            ("download_host", self.download_host),
            ("download_path", self.download_path),
            ("download_user_agent", self.download_user_agent),
            ("download_referer", self.download_referer),
            ("download_request", self.download_request),
        ] {
            if let Some(v) = v {
                p.file_text(name, v);
            }
        }
        if let Some(c) = self.password_candidates {
            p.file_lines("password_candidates", c.as_slice());
        }
    }

    fn body_kind(&self) -> BodyKind {
        if self.has_file_params() {
            BodyKind::Multipart
        } else {
            BodyKind::Form
        }
    }

    fn upload_len(&self) -> Option<u64> {
        self.upload
    }
}

/// `submit_url`: submit a URL for analysis (not a link to an executable:
/// download it and use [`SubmitFile`]).
#[derive(Clone, Copy, Debug)]
pub struct SubmitUrl<'a> {
    /// The URL.
    pub url: Url<'a>,
    /// Referer to send when fetching it.
    pub referer: Option<&'a str>,
    /// See [`SubmitFile::full_report_score`].
    pub full_report_score: Option<i32>,
    /// Analyse again even if cached (privileged).
    pub bypass_cache: Option<bool>,
    /// Analysis time in seconds (privileged).
    pub analysis_timeout: Option<u32>,
    /// Push the result to this portal account.
    pub push_to_portal_account: Option<&'a str>,
    /// User agent to fetch the URL with.
    pub user_agent: Option<&'a str>,
    /// Report version to return.
    pub report_version: Option<&'a str>,
    /// Priority 1..=10.
    pub priority: Option<Priority>,
    /// Fast analysis (privileged).
    pub fast_analysis: Option<bool>,
    /// FILE parameter: passwords to try.
    pub password_candidates: Option<PasswordCandidates<'a>>,
}

impl<'a> SubmitUrl<'a> {
    /// A submission of `url` with every option unset.
    pub fn new(url: Url<'a>) -> Self {
        Self {
            url,
            referer: None,
            full_report_score: None,
            bypass_cache: None,
            analysis_timeout: None,
            push_to_portal_account: None,
            user_agent: None,
            report_version: None,
            priority: None,
            fast_analysis: None,
            password_candidates: None,
        }
    }
}

impl Request for SubmitUrl<'_> {
    const NAME: &'static str = "submit_url";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("url"),
        ParamInfo::field("referer"),
        ParamInfo::field("full_report_score"),
        ParamInfo::field("bypass_cache"),
        ParamInfo::field("analysis_timeout"),
        ParamInfo::field("push_to_portal_account"),
        ParamInfo::field("user_agent"),
        ParamInfo::field("report_version"),
        ParamInfo::field("priority"),
        ParamInfo::field("fast_analysis"),
        ParamInfo::part("password_candidates"),
    ];
    const PATH: &'static str = "/analysis/submit/url";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = SubmitDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_opt_url("referer", self.referer)?;
        check_opt_text("push_to_portal_account", self.push_to_portal_account)?;
        check_opt_text("user_agent", self.user_agent)?;
        check_opt_text("report_version", self.report_version)
    }

    fn params(&self, p: &mut dyn Params) {
        p.text("url", self.url.as_str());
        opt_text(p, "referer", self.referer);
        opt_value(p, "full_report_score", self.full_report_score);
        opt_flag(p, "bypass_cache", self.bypass_cache);
        opt_value(p, "analysis_timeout", self.analysis_timeout);
        opt_text(p, "push_to_portal_account", self.push_to_portal_account);
        opt_text(p, "user_agent", self.user_agent);
        opt_text(p, "report_version", self.report_version);
        opt_value(p, "priority", self.priority);
        opt_flag(p, "fast_analysis", self.fast_analysis);
        if let Some(c) = self.password_candidates {
            p.file_lines("password_candidates", c.as_slice());
        }
    }

    fn body_kind(&self) -> BodyKind {
        if self.password_candidates.is_some() {
            BodyKind::Multipart
        } else {
            BodyKind::Form
        }
    }
}

/// What a submission returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Submission {
    /// The task's UUID: the handle for everything that follows.
    pub task_uuid: Uuid,
    /// When it was submitted.
    pub submission_timestamp: Option<Timestamp>,
    /// When the task's data expires.
    pub expires: Option<Timestamp>,
    /// The score of an existing result, when the file or URL was already
    /// analysed (the answer then includes `get_results` members; fetch the
    /// rest with `get_result`).
    pub score: Option<i32>,
}

/// Decodes `submit_file` / `submit_url` data: the task, and the score of
/// an existing result; every other member is skipped.
#[derive(Debug, Default)]
pub struct SubmitDecoder {
    task_uuid: Option<Uuid>,
    submission_timestamp: Option<Timestamp>,
    expires: Option<Timestamp>,
    score: Option<i32>,
}

impl DataDecoder for SubmitDecoder {
    type Item = core::convert::Infallible;
    type Output = Submission;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "task_uuid" => self.task_uuid = Some(r.uuid("task_uuid")?),
            "submission_timestamp" => {
                self.submission_timestamp = opt(r, |r| r.timestamp("submission_timestamp"))?
            }
            "expires" => self.expires = opt(r, |r| r.timestamp("expires"))?,
            "score" => self.score = opt(r, |r| r.int("score"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<Submission, Error> {
        Ok(Submission {
            task_uuid: need(self.task_uuid, "task_uuid")?,
            submission_timestamp: self.submission_timestamp,
            expires: self.expires,
            score: self.score,
        })
    }
}

/// A submission's answer read whole: the task, and — when the server
/// answered from a recent analysis of the same file or URL — its result
/// inline (score, threat, subject, times; the lists go to the caller's
/// callback as [`ResultItem`]s, child tasks included).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SubmittedResult {
    /// The task, as [`SubmitDecoder`] reads it (its `score` the result's).
    pub submission: Submission,
    /// The cached result; `None` when the task is new or still pending
    /// (the answer then has no `score`).
    pub result: Option<AnalysisResult>,
}

/// Decodes `submit_file` / `submit_url` data whole: [`SubmitDecoder`]'s
/// members, and the result a cached answer carries — `get_results`'
/// members, `analysis_subject`, and `child_tasks` (its shape open: a list
/// of UUIDs or of objects naming `task_uuid`, or a map keyed by UUID).
/// For std clients; firmware keeps [`SubmitDecoder`].
#[derive(Debug, Default)]
pub struct SubmitResultDecoder {
    submit: SubmitDecoder,
    result: ResultDecoder,
}

impl DataDecoder for SubmitResultDecoder {
    type Item = ResultItem;
    type Output = SubmittedResult;
    const LISTS: &'static [&'static str] = &[
        "malicious_activity",
        "errors",
        "reports",
        "activity_to_mitre_techniques",
        "child_tasks",
    ];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "task_uuid" | "submission_timestamp" | "expires" => self.submit.field(key, r),
            "child_tasks" => Ok(Field::ListOrMap("child_tasks")),
            _ => self.result.field(key, r),
        }
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ResultItem, Fail> {
        if list != "child_tasks" {
            return result_element(list, key, r);
        }
        let bad = |r: &mut Reader<'_>| r.fail(list, JsonError::InvalidValue(text!("a task UUID")));
        let uuid = match key {
            // A map keyed by UUID: the value is the child's details.
            Some(k) => {
                r.skip(list)?;
                Uuid::parse(k).ok()
            }
            None if r.peek()? == b'"' => {
                let s: String<64> = r.string(list)?;
                Uuid::parse(&s).ok()
            }
            None => {
                let mut uuid = None;
                r.object(list, |r, k| {
                    match k {
                        "task_uuid" => uuid = Some(r.uuid("child_tasks[].task_uuid")?),
                        _ => r.skip(list)?,
                    }
                    Ok(())
                })?;
                uuid
            }
        };
        match uuid {
            Some(u) => Ok(ResultItem::ChildTask(u)),
            None => Err(bad(r)),
        }
    }

    fn skipped(&mut self, list: &'static str) {
        self.result.skipped(list);
    }

    fn finish(&mut self) -> Result<SubmittedResult, Error> {
        let mut submission = self.submit.finish()?;
        let result = core::mem::take(&mut self.result.0);
        submission.score = result.score;
        Ok(SubmittedResult {
            submission,
            result: result.score.is_some().then_some(result),
        })
    }
}
