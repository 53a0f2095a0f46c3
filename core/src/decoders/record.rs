//! The decoders of records — an object of named members read into a
//! struct, no lists — declared from their field list by
//! [`record_decoder!`]: the output struct, its decoder, and the decoding
//! rule (required members must be there and not `null`; optional ones may
//! be absent or `null`; unknown members are skipped) written once.

use crate::json::{Fail, Reader};
use crate::types::{Digest, TaskType, Timestamp, Uuid};

/// A value a record's member holds, read as the decoding rule says.
pub(crate) trait Member: Sized {
    /// Reads the value at `at` (the member's name, for errors).
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail>;
}

impl Member for Uuid {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.uuid(at)
    }
}

impl<const N: usize> Member for Digest<N> {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.digest(at)
    }
}

impl<const N: usize> Member for heapless::String<N> {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.string(at)
    }
}

impl Member for Timestamp {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.timestamp(at)
    }
}

/// A 0/1 flag (or `true`/`false`).
impl Member for bool {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.flag(at)
    }
}

impl Member for i32 {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.int(at)
    }
}

impl Member for u64 {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        r.int(at)
    }
}

/// `file` or `url`, in any case.
impl Member for TaskType {
    fn read(r: &mut Reader<'_>, at: &'static str) -> Result<Self, Fail> {
        let s = r.string::<16>(at)?;
        TaskType::parse(&s).ok_or(r.fail(
            at,
            crate::error::JsonError::InvalidValue(text!("file or url")),
        ))
    }
}

/// Declares a record's output struct and its decoder from one field list:
///
/// ```text
/// record_decoder! {
///     /// The output's doc.
///     #[derive(...)] pub struct Output;
///     /// The decoder's doc.
///     pub struct OutputDecoder;
///     required { /// doc
///                member: Type, ... }
///     optional { /// doc
///                member: Type, ... }
/// }
/// ```
///
/// A required member is `Type` in the output and an error when absent or
/// `null` ([`Error::MissingField`](crate::Error::MissingField) naming it);
/// an optional one is `Option<Type>`. Each is read by its type's
/// [`Member`] impl, under its own name.
macro_rules! record_decoder {
    (
        $(#[$om:meta])* pub struct $out:ident;
        $(#[$dm:meta])* pub struct $dec:ident;
        required { $( $(#[$rm:meta])* $req:ident: $rty:ty ),* $(,)? }
        optional { $( $(#[$pm:meta])* $opt:ident: $pty:ty ),* $(,)? }
    ) => {
        $(#[$om])*
        pub struct $out {
            $( $(#[$rm])* pub $req: $rty, )*
            $( $(#[$pm])* pub $opt: Option<$pty>, )*
        }

        $(#[$dm])*
        #[derive(Debug, Default)]
        pub struct $dec {
            $( $req: Option<$rty>, )*
            $( $opt: Option<$pty>, )*
        }

        impl crate::envelope::DataDecoder for $dec {
            type Item = core::convert::Infallible;
            type Output = $out;

            fn field(
                &mut self,
                key: &str,
                r: &mut crate::json::Reader<'_>,
            ) -> Result<crate::envelope::Field, crate::json::Fail> {
                use crate::decoders::record::Member as _;
                match key {
                    $( stringify!($req) => {
                        self.$req = Some(<$rty>::read(r, stringify!($req))?)
                    } )*
                    $( stringify!($opt) => {
                        self.$opt = crate::decoders::opt(r, |r| <$pty>::read(r, stringify!($opt)))?
                    } )*
                    _ => return Ok(crate::envelope::Field::Skip),
                }
                Ok(crate::envelope::Field::Read)
            }

            fn finish(&mut self) -> Result<$out, crate::error::Error> {
                Ok($out {
                    $( $req: crate::decoders::need(self.$req.take(), stringify!($req))?, )*
                    $( $opt: self.$opt.take(), )*
                })
            }
        }
    };
}
pub(crate) use record_decoder;

#[cfg(test)]
mod tests {
    use crate::decoders::{TaskArtifactDecoder, TaskMetadataDecoder};
    use crate::envelope::decode_all;
    use crate::Error;

    fn artifact(data: &str) -> Result<crate::decoders::TaskArtifact, Error> {
        let body = std::format!(r#"{{"success": 1, "data": {data}}}"#);
        decode_all::<TaskArtifactDecoder, 0>(body.as_bytes()).map(|(out, _)| out)
    }

    #[test]
    fn required_must_be_there_optional_may_be_null_unknown_is_skipped() {
        let a = artifact(
            r#"{"available": 1, "task_uuid": null, "x": {"deep": [1]}, "artifact_name": "pcap"}"#,
        )
        .unwrap();
        assert!(a.available && a.task_uuid.is_none());
        assert_eq!(a.artifact_name.as_deref(), Some("pcap"));
        assert_eq!(
            artifact(r#"{"task_uuid": null}"#).unwrap_err(),
            Error::MissingField { field: "available" }
        );
        assert!(artifact(r#"{"available": null}"#).is_err());
        assert!(artifact(r#"{"available": 1, "report_uuid": 7}"#).is_err());
        let body = br#"{"success": 1, "data": {"task_uuid": "0123456789abcdef0123456789abcdef", "task_type": "URL"}}"#;
        let (m, _) = decode_all::<TaskMetadataDecoder, 0>(body).unwrap();
        assert_eq!(m.task_type, Some(crate::types::TaskType::Url));
    }
}
