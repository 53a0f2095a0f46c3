//! A request built at run time from a method's name and text parameters:
//! what a foreign caller (the C ABI, a script) sends when it cannot name
//! a request type. It is checked against the method table ([`METHODS`])
//! before anything is written — the method exists, every parameter is one
//! the method documents, none is given twice, every value is clean text —
//! and then encoded by the same encoder as the typed requests.
//!
//! The sample (`submit_file`'s `file`) is not a text parameter: it is
//! streamed by the transport, its length set with [`ByName::set_upload`]
//! (the hash-first workflow decides when).

use super::{check_text, MethodInfo, ParamInfo, ParamKind, Params, ResponseKind, METHODS};
use crate::error::Error;
use crate::types::Format;

/// The most parameters a [`ByName`] request carries (the reference's
/// longest method, `submit_file`, documents 35).
pub const BY_NAME_PARAMS: usize = 40;

/// One parameter of a [`ByName`] request: a documented name and its
/// value as text, sent as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedParam<'a> {
    /// The parameter, as the method table declares it.
    pub info: &'static ParamInfo,
    /// Its value.
    pub value: &'a str,
}

/// A request of any method, named at run time.
#[derive(Clone, Debug)]
pub struct ByName<'a> {
    method: &'static MethodInfo,
    params: heapless::Vec<NamedParam<'a>, BY_NAME_PARAMS>,
    format: Option<Format>,
    upload: Option<u64>,
}

impl<'a> ByName<'a> {
    /// A request of the method at `index` of [`METHODS`], without
    /// parameters; `None` past the table's end.
    pub fn new(index: usize) -> Option<Self> {
        Some(Self {
            method: METHODS.get(index)?,
            params: heapless::Vec::new(),
            format: None,
            upload: None,
        })
    }

    /// A request of the method named `name` (as in the reference).
    pub fn named(name: &str) -> Option<Self> {
        let index = METHODS.iter().position(|m| m.name == name)?;
        Self::new(index)
    }

    /// The method's declaration.
    pub fn method(&self) -> &'static MethodInfo {
        self.method
    }

    /// The parameters given so far.
    pub fn params(&self) -> &[NamedParam<'a>] {
        &self.params
    }

    /// Adds parameter `name` with `value`, refusing a name the method
    /// does not document, the sample, a second value for one name, and a
    /// value with control characters or over
    /// [`TEXT_PARAM_CAPACITY`](super::TEXT_PARAM_CAPACITY) bytes.
    pub fn param(&mut self, name: &str, value: &'a str) -> Result<(), Error> {
        let Some(info) = self.method.param(name) else {
            return Err(Error::InvalidParam {
                param: "name",
                reason: text!("not a parameter of this method"),
            });
        };
        if info.kind == ParamKind::Sample {
            return Err(Error::InvalidParam {
                param: info.name,
                reason: text!("the sample is streamed: set its length with set_upload"),
            });
        }
        if self.params.iter().any(|p| p.info.name == info.name) {
            return Err(Error::InvalidParam {
                param: info.name,
                reason: text!("given twice"),
            });
        }
        check_text(info.name, value)?;
        self.params
            .push(NamedParam { info, value })
            .map_err(|_| Error::InvalidParam {
                param: info.name,
                reason: text!("too many parameters"),
            })
    }

    /// Asks for the answer in `format` (the path's suffix): XML, or a
    /// `get_results` report as PDF or RTF. Refused for the methods whose
    /// path takes no suffix (the raw downloads).
    pub fn set_format(&mut self, format: Format) -> Result<(), Error> {
        if !self.method.format_suffix {
            return Err(Error::InvalidParam {
                param: "format",
                reason: text!("this method answers only raw"),
            });
        }
        self.format = Some(format);
        Ok(())
    }

    /// The suffix sent, if any: the one set, else `json` for an envelope
    /// method and none for a download (as the typed requests send).
    pub fn format(&self) -> Option<Format> {
        match (self.method.format_suffix, self.format) {
            (false, _) => None,
            (true, Some(f)) => Some(f),
            (true, None) if self.method.response == ResponseKind::Raw => None,
            (true, None) => Some(Format::Json),
        }
    }

    /// Whether the answer is a download (the method's own kind, or a
    /// format other than JSON) rather than an envelope.
    pub fn answers_raw(&self) -> bool {
        self.method.response == ResponseKind::Raw
            || self.format().is_some_and(|f| f != Format::Json)
    }

    /// Uploads a sample of `len` bytes as the method's sample parameter
    /// (the transport streams it when asked); refused for a method that
    /// takes no sample.
    pub fn set_upload(&mut self, len: u64) -> Result<(), Error> {
        if !self
            .method
            .params
            .iter()
            .any(|p| p.kind == ParamKind::Sample)
        {
            return Err(Error::InvalidParam {
                param: "file",
                reason: text!("this method takes no sample"),
            });
        }
        self.upload = Some(len);
        Ok(())
    }

    /// The length of the sample uploaded, if any.
    pub fn upload(&self) -> Option<u64> {
        self.upload
    }

    /// Whether the body is multipart: a text part, or the sample.
    pub(crate) fn has_parts(&self) -> bool {
        self.upload.is_some()
            || self
                .params
                .iter()
                .any(|p| p.info.kind == ParamKind::FilePart)
    }

    /// Writes the parameters, in the order given.
    pub(crate) fn write(&self, p: &mut dyn Params) {
        for param in &self.params {
            match param.info.kind {
                ParamKind::FilePart => p.file_text(param.info.name, param.value),
                _ => p.text(param.info.name, param.value),
            }
        }
    }
}
