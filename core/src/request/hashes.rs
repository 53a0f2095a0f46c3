//! Look-ups by file hash: the requests and their decoders.

use heapless::Vec;

use super::{opt_value, Allowed, ParamInfo, Params, Request, ResponseKind};
use crate::decoders::{need, need_in, opt};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{AnyDigest, BlockDecision, Md5, Sha1, Sha256, Timestamp, Uuid};

fn hash_params(p: &mut dyn Params, hash: &AnyDigest, block: Option<u64>) {
    p.value("hash_algorithm", hash.algorithm().into());
    p.value("hash_value", hash.into());
    opt_value(p, "hash_block_size", block);
}

fn check_block(block: Option<u64>) -> Result<(), Error> {
    if block == Some(0) {
        return Err(Error::InvalidParam {
            param: "hash_block_size",
            reason: text!("must be positive; omit it for whole-file hashes"),
        });
    }
    Ok(())
}

/// `query_file_hash`: is there a completed analysis of this file?
#[derive(Clone, Copy, Debug)]
pub struct QueryFileHash {
    /// The hash, with its algorithm.
    pub hash: AnyDigest,
    /// Only for hashes of a leading block; omit for whole files (never
    /// pass the file size).
    pub hash_block_size: Option<u64>,
}

impl Request for QueryFileHash {
    const NAME: &'static str = "query_file_hash";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("hash_algorithm"),
        ParamInfo::field("hash_block_size"),
        ParamInfo::field("hash_value"),
    ];
    const PATH: &'static str = "/analysis/query/file_hash";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = FileHashDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_block(self.hash_block_size)
    }

    fn params(&self, p: &mut dyn Params) {
        hash_params(p, &self.hash, self.hash_block_size);
    }
}

/// `is_blocked_file_hash`: should a sensor block this file?
#[derive(Clone, Copy, Debug)]
pub struct IsBlockedFileHash {
    /// The hash, with its algorithm.
    pub hash: AnyDigest,
    /// See [`QueryFileHash::hash_block_size`].
    pub hash_block_size: Option<u64>,
}

impl Request for IsBlockedFileHash {
    const NAME: &'static str = "is_blocked_file_hash";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("hash_algorithm"),
        ParamInfo::field("hash_block_size"),
        ParamInfo::field("hash_value"),
    ];
    const PATH: &'static str = "/analysis/query/is_blocked_file_hash";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    const NEEDS_TOKEN: bool = false;
    type Response = BlockedDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_block(self.hash_block_size)
    }

    fn params(&self, p: &mut dyn Params) {
        hash_params(p, &self.hash, self.hash_block_size);
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
