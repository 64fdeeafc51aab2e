//! Client-supplied event ids: Google accepts lowercase base32hex (`a`-`v`, `0`-`9`), 5 to 1024
//! characters. Choosing the id yourself makes inserts idempotent (see
//! [`EventsResource::insert`](crate::EventsResource::insert)).

use crate::error::Error;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
const MIN_LEN: usize = 5;
const MAX_LEN: usize = 1024;

/// Checks a client-supplied event id against Google's rules: only `a`-`v` and `0`-`9`, 5 to 1024
/// characters.
///
/// # Errors
/// [`Error::InvalidRequest`] saying what is wrong.
pub fn validate_event_id(id: &str) -> Result<(), Error> {
    if !(MIN_LEN..=MAX_LEN).contains(&id.len()) {
        return Err(Error::invalid_request(format!(
            "an event id must be {MIN_LEN} to {MAX_LEN} characters long, this one has {}",
            id.len()
        )));
    }
    if let Some(bad) = id.chars().find(|c| !matches!(c, 'a'..='v' | '0'..='9')) {
        return Err(Error::invalid_request(format!(
            "an event id may contain only lowercase a-v and digits 0-9 (base32hex), found {bad:?}"
        )));
    }
    Ok(())
}

/// Encodes `bytes` as a valid event id (lowercase base32hex without padding), so an id can be
/// derived deterministically from your own key: e.g. the 16 bytes of a UUID give 26 characters.
/// `bytes` must be 3 to 640 bytes long for the result to be a valid id (5 to 1024 characters).
pub fn event_id_from_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[usize::from((buffer >> bits) & 0x1f)]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_rfc4648_base32hex() {
        // RFC 4648 test vectors for base32hex, lowercased and without padding.
        assert_eq!(event_id_from_bytes(b""), "");
        assert_eq!(event_id_from_bytes(b"f"), "co");
        assert_eq!(event_id_from_bytes(b"fo"), "cpng");
        assert_eq!(event_id_from_bytes(b"foo"), "cpnmu");
        assert_eq!(event_id_from_bytes(b"foob"), "cpnmuog");
        assert_eq!(event_id_from_bytes(b"fooba"), "cpnmuoj1");
        assert_eq!(event_id_from_bytes(b"foobar"), "cpnmuoj1e8");
    }

    #[test]
    fn encoded_ids_validate() {
        for length in [3, 16, 640] {
            let id = event_id_from_bytes(&vec![0xff; length]);
            assert!(validate_event_id(&id).is_ok(), "{length} bytes -> {id}");
        }
    }
}
