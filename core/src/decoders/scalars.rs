//! Envelopes whose `data` is one value.

use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};
use crate::types::Timestamp;

/// Accepts any `data` (or none): for raw downloads, whose envelopes only
/// matter when they report a failure.
#[derive(Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NoData;

impl DataDecoder for NoData {
    type Item = core::convert::Infallible;
    type Output = ();
    const DATA_OPTIONAL: bool = true;

    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail> {
        r.skip("data")
    }

    fn field(&mut self, _: &str, _: &mut Reader<'_>) -> Result<Field, Fail> {
        Ok(Field::Skip)
    }

    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// `data` as a string: `"success"` from login, `"pong"` from ping.
#[derive(Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StringData(Option<heapless::String<64>>);

impl DataDecoder for StringData {
    type Item = core::convert::Infallible;
    type Output = heapless::String<64>;

    fn scalar(&mut self, r: &mut Reader<'_>) -> Result<(), Fail> {
        self.0 = Some(r.string("data")?);
        Ok(())
    }

    fn field(&mut self, _: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        Err(r.fail("data", JsonError::WrongType(text!("a string"))))
    }

    fn finish(&mut self) -> Result<Self::Output, Error> {
        self.0.take().ok_or(Error::MissingField { field: "data" })
    }
}

/// `get_api_utc_timestamp`: `{"timestamp": "YYYY-MM-DD HH:MM:SS"}`.
#[derive(Debug, Default)]
pub struct UtcTimestampDecoder(Option<Timestamp>);

impl DataDecoder for UtcTimestampDecoder {
    type Item = core::convert::Infallible;
    type Output = Timestamp;

    fn field(&mut self, key: &str, r: &mut Reader<'_>) -> Result<Field, Fail> {
        if key == "timestamp" {
            self.0 = Some(r.timestamp("timestamp")?);
            return Ok(Field::Read);
        }
        Ok(Field::Skip)
    }

    fn finish(&mut self) -> Result<Timestamp, Error> {
        super::need(self.0, "timestamp")
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
        super::need(self.0, "is_risky")
    }
}
