"""Swift-compatible timestamps: the newest X-Timestamp wins everywhere (objects, listings, metadata).

Normal form is seconds with five decimals, zero-padded to 16 characters ("1700000000.12345"); the
internal form appends an offset ("1700000000.12345_0000000000000001") so that a later operation
at the same instant (a POST after a PUT) still sorts after it.
"""
from __future__ import annotations

import time

PRECISION = 5
UNITS = 10 ** PRECISION


class Timestamp:
    # _normal caches the normal form: a node formats one timestamp several times per request
    # (metadata, container row, answer headers). ticks and offset are not to be changed after
    # construction (from_ticks builds one from ticks).
    __slots__ = ("ticks", "offset", "_normal")

    def __init__(self, value, offset: int = 0):
        """value: float seconds, a Timestamp, or a header string (int ticks: from_ticks)."""
        self._normal = None
        if isinstance(value, Timestamp):
            self.ticks, self.offset = value.ticks, value.offset + offset
            self._normal = value._normal
            return
        if isinstance(value, str):
            text, _, off = value.partition("_")
            if off:
                offset += int(off, 16)
            if len(text) == 16 and text[10] == "." and text.isascii() \
                    and text[:10].isdigit() and text[11:].isdigit():
                # the normal form every Strato process sends: exact integer parse, no float
                if offset < 0:
                    raise ValueError(f"negative timestamp {value!r}")
                self.ticks, self.offset = int(text[:10]) * UNITS + int(text[11:]), offset
                self._normal = text
                return
            value = float(text)
        if not isinstance(value, (int, float)) or value != value:
            raise ValueError(f"invalid timestamp {value!r}")
        ticks = int(round(float(value) * UNITS))
        if ticks < 0 or offset < 0:
            raise ValueError(f"negative timestamp {value!r}")
        if ticks >= 10 ** (10 + PRECISION):
            raise ValueError(f"timestamp too large {value!r}")
        self.ticks, self.offset = ticks, offset

    @classmethod
    def from_ticks(cls, ticks: int, offset: int = 0) -> "Timestamp":
        """A timestamp of ticks (1e-5 s units) and offset, both checked like any other."""
        stamp = cls(0)
        if not 0 <= ticks < 10 ** (10 + PRECISION) or offset < 0:
            raise ValueError(f"invalid timestamp ticks {ticks!r} offset {offset!r}")
        stamp.ticks, stamp.offset = ticks, offset  # cls(0) left _normal unset
        return stamp

    @classmethod
    def now(cls) -> "Timestamp":
        return cls(time.time())

    @classmethod
    def parse(cls, text: str) -> "Timestamp":
        """Parse a header value; raises ValueError for anything malformed."""
        try:
            return cls(text)
        except (TypeError, ValueError):
            raise ValueError(f"invalid timestamp {text!r}") from None

    @property
    def normal(self) -> str:
        text = self._normal
        if text is None:
            text = self._normal = f"{self.ticks // UNITS:010d}.{self.ticks % UNITS:05d}"
        return text

    @property
    def internal(self) -> str:
        if self.offset:
            return f"{self.normal}_{self.offset:016x}"
        return self.normal

    @property
    def seconds(self) -> float:
        return self.ticks / UNITS

    def __float__(self) -> float:
        return self.seconds

    def __str__(self) -> str:
        return self.internal

    def __repr__(self) -> str:
        return f"Timestamp({self.internal!r})"

    def _key(self):
        return (self.ticks, self.offset)

    # The four orderings are written out rather than derived by functools.total_ordering, whose
    # derived ones (>=, >, <=) are a Python frame calling __lt__ through another lookup: a node
    # compares timestamps several times per request (hash directory choice, listing merges).
    # A value that is not a Timestamp is parsed as one (ValueError/TypeError when it is none).

    def __eq__(self, other) -> bool:
        if not isinstance(other, Timestamp):
            try:
                other = Timestamp(other)
            except (TypeError, ValueError):
                return NotImplemented
        return self.ticks == other.ticks and self.offset == other.offset

    def __lt__(self, other) -> bool:
        if not isinstance(other, Timestamp):
            other = Timestamp(other)
        return (self.ticks, self.offset) < (other.ticks, other.offset)

    def __le__(self, other) -> bool:
        if not isinstance(other, Timestamp):
            other = Timestamp(other)
        return (self.ticks, self.offset) <= (other.ticks, other.offset)

    def __gt__(self, other) -> bool:
        if not isinstance(other, Timestamp):
            other = Timestamp(other)
        return (self.ticks, self.offset) > (other.ticks, other.offset)

    def __ge__(self, other) -> bool:
        if not isinstance(other, Timestamp):
            other = Timestamp(other)
        return (self.ticks, self.offset) >= (other.ticks, other.offset)

    def __hash__(self) -> int:
        return hash((self.ticks, self.offset))
