//! `get_result_activities` and `get_report_activities`.

use heapless::{String, Vec};

use super::{need, need_in, NAME_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::Error;
use crate::json::{Fail, Reader};
use crate::types::Uuid;

/// A report an activity was seen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ActivityReport {
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// Whether the report lists action ids for it.
    pub has_action_ids: bool,
}

/// A behaviour detected in a task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Activity {
    /// Its type.
    pub kind: String<NAME_CAPACITY>,
    /// What happened.
    pub description: String<TEXT_CAPACITY>,
    /// How bad it is.
    pub severity: i32,
    /// Reports it was seen in.
    pub reports: Vec<ActivityReport, 16>,
}

/// A behaviour detected in one report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReportActivity {
    /// Its type.
    pub kind: String<NAME_CAPACITY>,
    /// What happened.
    pub description: String<TEXT_CAPACITY>,
    /// How bad it is.
    pub severity: i32,
    /// Ids of the actions behind it.
    pub action_ids: Vec<i64, 64>,
}

/// `get_result_activities` data other than the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ResultActivities {
    /// The task's UUID.
    pub task_uuid: Uuid,
}

/// `get_report_activities` data other than the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReportActivities {
    /// The task's UUID.
    pub task_uuid: Uuid,
    /// The report's UUID.
    pub report_uuid: Uuid,
}

const AT: &str = "report_activities[]";

/// Decodes `get_result_activities`.
#[derive(Debug, Default)]
pub struct ResultActivitiesDecoder(Option<Uuid>);

impl DataDecoder for ResultActivitiesDecoder {
    type Item = Activity;
    type Output = ResultActivities;
    const LISTS: &'static [&'static str] = &["report_activities"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(match key {
            "task_uuid" => {
                self.0 = Some(r.uuid("task_uuid")?);
                Field::Read
            }
            "report_activities" => Field::List("report_activities"),
            _ => Field::Skip,
        })
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<Activity, Fail> {
        let (mut kind, mut description, mut severity, mut reports) = (None, None, None, Vec::new());
        r.object(AT, |r, k| {
            match k {
                "type" => kind = Some(r.string(AT)?),
                "description" => description = Some(r.string(AT)?),
                "severity" => severity = Some(r.int(AT)?),
                "reports" => r.list(AT, |r| {
                    let (mut uuid, mut has) = (None, false);
                    r.object(AT, |r, k| {
                        match k {
                            "report_uuid" => {
                                uuid = Some(r.uuid("report_activities[].reports[].report_uuid")?)
                            }
                            "has_action_ids" => {
                                has = r.flag("report_activities[].reports[].has_action_ids")?
                            }
                            _ => r.skip(AT)?,
                        }
                        Ok(())
                    })?;
                    let report = ActivityReport {
                        report_uuid: need_in(r, uuid, "report_activities[].reports[].report_uuid")?,
                        has_action_ids: has,
                    };
                    reports.push(report).map_err(|_| {
                        r.fail(AT, crate::error::JsonError::TooManyItems { capacity: 16 })
                    })
                })?,
                _ => r.skip(AT)?,
            }
            Ok(())
        })?;
        Ok(Activity {
            kind: need_in(r, kind, "report_activities[].type")?,
            description: description.unwrap_or_default(),
            severity: need_in(r, severity, "report_activities[].severity")?,
            reports,
        })
    }

    fn finish(&mut self) -> Result<ResultActivities, Error> {
        Ok(ResultActivities {
            task_uuid: need(self.0, "task_uuid")?,
        })
    }
}

/// Decodes `get_report_activities`.
#[derive(Debug, Default)]
pub struct ReportActivitiesDecoder(Option<Uuid>, Option<Uuid>);

impl DataDecoder for ReportActivitiesDecoder {
    type Item = ReportActivity;
    type Output = ReportActivities;
    const LISTS: &'static [&'static str] = &["report_activities"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(match key {
            "task_uuid" => {
                self.0 = Some(r.uuid("task_uuid")?);
                Field::Read
            }
            "report_uuid" => {
                self.1 = Some(r.uuid("report_uuid")?);
                Field::Read
            }
            "report_activities" => Field::List("report_activities"),
            _ => Field::Skip,
        })
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ReportActivity, Fail> {
        let (mut kind, mut description, mut severity, mut action_ids) =
            (None, None, None, Vec::new());
        r.object(AT, |r, k| {
            match k {
                "type" => kind = Some(r.string(AT)?),
                "description" => description = Some(r.string(AT)?),
                "severity" => severity = Some(r.int(AT)?),
                "action_ids" => action_ids = r.int_list("report_activities[].action_ids")?,
                _ => r.skip(AT)?,
            }
            Ok(())
        })?;
        Ok(ReportActivity {
            kind: need_in(r, kind, "report_activities[].type")?,
            description: description.unwrap_or_default(),
            severity: need_in(r, severity, "report_activities[].severity")?,
            action_ids,
        })
    }

    fn finish(&mut self) -> Result<ReportActivities, Error> {
        Ok(ReportActivities {
            task_uuid: need(self.0, "task_uuid")?,
            report_uuid: need(self.1, "report_uuid")?,
        })
    }
}
