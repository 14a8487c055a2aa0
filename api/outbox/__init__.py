"""What Lindung tells others: the transactional outbox, signed webhooks to agencies, and
alerts to staff (DESIGN §7, §8)."""

from api.outbox import metrics  # noqa: E402, F401  (the outbox's share of every scrape)
