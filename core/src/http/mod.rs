//! HTTP/1.1: writing requests, decoding responses.

mod chunked;
mod head;
mod request;
mod response;

pub use chunked::ChunkedDecoder;
pub(crate) use request::Describe;
pub use request::{
    ClientConfig, EncodePosition, RedirectTarget, RequestEncoder, Step as EncodeStep,
};
pub use response::{
    BodyFraming, ContentType, ResponseDecoder, ResponseHead, CAPTURE_CAPACITY, MAX_INTERIM,
};
