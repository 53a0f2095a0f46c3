//! `export_report` and `get_completed_exported_reports`.

use heapless::String;

use super::{need, need_in, opt, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::Error;
use crate::json::{Fail, Reader};
use crate::types::{Timestamp, Uuid};

/// `export_report` data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Export {
    /// The report being generated.
    pub exported_report_uuid: Uuid,
    /// Where to start `get_completed_exported_reports` to see it.
    pub resume_after_report_uuid: Option<Uuid>,
}

/// Decodes `export_report`.
#[derive(Debug, Default)]
pub struct ExportDecoder(Option<Uuid>, Option<Uuid>);

impl DataDecoder for ExportDecoder {
    type Item = core::convert::Infallible;
    type Output = Export;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "exported_report_uuid" => self.0 = Some(r.uuid("exported_report_uuid")?),
            "resume_after_report_uuid" => self.1 = opt(r, |r| r.uuid("resume_after_report_uuid"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<Export, Error> {
        Ok(Export {
            exported_report_uuid: need(self.0, "exported_report_uuid")?,
            resume_after_report_uuid: self.1,
        })
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
