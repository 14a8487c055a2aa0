"""Idempotency-Key handling for creating POSTs (DESIGN §3)."""
