//! Calendar event ids that follow from a task and its piece, so writing a plan twice updates instead
//! of duplicating.

use uuid::Uuid;

/// Google's alphabet for client-chosen event ids (base32hex, lower case).
const BASE32HEX: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// Marks the ids Planwright makes; only letters Google allows in an id.
const PREFIX: &str = "pl";

/// The calendar event id for a plan task: `pl` followed by the task id's 16 bytes in lower-case
/// base32hex without padding, 28 characters in all.
///
/// The same task always gets the same id, and different tasks different ids. The id satisfies
/// Google Calendar's rules for ids chosen by the client (characters `0-9` and `a-v`, 5 to 1024 of
/// them). Changing this format would make every re-schedule duplicate its events: don't.
pub fn event_id_for_task(task_id: Uuid) -> String {
    let mut id = String::with_capacity(PREFIX.len() + 26);
    id.push_str(PREFIX);
    push_base32hex(&mut id, task_id.as_bytes());
    id
}

/// The calendar event id for piece `chunk` (from 0) of a task cut into pieces.
///
/// Piece 0 has the task's own id, [`event_id_for_task`], so events written before tasks were split
/// keep their ids. Any other piece has that id followed by the piece number as 4 base32hex digits,
/// 32 characters in all: never the id of a piece 0 (28 characters), and never the id of another
/// task's piece (the first 28 characters name the task, the last 4 the piece).
pub fn event_id_for_chunk(task_id: Uuid, chunk: u16) -> String {
    let mut id = event_id_for_task(task_id);
    if chunk > 0 {
        for shift in [15u16, 10, 5, 0] {
            id.push(char::from(BASE32HEX[usize::from((chunk >> shift) & 31)]));
        }
    }
    id
}

/// Appends `bytes` in lower-case base32hex without padding.
fn push_base32hex(id: &mut String, bytes: &[u8]) {
    let (mut pending, mut bits) = (0u16, 0u32);
    for &byte in bytes {
        pending = (pending << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            id.push(char::from(BASE32HEX[usize::from((pending >> bits) & 31)]));
        }
        pending &= (1 << bits) - 1;
    }
    if bits > 0 {
        id.push(char::from(BASE32HEX[usize::from((pending << (5 - bits)) & 31)]));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn is_valid_google_event_id(id: &str) -> bool {
        (5..=1024).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
    }

    fn decode(id: &str) -> Vec<u8> {
        let (mut pending, mut bits, mut bytes) = (0u32, 0u32, Vec::new());
        for c in id.strip_prefix(PREFIX).unwrap().bytes() {
            let value = BASE32HEX.iter().position(|&d| d == c).unwrap();
            pending = (pending << 5) | u32::try_from(value).unwrap();
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push(u8::try_from((pending >> bits) & 0xff).unwrap());
            }
        }
        bytes
    }

    #[test]
    fn event_ids_are_fixed_for_known_tasks() {
        assert_eq!(event_id_for_task(Uuid::nil()), format!("pl{}", "0".repeat(26)));
        assert_eq!(event_id_for_task(Uuid::max()), format!("pl{}s", "v".repeat(25)));
        let task = Uuid::parse_str("0191f1c4-7a2b-7c3d-8e4f-a0b1c2d3e4f5").unwrap();
        assert_eq!(event_id_for_task(task), "pl068v3h3q5du3r3ifk2os5kv4uk");
        assert_eq!(event_id_for_task(task), event_id_for_task(task));
    }

    #[test]
    fn chunk_ids_are_fixed_for_known_pieces() {
        let task = Uuid::parse_str("0191f1c4-7a2b-7c3d-8e4f-a0b1c2d3e4f5").unwrap();
        assert_eq!(event_id_for_chunk(task, 0), "pl068v3h3q5du3r3ifk2os5kv4uk");
        assert_eq!(event_id_for_chunk(task, 1), "pl068v3h3q5du3r3ifk2os5kv4uk0001");
        assert_eq!(event_id_for_chunk(task, 33), "pl068v3h3q5du3r3ifk2os5kv4uk0011");
        assert_eq!(event_id_for_chunk(Uuid::nil(), u16::MAX), format!("pl{}1vvv", "0".repeat(26)));
    }

    /// The task and piece a chunk id names.
    fn decode_chunk(id: &str) -> (Vec<u8>, u16) {
        let (task, piece) = id.split_at(28.min(id.len()));
        let chunk = piece.bytes().fold(0u32, |n, c| {
            n * 32 + u32::try_from(BASE32HEX.iter().position(|&d| d == c).unwrap()).unwrap()
        });
        (decode(task), u16::try_from(chunk).unwrap())
    }

    proptest! {
        #[test]
        fn chunk_ids_are_valid_for_google_and_give_back_task_and_piece(raw in any::<u128>(), chunk in any::<u16>()) {
            let task = Uuid::from_u128(raw);
            let id = event_id_for_chunk(task, chunk);
            prop_assert!(is_valid_google_event_id(&id), "{}", id);
            prop_assert_eq!(id.len(), if chunk == 0 { 28 } else { 32 });
            prop_assert_eq!(decode_chunk(&id), (task.as_bytes().to_vec(), chunk));
            if chunk == 0 {
                prop_assert_eq!(&id, &event_id_for_task(task));
            }
        }

        #[test]
        fn chunk_ids_of_different_pieces_never_collide(
            a in (any::<u128>(), any::<u16>()),
            b in prop_oneof![(any::<u128>(), any::<u16>()), (0u128..4, 0u16..4)],
            same_task in any::<bool>(),
        ) {
            let b = if same_task { (a.0, b.1) } else { b };
            prop_assume!(a != b);
            let (id_a, id_b) = (event_id_for_chunk(Uuid::from_u128(a.0), a.1), event_id_for_chunk(Uuid::from_u128(b.0), b.1));
            prop_assert_ne!(id_a, id_b);
        }

        #[test]
        fn event_ids_are_valid_for_google_and_give_back_the_task(raw in any::<u128>()) {
            let task = Uuid::from_u128(raw);
            let id = event_id_for_task(task);
            prop_assert!(is_valid_google_event_id(&id), "{}", id);
            prop_assert_eq!(id.len(), 28);
            prop_assert_eq!(decode(&id), task.as_bytes().to_vec());
        }
    }
}
