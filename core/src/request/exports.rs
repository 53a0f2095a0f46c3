//! Report exports: `export_report`, `get_completed_exported_reports` and
//! `get_exported_report`, with their decoders.

use heapless::String;

use super::{
    check_text, opt_flag, opt_text, opt_value, Allowed, ParamInfo, Params, Request, ResponseKind,
};
use crate::decoders::record::record_decoder;
use crate::decoders::{need_in, opt, NoData, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::Error;
use crate::json::{Fail, Reader};
use crate::types::{ReportType, Timestamp, Uuid};

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
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("report_type"),
        ParamInfo::field("report_format"),
    ];
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
    const PARAMS: &'static [ParamInfo] = &[ParamInfo::field("resume_after_report_uuid")];
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
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("exported_report_uuid"),
        ParamInfo::field("cdn"),
    ];
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

record_decoder! {
    /// `export_report` data.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct Export;
    /// Decodes `export_report`.
    pub struct ExportDecoder;
    required {
        /// The report being generated.
        exported_report_uuid: Uuid,
    }
    optional {
        /// Where to start `get_completed_exported_reports` to see it.
        resume_after_report_uuid: Uuid,
    }
}

/// An exported report that is ready (or failed).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExportedReport {
    /// The exported report's UUID.
    pub exported_report_uuid: Uuid,
    /// The task it covers.
    pub task_uuid: Uuid,
    /// When it was exported.
    pub export_timestamp: Timestamp,
    /// Why the export failed, if it did.
    pub export_error: Option<String<TEXT_CAPACITY>>,
}

/// Decodes `get_completed_exported_reports`.
#[derive(Debug, Default)]
pub struct ExportedReportsDecoder;

const AT: &str = "available_reports[]";

impl DataDecoder for ExportedReportsDecoder {
    type Item = ExportedReport;
    type Output = ();
    const LISTS: &'static [&'static str] = &["available_reports"];

    fn field(&mut self, key: &str, _: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(if key == "available_reports" {
            Field::List("available_reports")
        } else {
            Field::Skip
        })
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ExportedReport, Fail> {
        let (mut e, mut t, mut ts, mut err) = (None, None, None, None);
        r.object(AT, |r, k| {
            match k {
                "exported_report_uuid" => {
                    e = Some(r.uuid("available_reports[].exported_report_uuid")?)
                }
                "task_uuid" => t = Some(r.uuid("available_reports[].task_uuid")?),
                "export_timestamp" => {
                    ts = Some(r.timestamp("available_reports[].export_timestamp")?)
                }
                "export_error" => err = opt(r, |r| r.string("available_reports[].export_error"))?,
                _ => r.skip(AT)?,
            }
            Ok(())
        })?;
        Ok(ExportedReport {
            exported_report_uuid: need_in(r, e, "available_reports[].exported_report_uuid")?,
            task_uuid: need_in(r, t, "available_reports[].task_uuid")?,
            export_timestamp: need_in(r, ts, "available_reports[].export_timestamp")?,
            export_error: err,
        })
    }

    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}
