//! The usage log auditors query: one event per AI request (and per tunnel or refused
//! destination), in an embedded SQLite database (WAL), hash-chained so tampering shows.
//!
//! Events hold ids, names, counts and scores, never prompt text or finding values. One writer
//! thread inserts them in batched transactions; a request waits for its event's commit (the
//! queue is bounded: when it is full the request path waits, it never drops an event).

pub mod event;
pub mod retention;
pub mod samples;
pub mod store;
pub mod writer;

pub use event::AuditEvent;
pub use retention::RetentionPolicy;
pub use store::{hash_of, log_time, AuditStore, Durability, Filter, StoreError, StoredRow};
pub use writer::AuditWriter;
