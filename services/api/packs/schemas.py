"""The pack manifest (what the platform writes and every verifier reads: one model on both
sides) and the API's request and reply bodies."""
from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
# Member paths are made by the platform; a verifier refuses any other shape (no "..", no
# absolute paths, nothing that could land outside the directory it is unpacked into).
MEMBER_PATH = re.compile(r"^resources/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,100}\.[a-z0-9]{1,8}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class PackMember(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    role: str  # lesson (the MP4), document (its PDF), picture, audio
    media_type: str
    size: int = Field(ge=0)
    sha256: str
    asset_id: str
    filename: str  # the original file's name, for people
    height: int | None = None
    duration_s: float | None = None

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        if not MEMBER_PATH.match(value):
            raise ValueError(f"unsafe member path {value!r}")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not SHA256_HEX.match(value):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return value


class SkippedAsset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: str
    filename: str
    reason: str


class PackKnowledgePoint(BaseModel):
    id: str
    code: str
    name: str


class PackResource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    kind: str
    version: int
    subject: str | None
    stage: str | None
    grade: str | None
    edition: str | None
    knowledge_points: list[PackKnowledgePoint]
    members: list[PackMember]
    skipped: list[SkippedAsset] = []
    notes: list[str] = []  # e.g. a lesson over the size budget, or a lower rung chosen to meet it


class PackManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int
    id: str  # the content key: the same members at the same versions make the same pack
    created_at: datetime
    title: str
    key_id: str  # which platform key signed it (signing.key_id)
    resources: list[PackResource]

    @model_validator(mode="after")
    def _unique_paths(self) -> PackManifest:
        paths = [member.path for resource in self.resources for member in resource.members]
        if len(paths) != len(set(paths)):
            raise ValueError("a member path is listed twice")
        if self.format != FORMAT_VERSION:
            raise ValueError(f"pack format {self.format} is not {FORMAT_VERSION}")
        return self

    def members(self) -> list[PackMember]:
        return [member for resource in self.resources for member in resource.members]


class PackCreate(BaseModel):
    """`POST /packs`: listed resources (in this order), or a unit (a knowledge point's subtree)."""
    # Exactly one of the two, said in the schema as well as checked below.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["resource_ids"], "properties": {"resource_ids": {"type": "array"}}},
        {"required": ["knowledge_point_id"], "properties": {"knowledge_point_id": {"type": "string"}}}]})

    title: str | None = Field(None, min_length=1, max_length=200)
    resource_ids: list[str] | None = Field(None, min_length=1, max_length=200)
    knowledge_point_id: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _one_selection(self) -> PackCreate:
        if (self.resource_ids is None) == (self.knowledge_point_id is None):
            raise ValueError("give either resource_ids or knowledge_point_id")
        return self


class PackRead(BaseModel):
    id: str
    size: int
    sha256: str
    download_url: str
    manifest: PackManifest


class PackPublicKey(BaseModel):
    algorithm: str
    key_id: str
    public_key: str  # the raw 32-byte key, base64
