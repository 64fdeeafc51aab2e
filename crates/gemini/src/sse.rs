//! A small incremental Server-Sent Events decoder (only the `data` field matters for Gemini).
//!
//! Follows the WHATWG rules that matter here: lines end in CR, LF or CRLF (even when split across
//! network chunks), a blank line dispatches the event, several `data:` lines are joined with `\n`,
//! comment lines (`:`) and other fields are ignored, and an event left unterminated at end of
//! stream is discarded.

use std::collections::VecDeque;

/// Turns body bytes into the `data` payloads of complete events.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    after_cr: bool,
}

impl SseDecoder {
    /// Feeds bytes; the data of every event they complete is pushed to `events`.
    pub(crate) fn push(&mut self, bytes: &[u8], events: &mut VecDeque<String>) {
        for &byte in bytes {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(events);
                }
                b'\n' => self.end_line(events),
                _ => self.line.push(byte),
            }
        }
    }

    /// Ends the input. Returns true when an unterminated event (or line) was left over, which
    /// means the body was cut off mid-event.
    pub(crate) fn finish(&mut self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn end_line(&mut self, events: &mut VecDeque<String>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            if std::mem::take(&mut self.has_data) {
                events.push_back(std::mem::take(&mut self.data));
            }
            return;
        }
        let line = String::from_utf8_lossy(&line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        if field == "data" {
            if self.has_data {
                self.data.push('\n');
            }
            self.data.push_str(value);
            self.has_data = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> (Vec<String>, bool) {
        let mut decoder = SseDecoder::default();
        let mut events = VecDeque::new();
        for chunk in chunks {
            decoder.push(chunk, &mut events);
        }
        let leftover = decoder.finish();
        (events.into_iter().collect(), leftover)
    }

    #[test]
    fn handles_crlf_split_across_chunks() {
        let (events, leftover) = decode(&[b"data: {\"a\":1}\r", b"\n\r", b"\ndata: {\"b\":2}\r\n\r\n"]);
        assert_eq!(events, vec!["{\"a\":1}", "{\"b\":2}"]);
        assert!(!leftover);
    }

    #[test]
    fn joins_multi_line_data_and_ignores_comments_and_other_fields() {
        let (events, _) = decode(&[b": keep-alive\nevent: x\nid: 1\ndata: one\ndata:two\n\n"]);
        assert_eq!(events, vec!["one\ntwo"]);
    }

    #[test]
    fn unterminated_event_is_reported_not_dispatched() {
        let (events, leftover) = decode(&[b"data: {\"a\":1}\n\ndata: {\"b\""]);
        assert_eq!(events, vec!["{\"a\":1}"]);
        assert!(leftover);
    }

    #[test]
    fn bare_cr_line_endings_work() {
        let (events, leftover) = decode(&[b"data: x\r\rdata: y\r\r"]);
        assert_eq!(events, vec!["x", "y"]);
        assert!(!leftover);
    }
}
