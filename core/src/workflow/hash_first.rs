//! Hash-first submission: ask by hash, upload only when told to (101).

use crate::decoders::Submission;
use crate::error::Error;
use crate::hashing::Digests;
use crate::request::SubmitFile;
use crate::ErrorCode;

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

    /// Digests the answer to [`Self::request`]. `Ok(None)` means: send
    /// [`Self::request`] again (now an upload).
    pub fn on_response(
        &mut self,
        answer: Result<Submission, Error>,
    ) -> Result<Option<HashFirstOutcome>, Error> {
        match (self.stage, answer) {
            (Stage::Done, _) => Err(Error::WorkflowMisuse(text!(
                "hash-first submission already finished"
            ))),
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
