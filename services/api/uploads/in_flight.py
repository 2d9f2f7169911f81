"""Uploads receiving bytes in this API process, counted per uploader and per school, so that a
few users (or one school's devices) cannot take every buffer and thread the process has.

Per process on purpose: what is protected is this process's memory and threads. A count in the
database would outlive a killed process (its leases lapse only after 15 minutes) and lock
people out for that long.
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from services.api.uploads.errors import TooManyUploads
from services.api.uploads.uploader import Uploader

# What a refused client is told to wait: long enough for a chunk to finish, short enough that a
# tus client's retry finds the slot soon after.
RETRY_AFTER_S = 5


@dataclass
class Ticket:
    """One upload's place in the counts; `leave` gives it back (once, whatever happens)."""

    in_flight: UploadsInFlight
    keys: tuple[str, ...]
    left: bool = False

    def leave(self) -> None:
        if not self.left:
            self.left = True
            self.in_flight._leave(self.keys)


@dataclass
class UploadsInFlight:
    per_uploader: int
    per_school: int
    _counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, uploader: Uploader) -> Ticket:
        """Counts one more upload for `uploader`, or refuses (429) when it or its school is at its cap."""
        who = f"device:{uploader.device_id}" if uploader.device_id else f"user:{uploader.user_id}"
        school = f"school:{uploader.school_id}" if uploader.school_id else None
        with self._lock:
            if self._counts[who] >= self.per_uploader:
                raise TooManyUploads(scope="设备 device" if uploader.device_id else "用户 user", limit=self.per_uploader,
                                     retry_after_s=RETRY_AFTER_S)
            if school is not None and self._counts[school] >= self.per_school:
                raise TooManyUploads(scope="学校 school", limit=self.per_school, retry_after_s=RETRY_AFTER_S)
            keys = (who,) if school is None else (who, school)
            self._counts.update(keys)
        return Ticket(self, keys)

    def _leave(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            self._counts.subtract(keys)
            for key in keys:
                if self._counts[key] <= 0:
                    del self._counts[key]
