//! `login` and `ping`.

use super::{Allowed, ParamInfo, Params, Request, ResponseKind};
use crate::decoders::StringData;
use crate::error::Error;

/// `api.authentication.login`: check the credentials and open a session
/// (a cookie). The credentials travel in the POST body, never the URL.
#[derive(Clone, Copy, Debug, Default)]
pub struct Login;

impl Request for Login {
    const NAME: &'static str = "login";
    const PARAMS: &'static [ParamInfo] = &[];
    const PATH: &'static str = "/authentication/login";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    const NEEDS_TOKEN: bool = false;
    type Response = StringData;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, _: &mut dyn Params) {}
}

/// `api.authentication.ping`: is the session still valid? Answers "pong".
#[derive(Clone, Copy, Debug, Default)]
pub struct Ping;

impl Request for Ping {
    const NAME: &'static str = "ping";
    const PARAMS: &'static [ParamInfo] = &[];
    const PATH: &'static str = "/authentication/ping";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = StringData;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, _: &mut dyn Params) {}
}
