//! UTC timestamps in the API's two formats.

use core::fmt;
use core::str::FromStr;

/// A UTC time with one-second resolution, in one of the API's formats:
/// `YYYY-MM-DD` ([`Timestamp::date`]) or `YYYY-MM-DD HH:MM:SS`.
///
/// Ordered by the instant it names; a date means its midnight.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    unix: i64,
    date_only: bool,
}

/// Why a string or number is not a [`Timestamp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTimestamp;

impl fmt::Display for InvalidTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a timestamp ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS', years 1970..=9999)")
    }
}

const MAX_UNIX: i64 = 253_402_300_799; // 9999-12-31 23:59:59

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm, in
// 32-bit arithmetic: a Cortex-M has no 64-bit divide, and the library
// routine for one costs about 1 KiB of flash). Callers pass years
// 1970..=9999 (after 0000-03-01, so no era is negative), so no step can
// overflow.
#[allow(clippy::arithmetic_side_effects)]
fn days_from_civil(y: u32, m: u32, d: u32) -> u32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[allow(clippy::arithmetic_side_effects)] // days of years 1970..=9999
fn civil_from_days(z: u32) -> (u32, u32, u32) {
    let z = z + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[allow(clippy::arithmetic_side_effects)] // remainders by non-zero constants
fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

#[allow(clippy::arithmetic_side_effects)] // values are range-checked first
impl Timestamp {
    /// The time `unix` seconds after 1970-01-01 00:00:00 UTC, written in
    /// the `YYYY-MM-DD HH:MM:SS` form.
    pub fn from_unix(unix: i64) -> Result<Self, InvalidTimestamp> {
        if !(0..=MAX_UNIX).contains(&unix) {
            return Err(InvalidTimestamp);
        }
        Ok(Self {
            unix,
            date_only: false,
        })
    }

    /// A date (midnight UTC), written as `YYYY-MM-DD`.
    pub fn date(year: u16, month: u8, day: u8) -> Result<Self, InvalidTimestamp> {
        Self::from_parts(year, month, day, 0, 0, 0).map(|t| Self {
            date_only: true,
            ..t
        })
    }

    /// A date and time, written as `YYYY-MM-DD HH:MM:SS`.
    pub fn from_parts(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, InvalidTimestamp> {
        let (y, m, d) = (u32::from(year), u32::from(month), u32::from(day));
        if !(1970..=9999).contains(&y)
            || !(1..=12).contains(&m)
            || d < 1
            || d > days_in_month(y, m)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(InvalidTimestamp);
        }
        let unix = i64::from(days_from_civil(y, m, d)) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        Ok(Self {
            unix,
            date_only: false,
        })
    }

    /// Parses `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (a `T` between date and
    /// time is accepted too).
    pub fn parse(s: &str) -> Result<Self, InvalidTimestamp> {
        let b = s.as_bytes();
        if b.len() != 10 && b.len() != 19 {
            return Err(InvalidTimestamp);
        }
        // One pass: separators where the format puts them, digits
        // elsewhere, accumulated into year, month, day, hour, minute,
        // second (at most four digits each, so no overflow).
        let mut n = [0u16; 6];
        let mut field = 0usize;
        for (i, &c) in b.iter().enumerate() {
            let sep: &[u8] = match i {
                4 | 7 => b"-",
                10 => b" T",
                13 | 16 => b":",
                _ => b"",
            };
            if !sep.is_empty() {
                if !sep.iter().any(|&s| s == c) {
                    return Err(InvalidTimestamp);
                }
                field += 1;
                continue;
            }
            let d = c.wrapping_sub(b'0');
            let slot = n.get_mut(field).ok_or(InvalidTimestamp)?;
            if d > 9 {
                return Err(InvalidTimestamp);
            }
            *slot = *slot * 10 + u16::from(d);
        }
        let [y, m, d, h, mi, se] = n;
        let small = |v: u16| u8::try_from(v).map_err(|_| InvalidTimestamp);
        if b.len() == 10 {
            Self::date(y, small(m)?, small(d)?)
        } else {
            Self::from_parts(y, small(m)?, small(d)?, small(h)?, small(mi)?, small(se)?)
        }
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub const fn unix(&self) -> i64 {
        self.unix
    }

    /// True when this is a date written as `YYYY-MM-DD`.
    pub const fn is_date_only(&self) -> bool {
        self.date_only
    }

    /// This instant moved by `seconds`, in the `YYYY-MM-DD HH:MM:SS` form.
    pub fn add_seconds(&self, seconds: i64) -> Result<Self, InvalidTimestamp> {
        Self::from_unix(self.unix.checked_add(seconds).ok_or(InvalidTimestamp)?)
    }

    /// Year, month, day, hour, minute, second.
    pub fn parts(&self) -> (u16, u8, u8, u8, u8, u8) {
        // 0..=MAX_UNIX by construction. 86 400 = 128 * 675, and the unix
        // time over 128 fits 32 bits, so no 64-bit division is needed.
        let unix = u64::try_from(self.unix).unwrap_or(0);
        let days = u32::try_from(unix >> 7).unwrap_or(0) / 675;
        let secs = u32::try_from(unix - u64::from(days) * 86_400).unwrap_or(0);
        let (y, m, d) = civil_from_days(days);
        let n = |v: u32| u8::try_from(v).unwrap_or(0);
        (
            u16::try_from(y).unwrap_or(0),
            n(m),
            n(d),
            n(secs / 3600),
            n(secs / 60 % 60),
            n(secs % 60),
        )
    }

    /// Writes the wire form into `buf` and returns it.
    pub fn encode<'b>(&self, buf: &'b mut [u8; 19]) -> &'b str {
        let (y, mo, d, h, mi, s) = self.parts();
        *buf = *b"0000-00-00 00:00:00";
        // Each field's digits, right to left from where it ends: one loop
        // rather than twenty unrolled digit stores in firmware.
        for (end, v) in [
            (4usize, u32::from(y)),
            (7, mo.into()),
            (10, d.into()),
            (13, h.into()),
            (16, mi.into()),
            (19, s.into()),
        ] {
            let mut v = v;
            let mut at = end;
            while v > 0 && at > 0 {
                at -= 1;
                if let Some(slot) = buf.get_mut(at) {
                    *slot = b'0' + (v % 10) as u8;
                }
                v /= 10;
            }
        }
        let len = if self.date_only { 10 } else { 19 };
        core::str::from_utf8(buf.get(..len).unwrap_or(&[])).unwrap_or("")
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.unix
            .cmp(&other.unix)
            .then(other.date_only.cmp(&self.date_only))
    }
}

impl FromStr for Timestamp {
    type Err = InvalidTimestamp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 19];
        f.write_str(self.encode(&mut buf))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Timestamp {
    fn format(&self, f: defmt::Formatter<'_>) {
        let mut buf = [0u8; 19];
        defmt::write!(f, "{=str}", self.encode(&mut buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn round_trips_both_forms() {
        for s in [
            "2020-08-07 00:25:49",
            "1970-01-01 00:00:00",
            "9999-12-31 23:59:59",
            "2024-02-29",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            Timestamp::parse("2020-08-07 00:25:49")
                .unwrap()
                .add_seconds(1)
                .unwrap()
                .to_string(),
            "2020-08-07 00:25:50"
        );
        assert_eq!(
            Timestamp::parse("2020-08-07T00:25:49").unwrap().to_string(),
            "2020-08-07 00:25:49"
        );
    }

    #[test]
    fn refuses_impossible_dates() {
        for s in [
            "2023-02-29",
            "2020-13-01",
            "2020-00-10",
            "2020-01-01 24:00:00",
            "1969-12-31",
            "2020-1-01",
            "",
            "2020-01-01x00:00:00",
            "+020-01-01",
        ] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn unix_matches_known_instants() {
        assert_eq!(
            Timestamp::parse("2020-08-07 00:25:49").unwrap().unix(),
            1_596_759_949
        );
        for u in [0i64, 951_782_400, 1_596_759_949, MAX_UNIX] {
            assert_eq!(Timestamp::from_unix(u).unwrap().unix(), u);
            let s = Timestamp::from_unix(u).unwrap().to_string();
            assert_eq!(Timestamp::parse(&s).unwrap().unix(), u);
        }
    }

    /// Every day of 1970..=9999 against a plain day-by-day walk of the
    /// calendar, at two times of day.
    #[test]
    fn every_day_matches_a_calendar_walk() {
        let (mut y, mut m, mut d) = (1970u16, 1u8, 1u8);
        let mut day = 0i64;
        loop {
            for secs in [0i64, 86_399] {
                let t = Timestamp::from_unix(day * 86_400 + secs).unwrap();
                let (h, mi, s) = if secs == 0 { (0, 0, 0) } else { (23, 59, 59) };
                assert_eq!(t.parts(), (y, m, d, h, mi, s), "day {day}");
                assert_eq!(Timestamp::from_parts(y, m, d, h, mi, s).unwrap(), t);
            }
            if (y, m, d) == (9999, 12, 31) {
                break;
            }
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ][usize::from(m - 1)];
            if d < len {
                d += 1;
            } else if m < 12 {
                (m, d) = (m + 1, 1);
            } else {
                (y, m, d) = (y + 1, 1, 1);
            }
            day += 1;
        }
        assert_eq!(day * 86_400 + 86_399, MAX_UNIX);
    }

    proptest::proptest! {
        #[test]
        fn parse_inverts_encode(unix in 0..=MAX_UNIX, date_only: bool) {
            let t = Timestamp::from_unix(unix).unwrap();
            let t = if date_only {
                let (y, m, d, ..) = t.parts();
                Timestamp::date(y, m, d).unwrap()
            } else {
                t
            };
            let mut buf = [0u8; 19];
            proptest::prop_assert_eq!(Timestamp::parse(t.encode(&mut buf)), Ok(t));
        }

        /// Anything accepted is written back the same way ('T' as ' ').
        #[test]
        fn accepted_text_round_trips(s in "[0-9T :-]{10}|[0-9T :-]{19}|[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?") {
            if let Ok(t) = Timestamp::parse(&s) {
                let mut buf = [0u8; 19];
                proptest::prop_assert_eq!(t.encode(&mut buf), s.replacen('T', " ", 1));
            }
        }
    }
}
