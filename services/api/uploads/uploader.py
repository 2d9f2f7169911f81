"""Whoever sends an upload's bytes: a signed-in user, or a recording classroom's device."""
from __future__ import annotations

from dataclasses import dataclass

from services.api.auth.principal import Principal
from services.api.uploads.models import Upload


@dataclass(frozen=True)
class Uploader:
    user_id: str | None
    device_id: str | None
    school_id: str | None

    @classmethod
    def for_user(cls, principal: Principal) -> Uploader:
        return cls(user_id=principal.user_id, device_id=None, school_id=principal.school_id)

    def owns(self, upload: Upload) -> bool:
        if self.device_id is not None:
            return upload.device_id == self.device_id
        return upload.owner_id is not None and upload.owner_id == self.user_id
