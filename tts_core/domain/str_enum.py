"""``StrEnum`` on every Python that OBS loads: the standard one from 3.11, the same behaviour
on 3.10 (members are strings equal to their values; ``str()``, formatting and JSON give the
value)."""

from __future__ import annotations

import enum
import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, enum.Enum):
        """Python 3.10's stand-in for ``enum.StrEnum``."""

        def __str__(self) -> str:
            return str(self.value)

        @staticmethod
        def _generate_next_value_(name: str, start: int, count: int, last_values: list[object]) -> str:
            return name.lower()  # as enum.StrEnum: auto() gives the lower-cased name


__all__ = ["StrEnum"]
