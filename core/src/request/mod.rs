//! Every method of the Analyst API: its typed request, and — in the same
//! file of its group — the decoder of its answer's `data` and the values
//! it yields (also named in [`crate::decoders`]).
//!
//! Each method is a struct holding its parameters with real types; the
//! [`Request`] trait gives its path, HTTP methods and response kind, checks
//! it, and lists its parameters for the encoder ([`crate::http`]). The one
//! table of methods is [`for_each_method!`](crate::for_each_method) and
//! [`METHODS`]: what transports, tools and tests iterate.

use crate::error::Error;

pub(crate) mod analysis;
pub(crate) mod artifacts;
mod by_name;
pub(crate) mod completion;
pub(crate) mod exports;
pub(crate) mod hashes;
pub(crate) mod iocs;
pub(crate) mod results;
mod session;
pub(crate) mod submit;
mod value;
mod xml;

pub use analysis::{
    GetAnalysisTags, GetApiUtcTimestamp, GetChildTasksRecursively, GetProgress,
    GetReportActivities, GetResultActivities, GetTaskMetadata,
};
pub use artifacts::{
    GetReportArtifact, GetResultArtifact, IsRiskyAnalysisArtifact, QueryTaskArtifact,
};
pub use by_name::{ByName, NamedParam, BY_NAME_PARAMS};
pub use completion::{GetCompleted, GetCompletedWithMetadata, GetPending};
pub use exports::{ExportReport, GetCompletedExportedReports, GetExportedReport};
pub use hashes::{IsBlockedFileHash, QueryFileHash};
pub use iocs::{CreateIocFromResult, GetIocMetadata, GetIocReport, GetNetworkIocs};
pub use results::{GetResult, GetResults, ResultsFormat};
pub use session::{Login, Ping};
pub use submit::{SubmitFile, SubmitUrl};
pub use value::Value;
pub use xml::Xml;

/// An HTTP request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HttpMethod {
    /// GET: parameters in the query string.
    Get,
    /// POST: parameters in the body.
    Post,
}

impl HttpMethod {
    /// `GET` or `POST`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Which HTTP methods the reference allows for a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Allowed {
    /// GET only.
    Get,
    /// POST only.
    Post,
    /// Either.
    GetOrPost,
}

/// What a successful response body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ResponseKind {
    /// A JSON envelope.
    Envelope,
    /// The file itself (failures by HTTP status or envelope).
    Raw,
}

/// How the body of a POST is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyKind {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data` (file parts).
    Multipart,
}

/// Receives a request's parameters. Implemented by the query-string,
/// form-body and multipart encoders, and by tests.
pub trait Params {
    /// A parameter.
    fn value(&mut self, name: &'static str, value: Value<'_>);
    /// A text parameter.
    fn text(&mut self, name: &'static str, value: &str) {
        self.value(name, Value::Text(value));
    }
    /// One of the reference's "FILE parameters" holding text: a multipart
    /// part whose file name is its field name.
    fn file_text(&mut self, name: &'static str, value: &str);
    /// A FILE parameter holding lines (`password_candidates`).
    fn file_lines(&mut self, name: &'static str, lines: &[&str]);
}

// Out of line: requests list many optional 0/1 parameters, and a call per
// flag is smaller than testing and building each value in place (measured
// on the firmware image; the same for text and other values is larger).
#[inline(never)]
pub(crate) fn opt_flag(p: &mut dyn Params, name: &'static str, v: Option<bool>) {
    if let Some(v) = v {
        p.value(name, Value::Flag(v));
    }
}

pub(crate) fn opt_value<'v, T: Into<Value<'v>>>(
    p: &mut dyn Params,
    name: &'static str,
    v: Option<T>,
) {
    if let Some(v) = v {
        p.value(name, v.into());
    }
}

pub(crate) fn opt_text(p: &mut dyn Params, name: &'static str, v: Option<&str>) {
    if let Some(v) = v {
        p.text(name, v);
    }
}

/// Longest free-text parameter accepted (file names, environment names...).
pub const TEXT_PARAM_CAPACITY: usize = 4096;

/// Checks a free-text parameter: at most [`TEXT_PARAM_CAPACITY`] bytes and
/// no control characters other than tab.
pub fn check_text(param: &'static str, v: &str) -> Result<(), Error> {
    if v.len() > TEXT_PARAM_CAPACITY {
        return Err(Error::InvalidParam {
            param,
            reason: text!("longer than 4096 bytes"),
        });
    }
    // Control characters (Unicode Cc: U+0000..=U+001F, U+007F..=U+009F),
    // found by their UTF-8 bytes: below 0x20, 0x7F, or 0xC2 then
    // 0x80..=0x9F.
    let mut after_c2 = false;
    let control = v.bytes().any(|b| {
        let c1 = after_c2 && (0x80..=0x9f).contains(&b);
        after_c2 = b == 0xc2;
        c1 || (b < 0x20 && b != b'\t') || b == 0x7f
    });
    if control {
        return Err(Error::InvalidParam {
            param,
            reason: text!("contains control characters"),
        });
    }
    Ok(())
}

pub(crate) fn check_opt_text(param: &'static str, v: Option<&str>) -> Result<(), Error> {
    v.map_or(Ok(()), |v| check_text(param, v))
}

/// Checks a parameter that holds a URL (a referer), as `url` is checked:
/// a server answers a bad one with 117, after the request went out.
pub(crate) fn check_opt_url(param: &'static str, v: Option<&str>) -> Result<(), Error> {
    match v {
        Some(u) if crate::types::Url::parse(u).is_err() => Err(Error::InvalidParam {
            param,
            reason: text!("not a URL ('scheme://host...', no white space)"),
        }),
        _ => Ok(()),
    }
}

/// Checks `password_protected`: ASCII, at most 128 characters.
pub(crate) fn check_zip_password(v: Option<&str>) -> Result<(), Error> {
    match v {
        Some(p)
            if p.is_empty()
                || p.len() > 128
                || !p.bytes().all(|b| b.is_ascii_graphic() || b == b' ') =>
        {
            Err(Error::InvalidParam {
                param: "password_protected",
                reason: text!("must be 1..=128 printable ASCII characters"),
            })
        }
        _ => Ok(()),
    }
}

/// A method of the Analyst API.
pub trait Request {
    /// The method's name in the reference (`submit_file`, `login`, ...).
    const NAME: &'static str;
    /// The URL path without format suffix.
    const PATH: &'static str;
    /// Whether the path takes a `.json`-style format suffix.
    const FORMAT_SUFFIX: bool;
    /// Which HTTP methods the reference allows.
    const ALLOWED: Allowed;
    /// What a success looks like.
    const RESPONSE: ResponseKind;
    /// Whether the reference requires `api_token` for every licence
    /// (false where it says "required for some license types").
    const NEEDS_TOKEN: bool = true;
    /// Every parameter the reference documents for the method, credentials
    /// excluded: the names [`Self::params`] may write (a test holds each
    /// list to the reference's catalog), and what a request built by name
    /// ([`ByName`]) is checked against.
    const PARAMS: &'static [ParamInfo];
    /// Decoder of the envelope's `data` for this method.
    type Response: crate::envelope::DataDecoder + Default;

    /// Refuses invalid parameters, naming the first bad one.
    fn validate(&self) -> Result<(), Error>;

    /// Writes every parameter that is set (credentials excluded).
    fn params(&self, p: &mut dyn Params);

    /// The suffix to send, if any (`json` for envelope methods).
    fn format(&self) -> Option<crate::types::Format> {
        if Self::FORMAT_SUFFIX {
            Some(crate::types::Format::Json)
        } else {
            None
        }
    }

    /// The response kind for this request's chosen format.
    fn response_kind(&self) -> ResponseKind {
        Self::RESPONSE
    }

    /// How a POST body is encoded.
    fn body_kind(&self) -> BodyKind {
        BodyKind::Form
    }

    /// Length of the sample uploaded as the `file` part, if any.
    fn upload_len(&self) -> Option<u64> {
        None
    }

    /// The HTTP method sent by default: GET for reads (like the official
    /// client), POST where the reference requires it or a body is needed.
    fn preferred_method(&self) -> HttpMethod {
        match Self::ALLOWED {
            Allowed::Get | Allowed::GetOrPost => HttpMethod::Get,
            Allowed::Post => HttpMethod::Post,
        }
    }
}

/// How a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A query-string or form field.
    Field,
    /// One of the reference's "FILE parameters" holding text: a multipart
    /// part ([`Params::file_text`]).
    FilePart,
    /// The sample itself (`submit_file`'s `file`), streamed by the
    /// transport, never given as text.
    Sample,
}

/// A documented parameter of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    /// Its name in the reference.
    pub name: &'static str,
    /// How it travels.
    pub kind: ParamKind,
}

impl ParamInfo {
    /// A query-string or form field.
    pub const fn field(name: &'static str) -> Self {
        Self {
            name,
            kind: ParamKind::Field,
        }
    }

    /// A text multipart part.
    pub const fn part(name: &'static str) -> Self {
        Self {
            name,
            kind: ParamKind::FilePart,
        }
    }

    /// The sample.
    pub const fn sample(name: &'static str) -> Self {
        Self {
            name,
            kind: ParamKind::Sample,
        }
    }
}

/// One method as its request type declares it: what transports, tools
/// and tests read instead of choosing per method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodInfo {
    /// The method's name in the reference.
    pub name: &'static str,
    /// The URL path without format suffix.
    pub path: &'static str,
    /// Whether the path takes a format suffix.
    pub format_suffix: bool,
    /// Which HTTP methods the reference allows.
    pub allowed: Allowed,
    /// What a success looks like.
    pub response: ResponseKind,
    /// Whether `api_token` is required for every licence.
    pub needs_token: bool,
    /// The parameters the reference documents (credentials excluded).
    pub params: &'static [ParamInfo],
    /// The members of `data` streamed entry by entry (its decoder's
    /// [`DataDecoder::LISTS`](crate::envelope::DataDecoder::LISTS)); empty:
    /// one value.
    pub lists: &'static [&'static str],
}

impl MethodInfo {
    /// The declaration of `R`.
    pub const fn of<R: Request>() -> Self {
        Self {
            name: R::NAME,
            path: R::PATH,
            format_suffix: R::FORMAT_SUFFIX,
            allowed: R::ALLOWED,
            response: R::RESPONSE,
            needs_token: R::NEEDS_TOKEN,
            params: R::PARAMS,
            lists: <R::Response as crate::envelope::DataDecoder>::LISTS,
        }
    }

    /// The parameter named `name`, if the method has one.
    pub fn param(&self, name: &str) -> Option<&'static ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Whether a success streams list entries.
    pub const fn is_list(&self) -> bool {
        !self.lists.is_empty()
    }

    /// Whether the reference lets the method answer in XML (asked with
    /// [`Xml`]): every method whose path takes a format suffix; the three
    /// raw-only downloads do not.
    pub const fn offers_xml(&self) -> bool {
        self.format_suffix
    }
}

/// Calls the macro `$m` with every method's request type, in the
/// reference's order: the one table of the 29 methods. Adding a method
/// means adding its type here (and its request and decoder).
///
/// ```
/// macro_rules! count { ($($t:ty),*) => { [$(stringify!($t)),*].len() } }
/// let methods = lastline_core::for_each_method!(count);
/// assert_eq!(methods, lastline_core::request::METHODS.len());
/// ```
#[macro_export]
macro_rules! for_each_method {
    ($m:ident) => {
        $m!(
            $crate::request::SubmitFile<'static>,
            $crate::request::SubmitUrl<'static>,
            $crate::request::GetResults<'static>,
            $crate::request::GetResult,
            $crate::request::GetResultActivities,
            $crate::request::GetReportActivities,
            $crate::request::GetResultArtifact<'static>,
            $crate::request::GetReportArtifact<'static>,
            $crate::request::GetCompleted,
            $crate::request::GetCompletedWithMetadata,
            $crate::request::GetPending,
            $crate::request::GetProgress,
            $crate::request::GetTaskMetadata,
            $crate::request::QueryFileHash,
            $crate::request::IsBlockedFileHash,
            $crate::request::QueryTaskArtifact<'static>,
            $crate::request::GetNetworkIocs,
            $crate::request::GetIocMetadata,
            $crate::request::GetIocReport,
            $crate::request::CreateIocFromResult<'static>,
            $crate::request::GetApiUtcTimestamp,
            $crate::request::GetAnalysisTags,
            $crate::request::GetChildTasksRecursively,
            $crate::request::ExportReport<'static>,
            $crate::request::GetCompletedExportedReports,
            $crate::request::GetExportedReport,
            $crate::request::IsRiskyAnalysisArtifact<'static>,
            $crate::request::Login,
            $crate::request::Ping
        )
    };
}

macro_rules! method_table {
    ($($t:ty),*) => { [$(MethodInfo::of::<$t>()),*] };
}

/// Every method's declaration, in the reference's order.
pub const METHODS: [MethodInfo; METHOD_COUNT] = crate::for_each_method!(method_table);

macro_rules! method_count {
    ($($t:ty),*) => { [$(stringify!($t)),*].len() };
}

/// How many methods the table holds (counted from it, never written).
pub const METHOD_COUNT: usize = crate::for_each_method!(method_count);

/// The declaration of the method named `name` (as in the reference).
pub fn method(name: &str) -> Option<&'static MethodInfo> {
    METHODS.iter().find(|m| m.name == name)
}

/// Parses a parameter from text, naming it in the error: the way a CLI or
/// config file turns user input into the typed fields.
pub fn parse_param<T: core::str::FromStr>(param: &'static str, s: &str) -> Result<T, Error> {
    s.parse().map_err(|_| Error::InvalidParam {
        param,
        reason: text!("not a valid value"),
    })
}

/// Defines a request whose only parameters are a task `uuid` and
/// `allow_datacenter_redirect`, as many read methods are.
macro_rules! uuid_request {
    ($(#[$m:meta])* $name:ident, $wire:literal, $path:literal, $allowed:expr, $resp:ty, token: $tok:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            /// The task's UUID.
            pub uuid: crate::types::Uuid,
            /// `false` stops redirection to another datacenter (default true).
            pub allow_datacenter_redirect: Option<bool>,
        }

        impl $name {
            /// A request for task `uuid`.
            pub fn new(uuid: crate::types::Uuid) -> Self {
                Self { uuid, allow_datacenter_redirect: None }
            }
        }

        impl crate::request::Request for $name {
            const NAME: &'static str = $wire;
            const PATH: &'static str = $path;
            const FORMAT_SUFFIX: bool = true;
            const ALLOWED: crate::request::Allowed = $allowed;
            const RESPONSE: crate::request::ResponseKind = crate::request::ResponseKind::Envelope;
            const NEEDS_TOKEN: bool = $tok;
            const PARAMS: &'static [crate::request::ParamInfo] = &[
                crate::request::ParamInfo::field("uuid"),
                crate::request::ParamInfo::field("allow_datacenter_redirect"),
            ];
            type Response = $resp;

            fn validate(&self) -> Result<(), crate::error::Error> {
                Ok(())
            }

            fn params(&self, p: &mut dyn crate::request::Params) {
                p.value("uuid", self.uuid.into());
                crate::request::opt_flag(p, "allow_datacenter_redirect", self.allow_datacenter_redirect);
            }
        }
    };
}
pub(crate) use uuid_request;

#[cfg(test)]
mod tests {
    use super::check_text;
    use proptest::prelude::*;

    proptest! {
        /// The byte scan refuses exactly what `char::is_control` calls a
        /// control character (tab allowed).
        #[test]
        fn control_characters_found_by_their_bytes(s in "\\PC{0,40}|[\\x00-\\u{ff}]{0,40}|.{0,40}") {
            let want = s.chars().any(|c| c.is_control() && c != '\t');
            prop_assert_eq!(check_text("p", &s).is_err(), want, "{:?}", s);
        }
    }

    #[test]
    fn every_c0_and_c1_control_is_refused_and_tab_is_not() {
        for c in (0u32..0x100).filter_map(char::from_u32) {
            let s = ['a', c, 'b'].iter().collect::<heapless::String<8>>();
            assert_eq!(
                check_text("p", &s).is_err(),
                c.is_control() && c != '\t',
                "{c:?}"
            );
        }
        // U+00C2 itself (bytes C3 82) is not a control, nor is U+0100 after it.
        assert!(check_text("p", "\u{c2}\u{80}x").is_err());
        assert!(check_text("p", "\u{c2}x\u{100}").is_ok());
    }
}
