//! Completion and pending lists, the way to learn that tasks finished:
//! the requests, and the decoders streaming their tasks.

use heapless::Vec;

use super::{opt_flag, opt_value, Allowed, ParamInfo, Params, Request, ResponseKind};
use crate::decoders::{need, need_in, opt};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Timestamp, Uuid};

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
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("after"),
        ParamInfo::field("before"),
        ParamInfo::field("include_score"),
    ];
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
    const PARAMS: &'static [ParamInfo] = &[ParamInfo::field("after"), ParamInfo::field("before")];
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
    const PARAMS: &'static [ParamInfo] = &[ParamInfo::field("after"), ParamInfo::field("before")];
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

/// The range a completion or pending page covers, and where to go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CompletionPage {
    /// The range's start, as the server read it.
    pub after: Timestamp,
    /// The range's end (inclusive).
    pub before: Timestamp,
    /// Where the next call starts (`before` + 1 s; may be absent).
    pub resume: Option<Timestamp>,
    /// More tasks are ready now: call again at once.
    pub more_results_available: bool,
}

impl CompletionPage {
    /// The `after` of the next call: `resume` when present, else `before`
    /// (the catalog's reading for get_pending and old servers).
    pub fn next_after(&self) -> Timestamp {
        self.resume.unwrap_or(self.before)
    }
}

/// A completed task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CompletedTask {
    /// The task's UUID.
    pub task_uuid: Uuid,
    /// Its score, when the server sent one.
    pub score: Option<i32>,
    /// Why analysis lacked input (1001..1003 documented; others kept).
    pub insufficient_task_input_errors: Vec<i32, 8>,
}

#[derive(Debug, Default)]
struct PageFields {
    after: Option<Timestamp>,
    before: Option<Timestamp>,
    resume: Option<Timestamp>,
    more: Option<bool>,
}

impl PageFields {
    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Option<Field>, Fail> {
        match key {
            "after" => self.after = Some(r.timestamp("after")?),
            "before" => self.before = Some(r.timestamp("before")?),
            "resume" => self.resume = opt(r, |r| r.timestamp("resume"))?,
            "more_results_available" => self.more = opt(r, |r| r.flag("more_results_available"))?,
            _ => return Ok(None),
        }
        Ok(Some(Field::Read))
    }

    fn finish(&self) -> Result<CompletionPage, Error> {
        Ok(CompletionPage {
            after: need(self.after, "after")?,
            before: need(self.before, "before")?,
            resume: self.resume,
            more_results_available: self.more.unwrap_or(false),
        })
    }
}

fn input_errors(r: &mut Reader<'_>) -> Result<Vec<i32, 8>, Fail> {
    r.int_list("tasks[].insufficient_task_input_errors")
}

/// Decodes `get_completed`: `tasks` is a list of UUIDs, or with
/// `include_score=1` an object mapping UUID to score.
#[derive(Debug, Default)]
pub struct CompletedDecoder(PageFields);

impl DataDecoder for CompletedDecoder {
    type Item = CompletedTask;
    type Output = CompletionPage;
    const LISTS: &'static [&'static str] = &["tasks"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "tasks" {
            return Ok(Field::ListOrMap("tasks"));
        }
        Ok(self.0.field(key, r)?.unwrap_or(Field::Skip))
    }

    fn element(
        &mut self,
        list: &'static str,
        key: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<CompletedTask, Fail> {
        match key {
            Some(uuid) => {
                let task_uuid = Uuid::parse(uuid)
                    .map_err(|_| r.fail(list, JsonError::InvalidValue(text!("a UUID key"))))?;
                let score = opt(r, |r| r.int("tasks{}"))?;
                Ok(CompletedTask {
                    task_uuid,
                    score,
                    insufficient_task_input_errors: Vec::new(),
                })
            }
            None if r.peek()? == b'{' => metadata_task(r),
            None => Ok(CompletedTask {
                task_uuid: r.uuid("tasks[]")?,
                score: None,
                insufficient_task_input_errors: Vec::new(),
            }),
        }
    }

    fn finish(&mut self) -> Result<CompletionPage, Error> {
        self.0.finish()
    }
}

fn metadata_task(r: &mut Reader<'_>) -> Result<CompletedTask, Fail> {
    let (mut uuid, mut score, mut errors) = (None, None, Vec::new());
    r.object("tasks[]", |r, k| {
        match k {
            "task_uuid" => uuid = Some(r.uuid("tasks[].task_uuid")?),
            "score" => score = opt(r, |r| r.int("tasks[].score"))?,
            "insufficient_task_input_errors" => errors = input_errors(r)?,
            _ => r.skip("tasks[]")?,
        }
        Ok(())
    })?;
    Ok(CompletedTask {
        task_uuid: need_in(r, uuid, "tasks[].task_uuid")?,
        score,
        insufficient_task_input_errors: errors,
    })
}

/// Decodes `get_completed_with_metadata`: `tasks` is a list of objects.
#[derive(Debug, Default)]
pub struct CompletedWithMetadataDecoder(PageFields);

impl DataDecoder for CompletedWithMetadataDecoder {
    type Item = CompletedTask;
    type Output = CompletionPage;
    const LISTS: &'static [&'static str] = &["tasks"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "tasks" {
            return Ok(Field::List("tasks"));
        }
        Ok(self.0.field(key, r)?.unwrap_or(Field::Skip))
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<CompletedTask, Fail> {
        metadata_task(r)
    }

    fn finish(&mut self) -> Result<CompletionPage, Error> {
        self.0.finish()
    }
}

/// Decodes `get_pending`: `tasks` is a list of UUIDs.
#[derive(Debug, Default)]
pub struct PendingDecoder(PageFields);

impl DataDecoder for PendingDecoder {
    type Item = Uuid;
    type Output = CompletionPage;
    const LISTS: &'static [&'static str] = &["tasks"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "tasks" {
            return Ok(Field::List("tasks"));
        }
        Ok(self.0.field(key, r)?.unwrap_or(Field::Skip))
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<Uuid, Fail> {
        r.uuid("tasks[]")
    }

    fn finish(&mut self) -> Result<CompletionPage, Error> {
        self.0.finish()
    }
}
