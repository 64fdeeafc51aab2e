//! Keyset pagination: `?limit=` and an opaque `?cursor=` naming the last row seen.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::StoreError;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: u64 = 50;
/// Largest page size.
pub const MAX_LIMIT: u64 = 200;

/// Which page to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted (1 to [`MAX_LIMIT`]).
    pub limit: u64,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of rows and the cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `cursor` to read on; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> (i64, Uuid)) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = if more { rows.last().map(|row| encode(key(row))) } else { None };
        Self { items: rows, next_cursor }
    }
}

/// `(sort key, id)` as an opaque string.
pub(crate) fn encode((key, id): (i64, Uuid)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}:{id}"))
}

/// The `(sort key, id)` of a cursor; [`StoreError::InvalidCursor`] when it is not one of ours.
pub(crate) fn decode(cursor: &str) -> Result<(i64, Uuid), StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| StoreError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    let (key, id) = text.split_once(':').ok_or(StoreError::InvalidCursor)?;
    Ok((
        key.parse().map_err(|_| StoreError::InvalidCursor)?,
        Uuid::parse_str(id).map_err(|_| StoreError::InvalidCursor)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode((-42, id))).ok(), Some((-42, id)));
        assert!(decode("not a cursor").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("1:not-a-uuid")).is_err());
    }

    #[test]
    fn an_extra_row_means_another_page() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_rows(ids.clone(), 2, |id| (0, *id));
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor.as_deref().map(decode).and_then(Result::ok), Some((0, ids[1])));
        let last = Page::from_rows(ids[..2].to_vec(), 2, |id| (0, *id));
        assert_eq!(last.next_cursor, None);
    }
}
