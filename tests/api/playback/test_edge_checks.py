"""What a school edge asks the API (GET /play/{token}/v/{version}/check) and the versioned paths
it caches: a yes only for the token's own version while its link holds, kept no longer than the
token lives and at most EDGE_CHECK_TTL_S; never one version's bytes under another's name."""
from __future__ import annotations

import re
import time

from services.api.playback import service
from services.api.playback.tokens import PlayGrant, sign, verify
from services.api.resources import links
from tests.api.playback.test_revocable_links import fetch, lesson  # noqa: F401 (a fixture)
from tests.helpers import assert_problem


def _play(client, lesson):  # noqa: F811
    body = client.get(f"/api/v1/resources/{lesson['id']}/play", headers=lesson["viewer"]).json()
    token = body["hls_url"].split("/play/")[1].split("/")[0]
    return body, token


def _other(version: str) -> str:
    return version[:-1] + ("0" if version[-1] != "0" else "1")


def test_the_master_lists_versioned_variants_and_the_check_answers_for_that_version(client, lesson):  # noqa: F811
    body, token = _play(client, lesson)
    master = fetch(client, body["hls_url"])
    version = re.search(r"^v/([^/]+)/240p/index\.m3u8$", master.text, re.M).group(1)
    assert body["poster_url"].endswith(f"/v/{version}/poster.jpg")
    ok = client.get(f"/api/v1/play/{token}/v/{version}/check")
    assert ok.status_code == 204
    assert ok.headers["cache-control"] == f"max-age={service.EDGE_CHECK_TTL_S}"
    # Another version, a forged token: refused (and not kept by the edge: no max-age).
    assert_problem(client.get(f"/api/v1/play/{token}/v/{_other(version)}/check"), 403, "playback.invalid_token")
    assert_problem(client.get(f"/api/v1/play/{token[:-2]}xx/v/{version}/check"), 403, "playback.invalid_token")
    # The versioned media playlist and segment are the stored ones; a wrong version is refused
    # rather than answered with this version's bytes.
    base = body["hls_url"].rsplit("/", 1)[0]
    assert "\nseg0.ts\n" in fetch(client, f"{base}/v/{version}/240p/index.m3u8").text
    assert fetch(client, f"{base}/v/{version}/240p/seg0.ts").status_code == 307
    assert_problem(fetch(client, f"{base}/v/{_other(version)}/240p/seg0.ts"), 403, "playback.invalid_token")
    # The master is per grant: never served under a version (an edge would keep it for everyone).
    assert fetch(client, f"{base}/v/{version}/master.m3u8").status_code != 200


def test_a_revoked_link_is_refused_by_the_check(client, lesson):  # noqa: F811
    _, token = _play(client, lesson)
    version = verify(token, secret=client.app.state.settings.keys.playback).version
    assert client.get(f"/api/v1/play/{token}/v/{version}/check").status_code == 204
    assert client.delete(f"/api/v1/pairings/{lesson['pairing']}", headers=lesson["admin"]).status_code == 204
    assert_problem(client.get(f"/api/v1/play/{token}/v/{version}/check"), 403, "resource.link_revoked")


def test_the_check_is_kept_no_longer_than_the_token_lives(client, lesson):  # noqa: F811
    _, token = _play(client, lesson)
    secret = client.app.state.settings.keys.playback
    grant = verify(token, secret=secret)
    short = sign(PlayGrant(**{**grant.__dict__, "expires": int(time.time()) + 20}), secret=secret)
    answer = client.get(f"/api/v1/play/{short}/v/{grant.version}/check")
    assert answer.status_code == 204
    assert 15 <= int(answer.headers["cache-control"].removeprefix("max-age=")) <= 20
    expired = sign(PlayGrant(**{**grant.__dict__, "expires": int(time.time()) - 1}), secret=secret)
    assert_problem(client.get(f"/api/v1/play/{expired}/v/{grant.version}/check"), 403, "playback.invalid_token")
    # A token minted before versions existed gets no versioned answer.
    unversioned = sign(PlayGrant(**{**grant.__dict__, "version": ""}), secret=secret)
    assert_problem(client.get(f"/api/v1/play/{unversioned}/v/{grant.version}/check"), 403, "playback.invalid_token")


def test_the_edge_check_life_is_shorter_than_a_storage_url():
    # A revoked link stops at an edge sooner than a storage URL minted just before revocation expires.
    assert service.EDGE_CHECK_TTL_S <= links.STORAGE_URL_TTL_S
