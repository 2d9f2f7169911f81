"""Reading a pack file away from the platform: verifying it (signature, then every member's
size and sha256) and importing it into an edge's cache directory, all or nothing.

The import layout (docs/design.md, "Offline packs"), under DIR:
  blobs/<sha256[:2]>/<sha256>.<ext>   every member's bytes, by content (an edge serves them as is)
  packs/<pack id>/manifest.json, manifest.sig   the signed manifest, to verify again later
  resources/<resource id>.json        the resource's manifest entry, each member with its `blob`
                                      path relative to DIR; written last, so it never names
                                      bytes that are not there
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from services.api.packs import signing
from services.api.packs.schemas import MANIFEST_NAME, SIGNATURE_NAME, PackManifest, PackMember

CHUNK = 1024 * 1024


class BadPack(Exception):
    """The pack is not what the platform signed; the message names the first problem found."""


@dataclass(frozen=True)
class ImportReport:
    manifest: PackManifest
    blobs_written: int
    blobs_present: int  # already in the cache (the same bytes from an earlier pack)


def verify_pack(path: Path, *, public_key: Ed25519PublicKey) -> PackManifest:
    """The pack's manifest, once the signature and every member hold; BadPack otherwise."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _signed_manifest(archive, public_key)
            listed = {member.path for member in manifest.members()} | {MANIFEST_NAME, SIGNATURE_NAME}
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise BadPack("a file appears twice in the pack")
            for name in names:
                if name not in listed:
                    raise BadPack(f"{name}: in the pack but not in its manifest")
            for member in manifest.members():
                _check_member(archive, member, sink=None)
    except zipfile.BadZipFile as error:
        raise BadPack(f"not a readable pack file ({error})") from None
    return manifest


def _signed_manifest(archive: zipfile.ZipFile, public_key: Ed25519PublicKey) -> PackManifest:
    for name in (MANIFEST_NAME, SIGNATURE_NAME):
        if name not in archive.NameToInfo:
            raise BadPack(f"{name}: missing")
    manifest_bytes, signature = archive.read(MANIFEST_NAME), archive.read(SIGNATURE_NAME)
    if not signing.signature_holds(public_key, manifest_bytes, signature):
        raise BadPack(f"{MANIFEST_NAME}: bad signature (altered, or signed by another key)")
    try:
        return PackManifest.model_validate_json(manifest_bytes)
    except ValidationError as error:
        raise BadPack(f"{MANIFEST_NAME}: signed but not a manifest this version reads ({error.errors()[0]['msg']})") \
            from None


def _check_member(archive: zipfile.ZipFile, member: PackMember, *, sink: Path | None) -> None:
    """Hashes the member as it is read (and copies it to `sink`, synced, when given)."""
    try:
        info = archive.getinfo(member.path)
    except KeyError:
        raise BadPack(f"{member.path}: listed in the manifest but missing") from None
    if info.file_size != member.size:
        raise BadPack(f"{member.path}: {info.file_size} bytes, the manifest says {member.size}")
    digest = hashlib.sha256()
    try:
        with archive.open(info) as source, (sink.open("wb") if sink else _Discard()) as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            if sink is not None:
                out.flush()
                os.fsync(out.fileno())
    except zipfile.BadZipFile as error:  # a CRC mismatch: the bytes changed after packing
        raise BadPack(f"{member.path}: damaged ({error})") from None
    if digest.hexdigest() != member.sha256:
        raise BadPack(f"{member.path}: sha256 does not match the manifest")


class _Discard:
    def __enter__(self) -> _Discard:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def write(self, _: bytes) -> None:
        return None


def blob_path(member: PackMember) -> str:
    """Where an import puts a member's bytes, relative to the cache directory."""
    suffix = PurePosixPath(member.path).suffix
    return f"blobs/{member.sha256[:2]}/{member.sha256}{suffix}"


def import_pack(path: Path, *, into: Path, public_key: Ed25519PublicKey) -> ImportReport:
    """Verifies the pack, then unpacks it into `into`. Every member is written (and checked
    again) in a staging directory inside `into` first; only when all of them are there are they
    renamed into place, resource entries last. A bad pack writes nothing."""
    manifest = verify_pack(path, public_key=public_key)
    into.mkdir(parents=True, exist_ok=True)
    staging = into / f".import-{secrets.token_hex(8)}"
    staging.mkdir()
    try:
        with zipfile.ZipFile(path) as archive:
            staged: dict[str, Path] = {}
            for member in manifest.members():
                target = blob_path(member)
                if target in staged or (into / target).exists():
                    continue
                staged[target] = staging / f"blob-{len(staged)}"
                # Checked again as it is copied: the file may have changed since it was verified.
                _check_member(archive, member, sink=staged[target])
            signed = {MANIFEST_NAME: archive.read(MANIFEST_NAME), SIGNATURE_NAME: archive.read(SIGNATURE_NAME)}
        entries = {resource.id: json.dumps(
            {**resource.model_dump(mode="json"), "pack_id": manifest.id,
             "members": [{**m.model_dump(mode="json"), "blob": blob_path(m)} for m in resource.members]},
            ensure_ascii=False, indent=1).encode("utf-8") for resource in manifest.resources}
        for name, content in [*((f"pack-{n}", c) for n, c in signed.items()),
                              *((f"resource-{i}", c) for i, c in entries.items())]:
            (staging / name).write_bytes(content)
        # Everything is on disk and checked: move it into place, bytes before what names them.
        for target, source in staged.items():
            _move(source, into / target)
        for name in signed:
            _move(staging / f"pack-{name}", into / "packs" / manifest.id / name)
        for resource_id in entries:
            _move(staging / f"resource-{resource_id}", into / "resources" / f"{resource_id}.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImportReport(manifest=manifest, blobs_written=len(staged),
                        blobs_present=len({blob_path(m) for m in manifest.members()}) - len(staged))


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
