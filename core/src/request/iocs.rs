//! Indicators of compromise.

use super::{check_text, opt_flag, uuid_request, Allowed, Params, Request, ResponseKind};
use crate::decoders::{IocMetadataDecoder, NetworkIocsDecoder, NoData};
use crate::error::Error;
use crate::types::Uuid;

uuid_request!(
    /// `get_network_iocs`: network indicators seen in a task (GET only).
    GetNetworkIocs, "get_network_iocs", "/analysis/ioc/get_network_iocs", Allowed::Get, NetworkIocsDecoder,
    token: true
);

/// `get_ioc_metadata`: what an IOC was made from.
#[derive(Clone, Copy, Debug)]
pub struct GetIocMetadata {
    /// The IOC's UUID.
    pub ioc_uuid: Uuid,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for GetIocMetadata {
    const NAME: &'static str = "get_ioc_metadata";
    const PATH: &'static str = "/analysis/ioc/get_ioc_metadata";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    const NEEDS_TOKEN: bool = false;
    type Response = IocMetadataDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("ioc_uuid", self.ioc_uuid.into());
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

/// `get_ioc_report`: download an IOC report (raw; failures are
/// envelopes).
#[derive(Clone, Copy, Debug)]
pub struct GetIocReport {
    /// The IOC's UUID.
    pub ioc_uuid: Uuid,
}

impl Request for GetIocReport {
    const NAME: &'static str = "get_ioc_report";
    const PATH: &'static str = "/ioc/get_ioc_report";
    const FORMAT_SUFFIX: bool = false;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Raw;
    const NEEDS_TOKEN: bool = false;
    type Response = NoData;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("ioc_uuid", self.ioc_uuid.into());
    }
}

/// `create_ioc_from_result`: make an IOC from a report.
#[derive(Clone, Copy, Debug)]
pub struct CreateIocFromResult<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// The IOC format/version to produce.
    pub report_version: &'a str,
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for CreateIocFromResult<'_> {
    const NAME: &'static str = "create_ioc_from_result";
    const PATH: &'static str = "/analysis/ioc/create_ioc_from_result";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = IocMetadataDecoder;

    fn validate(&self) -> Result<(), Error> {
        if self.report_version.is_empty() {
            return Err(Error::MissingParam {
                param: "report_version",
            });
        }
        check_text("report_version", self.report_version)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.text("report_version", self.report_version);
        p.value("report_uuid", self.report_uuid.into());
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }

    fn preferred_method(&self) -> super::HttpMethod {
        // It creates something; the official client POSTs it.
        super::HttpMethod::Post
    }
}
