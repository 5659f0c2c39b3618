//! Date and time as OPAL carries them: packed BCD (binary-coded decimal).
//!
//! `y_m_d` (32 bits) = year (4 BCD digits) << 16 | month << 8 | day;
//! `h_m_s_ms` (64 bits) = hour << 56 | minute << 48 | second << 40 | milliseconds (BCD) << 24.

/// A calendar date and time (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateTime {
    /// Year, e.g. 2026.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

fn to_bcd(v: u32) -> u32 {
    let mut out = 0;
    let mut shift = 0;
    let mut v = v;
    loop {
        out |= (v % 10) << shift;
        v /= 10;
        shift += 4;
        if v == 0 {
            return out;
        }
    }
}

fn from_bcd(v: u32, digits: u32) -> Option<u32> {
    let mut out = 0;
    for i in (0..digits).rev() {
        let d = (v >> (i * 4)) & 0xf;
        if d > 9 {
            return None;
        }
        out = out * 10 + d;
    }
    Some(out)
}

impl DateTime {
    /// Whether every field is in range (days checked against the month and leap years).
    pub fn is_valid(&self) -> bool {
        let y = self.year;
        let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=9999).contains(&self.year)
            && (1..=days).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }
}

/// Packs a date and time into OPAL's two BCD words.
pub fn datetime_to_bcd(t: &DateTime) -> (u32, u64) {
    let ymd = to_bcd(t.year as u32) << 16 | to_bcd(t.month as u32) << 8 | to_bcd(t.day as u32);
    let hms = (to_bcd(t.hour as u32) as u64) << 56
        | (to_bcd(t.minute as u32) as u64) << 48
        | (to_bcd(t.second as u32) as u64) << 40;
    (ymd, hms)
}

/// Unpacks OPAL's BCD words; `None` if a digit is not decimal or a field is out of range.
pub fn bcd_to_datetime(ymd: u32, hms: u64) -> Option<DateTime> {
    let t = DateTime {
        year: from_bcd(ymd >> 16, 4)? as u16,
        month: from_bcd((ymd >> 8) & 0xff, 2)? as u8,
        day: from_bcd(ymd & 0xff, 2)? as u8,
        hour: from_bcd((hms >> 56) as u32 & 0xff, 2)? as u8,
        minute: from_bcd((hms >> 48) as u32 & 0xff, 2)? as u8,
        second: from_bcd((hms >> 40) as u32 & 0xff, 2)? as u8,
    };
    t.is_valid().then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_like_opal() {
        let t = DateTime { year: 2026, month: 11, day: 21, hour: 9, minute: 5, second: 59 };
        let (ymd, hms) = datetime_to_bcd(&t);
        assert_eq!(ymd, 0x2026_1121);
        assert_eq!(hms, 0x0905_5900_0000_0000);
        assert_eq!(bcd_to_datetime(ymd, hms), Some(t));
    }

    #[test]
    fn rejects_bad_digits_and_dates() {
        assert_eq!(bcd_to_datetime(0x2026_1a01, 0), None);
        assert_eq!(bcd_to_datetime(0x2026_0230, 0), None);
        assert_eq!(bcd_to_datetime(0x2024_0229, 0).map(|t| t.day), Some(29));
        assert_eq!(bcd_to_datetime(0x2023_0229, 0), None);
        assert_eq!(bcd_to_datetime(0x2026_0101, 0x2400_0000_0000_0000), None);
    }
}
