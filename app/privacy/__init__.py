"""Data protection: the privacy page, a person's data export, erasure, and retention of old data."""
