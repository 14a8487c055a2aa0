"""The audit trail: who did or saw what, when; append-only and hash-chained."""
