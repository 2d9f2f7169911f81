"""An asset's renditions, read through the transcoder's own models (services/common/renditions.py):
parsed here, where the stored JSON enters the API, and passed inward typed.

Two ways to read: `renditions_of` for what a caller asked to see (a play, a preview, a pack),
where an unreadable rendition is a clear `RenditionUnreadable`; `readable_renditions` for the
extras built in the background (search's page text, pre-screening), which go on without an
unreadable rendition, logged, as they go on without a missing text file."""
from __future__ import annotations

from typing import TypeVar

import structlog

from services.api.resources.errors import RenditionUnreadable
from services.api.resources.models import Asset
from services.common.jobs import JobKind
from services.common.renditions import Output, Rendition, ResultInvalid, read_renditions

log = structlog.get_logger(__name__)
O = TypeVar("O", bound=Output)


def renditions_of(asset: Asset) -> list[Rendition]:
    """Every rendition of `asset`; RenditionUnreadable if one does not read."""
    try:
        return read_renditions(asset.renditions, where=f"the renditions of file {asset.id}")
    except ResultInvalid as error:
        log.error("rendition_unreadable", asset_id=asset.id, problem=error.problem)
        raise RenditionUnreadable(where=asset.id, problem=error.problem) from None


def readable_renditions(asset: Asset) -> list[Rendition]:
    """The renditions of `asset` that read; any other is logged and left out."""
    readable = []
    for position, stored in enumerate(asset.renditions or []):
        try:
            readable += read_renditions([stored], where=f"rendition {position} of file {asset.id}")
        except ResultInvalid as error:
            log.warning("rendition_unreadable", asset_id=asset.id, problem=str(error))
    return readable


def rendition_of(asset: Asset, job: JobKind, shape: type[O]) -> O | None:
    """The rendition `job` made of `asset`, if it made one (strict, as `renditions_of`)."""
    return next((r for r in renditions_of(asset) if isinstance(r, shape) and r.job == job.value), None)
