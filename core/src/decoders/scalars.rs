//! Envelopes whose `data` is one value.

use crate::envelope::{DataDecoder, Field};
use crate::error::{Error, JsonError};
use crate::json::{Fail, Reader};

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
