"""Playback tokens: one signed, expiring grant to read everything under one rendition's prefix,
while the resource's link epoch stays what it was (resources/links.py).

The token sits in the URL path (`/api/v1/play/{token}/master.m3u8`), so the relative URIs of
playlists and segments carry it along and a standard HLS player needs nothing special.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from services.api.playback.errors import InvalidPlaybackToken


@dataclass(frozen=True)
class PlayGrant:
    prefix: str         # the rendition's storage prefix, e.g. media/{asset_id}/ladder
    track: int          # which camera track's ladder
    start_bps: int      # the school's link budget: the first variant listed must fit its share (0: no limit)
    max_height: int     # variants above this are left out (0: no cap)
    expires: int        # unix seconds
    resource_id: str    # whose link epoch the grant carries (resources/links.py)
    epoch: int          # the link works while the resource's link epoch is still this
    school_id: str = ""  # whose active plays share `start_bps` when the master is made ("": none)
    # The rendition's content version (service.rendition_version): files asked for under
    # `v/{version}/` are immutable, so an edge caches them once for every token ("": none).
    version: str = ""
    start_ms: int = 0   # where playback starts (`/play?t=`), written into the master playlist


def sign(grant: PlayGrant, *, secret: bytes) -> str:
    fields = [grant.prefix, grant.track, grant.start_bps, grant.max_height, grant.expires, grant.resource_id,
              grant.epoch, grant.school_id, grant.version]
    # A start time only when there is one: links without it stay as they were.
    body = _b64(json.dumps(fields + [grant.start_ms] if grant.start_ms else fields,
                           separators=(",", ":")).encode())
    return f"{body}.{_mac(body, secret)}"


def verify(token: str, *, secret: bytes, now: float | None = None) -> PlayGrant:
    body, _, mac = token.partition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500 for a token ending `.é`).
    if not body or not mac or not hmac.compare_digest(mac.encode(), _mac(body, secret).encode()):
        raise InvalidPlaybackToken()
    try:
        # Seven fields in tokens handed out before grants named the school (they play on, unshared),
        # eight before they named the rendition's version (nothing of theirs is cached at an edge);
        # a tenth only when playback starts later than the beginning.
        prefix, track, start_bps, max_height, expires, resource_id, epoch, *rest = json.loads(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if len(rest) > 3:
            raise ValueError("too many fields")
        school, version, start_ms = [*rest, *["", "", 0][len(rest):]]
        grant = PlayGrant(prefix=str(prefix), track=int(track), start_bps=int(start_bps),
                          max_height=int(max_height), expires=int(expires), resource_id=str(resource_id),
                          epoch=int(epoch), school_id=str(school), version=str(version), start_ms=int(start_ms))
    except (ValueError, TypeError):
        raise InvalidPlaybackToken() from None
    if grant.expires < (now if now is not None else time.time()):
        raise InvalidPlaybackToken()
    return grant


def _mac(body: str, secret: bytes) -> str:
    # `secret` is the playback key (services/common/keys.py): no other signed thing uses it.
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
