"""SHA-256 of uploads computed as their bytes arrive, so finishing a 2 GiB upload does not mean
reading it back. The state lives in this process only: after a restart, or when another
replica took a PATCH, the hash is recomputed from storage instead (service._hash_blob)."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

MAX_TRACKED = 10_000


class RunningHashes:
    def __init__(self) -> None:
        self._by_upload: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def resume(self, upload_id: str, offset: int) -> Any | None:
        """The running hash if it covers exactly the first `offset` bytes, else None."""
        if offset == 0:
            return hashlib.sha256()
        state = self._by_upload.pop(upload_id, None)
        return state[1] if state and state[0] == offset else None

    def keep(self, upload_id: str, offset: int, running: Any) -> None:
        self._by_upload[upload_id] = (offset, running)
        while len(self._by_upload) > MAX_TRACKED:
            self._by_upload.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        self._by_upload.pop(upload_id, None)
