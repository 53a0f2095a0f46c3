//! Look-ups by file hash.

use super::{opt_value, Allowed, Params, Request, ResponseKind};
use crate::decoders::{BlockedDecoder, FileHashDecoder};
use crate::error::Error;
use crate::types::AnyDigest;

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
