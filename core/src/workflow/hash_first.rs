//! Hash-first submission: ask by hash, upload only when told to (101).

use crate::decoders::Submission;
use crate::error::Error;
use crate::hashing::Digests;
use crate::request::SubmitFile;
use crate::ErrorCode;

/// A failed submission as hash-first reads it: only its API code matters
/// (101 means upload). Implemented by the core's errors and by each
/// transport's, so every driver hands its call's result over as it is.
pub trait ApiFailure {
    /// The API's error code, if the server answered with a failure
    /// envelope.
    fn api_code(&self) -> Option<ErrorCode>;
}

impl ApiFailure for Error {
    fn api_code(&self) -> Option<ErrorCode> {
        Error::api_code(self)
    }
}

impl ApiFailure for crate::exchange::Failure {
    fn api_code(&self) -> Option<ErrorCode> {
        self.error.api_code()
    }
}

/// Where a hash-first submission stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stage {
    /// Send [`HashFirst::request`] as a submission by hash.
    ByHash,
    /// The server does not have the file: send [`HashFirst::request`],
    /// which now uploads the content.
    Upload,
    /// Finished; see the outcome.
    Done,
}

/// The result of a finished hash-first submission.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HashFirstOutcome {
    /// What the server answered.
    pub submission: Submission,
    /// Whether the content had to be uploaded.
    pub uploaded: bool,
}

/// Drives `submit_file` by hash, then by content on 101
/// (`ANALYSIS_API_FILE_UPLOAD_REQUIRED`). Other errors are returned as
/// they are; retrying them is the retry schedule's business.
#[derive(Clone, Debug)]
pub struct HashFirst<'a> {
    template: SubmitFile<'a>,
    digests: Digests,
    stage: Stage,
}

impl<'a> HashFirst<'a> {
    /// A submission of a sample with these digests (from one hashing
    /// pass). `options` carries every other parameter (file name,
    /// metadata...); its hashes and `upload` are replaced. Unless set,
    /// `full_report_score` is -1: the detailed report is not wanted here.
    pub fn new(digests: Digests, mut options: SubmitFile<'a>) -> Self {
        options.md5 = None;
        options.sha1 = None;
        options.sha256 = None;
        options.upload = None;
        if options.full_report_score.is_none() {
            options.full_report_score = Some(-1);
        }
        let stage = if digests.md5.is_none() && digests.sha1.is_none() && digests.sha256.is_none() {
            Stage::Upload
        } else {
            Stage::ByHash
        };
        Self {
            template: options,
            digests,
            stage,
        }
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The request to send now (`None` when done).
    pub fn request(&self) -> Option<SubmitFile<'a>> {
        let mut r = self.template;
        match self.stage {
            Stage::ByHash => {
                r.md5 = self.digests.md5;
                r.sha1 = self.digests.sha1;
                r.sha256 = self.digests.sha256;
            }
            Stage::Upload => r.upload = Some(self.digests.len),
            Stage::Done => return None,
        }
        Some(r)
    }

    /// Digests the answer to [`Self::request`], as the driver's call gave
    /// it (its own error type): the one place that says what an answer
    /// means. `Ok(None)`: the server does not have the file (101 to the
    /// submission by hash), so send [`Self::request`] again, now an
    /// upload; `Ok(Some(_))`: submitted; any other failure is handed back
    /// whole — retrying it was the exchange's business.
    pub fn on_response<E: ApiFailure + From<Error>>(
        &mut self,
        answer: Result<Submission, E>,
    ) -> Result<Option<HashFirstOutcome>, E> {
        match (self.stage, answer) {
            (Stage::Done, _) => Err(E::from(Error::WorkflowMisuse(text!(
                "hash-first submission already finished"
            )))),
            (stage, Ok(submission)) => {
                self.stage = Stage::Done;
                Ok(Some(HashFirstOutcome {
                    submission,
                    uploaded: stage == Stage::Upload,
                }))
            }
            (Stage::ByHash, Err(e)) if e.api_code() == Some(ErrorCode::FileUploadRequired) => {
                self.stage = Stage::Upload;
                Ok(None)
            }
            (_, Err(e)) => Err(e),
        }
    }
}
