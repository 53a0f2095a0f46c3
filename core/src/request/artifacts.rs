//! Artifact downloads and checks: each method's request, and the decoder
//! of its `data` where it answers with an envelope.

use heapless::String;

use super::{
    check_zip_password, opt_flag, opt_text, opt_value, Allowed, ParamInfo, Params, Request,
    ResponseKind,
};
use crate::decoders::record::record_decoder;
use crate::decoders::{need, NoData};
use crate::envelope::{DataDecoder, Field};
use crate::error::Error;
use crate::json::{Fail, Reader};
use crate::types::{check_artifact_name, ArtifactId, Format, Uuid};

/// `get_result_artifact`: download an artifact of a task (raw).
#[derive(Clone, Copy, Debug)]
pub struct GetResultArtifact<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// `<report-UUID>:<artifact-name>`.
    pub artifact_uuid: ArtifactId<'a>,
    /// Ask for a zip protected with this password (ASCII, ≤ 128).
    pub password_protected: Option<&'a str>,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for GetResultArtifact<'_> {
    const NAME: &'static str = "get_result_artifact";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("artifact_uuid"),
        ParamInfo::field("password_protected"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/get_result_artifact";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Raw;
    type Response = NoData;

    fn validate(&self) -> Result<(), Error> {
        check_zip_password(self.password_protected)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.value("artifact_uuid", self.artifact_uuid.into());
        opt_text(p, "password_protected", self.password_protected);
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }

    fn format(&self) -> Option<Format> {
        // '.raw' and no suffix are the same download; no suffix is what
        // the official client sends.
        None
    }
}

/// `get_report_artifact`: download an artifact bound to a report (raw).
#[derive(Clone, Copy, Debug)]
pub struct GetReportArtifact<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// The report's UUID.
    pub report_uuid: Uuid,
    /// The artifact's name.
    pub artifact_name: &'a str,
    /// Ask for a zip protected with this password.
    pub password_protected: Option<&'a str>,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for GetReportArtifact<'_> {
    const NAME: &'static str = "get_report_artifact";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("report_uuid"),
        ParamInfo::field("artifact_name"),
        ParamInfo::field("password_protected"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/get_report_artifact";
    const FORMAT_SUFFIX: bool = false;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Raw;
    type Response = NoData;

    fn validate(&self) -> Result<(), Error> {
        check_artifact_name(self.artifact_name).map_err(|_| Error::InvalidParam {
            param: "artifact_name",
            reason: text!("empty, too long or has forbidden characters"),
        })?;
        check_zip_password(self.password_protected)
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.value("report_uuid", self.report_uuid.into());
        p.text("artifact_name", self.artifact_name);
        opt_text(p, "password_protected", self.password_protected);
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

/// `query_task_artifact`: is an artifact available? Always sent as
/// `.json` (the reference's raw default is unclear for a query).
#[derive(Clone, Copy, Debug)]
pub struct QueryTaskArtifact<'a> {
    /// The task's UUID.
    pub uuid: Uuid,
    /// The artifact's name, e.g. `primary_analysis_subject`.
    pub artifact_name: &'a str,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for QueryTaskArtifact<'_> {
    const NAME: &'static str = "query_task_artifact";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("uuid"),
        ParamInfo::field("artifact_name"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/query_task_artifact";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::GetOrPost;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    const NEEDS_TOKEN: bool = true;
    type Response = TaskArtifactDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_artifact_name(self.artifact_name).map_err(|_| Error::InvalidParam {
            param: "artifact_name",
            reason: text!("empty, too long or has forbidden characters"),
        })
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("uuid", self.uuid.into());
        p.text("artifact_name", self.artifact_name);
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

/// `is_risky_analysis_artifact`: could this artifact be malicious?
#[derive(Clone, Copy, Debug)]
pub struct IsRiskyAnalysisArtifact<'a> {
    /// `<report-UUID>:<artifact-name>`.
    pub artifact_uuid: ArtifactId<'a>,
    /// The task, to find the right datacenter.
    pub uuid: Option<Uuid>,
    /// `false` stops redirection to another datacenter.
    pub allow_datacenter_redirect: Option<bool>,
}

impl Request for IsRiskyAnalysisArtifact<'_> {
    const NAME: &'static str = "is_risky_analysis_artifact";
    const PARAMS: &'static [ParamInfo] = &[
        ParamInfo::field("artifact_uuid"),
        ParamInfo::field("uuid"),
        ParamInfo::field("allow_datacenter_redirect"),
    ];
    const PATH: &'static str = "/analysis/is_risky_analysis_artifact";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Get;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = IsRiskyDecoder;

    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        p.value("artifact_uuid", self.artifact_uuid.into());
        opt_value(p, "uuid", self.uuid);
        opt_flag(
            p,
            "allow_datacenter_redirect",
            self.allow_datacenter_redirect,
        );
    }
}

record_decoder! {
    /// `query_task_artifact` data.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize))]
    pub struct TaskArtifact;
    /// Decodes `query_task_artifact`.
    pub struct TaskArtifactDecoder;
    required {
        /// Whether the artifact can be downloaded.
        available: bool,
    }
    optional {
        /// The task's UUID.
        task_uuid: Uuid,
        /// The report holding the artifact.
        report_uuid: Uuid,
        /// The artifact's name.
        artifact_name: String<{ crate::types::ARTIFACT_NAME_CAPACITY }>,
    }
}

/// `is_risky_analysis_artifact`: `{"is_risky": 0|1}`.
#[derive(Debug, Default)]
pub struct IsRiskyDecoder(Option<bool>);

impl DataDecoder for IsRiskyDecoder {
    type Item = core::convert::Infallible;
    type Output = bool;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "is_risky" {
            self.0 = Some(r.flag("is_risky")?);
            return Ok(Field::Read);
        }
        Ok(Field::Skip)
    }

    fn finish(&mut self) -> Result<bool, Error> {
        need(self.0, "is_risky")
    }
}
