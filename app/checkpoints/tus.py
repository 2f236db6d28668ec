"""The parts of the tus 1.0 resumable-upload protocol (https://tus.io/protocols/resumable-upload) that are
plain text handling: header values in, values or a `TusError` out. Pure standard library.

Implemented: core, creation, checksum (sha256), termination and expiration. Not implemented:
creation-defer-length, creation-with-upload and concatenation (a checkpoint's files are uploaded one
tus upload per file, each in sequential chunks).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from email.utils import format_datetime

VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,termination,expiration"
CHECKSUM_ALGORITHMS = "sha256"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460  # tus's own status code: "Checksum Mismatch"
_KEY = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_DIGITS = re.compile(r"[0-9]+")
MAX_LENGTH = 2**63 - 1  # byte counts are stored as 64-bit integers (BigInteger)


class TusError(ValueError):
    """A request the protocol refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def parse_length(value: str | None, header: str) -> int:
    """A non-negative decimal header value (Upload-Length, Upload-Offset, Content-Length), at most
    `MAX_LENGTH` (what the database's byte counts hold)."""
    if value is None:
        raise TusError(400, f"the {header} header is required")
    if not _DIGITS.fullmatch(value):
        raise TusError(400, f"{header} must be a non-negative whole number of bytes, not {value[:40]!r}")
    if len(value) > len(str(MAX_LENGTH)) or int(value) > MAX_LENGTH:
        raise TusError(
            400, f"{header} is too large: {value[:40]} bytes is more than any file can hold (at most {MAX_LENGTH:,})"
        )
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str | None]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs, values decoded as UTF-8."""
    metadata: dict[str, str | None] = {}
    for pair in (value or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        if not _KEY.match(key) or key in metadata:
            raise TusError(400, f"Upload-Metadata has a bad or repeated key {key[:40]!r}")
        metadata[key] = _decode_value(key, encoded.strip()) if encoded.strip() else None
    return metadata


def _decode_value(key: str, encoded: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise TusError(400, f"Upload-Metadata value of {key!r} is not base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TusError(400, f"Upload-Metadata value of {key!r} is not UTF-8 text") from None


def parse_checksum(value: str | None) -> bytes | None:
    """Upload-Checksum `sha256 <base64 digest>` as the 32 digest bytes; None when absent."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise TusError(400, f"Upload-Checksum algorithm {algorithm[:20]!r} is not supported; use sha256")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise TusError(400, "Upload-Checksum must be 'sha256 ' followed by the base64 of the 32-byte digest")
    return digest


def parse_sha256_hex(value: str | None) -> str | None:
    """The optional whole-file sha256 a client announces in its metadata (64 lower-case hex digits)."""
    if value is None:
        return None
    if not _SHA256_HEX.match(value.strip().lower()):
        raise TusError(400, "the sha256 metadata must be the file's sha256 as 64 hexadecimal digits")
    return value.strip().lower()


def http_date(moment: datetime) -> str:
    """An Upload-Expires value (RFC 9110 date) for an aware datetime."""
    return format_datetime(moment, usegmt=True)
