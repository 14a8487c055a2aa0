"""Referrals of a case to the agencies that serve it (social, health, education, SME)."""
