//! Results and report exports.

use super::{
    check_opt_text, check_text, opt_flag, opt_text, opt_value, Allowed, Params, Request,
    ResponseKind,
};
use crate::decoders::{ExportDecoder, ExportedReportsDecoder, NoData, ResultDecoder};
use crate::error::Error;
use crate::types::{Format, ReportType, Uuid};

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

/// `export_report`: start generating a report document (asynchronous).
#[derive(Clone, Copy, Debug)]
pub struct ExportReport<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// What the report covers.
    pub report_type: ReportType,
    /// Document format; only `PDF` (the default) is documented.
    pub report_format: Option<&'a str>,
}

impl Request for ExportReport<'_> {
    const NAME: &'static str = "export_report";
    const PATH: &'static str = "/analysis/export_report";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = ExportDecoder;

    fn validate(&self) -> Result<(), Error> {
        if let Some(f) = self.report_format {
            check_text("report_format", f)?;
            if f.is_empty() {
                return Err(Error::InvalidParam {
                    param: "report_format",
                    reason: text!("empty"),
                });
            }
        }
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.value("report_type", self.report_type.into());
        opt_text(p, "report_format", self.report_format);
    }
}

/// `get_completed_exported_reports`: exported reports ready since a
/// position in the export stream (GET only).
#[derive(Clone, Copy, Debug, Default)]
pub struct GetCompletedExportedReports {
    /// Continue after this report (omit for all stored reports).
    pub resume_after_report_uuid: Option<Uuid>,
}

impl Request for GetCompletedExportedReports {
    const NAME: &'static str = "get_completed_exported_reports";
    const PATH: &'static str = "/analysis/get_completed_exported_reports";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Get;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    const NEEDS_TOKEN: bool = false;
    type Response = ExportedReportsDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        opt_value(p, "resume_after_report_uuid", self.resume_after_report_uuid);
    }
}

/// `get_exported_report`: download an exported report (raw, GET only).
#[derive(Clone, Copy, Debug)]
pub struct GetExportedReport {
    /// The exported report's UUID.
    pub exported_report_uuid: Uuid,
    /// Allow a redirect to a CDN (default true).
    pub cdn: Option<bool>,
}

impl Request for GetExportedReport {
    const NAME: &'static str = "get_exported_report";
    const PATH: &'static str = "/analysis/get_exported_report";
    const FORMAT_SUFFIX: bool = false;
    const ALLOWED: Allowed = Allowed::Get;
    const RESPONSE: ResponseKind = ResponseKind::Raw;
    const NEEDS_TOKEN: bool = false;
    type Response = NoData;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("exported_report_uuid", self.exported_report_uuid.into());
        opt_flag(p, "cdn", self.cdn);
    }
}
