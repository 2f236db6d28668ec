"""Shared test helpers: tiers are folders (unit: pure code; integration: real databases; e2e: a real
server process driven in Chromium)."""
