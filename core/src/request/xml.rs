//! A method's answer in XML, the reference's second format ("recommended
//! for human consumption"): the `.xml` suffix, the body a raw download
//! streamed byte for byte.
//!
//! The reference gives no XML schema, so nothing here reads the XML: a
//! failure the server renders in it (a `success` of 0 and its `error`)
//! reaches the caller as the body. The HTTP-level policy still holds —
//! redirects, the retry table (429 and 5xx), a re-login on a 401 — and a
//! failure the server answers in JSON instead (as servers do before the
//! API sees a request) is read and reported as for a download.

use super::{Allowed, BodyKind, HttpMethod, Params, Request, ResponseKind};
use crate::decoders::NoData;
use crate::error::Error;
use crate::types::Format;

/// `R` asked for its XML answer; call it as a download
/// ([`Exchange::download`](crate::exchange::Exchange::download)).
///
/// Only the methods whose path takes a format suffix answer in XML
/// ([`MethodInfo::offers_xml`](super::MethodInfo::offers_xml)); for the
/// others `validate` refuses it before anything is sent.
///
/// ```
/// use lastline_core::request::{GetResult, Request, Xml};
/// use lastline_core::types::{Format, Uuid};
/// let uuid = Uuid::parse("0123456789abcdef0123456789abcdef").unwrap();
/// let req = Xml(&GetResult::new(uuid));
/// assert_eq!(req.format(), Some(Format::Xml));
/// assert!(req.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Xml<'r, R>(pub &'r R);

impl<R: Request> Request for Xml<'_, R> {
    const NAME: &'static str = R::NAME;
    const PATH: &'static str = R::PATH;
    const FORMAT_SUFFIX: bool = R::FORMAT_SUFFIX;
    const ALLOWED: Allowed = R::ALLOWED;
    const RESPONSE: ResponseKind = ResponseKind::Raw;
    const NEEDS_TOKEN: bool = R::NEEDS_TOKEN;
    const PARAMS: &'static [super::ParamInfo] = R::PARAMS;
    type Response = NoData;

    fn validate(&self) -> Result<(), Error> {
        if !R::FORMAT_SUFFIX {
            return Err(Error::InvalidParam {
                param: "response_format",
                reason: text!("this method answers only raw, not XML"),
            });
        }
        self.0.validate()
    }

    fn params(&self, p: &mut dyn Params) {
        self.0.params(p);
    }

    fn format(&self) -> Option<Format> {
        Some(Format::Xml)
    }

    fn response_kind(&self) -> ResponseKind {
        ResponseKind::Raw
    }

    fn body_kind(&self) -> BodyKind {
        self.0.body_kind()
    }

    fn upload_len(&self) -> Option<u64> {
        self.0.upload_len()
    }

    fn preferred_method(&self) -> HttpMethod {
        self.0.preferred_method()
    }
}
