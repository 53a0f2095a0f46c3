//! `submit_file` and `submit_url`.

use core::net::Ipv4Addr;

use super::{
    check_opt_text, check_opt_url, opt_flag, opt_text, opt_value, Allowed, BodyKind, Params,
    Request, ResponseKind,
};
use crate::decoders::SubmitDecoder;
use crate::error::Error;
use crate::types::{Direction, Md5, PasswordCandidates, Priority, Protocol, Sha1, Sha256, Url};

/// `submit_file`: submit a file by hash, or upload its content.
///
/// Set `md5`/`sha1`/`sha256` for a submission by hash (sent as a small
/// form body); set `upload` to the sample's length to send its content as
/// the multipart `file` part, whose bytes the transport streams between
/// the encoder's prefix and suffix. The hash-first workflow
/// ([`crate::workflow::HashFirst`]) does both in order.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubmitFile<'a> {
    /// MD5 of the sample, for submission by hash.
    pub md5: Option<Md5>,
    /// SHA-1 of the sample, for submission by hash.
    pub sha1: Option<Sha1>,
    /// SHA-256 of the sample, for submission by hash.
    pub sha256: Option<Sha256>,
    /// Length of the sample when its content is uploaded.
    pub upload: Option<u64>,
    /// `-1` never include the detailed report; `0` always; otherwise the
    /// minimum score at which it is included.
    pub full_report_score: Option<i32>,
    /// Delete the file after analysis.
    pub delete_after_analysis: Option<bool>,
    /// Analyse again even if cached (privileged).
    pub bypass_cache: Option<bool>,
    /// Analysis time in seconds (privileged).
    pub analysis_timeout: Option<u32>,
    /// Analysis environment, e.g. `windows10` (privileged).
    pub analysis_env: Option<&'a str>,
    /// Let the sample use the network (privileged; default 1).
    pub allow_network_traffic: Option<bool>,
    /// The sample's real file name (helps file-type detection).
    pub filename: Option<&'a str>,
    /// Keep file dumps (privileged).
    pub keep_file_dumps: Option<bool>,
    /// Keep memory dumps (privileged).
    pub keep_memory_dumps: Option<bool>,
    /// Keep the behaviour log (privileged).
    pub keep_behavior_log: Option<bool>,
    /// Push the result to this portal account (discouraged for bulk).
    pub push_to_portal_account: Option<&'a str>,
    /// Protocol the file was seen on.
    pub protocol: Option<Protocol>,
    /// Server address of the transfer.
    pub server_ip: Option<Ipv4Addr>,
    /// Server port of the transfer.
    pub server_port: Option<u16>,
    /// Client address of the transfer.
    pub client_ip: Option<Ipv4Addr>,
    /// Client port of the transfer.
    pub client_port: Option<u16>,
    /// Direction of the transfer.
    pub direction: Option<Direction>,
    /// Report version to return.
    pub report_version: Option<&'a str>,
    /// Deprecated download address.
    pub download_ip: Option<Ipv4Addr>,
    /// Deprecated download port.
    pub download_port: Option<u16>,
    /// Deprecated APK package name.
    pub apk_package_name: Option<&'a str>,
    /// Password of an encrypted archive.
    pub password: Option<&'a str>,
    /// Priority 1..=10.
    pub priority: Option<Priority>,
    /// Skip the prefilter (privileged).
    pub bypass_prefilter: Option<bool>,
    /// Fast analysis (privileged).
    pub fast_analysis: Option<bool>,
    /// FILE parameter: host the file was downloaded from.
    pub download_host: Option<&'a str>,
    /// FILE parameter: path it was downloaded from.
    pub download_path: Option<&'a str>,
    /// FILE parameter: user agent of the download.
    pub download_user_agent: Option<&'a str>,
    /// FILE parameter: referer of the download.
    pub download_referer: Option<&'a str>,
    /// FILE parameter: the download's HTTP request.
    pub download_request: Option<&'a str>,
    /// FILE parameter: passwords to try on encrypted content.
    pub password_candidates: Option<PasswordCandidates<'a>>,
}

impl SubmitFile<'_> {
    fn has_file_params(&self) -> bool {
        self.upload.is_some()
            || self.download_host.is_some()
            || self.download_path.is_some()
            || self.download_user_agent.is_some()
            || self.download_referer.is_some()
            || self.download_request.is_some()
            || self.password_candidates.is_some()
    }
}

impl Request for SubmitFile<'_> {
    const NAME: &'static str = "submit_file";
    const PATH: &'static str = "/analysis/submit/file";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = SubmitDecoder;

    fn validate(&self) -> Result<(), Error> {
        if self.upload.is_none()
            && self.md5.is_none()
            && self.sha1.is_none()
            && self.sha256.is_none()
        {
            return Err(Error::MissingParam { param: "file" });
        }
        for (name, v) in [
            ("analysis_env", self.analysis_env),
            ("filename", self.filename),
            ("push_to_portal_account", self.push_to_portal_account),
            ("report_version", self.report_version),
            ("apk_package_name", self.apk_package_name),
            ("password", self.password),
            ("download_host", self.download_host),
            ("download_path", self.download_path),
            ("download_user_agent", self.download_user_agent),
            ("download_referer", self.download_referer),
        ] {
            check_opt_text(name, v)?;
        }
        // A raw HTTP request legitimately spans lines.
        if let Some(r) = self.download_request {
            if r.len() > 65_536 || r.bytes().any(|b| b == 0) {
                return Err(Error::InvalidParam {
                    param: "download_request",
                    reason: text!("longer than 64 KiB or contains NUL"),
                });
            }
        }
        if self.server_port == Some(0)
            || self.client_port == Some(0)
            || self.download_port == Some(0)
        {
            return Err(Error::InvalidParam {
                param: "server_port",
                reason: text!("port 0 is not a port"),
            });
        }
        Ok(())
    }

    fn params(&self, p: &mut dyn Params) {
        opt_value(p, "md5", self.md5.as_ref());
        opt_value(p, "sha1", self.sha1.as_ref());
        opt_value(p, "sha256", self.sha256.as_ref());
        opt_value(p, "full_report_score", self.full_report_score);
        opt_flag(p, "delete_after_analysis", self.delete_after_analysis);
        opt_flag(p, "bypass_cache", self.bypass_cache);
        opt_value(p, "analysis_timeout", self.analysis_timeout);
        opt_text(p, "analysis_env", self.analysis_env);
        opt_flag(p, "allow_network_traffic", self.allow_network_traffic);
        opt_text(p, "filename", self.filename);
        opt_flag(p, "keep_file_dumps", self.keep_file_dumps);
        opt_flag(p, "keep_memory_dumps", self.keep_memory_dumps);
        opt_flag(p, "keep_behavior_log", self.keep_behavior_log);
        opt_text(p, "push_to_portal_account", self.push_to_portal_account);
        opt_value(p, "protocol", self.protocol);
        opt_value(p, "server_ip", self.server_ip);
        opt_value(p, "server_port", self.server_port);
        opt_value(p, "client_ip", self.client_ip);
        opt_value(p, "client_port", self.client_port);
        opt_value(p, "direction", self.direction);
        opt_text(p, "report_version", self.report_version);
        opt_value(p, "download_ip", self.download_ip);
        opt_value(p, "download_port", self.download_port);
        opt_text(p, "apk_package_name", self.apk_package_name);
        opt_text(p, "password", self.password);
        opt_value(p, "priority", self.priority);
        opt_flag(p, "bypass_prefilter", self.bypass_prefilter);
        opt_flag(p, "fast_analysis", self.fast_analysis);
        for (name, v) in [
            ("download_host", self.download_host),
            ("download_path", self.download_path),
            ("download_user_agent", self.download_user_agent),
            ("download_referer", self.download_referer),
            ("download_request", self.download_request),
        ] {
            if let Some(v) = v {
                p.file_text(name, v);
            }
        }
        if let Some(c) = self.password_candidates {
            p.file_lines("password_candidates", c.as_slice());
        }
    }

    fn body_kind(&self) -> BodyKind {
        if self.has_file_params() {
            BodyKind::Multipart
        } else {
            BodyKind::Form
        }
    }

    fn upload_len(&self) -> Option<u64> {
        self.upload
    }
}

/// `submit_url`: submit a URL for analysis (not a link to an executable:
/// download it and use [`SubmitFile`]).
#[derive(Clone, Copy, Debug)]
pub struct SubmitUrl<'a> {
    /// The URL.
    pub url: Url<'a>,
    /// Referer to send when fetching it.
    pub referer: Option<&'a str>,
    /// See [`SubmitFile::full_report_score`].
    pub full_report_score: Option<i32>,
    /// Analyse again even if cached (privileged).
    pub bypass_cache: Option<bool>,
    /// Analysis time in seconds (privileged).
    pub analysis_timeout: Option<u32>,
    /// Push the result to this portal account.
    pub push_to_portal_account: Option<&'a str>,
    /// User agent to fetch the URL with.
    pub user_agent: Option<&'a str>,
    /// Report version to return.
    pub report_version: Option<&'a str>,
    /// Priority 1..=10.
    pub priority: Option<Priority>,
    /// Fast analysis (privileged).
    pub fast_analysis: Option<bool>,
    /// FILE parameter: passwords to try.
    pub password_candidates: Option<PasswordCandidates<'a>>,
}

impl<'a> SubmitUrl<'a> {
    /// A submission of `url` with every option unset.
    pub fn new(url: Url<'a>) -> Self {
        Self {
            url,
            referer: None,
            full_report_score: None,
            bypass_cache: None,
            analysis_timeout: None,
            push_to_portal_account: None,
            user_agent: None,
            report_version: None,
            priority: None,
            fast_analysis: None,
            password_candidates: None,
        }
    }
}

impl Request for SubmitUrl<'_> {
    const NAME: &'static str = "submit_url";
    const PATH: &'static str = "/analysis/submit/url";
    const FORMAT_SUFFIX: bool = true;
    const ALLOWED: Allowed = Allowed::Post;
    const RESPONSE: ResponseKind = ResponseKind::Envelope;
    type Response = SubmitDecoder;

    fn validate(&self) -> Result<(), Error> {
        check_opt_url("referer", self.referer)?;
        check_opt_text("push_to_portal_account", self.push_to_portal_account)?;
        check_opt_text("user_agent", self.user_agent)?;
        check_opt_text("report_version", self.report_version)
    }

    fn params(&self, p: &mut dyn Params) {
        p.text("url", self.url.as_str());
        opt_text(p, "referer", self.referer);
        opt_value(p, "full_report_score", self.full_report_score);
        opt_flag(p, "bypass_cache", self.bypass_cache);
        opt_value(p, "analysis_timeout", self.analysis_timeout);
        opt_text(p, "push_to_portal_account", self.push_to_portal_account);
        opt_text(p, "user_agent", self.user_agent);
        opt_text(p, "report_version", self.report_version);
        opt_value(p, "priority", self.priority);
        opt_flag(p, "fast_analysis", self.fast_analysis);
        if let Some(c) = self.password_candidates {
            p.file_lines("password_candidates", c.as_slice());
        }
    }

    fn body_kind(&self) -> BodyKind {
        if self.password_candidates.is_some() {
            BodyKind::Multipart
        } else {
            BodyKind::Form
        }
    }
}
