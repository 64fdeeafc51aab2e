//! Grounding on meaning, not only words: knowledge documents, resources and plans cut into
//! chunks ([`chunk`]),
//! embedded in the background ([`index`]), and searched by full text, by vector similarity or by
//! both merged with reciprocal-rank fusion ([`rank`]).
//!
//! Without embeddings (the offline provider, a failed embedding call, chunks not embedded yet)
//! every mode falls back to full-text search, as before this module existed.

pub mod cache;
pub mod chunk;
pub mod index;
pub mod rank;

pub use rank::{ChatGrounding, ChatLimits, ChunkRef, RankedHit, SearchMode, retrieve_for_chat, search};
