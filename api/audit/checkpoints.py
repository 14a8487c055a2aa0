"""Signed checkpoints of the audit chain's head, kept outside the database.

After each sealing round the sealer appends the new head to the checkpoint file
(LINDUNG_AUDIT_CHECKPOINTS, default `<instance>/audit-checkpoints.jsonl`) and writes the same
line to the `lindung.audit` log. A line is one JSON object:

    {"seq": 1234, "hash": "<64 hex>", "at": "2026-12-01T02:00:00.123456+00:00",
     "sig": "<Ed25519 signature, 128 hex>"}

signed over "lindung-audit-checkpoint\\n{seq}\\n{hash}\\n{at}". Deleting the newest events, or
emptying the table, leaves a chain that verifies on its own; a checkpoint naming a seq the
database no longer holds, or a hash it holds differently, shows it. The file only helps if a
copy lives where whoever can rewrite the database cannot: ship the file or the log lines to
another host (docs/audit.md).

The signing key is derived from the audit key (LINDUNG_AUDIT_KEY, else LINDUNG_SECRET_KEY), so
a forged checkpoint needs the key; its public half (`lindung audit verify --show-key`) lets a
witness check the lines without holding any secret.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.crypto import derived_key

FILE_NAME = "audit-checkpoints.jsonl"
LOG_MARKER = "audit checkpoint {"
log = logging.getLogger("lindung.audit")
_settings: dict = {}


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the chain: SEQ and HASH of its last sealed event, AT (ISO 8601 UTC)
    when it was sealed, SIG (hex Ed25519 signature)."""

    seq: int
    hash: str
    at: str
    sig: str

    def line(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "at": self.at,
                           "sig": self.sig}, separators=(",", ":"))


class ForgedCheckpoint(ValueError):
    """A checkpoint line that cannot be read or whose signature does not verify."""


def configure(*, secret_key: str, audit_key: str | None, path: Path | str | None) -> None:
    """Set the signing key (derived from AUDIT_KEY, else SECRET_KEY) and the checkpoint file
    PATH (None: no file, the log line only)."""
    seed = derived_key(audit_key or secret_key, "audit-checkpoint")
    _settings["key"] = Ed25519PrivateKey.from_private_bytes(seed)
    _settings["path"] = Path(path) if path else None


def path() -> Path | None:
    """The configured checkpoint file, or None."""
    return _settings.get("path")


def public_key_hex() -> str:
    """The public half of the signing key (64 hex digits), for witnesses."""
    return _settings["key"].public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _message(seq: int, hash_: str, at: str) -> bytes:
    return f"lindung-audit-checkpoint\n{seq}\n{hash_}\n{at}".encode()


def signed(*, seq: int, hash_: str, at: str) -> Checkpoint:
    """A checkpoint of the head SEQ/HASH_ sealed AT, signed with this process's key."""
    return Checkpoint(seq, hash_, at, _settings["key"].sign(_message(seq, hash_, at)).hex())


def record(checkpoint: Checkpoint) -> None:
    """Append CHECKPOINT to the checkpoint file and write it as a log line.

    One write() of one line with O_APPEND: sealers in several processes append whole lines.
    A file that cannot be written is logged, not raised: the events are sealed already, and
    the log line is the second copy."""
    line = checkpoint.line()
    log.info("%s", LOG_MARKER[:-1] + line)
    target = path()
    if target is None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, f"{line}\n".encode())
        finally:
            os.close(descriptor)
    except OSError as error:
        log.error("audit checkpoint not written to %s: %s", target, error)


def read(source: Path) -> list[Checkpoint]:
    """The checkpoints in SOURCE: a checkpoint file, or a log holding checkpoint lines (plain
    or JSON records; other log lines are skipped). A missing file has none.

    Raises ForgedCheckpoint naming the line that cannot be parsed or does not verify."""
    if not source.exists():
        return []
    public = _settings["key"].public_key()
    found = []
    with source.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            where = f"{source}:{number}"
            if (fields := _fields(text, where)) is not None:
                found.append(_checked(fields, public, where))
    return found


def _fields(text: str, where: str) -> dict | None:
    """The checkpoint's fields in TEXT: a line of the checkpoint file, a JSON log record
    whose message is a checkpoint line, or a plain log line; None for any other line."""
    if text.lstrip().startswith("{"):
        try:
            record = json.loads(text)
        except ValueError as error:
            raise ForgedCheckpoint(f"{where}: not a checkpoint ({error})") from None
        if not isinstance(record, dict):
            raise ForgedCheckpoint(f"{where}: not a checkpoint")
        if "seq" in record:
            return record
        text = record.get("message") if isinstance(record.get("message"), str) else ""
    if LOG_MARKER not in text:
        return None
    try:
        return json.loads(text[text.index(LOG_MARKER) + len(LOG_MARKER) - 1:])
    except ValueError as error:
        raise ForgedCheckpoint(f"{where}: not a checkpoint ({error})") from None


def _checked(fields, public: Ed25519PublicKey, where: str) -> Checkpoint:
    try:
        point = Checkpoint(int(fields["seq"]), str(fields["hash"]), str(fields["at"]),
                           str(fields["sig"]))
        public.verify(bytes.fromhex(point.sig), _message(point.seq, point.hash, point.at))
    except (ValueError, KeyError, TypeError) as error:
        raise ForgedCheckpoint(f"{where}: not a checkpoint ({error})") from None
    except InvalidSignature:
        raise ForgedCheckpoint(f"{where}: its signature does not verify") from None
    return point
