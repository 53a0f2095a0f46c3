//! Indicators of compromise: the requests and their decoders.

use heapless::{String, Vec};

use super::{
    check_text, opt_flag, uuid_request, Allowed, ParamInfo, Params, Request, ResponseKind,
};
use crate::decoders::{need, need_in, opt, NoData, NAME_CAPACITY, TEXT_CAPACITY};
use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::{Md5, Sha1, Uuid};

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
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("ioc_uuid"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
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
    const PARAMS: &'static [ParamInfo] = &[ParamInfo::field("ioc_uuid")];
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
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("report_version"),
        ParamInfo::field("report_uuid"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
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

/// A network indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NetworkIoc {
    /// Its type (`domain`, `ip`, `url`...).
    pub ioc_type: String<NAME_CAPACITY>,
    /// Its value.
    pub value: String<TEXT_CAPACITY>,
    /// Its tags.
    pub tags: Vec<String<NAME_CAPACITY>, 8>,
}

/// The network indicators of one report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NetworkIocReport {
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// Version of the `pcap_info` structure.
    pub pcap_info_version: i32,
    /// The indicators (at most 16 per report entry).
    pub iocs: Vec<NetworkIoc, 16>,
}

/// `get_network_iocs` data other than the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NetworkIocs {
    /// The task's UUID.
    pub task_uuid: Uuid,
}

/// Decodes `get_network_iocs`.
#[derive(Debug, Default)]
pub struct NetworkIocsDecoder(Option<Uuid>);

const AT: &str = "network_iocs[]";

impl DataDecoder for NetworkIocsDecoder {
    type Item = NetworkIocReport;
    type Output = NetworkIocs;
    const LISTS: &'static [&'static str] = &["network_iocs"];

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(match key {
            "task_uuid" => {
                self.0 = Some(r.uuid("task_uuid")?);
                Field::Read
            }
            "network_iocs" => Field::List("network_iocs"),
            _ => Field::Skip,
        })
    }

    fn element(
        &mut self,
        _: &'static str,
        _: Option<&str>,
        r: &mut Reader<'_>,
    ) -> Result<NetworkIocReport, Fail> {
        let (mut uuid, mut version, mut iocs) = (None, None, Vec::new());
        r.object(AT, |r, k| {
            match k {
                "report_uuid" => uuid = Some(r.uuid("network_iocs[].report_uuid")?),
                "pcap_info_version" => version = Some(r.int("network_iocs[].pcap_info_version")?),
                "pcap_info" => r.object(AT, |r, k| {
                    if k != "ioc_list" {
                        return r.skip(AT);
                    }
                    r.list("network_iocs[].pcap_info.ioc_list", |r| {
                        let (mut t, mut v, mut tags) = (None, None, Vec::new());
                        r.object(AT, |r, k| {
                            match k {
                                "ioc_type" => t = Some(r.string("ioc_list[].ioc_type")?),
                                "value" => v = Some(r.string("ioc_list[].value")?),
                                "tags" => tags = r.string_list("ioc_list[].tags")?,
                                _ => r.skip(AT)?,
                            }
                            Ok(())
                        })?;
                        let ioc = NetworkIoc {
                            ioc_type: need_in(r, t, "ioc_list[].ioc_type")?,
                            value: need_in(r, v, "ioc_list[].value")?,
                            tags,
                        };
                        iocs.push(ioc).map_err(|_| {
                            r.fail(
                                "network_iocs[].pcap_info.ioc_list",
                                JsonError::TooManyItems { capacity: 16 },
                            )
                        })
                    })
                })?,
                _ => r.skip(AT)?,
            }
            Ok(())
        })?;
        Ok(NetworkIocReport {
            report_uuid: need_in(r, uuid, "network_iocs[].report_uuid")?,
            pcap_info_version: version.unwrap_or(0),
            iocs,
        })
    }

    fn finish(&mut self) -> Result<NetworkIocs, Error> {
        Ok(NetworkIocs {
            task_uuid: need(self.0, "task_uuid")?,
        })
    }
}

/// `get_ioc_metadata` / `create_ioc_from_result` data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct IocMetadata {
    /// The IOC's UUID.
    pub ioc_uuid: Option<Uuid>,
    /// The task it came from.
    pub task_uuid: Option<Uuid>,
    /// The report it came from.
    pub report_uuid: Option<Uuid>,
    /// The IOC format/version.
    pub report_version: Option<String<NAME_CAPACITY>>,
    /// The task's score.
    pub task_score: Option<i32>,
    /// MD5 of the analysed file.
    pub file_md5: Option<Md5>,
    /// SHA-1 of the analysed file.
    pub file_sha1: Option<Sha1>,
    /// MIME type of the analysed file.
    pub file_mime_type: Option<String<NAME_CAPACITY>>,
    /// Analysis environment of the report.
    pub report_env: Option<String<NAME_CAPACITY>>,
}

/// Decodes `get_ioc_metadata` and `create_ioc_from_result`.
#[derive(Debug, Default)]
pub struct IocMetadataDecoder(IocMetadata);

impl DataDecoder for IocMetadataDecoder {
    type Item = core::convert::Infallible;
    type Output = IocMetadata;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        let m = &mut self.0;
        match key {
            "ioc_uuid" => m.ioc_uuid = Some(r.uuid("ioc_uuid")?),
            "task_uuid" => m.task_uuid = opt(r, |r| r.uuid("task_uuid"))?,
            "report_uuid" => m.report_uuid = opt(r, |r| r.uuid("report_uuid"))?,
            "report_version" => m.report_version = opt(r, |r| r.string("report_version"))?,
            "task_score" => m.task_score = opt(r, |r| r.int("task_score"))?,
            "file_md5" => m.file_md5 = opt(r, |r| r.digest("file_md5"))?,
            "file_sha1" => m.file_sha1 = opt(r, |r| r.digest("file_sha1"))?,
            "file_mime_type" => m.file_mime_type = opt(r, |r| r.string("file_mime_type"))?,
            "report_env" => m.report_env = opt(r, |r| r.string("report_env"))?,
            _ => return Ok(Field::Skip),
        }
        Ok(Field::Read)
    }

    fn finish(&mut self) -> Result<IocMetadata, Error> {
        need(self.0.ioc_uuid, "ioc_uuid")?;
        Ok(core::mem::take(&mut self.0))
    }
}
