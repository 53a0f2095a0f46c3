//! Completion and pending lists: the way to learn that tasks finished.

use super::{opt_flag, opt_value, Allowed, Params, Request, ResponseKind};
use crate::decoders::{CompletedDecoder, CompletedWithMetadataDecoder, PendingDecoder};
use crate::error::Error;
use crate::types::Timestamp;

fn check_range(after: Option<Timestamp>, before: Option<Timestamp>) -> Result<(), Error> {
    match (after, before) {
        (Some(a), Some(b)) if b < a => Err(Error::InvalidParam {
            param: "before",
            reason: text!("earlier than after"),
        }),
        _ => Ok(()),
    }
}

/// `get_completed`: tasks completed between `after` and `before`.
#[derive(Clone, Copy, Debug)]
pub struct GetCompleted {
    /// Start of the range (inclusive).
    pub after: Timestamp,
    /// End of the range (default: now).
    pub before: Option<Timestamp>,
    /// Return `{uuid: score}` instead of a list of UUIDs.
    pub include_score: Option<bool>,
}

impl Request for GetCompleted {
    const NAME: &'static str = "get_completed";
    const PATH: &'static str = "/analysis/get_completed";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = CompletedDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_range(Some(self.after), self.before)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("after", self.after.into());
        opt_value(p, "before", self.before);
        opt_flag(p, "include_score", self.include_score);
    }
}

/// `get_completed_with_metadata`: completed tasks with score and input
/// errors.
#[derive(Clone, Copy, Debug)]
pub struct GetCompletedWithMetadata {
    /// Start of the range (inclusive).
    pub after: Timestamp,
    /// End of the range (default: now).
    pub before: Option<Timestamp>,
}

impl Request for GetCompletedWithMetadata {
    const NAME: &'static str = "get_completed_with_metadata";
    const PATH: &'static str = "/analysis/get_completed_with_metadata";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = CompletedWithMetadataDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_range(Some(self.after), self.before)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("after", self.after.into());
        opt_value(p, "before", self.before);
    }
}

/// `get_pending`: tasks created in the range and not yet completed.
#[derive(Clone, Copy, Debug, Default)]
pub struct GetPending {
    /// Start of the range (default: the epoch).
    pub after: Option<Timestamp>,
    /// End of the range (default: now).
    pub before: Option<Timestamp>,
}

impl Request for GetPending {
    const NAME: &'static str = "get_pending";
    const PATH: &'static str = "/analysis/get_pending";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = PendingDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_range(self.after, self.before)
    }

    fn params(&self, p: &mut dyn Params) {
        opt_value(p, "after", self.after);
        opt_value(p, "before", self.before);
    }
}
