//! Closed sets of values: enums and bounded numbers of request parameters
//! and response fields.

use core::fmt;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            /// Every value, in the reference's order.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];

            /// The spelling on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$var => $wire),+ }
            }

            /// Parses the wire spelling, ignoring ASCII case.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl core::str::FromStr for $name {
            type Err = InvalidChoice;
            fn from_str(s: &str) -> Result<Self, InvalidChoice> {
                Self::parse(s).ok_or(InvalidChoice)
            }
        }
    };
}

/// A value outside a closed set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidChoice;

impl fmt::Display for InvalidChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not one of the allowed values")
    }
}

wire_enum! {
    /// `hash_algorithm` of `query_file_hash` / `is_blocked_file_hash`.
    HashAlgorithm { /** MD5. */ Md5 => "MD5", /** SHA-1. */ Sha1 => "SHA1", /** SHA-256. */ Sha256 => "SHA256" }
}

wire_enum! {
    /// `protocol` of `submit_file`: how the file was seen on the wire.
    Protocol { /** FTP. */ Ftp => "FTP", /** HTTP (the default). */ Http => "HTTP", /** SMB. */ Smb => "SMB" }
}

wire_enum! {
    /// `direction` of `submit_file`: which way the file travelled.
    Direction { /** Client to server. */ ToServer => "TO_SERVER", /** Server to client (the default). */ FromServer => "FROM_SERVER" }
}

wire_enum! {
    /// `report_type` of `export_report`.
    ReportType {
        /// Analysis overview only.
        Overview => "OVERVIEW",
        /// Overview and every report of the task.
        All => "ALL",
        /// Overview and every report of the task and its child tasks.
        Full => "FULL",
    }
}

wire_enum! {
    /// `task_type` in `get_task_metadata`.
    TaskType { /** A file submission. */ File => "file", /** A URL submission. */ Url => "url" }
}

wire_enum! {
    /// `decision` of `is_blocked_file_hash`. `NoBlock` is not a benign verdict.
    BlockDecision {
        /// The hash is not known.
        FileUnknown => "FILE_UNKNOWN",
        /// Block the file.
        Block => "BLOCK",
        /// Do not block the file (not a verdict that it is benign).
        NoBlock => "NOBLOCK",
    }
}

wire_enum! {
    /// The response format chosen by the path suffix.
    Format {
        /// `.json`, the default and the one this crate parses.
        Json => "json",
        /// `.xml`, for people.
        Xml => "xml",
        /// `.pdf` report download (`get_results`; the reference writes `PDF`,
        /// servers take either case, and lower case is what the
        /// long-standing official client sends).
        Pdf => "pdf",
        /// `.rtf` report download (`get_results`).
        Rtf => "rtf",
        /// `.raw` file download (artifacts).
        Raw => "raw",
    }
}

/// Task priority: 1 (lowest) to 10 (highest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Priority(u8);

impl Priority {
    /// A priority, if `level` is in 1..=10.
    pub const fn new(level: u8) -> Option<Self> {
        if level >= 1 && level <= 10 {
            Some(Self(level))
        } else {
            None
        }
    }

    /// The level, 1..=10.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::str::FromStr for Priority {
    type Err = InvalidChoice;
    fn from_str(s: &str) -> Result<Self, InvalidChoice> {
        s.parse::<u8>()
            .ok()
            .and_then(Self::new)
            .ok_or(InvalidChoice)
    }
}
