//! Small per-task and per-hash look-ups.

use heapless::{String, Vec};

use super::{need, need_in, opt, NAME_CAPACITY, RESPONSE_URL_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{BlockDecision, Md5, Sha1, Sha256, TaskType, Timestamp, Uuid};

/// `get_progress` data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TaskProgress {
    /// Percent done.
    pub progress: i32,
    /// Whether analysis finished.
    pub completed: bool,
}

/// Decodes `get_progress`.
#[derive(Debug, Default)]
pub struct ProgressDecoder(Option<i32>, Option<bool>);

impl DataDecoder for ProgressDecoder {
    type Item = core::convert::Infallible;
    type Output = TaskProgress;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "progress" => self.0 = Some(r.int("progress")?),
            "completed" => self.1 = Some(r.flag("completed")?),
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<TaskProgress, Error> {
        Ok(TaskProgress {
            progress: need(self.0, "progress")?,
            completed: need(self.1, "completed")?,
        })
    }
}

/// `get_task_metadata` data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TaskMetadata {
    /// The task's UUID.
    pub task_uuid: Uuid,
    /// File or URL.
    pub task_type: Option<TaskType>,
    /// The file's MD5.
    pub file_md5: Option<Md5>,
    /// The file's SHA-1.
    pub file_sha1: Option<Sha1>,
    /// The file's SHA-256.
    pub file_sha256: Option<Sha256>,
    /// The file's MIME type.
    pub file_mime_type: Option<String<NAME_CAPACITY>>,
    /// The file's name.
    pub filename: Option<String<TEXT_CAPACITY>>,
    /// The file's size in bytes.
    pub file_size: Option<u64>,
    /// The submitted URL.
    pub url: Option<String<RESPONSE_URL_CAPACITY>>,
    /// The URL's referer.
    pub referer: Option<String<RESPONSE_URL_CAPACITY>>,
}

/// Decodes `get_task_metadata`.
#[derive(Debug, Default)]
pub struct TaskMetadataDecoder {
    task_uuid: Option<Uuid>,
    task_type: Option<TaskType>,
    file_md5: Option<Md5>,
    file_sha1: Option<Sha1>,
    file_sha256: Option<Sha256>,
    file_mime_type: Option<String<NAME_CAPACITY>>,
    filename: Option<String<TEXT_CAPACITY>>,
    file_size: Option<u64>,
    url: Option<String<RESPONSE_URL_CAPACITY>>,
    referer: Option<String<RESPONSE_URL_CAPACITY>>,
}

impl DataDecoder for TaskMetadataDecoder {
    type Item = core::convert::Infallible;
    type Output = TaskMetadata;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "task_uuid" => self.task_uuid = Some(r.uuid("task_uuid")?),
            "task_type" => {
                self.task_type = opt(r, |r| {
                    let s = r.string::<16>("task_type")?;
                    TaskType::parse(&s)
                        .ok_or(r.fail("task_type", JsonError::InvalidValue(text!("file or url"))))
                })?
            }
            "file_md5" => self.file_md5 = opt(r, |r| r.digest("file_md5"))?,
            "file_sha1" => self.file_sha1 = opt(r, |r| r.digest("file_sha1"))?,
            "file_sha256" => self.file_sha256 = opt(r, |r| r.digest("file_sha256"))?,
            "file_mime_type" => self.file_mime_type = opt(r, |r| r.string("file_mime_type"))?,
            "filename" => self.filename = opt(r, |r| r.string("filename"))?,
            "file_size" => self.file_size = opt(r, |r| r.int("file_size"))?,
            "url" => self.url = opt(r, |r| r.string("url"))?,
            "referer" => self.referer = opt(r, |r| r.string("referer"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<TaskMetadata, Error> {
        Ok(TaskMetadata {
            task_uuid: need(self.task_uuid, "task_uuid")?,
            task_type: self.task_type,
            file_md5: self.file_md5,
            file_sha1: self.file_sha1,
            file_sha256: self.file_sha256,
            file_mime_type: self.file_mime_type.take(),
            filename: self.filename.take(),
            file_size: self.file_size,
            url: self.url.take(),
            referer: self.referer.take(),
        })
    }
}

/// `query_file_hash` data other than the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileHashes {
    /// How many files match.
    pub files_found: u32,
    /// `expires` at the top level (some servers put it there).
    pub expires: Option<Timestamp>,
}

/// An entry of `query_file_hash`'s `tasks`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileHashTask {
    /// MD5 of the file.
    pub file_md5: Option<Md5>,
    /// SHA-1 of the file.
    pub file_sha1: Option<Sha1>,
    /// SHA-256 of the file.
    pub file_sha256: Option<Sha256>,
    /// The most recent task of the file.
    pub task_uuid: Uuid,
    /// Its score.
    pub score: i32,
    /// Why analysis lacked input.
    pub insufficient_task_input_errors: Vec<i32, 8>,
    /// When the result expires.
    pub expires: Option<Timestamp>,
}

/// Decodes `query_file_hash`.
#[derive(Debug, Default)]
pub struct FileHashDecoder(Option<u32>, Option<Timestamp>);

impl DataDecoder for FileHashDecoder {
    type Item = FileHashTask;
    type Output = FileHashes;
    const LISTS: &'static [&'static str] = &["tasks"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "files_found" => self.0 = Some(r.int("files_found")?),
            "expires" => self.1 = opt(r, |r| r.timestamp("expires"))?,
            "tasks" => return Ok(Field::List("tasks")),
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<FileHashTask, Fail> {
        let mut t = (None, None, None, None, None, Vec::new(), None);
        r.object("tasks[]", |r, k| {
            match k {
                "file_md5" => t.0 = opt(r, |r| r.digest("tasks[].file_md5"))?,
                "file_sha1" => t.1 = opt(r, |r| r.digest("tasks[].file_sha1"))?,
                "file_sha256" => t.2 = opt(r, |r| r.digest("tasks[].file_sha256"))?,
                "task_uuid" => t.3 = Some(r.uuid("tasks[].task_uuid")?),
                "score" => t.4 = Some(r.int("tasks[].score")?),
                "insufficient_task_input_errors" => {
                    t.5 = r.int_list("tasks[].insufficient_task_input_errors")?
                }
                "expires" => t.6 = opt(r, |r| r.timestamp("tasks[].expires"))?,
                _ => r.skip("tasks[]")?,
            }
            Ok(())
        })?;
        Ok(FileHashTask {
            file_md5: t.0,
            file_sha1: t.1,
            file_sha256: t.2,
            task_uuid: need_in(r, t.3, "tasks[].task_uuid")?,
            score: need_in(r, t.4, "tasks[].score")?,
            insufficient_task_input_errors: t.5,
            expires: t.6.or(self.1),
        })
    }

    fn finish(&mut self) -> Result<FileHashes, Error> {
        Ok(FileHashes {
            files_found: need(self.0, "files_found")?,
            expires: self.1,
        })
    }
}

/// `is_blocked_file_hash` data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BlockedVerdict {
    /// Block, do not block (not a benign verdict), or unknown.
    pub decision: BlockDecision,
    /// MD5 of the file.
    pub file_md5: Option<Md5>,
    /// SHA-1 of the file.
    pub file_sha1: Option<Sha1>,
    /// SHA-256 of the file.
    pub file_sha256: Option<Sha256>,
}

/// Decodes `is_blocked_file_hash`.
#[derive(Debug, Default)]
pub struct BlockedDecoder(
    Option<BlockDecision>,
    Option<Md5>,
    Option<Sha1>,
    Option<Sha256>,
);

impl DataDecoder for BlockedDecoder {
    type Item = core::convert::Infallible;
    type Output = BlockedVerdict;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "decision" => {
                let s = r.string::<16>("decision")?;
                self.0 = Some(BlockDecision::parse(&s).ok_or(r.fail(
                    "decision",
                    JsonError::InvalidValue(text!("FILE_UNKNOWN, BLOCK or NOBLOCK")),
                ))?);
            }
            "file_md5" => self.1 = opt(r, |r| r.digest("file_md5"))?,
            "file_sha1" => self.2 = opt(r, |r| r.digest("file_sha1"))?,
            "file_sha256" => self.3 = opt(r, |r| r.digest("file_sha256"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<BlockedVerdict, Error> {
        Ok(BlockedVerdict {
            decision: need(self.0, "decision")?,
            file_md5: self.1,
            file_sha1: self.2,
            file_sha256: self.3,
        })
    }
}

/// `query_task_artifact` data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TaskArtifact {
    /// Whether the artifact can be downloaded.
    pub available: bool,
    /// The task's UUID.
    pub task_uuid: Option<Uuid>,
    /// The report holding the artifact.
    pub report_uuid: Option<Uuid>,
    /// The artifact's name.
    pub artifact_name: Option<String<{ crate::types::ARTIFACT_NAME_CAPACITY }>>,
}

/// Decodes `query_task_artifact`.
#[derive(Debug, Default)]
pub struct TaskArtifactDecoder(
    Option<bool>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String<{ crate::types::ARTIFACT_NAME_CAPACITY }>>,
);

impl DataDecoder for TaskArtifactDecoder {
    type Item = core::convert::Infallible;
    type Output = TaskArtifact;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        match key {
            "available" => self.0 = Some(r.flag("available")?),
            "task_uuid" => self.1 = opt(r, |r| r.uuid("task_uuid"))?,
            "report_uuid" => self.2 = opt(r, |r| r.uuid("report_uuid"))?,
            "artifact_name" => self.3 = opt(r, |r| r.string("artifact_name"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<TaskArtifact, Error> {
        Ok(TaskArtifact {
            available: need(self.0, "available")?,
            task_uuid: self.1,
            report_uuid: self.2,
            artifact_name: self.3.take(),
        })
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
