//! Typed `data` of every method's envelope, decoded into fixed-capacity
//! values. Lists arrive as streamed items (see [`crate::envelope`]).

mod activities;
mod completion;
mod exports;
mod iocs;
mod lookups;
mod results;
mod scalars;

pub use activities::{
    Activity, ActivityReport, ReportActivities, ReportActivitiesDecoder, ReportActivity,
    ResultActivities, ResultActivitiesDecoder,
};
pub use completion::{
    CompletedDecoder, CompletedTask, CompletedWithMetadataDecoder, CompletionPage, PendingDecoder,
};
pub use exports::{Export, ExportDecoder, ExportedReport, ExportedReportsDecoder};
pub use iocs::{
    IocMetadata, IocMetadataDecoder, NetworkIoc, NetworkIocReport, NetworkIocs, NetworkIocsDecoder,
};
pub use lookups::{
    AnalysisTag, AnalysisTags, AnalysisTagsDecoder, BlockedDecoder, BlockedVerdict, ChildTask,
    ChildTasks, ChildTasksDecoder, FileHashDecoder, FileHashTask, FileHashes, ProgressDecoder,
    TaskArtifact, TaskArtifactDecoder, TaskMetadata, TaskMetadataDecoder, TaskProgress,
};
pub use results::{
    AnalysisResult, ReportRef, ResultDecoder, ResultItem, ResultSummaryDecoder, Submission,
    SubmitDecoder, THREAT_CAPACITY,
};
pub use scalars::{IsRiskyDecoder, NoData, StringData, UtcTimestampDecoder};

use crate::error::Error;
use crate::json::{Fail, Reader};

/// Capacity of short names (types, formats, versions).
pub const NAME_CAPACITY: usize = 64;
/// Capacity of descriptive text (activities, threats, errors).
pub const TEXT_CAPACITY: usize = 256;
/// Capacity of URLs and referers in responses.
pub const RESPONSE_URL_CAPACITY: usize = 1024;

/// Reads a value unless it is `null`.
pub(crate) fn opt<T>(
    r: &mut Reader<'_>,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, Fail>,
) -> Result<Option<T>, Fail> {
    if r.null()? {
        Ok(None)
    } else {
        f(r).map(Some)
    }
}

/// A required member.
pub(crate) fn need<T>(v: Option<T>, field: &'static str) -> Result<T, Error> {
    v.ok_or(Error::MissingField { field })
}

/// A required member inside a list entry (a unit), reported as bad data.
pub(crate) fn need_in<T>(r: &mut Reader<'_>, v: Option<T>, field: &'static str) -> Result<T, Fail> {
    v.ok_or_else(|| r.fail_with(crate::json::Problem::MissingField(field)))
}
