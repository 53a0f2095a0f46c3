//! Per-task reads: activities, progress, metadata, tags, child tasks, and
//! the server clock.

use super::{opt_flag, uuid_request, Allowed, Params, Request, ResponseKind};
use crate::decoders::{
    AnalysisTagsDecoder, ChildTasksDecoder, ProgressDecoder, ReportActivitiesDecoder,
    ResultActivitiesDecoder, TaskMetadataDecoder, UtcTimestampDecoder,
};
use crate::error::Error;
use crate::types::Uuid;

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
