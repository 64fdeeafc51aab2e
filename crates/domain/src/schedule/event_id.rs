//! Calendar event ids that follow from a task, so writing a plan twice updates instead of duplicating.

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
    let (mut pending, mut bits) = (0u16, 0u32);
    for &byte in task_id.as_bytes() {
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
    id
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

    proptest! {
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
