//! Per-task reads — activities, progress, metadata, tags, child tasks —
//! and the server clock: each method's request, and the decoder of its
//! `data` with the values it yields, side by side.

use heapless::{String, Vec};

use super::{opt_flag, uuid_request, Allowed, ParamInfo, Params, Request, ResponseKind};
use crate::decoders::record::record_decoder;
use crate::decoders::{need, need_in, opt, NAME_CAPACITY, RESPONSE_URL_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Md5, Sha1, Sha256, TaskType, Timestamp, Uuid};

uuid_request!(
    /// `get_result_activities`: behaviour detected for a task.
    GetResultActivities, "get_result_activities", "/analysis/get_result_activities", Allowed::GetOrPost,
    ResultActivitiesDecoder, token: true
);

uuid_request!(
    /// `get_progress`: how far a task's analysis is. Do not poll it to learn
    /// completion: use the completion cursor.
    GetProgress, "get_progress", "/analysis/get_progress", Allowed::GetOrPost, ProgressDecoder, token: true
);

uuid_request!(
    /// `get_task_metadata`: what was submitted in a task.
    GetTaskMetadata, "get_task_metadata", "/analysis/get_task_metadata", Allowed::GetOrPost,
    TaskMetadataDecoder, token: false
);

uuid_request!(
    /// `get_analysis_tags`: tags attached to a task's analysis.
    GetAnalysisTags, "get_analysis_tags", "/analysis/get_analysis_tags", Allowed::GetOrPost,
    AnalysisTagsDecoder, token: true
);

uuid_request!(
    /// `get_child_tasks_recursively`: tasks spawned from a task.
    GetChildTasksRecursively, "get_child_tasks_recursively", "/analysis/get_child_tasks_recursively",
    Allowed::GetOrPost, ChildTasksDecoder, token: false
);

/// `get_report_activities`: behaviour detected in one report of a task.
#[derive(Clone, Copy, Debug)]
pub struct GetReportActivities {
    /// The task's UUID.
    pub uuid: Uuid,
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for GetReportActivities {
    const NAME: &'static str = "get_report_activities";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("report_uuid"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/get_report_activities";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = ReportActivitiesDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.value("report_uuid", self.report_uuid.into());
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

/// `get_api_utc_timestamp`: the server's clock, to use for `after` and
/// `before` when the local clock may be off.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetApiUtcTimestamp;

impl Request for GetApiUtcTimestamp {
    const NAME: &'static str = "get_api_utc_timestamp";
    const PARAMS: &'static [ParamInfo] = &[];
    const PATH: &'static str = "/analysis/get_api_utc_timestamp";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Get;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = UtcTimestampDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, _: &mut dyn Params) {}
}

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

const AT: &str = "report_activities[]";

record_decoder! {
    /// `get_progress` data.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct TaskProgress;
    /// Decodes `get_progress`.
    pub struct ProgressDecoder;
    required {
        /// Percent done.
        progress: i32,
        /// Whether analysis finished.
        completed: bool,
    }
    optional {}
}

record_decoder! {
    /// `get_task_metadata` data.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct TaskMetadata;
    /// Decodes `get_task_metadata`.
    pub struct TaskMetadataDecoder;
    required {
        /// The task's UUID.
        task_uuid: Uuid,
    }
    optional {
        /// File or URL.
        task_type: TaskType,
        /// The file's MD5.
        file_md5: Md5,
        /// The file's SHA-1.
        file_sha1: Sha1,
        /// The file's SHA-256.
        file_sha256: Sha256,
        /// The file's MIME type.
        file_mime_type: String<NAME_CAPACITY>,
        /// The file's name.
        filename: String<TEXT_CAPACITY>,
        /// The file's size in bytes.
        file_size: u64,
        /// The submitted URL.
        url: String<RESPONSE_URL_CAPACITY>,
        /// The URL's referer.
        referer: String<RESPONSE_URL_CAPACITY>,
    }
}

/// `get_analysis_tags` data other than the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisTags {
    /// The task's UUID.
    pub task_uuid: Uuid,
}

/// An analysis tag; which members are set depends on `format`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnalysisTag {
    /// `typed_tag`, `signature_detection_tag`, `blacklist_detection_tag`...
    pub format: String<NAME_CAPACITY>,
    /// `type` of a typed tag.
    pub kind: Option<String<NAME_CAPACITY>>,
    /// `value` of a typed tag.
    pub value: Option<String<TEXT_CAPACITY>>,
    /// The detector that fired.
    pub detector: Option<String<TEXT_CAPACITY>>,
    /// The host detected.
    pub host: Option<String<TEXT_CAPACITY>>,
    /// The URL detected.
    pub url: Option<String<RESPONSE_URL_CAPACITY>>,
    /// The tag's score.
    pub score: Option<i32>,
}

/// Decodes `get_analysis_tags`.
#[derive(Debug, Default)]
pub struct AnalysisTagsDecoder(Option<Uuid>);

const TAG: &str = "analysis_tags[]";

impl DataDecoder for AnalysisTagsDecoder {
    type Item = AnalysisTag;
    type Output = AnalysisTags;
    const LISTS: &'static [&'static str] = &["analysis_tags"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(match key {
            "task_uuid" => {
                self.0 = Some(r.uuid("task_uuid")?);
                Field::Read
            }
            "analysis_tags" => Field::List("analysis_tags"),
            _ => Field::Skip,
        })
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<AnalysisTag, Fail> {
        let mut tag = AnalysisTag::default();
        let mut format = None;
        r.object(TAG, |r, k| {
            match k {
                "format" => format = Some(r.string(TAG)?),
                "data" => r.object(TAG, |r, k| {
                    match k {
                        "type" => tag.kind = opt(r, |r| r.string("analysis_tags[].data.type"))?,
                        "value" => tag.value = opt(r, |r| r.string("analysis_tags[].data.value"))?,
                        "detector" => {
                            tag.detector = opt(r, |r| r.string("analysis_tags[].data.detector"))?
                        }
                        "host" => tag.host = opt(r, |r| r.string("analysis_tags[].data.host"))?,
                        "url" => tag.url = opt(r, |r| r.string("analysis_tags[].data.url"))?,
                        "score" => tag.score = opt(r, |r| r.int("analysis_tags[].data.score"))?,
                        _ => r.skip(TAG)?,
                    }
                    Ok(())
                })?,
                _ => r.skip(TAG)?,
            }
            Ok(())
        })?;
        tag.format = need_in(r, format, "analysis_tags[].format")?;
        Ok(tag)
    }

    fn finish(&mut self) -> Result<AnalysisTags, Error> {
        Ok(AnalysisTags {
            task_uuid: need(self.0, "task_uuid")?,
        })
    }
}

/// `get_child_tasks_recursively` data other than the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildTasks {
    /// The parent task's UUID.
    pub task_uuid: Uuid,
}

/// A child task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildTask {
    /// The child's UUID.
    pub task_uuid: Uuid,
    /// 1 for a child, 2 for a grandchild...
    pub depth: u32,
}

/// Decodes `get_child_tasks_recursively`.
#[derive(Debug, Default)]
pub struct ChildTasksDecoder(Option<Uuid>);

impl DataDecoder for ChildTasksDecoder {
    type Item = ChildTask;
    type Output = ChildTasks;
    const LISTS: &'static [&'static str] = &["child_tasks"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(match key {
            "task_uuid" => {
                self.0 = Some(r.uuid("task_uuid")?);
                Field::Read
            }
            "child_tasks" => Field::Map("child_tasks"),
            _ => Field::Skip,
        })
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<ChildTask, Fail> {
        let task_uuid = Uuid::parse(key.unwrap_or(""))
            .map_err(|_| r.fail(list, JsonError::InvalidValue(text!("a UUID key"))))?;
        let mut depth = None;
        r.object("child_tasks{}", |r, k| {
            if k == "depth" {
                depth = Some(r.int("child_tasks{}.depth")?);
            } else {
                r.skip("child_tasks{}")?;
            }
            Ok(())
        })?;
        Ok(ChildTask {
            task_uuid,
            depth: need_in(r, depth, "child_tasks{}.depth")?,
        })
    }

    fn finish(&mut self) -> Result<ChildTasks, Error> {
        Ok(ChildTasks {
            task_uuid: need(self.0, "task_uuid")?,
        })
    }
}

/// `get_api_utc_timestamp`: `{"timestamp": "YYYY-MM-DD HH:MM:SS"}`.
#[derive(Debug, Default)]
pub struct UtcTimestampDecoder(Option<Timestamp>);

impl DataDecoder for UtcTimestampDecoder {
    type Item = core::convert::Infallible;
    type Output = Timestamp;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "timestamp" {
            self.0 = Some(r.timestamp("timestamp")?);
            return Ok(Field::Read);
        }
        Ok(Field::Skip)
    }

    fn finish(&mut self) -> Result<Timestamp, Error> {
        need(self.0, "timestamp")
    }
}
