"""Audit: verify the ledger's chain, replay past decisions, read history as of a date."""
