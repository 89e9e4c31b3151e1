"""The side record of ended messages the journal could not delete (disk full, read-only).

One message id per line, appended with a single ``write``. It lives next to the
journal (``journal.sqlite3-ended``) and, when that folder refuses the write too, in the
temporary folder under a name derived from the journal's path. When the journal opens,
the ids in both places are ended messages: they are never replayed, their rows are
deleted, and the record is removed once the journal holds no row of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

SUFFIX = "-ended"


class EndedRecord:
    """The record for the journal at ``journal``; every method is safe to call when
    nothing can be written (they say so instead of raising)."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal

    @property
    def places(self) -> list[Path]:
        """Next to the journal first, then the temporary folder."""
        digest = hashlib.sha256(str(self.journal.absolute()).encode("utf-8", "replace")).hexdigest()[:16]
        return [Path(f"{self.journal}{SUFFIX}"), Path(tempfile.gettempdir()) / f"obs-tts-ended-{digest}"]

    def read(self) -> set[str]:
        ids: set[str] = set()
        for place in self.places:
            try:
                text = place.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            ids.update(line.strip() for line in text.splitlines() if line.strip())
        return ids

    def append(self, ids: Iterable[str]) -> Path | None:
        """Add ``ids``; returns where they were written, or None if nowhere could take them."""
        data = "".join(f"{i}\n" for i in ids).encode("utf-8", "replace")
        if not data:
            return None
        for place in self.places:
            try:
                fd = os.open(place, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError:
                continue
            try:
                # A short write leaves a partial line, which matches no id; the whole
                # line then goes to the next place.
                if os.write(fd, b"\n" + data) == len(data) + 1:
                    return place
            except OSError:
                continue
            finally:
                os.close(fd)
        return None

    def clear(self) -> None:
        """Remove the record (every id in it is deleted from the journal)."""
        for place in self.places:
            with contextlib.suppress(OSError):
                place.unlink(missing_ok=True)
