"""The audit trail: who did or saw what, when; appended by each request without a lock, sealed
into a keyed hash chain after commit, its head checkpointed outside the database
(docs/audit.md)."""
