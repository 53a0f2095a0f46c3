//! Typed `data` of every method's envelope, decoded into fixed-capacity
//! values. Lists arrive as streamed items (see [`crate::envelope`]).
//!
//! # The decoding rule
//!
//! Every decoder here follows one rule, for servers we have not seen:
//!
//! - a member whose type the reference documents is checked: a wrong type,
//!   a bad value or more than the capacity is a typed error naming the
//!   member, never a silent cut;
//! - a member whose shape the reference leaves open (MITRE technique
//!   "information", report contents, maps to lists of unspecified items:
//!   the catalog's fields without an item type) is accepted whatever JSON
//!   it holds and never fails the result — here, without a heap, it is
//!   skipped (or read where a known form is recognised, e.g. technique ids
//!   as strings or objects) and the fact recorded in the output
//!   (`AnalysisResult::has_report`, `open_entries_skipped` for an entry
//!   larger than the unit buffer, `ResultItem::MitreTechniques::skipped`);
//!   a std caller wanting it whole keeps the body (`lastline-ureq`'s
//!   `call_keeping_body`);
//! - an unknown member is skipped, at any depth.

mod raw;
pub(crate) mod record;
mod scalars;

pub use raw::{RawData, RawEntry, RawJson, RAW_KEY_CAPACITY};

// Each method's decoder lives beside its request, in its group of
// `crate::request`; here they are all, by the names they always had.
pub use crate::request::analysis::{
    Activity, ActivityReport, AnalysisTag, AnalysisTags, AnalysisTagsDecoder, ChildTask,
    ChildTasks, ChildTasksDecoder, ProgressDecoder, ReportActivities, ReportActivitiesDecoder,
    ReportActivity, ResultActivities, ResultActivitiesDecoder, TaskMetadata, TaskMetadataDecoder,
    TaskProgress, UtcTimestampDecoder,
};
pub use crate::request::artifacts::{IsRiskyDecoder, TaskArtifact, TaskArtifactDecoder};
pub use crate::request::completion::{
    CompletedDecoder, CompletedTask, CompletedWithMetadataDecoder, CompletionPage, PendingDecoder,
};
pub use crate::request::exports::{Export, ExportDecoder, ExportedReport, ExportedReportsDecoder};
pub use crate::request::hashes::{
    BlockedDecoder, BlockedVerdict, FileHashDecoder, FileHashTask, FileHashes,
};
pub use crate::request::iocs::{
    IocMetadata, IocMetadataDecoder, NetworkIoc, NetworkIocReport, NetworkIocs, NetworkIocsDecoder,
};
pub use crate::request::results::{
    AnalysisResult, AnalysisSubject, ReportRef, ResultDecoder, ResultItem, ResultSummary,
    ResultSummaryDecoder, TECHNIQUES_CAPACITY, THREAT_CAPACITY,
};
pub use crate::request::submit::{Submission, SubmitDecoder, SubmitResultDecoder, SubmittedResult};
pub use scalars::{NoData, StringData};

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
