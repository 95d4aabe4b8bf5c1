//! Relay cursors: opaque to clients, an offset-free keyset position for us.

use base64_free::{decode, encode};

use crate::ServiceError;

/// Encodes a keyset position (the last row's sort key) as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    encode(key)
}

/// Decodes a cursor produced by [`encode_cursor`]; `field` names the argument for the error.
pub fn decode_cursor(field: &str, cursor: &str) -> Result<String, ServiceError> {
    decode(cursor).ok_or_else(|| ServiceError::invalid(field, "is not a cursor returned by this API"))
}

/// Hex is enough for an opaque cursor and needs no extra dependency.
mod base64_free {
    pub fn encode(s: &str) -> String {
        s.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(s: &str) -> Option<String> {
        if !s.len().is_multiple_of(2) || !s.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect();
        String::from_utf8(bytes?).ok()
    }
}

/// Validates `first`: how many rows a page may hold.
pub fn page_size(first: Option<i32>, default: i32, max: i32) -> Result<i64, ServiceError> {
    match first {
        None => Ok(default as i64),
        Some(n) if n < 0 => Err(ServiceError::invalid("first", "must not be negative")),
        Some(n) if n > max => Err(ServiceError::invalid("first", format!("must be at most {max}"))),
        Some(n) => Ok(n as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = encode_cursor("2024-01-01|Абв");
        assert_eq!(decode_cursor("after", &c).unwrap(), "2024-01-01|Абв");
        assert!(decode_cursor("after", "zz").is_err());
        assert!(decode_cursor("after", "абв").is_err());
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(page_size(None, 20, 100).unwrap(), 20);
        assert!(page_size(Some(-1), 20, 100).is_err());
        assert!(page_size(Some(101), 20, 100).is_err());
    }
}
