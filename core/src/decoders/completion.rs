//! `get_completed`, `get_completed_with_metadata`, `get_pending`.

use heapless::Vec;

use super::{need, need_in, opt};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Timestamp, Uuid};

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
