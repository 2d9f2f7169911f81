"""A pack file away from the platform: `lb pack verify` and `lb pack import` on a real pack made
by the builder, and on the same pack with one byte flipped, its manifest rewritten, signed by
another key, or carrying a file its manifest does not list. A bad pack imports nothing."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.api.cli import app as lb
from services.api.packs import builder, reader, signing
from services.api.packs.builder import PlannedMember, PlannedResource
from services.api.packs.schemas import PackKnowledgePoint, PackResource

runner = CliRunner()
SECRET = "pack-test-secret-that-is-long-enough-0123"
LESSON = bytes(range(256)) * 2000  # 512 kB, stands in for an MP4
PDF = b"%PDF-1.7 " + "教案".encode() * 1000


def make_pack(path: Path, *, secret: str = SECRET) -> Path:
    entry = PackResource(id="r1", title="比多少", kind="excellent_lesson", version=3, subject="math", stage="primary",
                         grade="g1", edition="pep", members=[],
                         knowledge_points=[PackKnowledgePoint(id="k1", code="math.p.num.int.compare", name="比多少")])
    members = [PlannedMember(path="resources/r1/lesson-a1.mp4", role="lesson", media_type="video/mp4", asset_id="a1",
                             filename="第一课.mp4", estimated_size=len(LESSON), fingerprint="x",
                             source=lambda: iter([LESSON[:100_000], LESSON[100_000:]]), height=480),
               PlannedMember(path="resources/r1/document-a2.pdf", role="document", media_type="application/pdf",
                             asset_id="a2", filename="教案.docx", estimated_size=len(PDF), fingerprint="y",
                             source=lambda: iter([PDF]))]
    builder.write_pack(path, pack_id="p" * 40, title="比多少", resources=[PlannedResource(entry=entry, members=members)],
                       key=signing.pack_signing_key(secret))
    return path


def public_key(secret: str = SECRET) -> str:
    return signing.public_key_b64(signing.pack_signing_key(secret).public_key())


def rewritten(source: Path, target: Path, change) -> Path:  # noqa: ANN001 - change(name, bytes) -> bytes | None
    """A copy of the pack with members changed (None drops one), entries kept in order, still stored."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as new:
        for info in old.infolist():
            content = change(info.filename, old.read(info))
            if content is not None:
                new.writestr(info, content)
    return target


def flip_byte_in_place(path: Path, member: str) -> Path:
    """One byte of a member changed inside the file, as a bad USB stick would (the CRC no longer holds)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    with path.open("r+b") as handle:
        handle.seek(info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 1000)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))
    return path


@pytest.fixture
def pack(tmp_path) -> Path:
    return make_pack(tmp_path / "pack.zip")


def verify(path: Path, key: str | None = None) -> tuple[int, str]:
    result = runner.invoke(lb, ["pack", "verify", str(path), "--public-key", key or public_key()])
    return result.exit_code, result.output


def test_a_good_pack_verifies(pack):
    code, output = verify(pack)
    assert code == 0, output
    assert "2 files" in output and "比多少" in output
    manifest = reader.verify_pack(pack, public_key=signing.load_public_key(public_key()))
    assert [(m.path, m.size) for m in manifest.members()] == [("resources/r1/lesson-a1.mp4", len(LESSON)),
                                                             ("resources/r1/document-a2.pdf", len(PDF))]


def test_a_flipped_byte_names_the_member(pack):
    code, output = verify(flip_byte_in_place(pack, "resources/r1/lesson-a1.mp4"))
    assert code == 1 and "resources/r1/lesson-a1.mp4" in output, output


def test_a_member_replaced_with_a_good_crc_still_fails_its_sha256(pack, tmp_path):
    bad = rewritten(pack, tmp_path / "bad.zip",
                    lambda name, data: b"%Q" + data[2:] if name.endswith(".pdf") else data)
    code, output = verify(bad)
    assert code == 1 and "resources/r1/document-a2.pdf: sha256 does not match" in output, output


def test_a_tampered_manifest_or_another_key_is_a_bad_signature(pack, tmp_path):
    def retitle(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["resources"][0]["members"][0]["sha256"] = "0" * 64
        return json.dumps(manifest).encode()

    code, output = verify(rewritten(pack, tmp_path / "tampered.zip", retitle))
    assert code == 1 and "bad signature" in output, output
    code, output = verify(pack, key=public_key("another-platform-secret-long-enough-000"))
    assert code == 1 and "bad signature" in output, output
    code, output = verify(rewritten(pack, tmp_path / "unsigned.zip",
                                    lambda name, data: None if name == "manifest.sig" else data))
    assert code == 1 and "manifest.sig: missing" in output, output


def test_a_file_the_manifest_does_not_list_is_refused(pack, tmp_path):
    extra = tmp_path / "extra.zip"
    shutil.copy(pack, extra)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("resources/r1/autorun.exe", b"MZ")
    code, output = verify(extra)
    assert code == 1 and "resources/r1/autorun.exe" in output, output


def test_import_unpacks_by_content_and_a_bad_pack_writes_nothing(pack, tmp_path):
    cache = tmp_path / "edge-cache"
    bad = flip_byte_in_place(make_pack(tmp_path / "bad.zip"), "resources/r1/document-a2.pdf")
    result = runner.invoke(lb, ["pack", "import", str(bad), "--into", str(cache), "--public-key", public_key()])
    assert result.exit_code == 1 and "nothing imported" in result.output, result.output
    assert not cache.exists() or list(cache.rglob("*")) == []

    result = runner.invoke(lb, ["pack", "import", str(pack), "--into", str(cache), "--public-key", public_key()])
    assert result.exit_code == 0, result.output
    entry = json.loads((cache / "resources" / "r1.json").read_text())
    by_role = {m["role"]: m for m in entry["members"]}
    assert (cache / by_role["lesson"]["blob"]).read_bytes() == LESSON
    assert (cache / by_role["document"]["blob"]).read_bytes() == PDF
    assert by_role["lesson"]["blob"] == f"blobs/{by_role['lesson']['sha256'][:2]}/{by_role['lesson']['sha256']}.mp4"
    assert (cache / "packs" / ("p" * 40) / "manifest.sig").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".import-")]
    before = sorted(str(p) for p in cache.rglob("*"))

    # A bad pack into a cache that holds one: it is left exactly as it was.
    result = runner.invoke(lb, ["pack", "import", str(bad), "--into", str(cache), "--public-key", public_key()])
    assert result.exit_code == 1
    assert sorted(str(p) for p in cache.rglob("*")) == before
    # The same pack again: nothing new to write.
    result = runner.invoke(lb, ["pack", "import", str(pack), "--into", str(cache), "--public-key", public_key()])
    assert result.exit_code == 0 and "0 files written, 2 already cached" in result.output, result.output


def test_a_key_that_is_not_one_is_a_usage_error(pack):
    code, output = verify(pack, key="not-base64!")
    assert code == 2 and "no usable pack key" in output
