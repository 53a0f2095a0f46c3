//! `get_results` and `get_result`: the requests, and the result's decoders
//! and types (what was analysed, the scalar members, the lists streamed
//! entry by entry).

use heapless::{String, Vec};

use super::{
    check_opt_text, opt_flag, opt_text, opt_value, Allowed, ParamInfo, Params, Request,
    ResponseKind,
};
use crate::decoders::{need, need_in, opt, NAME_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Digest, Format, Md5, Sha1, Sha256, Timestamp, Uuid, URL_CAPACITY};

/// The format `get_results` answers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResultsFormat {
    /// The JSON envelope (default).
    #[default]
    Json,
    /// A PDF report download.
    Pdf,
    /// An RTF report download.
    Rtf,
}

/// `get_results`: a completed task's result, optionally with the full
/// report. Call it only for tasks the completion cursor reported.
#[derive(Clone, Copy, Debug)]
pub struct GetResults<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// See [`crate::request::SubmitFile::full_report_score`].
    pub full_report_score: Option<i32>,
    /// Report version (only with `report_uuid`).
    pub report_version: Option<&'a str>,
    /// A specific report (privileged).
    pub report_uuid: Option<Uuid>,
    /// Include scoring components (privileged).
    pub include_scoring_components: Option<bool>,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
    /// JSON envelope, or a PDF/RTF download.
    pub format: ResultsFormat,
}

impl GetResults<'_> {
    /// The JSON result of task `uuid`, without the detailed report.
    pub fn new(uuid: Uuid) -> Self {
        Self {
            uuid,
            full_report_score: Some(-1),
            report_version: None,
            report_uuid: None,
            include_scoring_components: None,
            allow_datacenter_redirect: None,
            format: ResultsFormat::Json,
        }
    }
}

impl Request for GetResults<'_> {
    const NAME: &'static str = "get_results";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("full_report_score"),
        ParamInfo::field("report_version"),
        ParamInfo::field("report_uuid"),
        ParamInfo::field("include_scoring_components"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/get";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = ResultDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_opt_text("report_version", self.report_version)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        opt_value(p, "full_report_score", self.full_report_score);
        opt_text(p, "report_version", self.report_version);
        opt_value(p, "report_uuid", self.report_uuid);
        opt_flag(
            p,
            "include_scoring_components",
            self.include_scoring_components,
        );
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }

    fn format(&self) -> Option<Format> {
        Some(match self.format {
            ResultsFormat::Json => Format::Json,
            ResultsFormat::Pdf => Format::Pdf,
            ResultsFormat::Rtf => Format::Rtf,
        })
    }

    fn response_kind(&self) -> ResponseKind {
        match self.format {
            ResultsFormat::Json => ResponseKind::Envelope,
            ResultsFormat::Pdf | ResultsFormat::Rtf => ResponseKind::Raw,
        }
    }
}

/// `get_result`: a completed task's result summary (no report).
#[derive(Clone, Copy, Debug)]
pub struct GetResult {
    /// The task's UUID.
    pub uuid: Uuid,
    /// Only score, threat and threat class.
    pub score_only: Option<bool>,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl GetResult {
    /// The result summary of task `uuid`.
    pub fn new(uuid: Uuid) -> Self {
        Self {
            uuid,
            score_only: None,
            allow_datacenter_redirect: None,
        }
    }
}

impl Request for GetResult {
    const NAME: &'static str = "get_result";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("score_only"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/get_result";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = ResultDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        opt_flag(p, "score_only", self.score_only);
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

/// Capacity of threat names and classes.
pub const THREAT_CAPACITY: usize = 128;

/// What a task analysed, as its result names it (`analysis_subject`: real
/// results carry it beyond the reference, and integrations rely on it):
/// the file's hashes and MIME type, or the URL. Its other members are
/// skipped, as the decoding rule skips any member not listed.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisSubject {
    /// The file's MD5.
    pub md5: Option<Md5>,
    /// The file's SHA-1.
    pub sha1: Option<Sha1>,
    /// The file's SHA-256.
    pub sha256: Option<Sha256>,
    /// The file's MIME type as the sandbox saw it.
    pub mime_type: Option<String<TEXT_CAPACITY>>,
    /// The URL analysed (as long as a URL this crate submits may be).
    pub url: Option<String<URL_CAPACITY>>,
}

/// Reads `analysis_subject`. A hash given as `null` or `""` (a URL task's)
/// is absent; one that is not a hex digest of its length is an error.
fn analysis_subject(r: &mut Reader<'_>) -> Result<AnalysisSubject, Fail> {
    const AT: &str = "analysis_subject";
    let mut s = AnalysisSubject::default();
    r.object(AT, |r, k| {
        match k {
            "md5" => s.md5 = subject_digest(r, "analysis_subject.md5")?,
            "sha1" => s.sha1 = subject_digest(r, "analysis_subject.sha1")?,
            "sha256" => s.sha256 = subject_digest(r, "analysis_subject.sha256")?,
            "mime_type" => s.mime_type = opt(r, |r| r.string("analysis_subject.mime_type"))?,
            "url" => s.url = opt(r, |r| r.string("analysis_subject.url"))?,
            _ => r.skip(AT)?,
        }
        Ok(())
    })?;
    Ok(s)
}

fn subject_digest<const N: usize>(
    r: &mut Reader<'_>,
    at: &'static str,
) -> Result<Option<Digest<N>>, Fail> {
    if r.null()? {
        return Ok(None);
    }
    // 64: the longest digest's hex (a longer string is too long for one).
    let hex: String<64> = r.string(at)?;
    if hex.is_empty() {
        return Ok(None);
    }
    Digest::parse(&hex)
        .map(Some)
        .map_err(|_| r.fail(at, JsonError::InvalidValue(text!("a hex digest"))))
}

/// A result's scalar members, and what it analysed: `S` is
/// [`AnalysisSubject`] as [`ResultDecoder`] reads it, `()` in the
/// [`ResultSummary`] of [`ResultSummaryDecoder`] (which skips it, so a
/// firmware's result stays small).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisResult<S = AnalysisSubject> {
    /// 0..=100; 70 and above is malicious by the usual reading.
    pub score: Option<i32>,
    /// When the task was submitted.
    pub submission: Option<Timestamp>,
    /// When the file was last submitted.
    pub last_submission_timestamp: Option<Timestamp>,
    /// The threat's name.
    pub threat: Option<String<THREAT_CAPACITY>>,
    /// The threat's class.
    pub threat_class: Option<String<THREAT_CAPACITY>>,
    /// Whether a detailed `report` was present (it is skipped, whatever its
    /// size; fetch it as a PDF or with a std transport when needed).
    pub has_report: bool,
    /// Entries of `activity_to_mitre_techniques` (whose shape the
    /// reference leaves open) too large for the unit buffer: skipped whole
    /// rather than failing the result, and counted here.
    pub open_entries_skipped: u32,
    /// What was analysed (`analysis_subject`), when the result names it.
    pub subject: Option<S>,
}

/// A result's scalar members without its subject: what
/// [`ResultSummaryDecoder`] reads.
pub type ResultSummary = AnalysisResult<()>;

/// A list entry of a result.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ResultItem {
    /// An entry of `malicious_activity`.
    MaliciousActivity(String<TEXT_CAPACITY>),
    /// An entry of `errors`.
    Error(String<TEXT_CAPACITY>),
    /// An entry of `reports`.
    Report(ReportRef),
    /// An entry of `activity_to_mitre_techniques`.
    MitreTechniques {
        /// The activity.
        activity: String<TEXT_CAPACITY>,
        /// MITRE ATT&CK technique ids, the first [`TECHNIQUES_CAPACITY`].
        techniques: Vec<String<NAME_CAPACITY>, TECHNIQUES_CAPACITY>,
        /// Pieces of the activity's technique information (an open shape)
        /// not kept: entries naming no technique, ids past the capacity,
        /// or a value that is not a list (counted as one).
        skipped: u32,
    },
    /// An entry of a cached submission's `child_tasks`: a task the
    /// analysis spawned (an archive's member, a download).
    ChildTask(Uuid),
}

/// Technique ids kept per activity (the rest are counted as skipped).
pub const TECHNIQUES_CAPACITY: usize = 16;

/// An entry of a result's `reports`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReportRef {
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// How relevant the report is.
    pub relevance: f32,
    /// What the report is.
    pub description: Option<String<TEXT_CAPACITY>>,
    /// Versions it can be fetched in.
    pub report_versions: Vec<String<NAME_CAPACITY>, 8>,
}

/// Reads a result member into `out`; `None` if `key` is not one.
fn result_field<S>(
    out: &mut AnalysisResult<S>,
    key: &str,
    r: &mut Reader<'_>,
) -> Result<Option<Field>, Fail> {
    Ok(Some(match key {
        "score" => {
            out.score = opt(r, |r| r.int("score"))?;
            Field::Read
        }
        "submission" => {
            out.submission = opt(r, |r| r.timestamp("submission"))?;
            Field::Read
        }
        "last_submission_timestamp" => {
            out.last_submission_timestamp = opt(r, |r| r.timestamp("last_submission_timestamp"))?;
            Field::Read
        }
        "threat" => {
            if !r.string_into("threat", out.threat.insert(String::new()))? {
                out.threat = None;
            }
            Field::Read
        }
        "threat_class" => {
            if !r.string_into("threat_class", out.threat_class.insert(String::new()))? {
                out.threat_class = None;
            }
            Field::Read
        }
        "report" => {
            out.has_report = true;
            Field::Skip
        }
        "malicious_activity" => Field::List("malicious_activity"),
        "errors" => Field::List("errors"),
        "reports" => Field::List("reports"),
        "activity_to_mitre_techniques" => Field::OpenMap("activity_to_mitre_techniques"),
        _ => return Ok(None),
    }))
}

pub(super) fn result_element(
    list: &'static str,
    key: Option<&str>,
    r: &mut Reader<'_>,
) -> Result<ResultItem, Fail> {
    Ok(match list {
        "malicious_activity" => ResultItem::MaliciousActivity(r.string(list)?),
        "errors" => ResultItem::Error(r.string(list)?),
        "reports" => {
            let (mut uuid, mut relevance, mut description, mut versions) =
                (None, None, None, Vec::new());
            r.object(list, |r, k| {
                match k {
                    "report_uuid" => uuid = Some(r.uuid("reports[].report_uuid")?),
                    "relevance" => relevance = Some(r.float("reports[].relevance")?),
                    "description" => description = opt(r, |r| r.string("reports[].description"))?,
                    "report_versions" => versions = r.string_list("reports[].report_versions")?,
                    _ => r.skip(list)?,
                }
                Ok(())
            })?;
            ResultItem::Report(ReportRef {
                report_uuid: need_in(r, uuid, "reports[].report_uuid")?,
                relevance: relevance.unwrap_or(0.0),
                description,
                report_versions: versions,
            })
        }
        "activity_to_mitre_techniques" => {
            let mut activity = String::new();
            activity.push_str(key.unwrap_or("")).map_err(|_| {
                r.fail(
                    list,
                    JsonError::TooLong {
                        capacity: TEXT_CAPACITY,
                    },
                )
            })?;
            let mut techniques = Vec::new();
            let mut skipped = 0u32;
            // The information is an open shape: whatever it holds, the
            // ids found are kept and the rest counted, never an error.
            if r.peek()? == b'[' {
                r.list(list, |r| {
                    let kept = match technique_id(r, list)? {
                        Some(id) => techniques.push(id).is_ok(),
                        None => false,
                    };
                    skipped = skipped.saturating_add(u32::from(!kept));
                    Ok(())
                })?;
            } else {
                r.skip(list)?;
                skipped = 1;
            }
            ResultItem::MitreTechniques {
                activity,
                techniques,
                skipped,
            }
        }
        _ => return Err(r.fail(list, JsonError::WrongType(text!("no entries")))),
    })
}

/// One entry of an activity's "list of Mitre techniques information" (the
/// reference leaves its shape open): a technique id, or an object naming
/// one by `id` (its other members skipped). Any other value, an object
/// without a string id, or an id too long to be one names no technique.
fn technique_id(
    r: &mut Reader<'_>,
    at: &'static str,
) -> Result<Option<String<NAME_CAPACITY>>, Fail> {
    match r.peek()? {
        b'"' => whole_id(r, at),
        b'{' => {
            let mut id = None;
            r.object(at, |r, k| {
                match k {
                    "id" | "technique_id" if r.peek()? == b'"' => id = whole_id(r, at)?,
                    _ => r.skip(at)?,
                }
                Ok(())
            })?;
            Ok(id)
        }
        _ => r.skip(at).map(|()| None),
    }
}

/// A technique id if it fits whole (an id cut short names no technique).
fn whole_id(r: &mut Reader<'_>, at: &'static str) -> Result<Option<String<NAME_CAPACITY>>, Fail> {
    let (id, cut) = r.string_lossy(at)?;
    Ok((!cut).then_some(id))
}

/// Lists are not wanted: skip them.
fn scalars_only(f: Option<Field>) -> Field {
    match f {
        Some(Field::Read) => Field::Read,
        _ => Field::Skip,
    }
}

/// Decodes only the scalar members of a result (score, threat, times),
/// skipping its lists: what a sensor needs from `get_result` with
/// `score_only=1`, in a fraction of [`ResultDecoder`]'s code.
#[derive(Debug, Default)]
pub struct ResultSummaryDecoder(ResultSummary);

impl DataDecoder for ResultSummaryDecoder {
    type Item = core::convert::Infallible;
    type Output = ResultSummary;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(scalars_only(result_field(&mut self.0, key, r)?))
    }

    fn finish(&mut self) -> Result<ResultSummary, Error> {
        need(self.0.score, "score")?;
        Ok(core::mem::take(&mut self.0))
    }
}

/// Decodes `get_results` / `get_result` data.
#[derive(Debug, Default)]
pub struct ResultDecoder(pub(super) AnalysisResult);

impl DataDecoder for ResultDecoder {
    type Item = ResultItem;
    type Output = AnalysisResult;
    const LISTS: &'static [&'static str] = &[
        "malicious_activity",
        "errors",
        "reports",
        "activity_to_mitre_techniques",
    ];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "analysis_subject" {
            self.0.subject = opt(r, analysis_subject)?;
            return Ok(Field::Read);
        }
        Ok(result_field(&mut self.0, key, r)?.unwrap_or(Field::Skip))
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ResultItem, Fail> {
        result_element(list, key, r)
    }

    fn skipped(&mut self, _list: &'static str) {
        self.0.open_entries_skipped = self.0.open_entries_skipped.saturating_add(1);
    }

    fn finish(&mut self) -> Result<AnalysisResult, Error> {
        need(self.0.score, "score")?;
        Ok(core::mem::take(&mut self.0))
    }
}
