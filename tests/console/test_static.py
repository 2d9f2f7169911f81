"""The console's files as the API serves them (services/console/app.py): an import map naming each
file by its content hash, hashed URLs cached for a year, the rest revalidated by ETag, text
gzipped, nothing outside the static tree, only GET and HEAD. Fast: no browser."""
from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from services.console.app import IMMUTABLE, Console


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "js" / "pages").mkdir(parents=True)
    (tmp_path / "css").mkdir()
    (tmp_path / "index.html").write_text('<html><!-- importmap --><link href="{{css/a.css}}"></html>')
    (tmp_path / "js" / "app.js").write_text("import './pages/home.js';\n" + "// padding\n" * 100)
    (tmp_path / "js" / "pages" / "home.js").write_text("export async function render() {}\n")
    (tmp_path / "css" / "a.css").write_text("body { color: #111; }\n")
    (tmp_path / ".secret").write_text("no")
    return tmp_path


@pytest.fixture
def client(tree):
    return TestClient(Console(tree))


def import_map(html: str) -> dict[str, str]:
    return json.loads(re.search(r'<script type="importmap">(.*?)</script>', html).group(1))["imports"]


def test_index_names_every_file_by_its_hash_and_is_revalidated(client, tree):
    index = client.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache" and index.headers["etag"]
    imports = import_map(index.text)
    assert set(imports) == {"./js/app.js", "./js/pages/home.js", "./css/a.css"}
    assert re.fullmatch(r"\./js/app\.js\?v=[0-9a-f]{16}", imports["./js/app.js"])
    assert f'href="{imports["./css/a.css"]}"' in index.text  # {{css/a.css}} became the hashed URL
    # A changed file gets a new hash in the next index.
    (tree / "js" / "pages" / "home.js").write_text("export async function render(root) { root.append('x'); }\n")
    assert import_map(client.get("/").text)["./js/pages/home.js"] != imports["./js/pages/home.js"]


def test_hashed_urls_are_immutable_others_revalidate_with_an_etag(client):
    imports = import_map(client.get("/").text)
    hashed = client.get("/" + imports["./js/app.js"].removeprefix("./"))
    assert hashed.status_code == 200 and hashed.headers["cache-control"] == IMMUTABLE
    assert hashed.headers["content-type"] == "text/javascript; charset=utf-8"
    stale = client.get("/js/app.js?v=0000000000000000")  # an old page asking for an old version
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    plain = client.get("/js/app.js")
    assert plain.headers["cache-control"] == "no-cache"
    again = client.get("/js/app.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_text_is_gzipped_for_browsers_that_accept_it(client, tree):
    packed = client.get("/js/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < (tree / "js" / "app.js").stat().st_size
    plain = client.get("/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == (tree / "js" / "app.js").read_bytes()
    assert plain.headers["etag"] != packed.headers["etag"]
    head = client.head("/js/app.js", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str((tree / "js" / "app.js").stat().st_size)


@pytest.mark.parametrize("path", ["/../app.py", "/%2e%2e/app.py", "/.secret", "/js/missing.js", "/js"])
def test_nothing_outside_the_tree_hidden_or_missing(client, path):
    assert client.get(path).status_code == 404


def test_only_get_and_head(client):
    answer = client.post("/js/app.js")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"


def test_the_api_serves_the_real_console_at_console(tmp_path):
    from services.api.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}"))
    with TestClient(app) as client:
        page = client.get("/console/")
        assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
        assert "./js/routes.js" in import_map(page.text)
        assert client.get("/console", follow_redirects=False).status_code in (307, 308)
        module = client.get("/console/js/api.js")
        assert module.status_code == 200 and "export const BASE = '/api/v1'" in module.text
