"""Keys per purpose (services/common/keys.py): each signed thing has its own key derived from the
master secret, and the search service runs on its own key without the master."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.playback.errors import InvalidPlaybackToken
from services.api.playback.tokens import PlayGrant, sign, verify
from services.common.keys import Purpose, derive_key, derive_keys, hkdf_sha256
from services.common.search import PRINCIPAL_HEADER, SearchPrincipal, sign_principal
from services.common.settings import PlaceholderSecretError, Settings
from services.common.storage.signing import sign_blob_url, verify_blob_signature
from services.common.tokens import issue_access_token
from services.search.app import create_app as create_search_app
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "okm"), [
    # RFC 5869, appendix A, test cases 1 and 3 (SHA-256).
    (bytes([0x0b] * 22), bytes(range(0x0d)), bytes(range(0xf0, 0xfa)), 42,
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    (bytes([0x0b] * 22), b"", b"", 42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
])
def test_hkdf_matches_rfc_5869(ikm, salt, info, length, okm):
    assert hkdf_sha256(ikm, salt=salt, info=info, length=length).hex() == okm


def test_each_purpose_has_its_own_key():
    keys = derive_keys(SECRET)
    values = [keys.access_token, keys.search_principal, keys.playback, keys.blob_url]
    assert len(set(values)) == 4 and all(len(v) >= 32 for v in values)
    assert SECRET.encode() not in values
    assert derive_key("another-master-secret-long-enough-000000", Purpose.playback) != keys.playback


def _access_token(user, secret) -> str:
    return issue_access_token(secret=secret, ttl_s=900, user_id=user.id, token_version=user.token_version,
                              school_id=user.school_id, district_id=user.district_id, roles=user.roles)


def test_the_api_accepts_access_tokens_signed_with_the_access_key_only(client, factory, settings):
    user = factory.user()
    factory.commit()
    keys = settings.keys
    good = _access_token(user, keys.access_token)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    for other in (settings.search_principal_key, keys.playback, keys.blob_url, SECRET.encode()):
        forged = _access_token(user, other)
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401 and response.json()["code"] == "auth.invalid_token"


def test_playback_and_blob_links_need_their_own_keys():
    keys = derive_keys(SECRET)
    grant = PlayGrant(prefix="media/a/ladder", track=0, start_bps=0, max_height=0, expires=2**40,
                      resource_id="r", epoch=0)
    assert verify(sign(grant, secret=keys.playback), secret=keys.playback) == grant
    for other in (keys.access_token, keys.blob_url, keys.search_principal):
        with pytest.raises(InvalidPlaybackToken):
            verify(sign(grant, secret=other), secret=keys.playback)
    url = sign_blob_url(base_url="http://x/blobs", secret=keys.playback, key="blobs/ab/cd", expires_s=60, filename=None)
    signature = url.split("signature=")[1]
    expires = int(url.split("expires=")[1].split("&")[0])
    assert not verify_blob_signature(secret=keys.blob_url, key="blobs/ab/cd", expires=expires, filename=None,
                                     signature=signature)


def test_the_search_service_runs_on_its_own_key_without_the_master(monkeypatch, tmp_path):
    for name in ("LB_SECRET_KEY", "LB_ES_URL", "LB_SEARCH_PRINCIPAL_KEY"):
        monkeypatch.delenv(name, raising=False)
    search_key = derive_keys(SECRET).search_principal.decode()
    monkeypatch.setenv("LB_ENV", "production")
    monkeypatch.setenv("LB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LB_SEARCH_PRINCIPAL_KEY", search_key)
    settings = Settings.from_env()
    with pytest.raises(PlaceholderSecretError, match="LB_SECRET_KEY"):
        settings.secret_key  # noqa: B018 - it has none, and says so if asked
    # The API, given the master only, signs what the search service verifies.
    api_settings = Settings(auth={"secret_key": SECRET}, core={"env": "test", "data_dir": tmp_path})
    assert api_settings.search_principal_key == settings.search_principal_key
    teacher = SearchPrincipal(user_id="u", district_id="d", school_id="s")
    with TestClient(create_search_app(settings)) as search:
        ok = search.get("/search", headers={PRINCIPAL_HEADER: sign_principal(
            teacher, secret=api_settings.search_principal_key)})
        assert ok.status_code == 200, ok.text
        # A principal signed with any other key, or an API access token, is refused.
        keys = api_settings.keys
        for other in (keys.access_token, keys.playback, SECRET.encode()):
            refused = search.get("/search", headers={PRINCIPAL_HEADER: sign_principal(teacher, secret=other)})
            assert refused.status_code == 401 and refused.json()["code"] == "search.invalid_principal"


def test_the_api_refuses_to_start_without_the_master_secret(tmp_path):
    settings = Settings(core={"env": "production", "data_dir": tmp_path},
                        search={"principal_key": "k3J9-very-random-and-long-enough-secret-value-xyz"})
    from services.api.app import create_app
    with pytest.raises(PlaceholderSecretError, match="LB_SECRET_KEY"):
        create_app(settings)


def test_make_run_keeps_the_master_secret_from_the_search_service():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ": " in line)
    assert procfile["search"].startswith("env -u LB_SECRET_KEY ")
    assert "LB_SEARCH_PRINCIPAL_KEY" in (ROOT / "services/api/cli.py").read_text()
