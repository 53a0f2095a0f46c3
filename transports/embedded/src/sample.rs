//! The sample: the core's [`SampleSource`], hashed once before a
//! hash-first submission.

use lastline_core::hashing::{Algorithms, Digests};
use lastline_core::workflow::{digest_sample, SampleError, SampleSource};

use crate::Error;

/// Hashes a whole sample (MD5, SHA-1, SHA-256) in one pass.
pub(crate) fn hash_sample(sample: &mut dyn SampleSource) -> Result<Digests, Error> {
    digest_sample(sample, Algorithms::ALL).map_err(Error::from)
}

impl From<SampleError> for Error {
    fn from(e: SampleError) -> Self {
        match e {
            SampleError::Unreadable => Self::Sample,
            SampleError::Changed => Self::SampleChanged,
        }
    }
}
