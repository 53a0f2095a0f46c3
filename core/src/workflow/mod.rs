//! Workflows as pure state machines: they say what to send next and
//! digest what came back. No I/O; time and randomness are arguments.

mod completion;
mod hash_first;
mod retry;
mod sample;
mod session;

pub use completion::{
    CompletionCursor, NextPoll, CLOCK_ALLOWANCE_SECS, CURSOR_VERSION, RESUME_ALLOWANCE_SECS,
};
pub use hash_first::{ApiFailure, HashFirst, HashFirstOutcome, Stage};
pub use retry::{classify, RetryDecision, RetryPolicy, RetryState};
pub use sample::{digest_sample, SampleError, SampleSource, SampleUnreadable, SliceSample};
pub use session::{Session, SessionAction};
