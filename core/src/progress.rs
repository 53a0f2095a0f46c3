//! The one vocabulary of this crate's readers: what a reader found in the
//! bytes it was given. The HTTP body decoder, the chunked framing, the
//! envelope decoder and the response readers all answer with it, so "more
//! bytes are needed" and "it is complete" are spelled one way everywhere
//! (as httparse's single `Status` does for the head). Writing has its own,
//! [`crate::http::EncodeStep`]: it asks the caller to do something, not to
//! look at something found.

/// What a reader found.
#[derive(Debug, PartialEq)]
pub enum Progress<T> {
    /// More bytes are needed: pass the unconsumed ones again with more.
    NeedMore,
    /// A response head is complete (inspect it with the reader's `head()`;
    /// readers below the head never say it).
    Head,
    /// A value: body bytes, a list entry, a piece of a download.
    Item(T),
    /// Complete.
    Done,
}
