"""Issue 17 (hardening) for uploads: hostile headers, bounded checksum spools, quotas that hold
under concurrency and for users without a school."""
from __future__ import annotations

import anyio
import httpx
import pytest

from tests.api.uploads.test_tus import CHUNK, TUS, UPLOADS, create, metadata
from tests.helpers import assert_problem

# Python's int() and str.isdigit() take these; tus allows only ASCII digits. Headers arrive as
# latin-1 text, so '²' (0xB2) reaches the parser as a "digit" int() refuses; the others as UTF-8
# bytes; and 5000 ASCII digits pass isdigit() but not int() (its 4300-digit limit).
NOT_ASCII_DIGITS = ["²".encode("latin-1"), "١٢٣".encode(), "１２３".encode(), "¹0".encode("latin-1"),
                    b"9" * 5000]


@pytest.fixture
def teacher(factory):
    user = factory.user()
    factory.commit()
    return user


@pytest.fixture
def headers(factory, teacher):
    return {**factory.headers(teacher), **TUS}


def send_raw(app, method, url, headers, content=b""):
    """Through httpx's ASGI transport, which hands header bytes to the app as they are (the test
    client re-encodes them as UTF-8, so a latin-1 '²' never arrives as one)."""
    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            return await http.request(method, url, headers=headers, content=content)
    return anyio.run(send)


@pytest.mark.parametrize("value", NOT_ASCII_DIGITS, ids=["superscript", "arabic-indic", "full-width",
                                                         "superscript-one", "too-many-digits"])
def test_lengths_and_offsets_take_ascii_digits_only(client, app, headers, value):
    response = send_raw(app, "POST", UPLOADS, {**headers, "Upload-Length": value,
                                               "Upload-Metadata": metadata(filename="notes.pdf")})
    assert_problem(response, 400, "upload.bad_request")
    location = create(client, headers, 1000, "notes.pdf", "application/pdf")
    response = send_raw(app, "PATCH", location, {**headers, **CHUNK, "Upload-Offset": value}, b"%PDF-")
    assert_problem(response, 400, "upload.bad_request")
    assert client.head(location, headers=headers).headers["upload-offset"] == "0"
