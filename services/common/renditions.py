"""What the transcoder makes of a file, as it writes it and the API reads it: each job's result
(kept in the ledger's `result` and as `manifest.json` beside the outputs), the rendition an asset
records of it (`assets.renditions`), and a document's page text (`text.json`).

One pydantic model per shape, used on both sides (docs/style.md: no dict read by string keys
across a process boundary). Pydantic rather than frozen dataclasses because the other contracts
between the services already are (task payloads in `tasks.py`, `checks.AutomaticCheck`, the
search documents), and because these shapes are parsed from stored JSON, where validation with a
readable error is the point. Read once where the JSON enters (`read_result`, `read_renditions`,
`read_manifest`, `read_page_texts`), then passed inward typed; what does not validate raises
`ResultInvalid`, naming the field, instead of a KeyError deep in a route.

Stored JSON stays readable, and reads back as it was written (`stored()`):
* fields the transcoder has always written are required where a reader cannot do without them
  (a rendition's `prefix`, a variant's `uri` and `bandwidth`); the rest default;
* keys this version does not know are kept (`extra="allow"`), so a newer writer's additions
  survive a read and a write by an older reader;
* a rendition of a job this version does not know is kept as `OtherOutput`, never refused.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Self

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, TypeAdapter,
                      ValidationError, model_validator)

from services.common.checks import AutomaticCheck

MANIFEST = "manifest.json"  # beside a job's outputs, written last: the commit record


class ResultInvalid(ValueError):
    """A stored result that does not have the shape this version reads: `where` it was read from
    and what is wrong (the first few fields)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


def _problem(error: ValidationError) -> str:
    def where(loc: tuple[Any, ...]) -> str:  # without the union's tags (class names)
        return ".".join(str(part) for part in loc if not str(part).endswith("Output")) or "(whole)"

    shown = [f"{where(e['loc'])}: {e['msg']}" for e in error.errors()[:3]]
    more = error.error_count() - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")


class Stored(BaseModel):
    """A shape stored as JSON by one service and read by another."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def stored(self) -> dict[str, Any]:
        """The JSON to store: what was given or read, extras included; defaults never set stay
        out, so a stored value read and written back is unchanged."""
        return self.model_dump(mode="json", exclude_unset=True)


def _readable_checks(value: Any) -> list[AutomaticCheck]:
    """Checks written by a newer or older worker in another shape are left out rather than fatal
    (as `checks.read_checks` does)."""
    checks = []
    for entry in value if isinstance(value, list) else []:
        try:
            checks.append(AutomaticCheck.model_validate(entry))
        except ValidationError:
            continue
    return checks


Checks = Annotated[list[AutomaticCheck], BeforeValidator(_readable_checks)]
# A measured quantity: kept as stored (2 stays 2, not 2.0), so a value reads back unchanged.
Number = int | float


# --------------------------------------------------------------------------- video (HLS)

class Variant(Stored):
    """One variant of a track: a video rung or the audio-only stream, as measured from its
    segments (services/transcoder/hls.py). `uri` is relative to the rendition's prefix."""

    name: str | None = None
    uri: Annotated[str, Field(min_length=1)]
    bandwidth: Annotated[int, Field(gt=0)]  # peak segment bit rate, bit/s
    average_bandwidth: int | None = None
    duration_s: Number | None = None
    segments: int | None = None
    codecs: str | None = None
    width: int | None = None  # video only
    height: int | None = None
    frame_rate: Number | None = None


class Track(Stored):
    """One camera track: its ladder (top rung first), audio-only variant and download MP4."""

    index: int | None = None  # the source's stream index
    title: str | None = None
    variants: Annotated[list[Variant], Field(min_length=1)]
    audio: Variant | None = None
    download: str | None = None
    copy_top: bool | None = None  # ladder only: the top rung is the source, stream-copied


class Storyboard(Stored):
    image: str
    vtt: str
    interval_s: Number
    thumb_width: int
    thumb_height: int


class Output(Stored):
    """What every job publishes: its files under `prefix`. `job` is set on an asset's copy."""

    prefix: Annotated[str, Field(min_length=1)]
    files: list[str] | None = None  # in the manifest only: every file published, for cleaning up
    bytes: int | None = None

    def key(self, name: str) -> str:
        """The storage key of one of this output's files."""
        return f"{self.prefix}/{name}"

    def as_rendition(self, job: str) -> Self:
        """What an asset records of a finished job: the result without its file list."""
        return type(self).model_validate({**{k: v for k, v in self.stored().items() if k != "files"}, "job": job})


class HlsOutput(Output):
    """first_playable (one stream-copied variant) and ladder (every track's rungs, poster,
    storyboard and pre-screening checks)."""

    job: Literal["first_playable", "ladder"] | None = None
    kind: Literal["hls"] = "hls"
    duration_s: Number | None = None
    default_track: Annotated[int, Field(ge=0)] = 0
    tracks: list[Track]
    poster: str | None = None
    storyboard: Storyboard | None = None
    checks: Checks = []

    @model_validator(mode="after")
    def _default_track_exists(self) -> Self:
        if self.tracks and self.default_track >= len(self.tracks):
            raise ValueError(f"default_track {self.default_track} but {len(self.tracks)} track(s)")
        return self


class DocumentOutput(Output):
    """A document's PDF preview, page images (`page_image` formatted with `page=`) and text."""

    job: Literal["document"] | None = None
    kind: Literal["document"] = "document"
    preview: str | None = None
    pages: Annotated[int, Field(ge=0)] = 0  # in the PDF
    page_images: Annotated[int, Field(ge=0)] = 0  # the first this many pages have an image
    page_image: str | None = None
    text: str | None = None  # text.json: `PageText`s
    thumbnail: str | None = None
    note: str | None = None
    capped_pages: list[int] = []
    checks: Checks = []

    @model_validator(mode="after")
    def _page_images_named(self) -> Self:
        if self.page_images and not self.page_image:
            raise ValueError(f"{self.page_images} page image(s) but no page_image template")
        if self.page_image:
            try:
                self.page_image.format(page=1)
            except (KeyError, IndexError, ValueError):
                raise ValueError(f"page_image {self.page_image!r} is not a template of `page`") from None
        return self

    def page_image_name(self, number: int) -> str:
        assert self.page_image is not None and 1 <= number <= self.page_images
        return self.page_image.format(page=number)


class ImageOutput(Output):
    job: Literal["image"] | None = None
    kind: Literal["image"] = "image"
    preview: str | None = None
    thumbnail: str | None = None
    width: int | None = None
    height: int | None = None


class AudioOutput(Output):
    job: Literal["audio"] | None = None
    kind: Literal["audio"] = "audio"
    rendition: str | None = None  # audio.m4a
    duration_s: Number | None = None
    bit_rate: int | None = None
    checks: Checks = []


class OtherOutput(Output):
    """A job this version does not know (a newer worker's): kept as stored, shown by no one."""

    job: str | None = None
    kind: str | None = None
    prefix: str | None = None  # type: ignore[assignment]


class Skipped(Stored):
    """A job that had nothing to make (a first playable of a source that is not H.264)."""

    kind: str | None = None
    skipped: str


# Which result each kind of job writes (`JobKind` values; a StrEnum member looks up the same).
OUTPUT_OF_JOB: dict[str, type[Output]] = {"first_playable": HlsOutput, "ladder": HlsOutput,
                                          "document": DocumentOutput, "image": ImageOutput, "audio": AudioOutput}
_OUTPUT_OF_KIND: dict[str, type[Output]] = {"hls": HlsOutput, "document": DocumentOutput, "image": ImageOutput,
                                            "audio": AudioOutput}


def _tag_of_job(value: Any) -> str | None:
    job = value.get("job") if isinstance(value, dict) else getattr(value, "job", None)
    if not isinstance(job, str):
        return None  # refused: a rendition names its job
    return OUTPUT_OF_JOB.get(job, OtherOutput).__name__


# What an asset records of its finished jobs, one per job, told apart by `job`.
Rendition = HlsOutput | DocumentOutput | ImageOutput | AudioOutput | OtherOutput
_RENDITIONS: TypeAdapter[list[Rendition]] = TypeAdapter(list[Annotated[  # type: ignore[arg-type]
    Annotated[HlsOutput, Tag(HlsOutput.__name__)] | Annotated[DocumentOutput, Tag(DocumentOutput.__name__)]
    | Annotated[ImageOutput, Tag(ImageOutput.__name__)] | Annotated[AudioOutput, Tag(AudioOutput.__name__)]
    | Annotated[OtherOutput, Tag(OtherOutput.__name__)], Discriminator(
        _tag_of_job, custom_error_type="rendition_without_job", custom_error_message="a rendition names its job")]])


def read_result(job: str, raw: Any) -> Output | Skipped:
    """A finished job's result as the ledger holds it."""
    try:
        if isinstance(raw, dict) and "skipped" in raw:
            return Skipped.model_validate(raw)
        return OUTPUT_OF_JOB.get(job, OtherOutput).model_validate(raw)
    except ValidationError as error:
        raise ResultInvalid(f"the {job} job's result", _problem(error)) from None


def read_renditions(stored: Any, *, where: str = "renditions") -> list[Rendition]:
    """An asset's renditions as stored; ResultInvalid if any one does not read."""
    try:
        return _RENDITIONS.validate_python(stored or [])
    except ValidationError as error:
        raise ResultInvalid(where, _problem(error)) from None


def replace_rendition(stored: list[dict[str, Any]], rendition: Output) -> list[dict[str, Any]]:
    """An asset's stored renditions with `rendition` in place of any earlier one of its job."""
    job = rendition.stored().get("job")
    return [entry for entry in stored if not (isinstance(entry, dict) and entry.get("job") == job)] \
        + [rendition.stored()]


def read_manifest(raw: bytes, *, where: str = MANIFEST) -> Output:
    """A `manifest.json` as published beside a job's outputs (told apart by `kind`)."""
    try:
        loaded = json.loads(raw)
    except ValueError as error:
        raise ResultInvalid(where, f"not JSON ({error})") from None
    kind = loaded.get("kind") if isinstance(loaded, dict) else None
    try:
        return _OUTPUT_OF_KIND.get(kind if isinstance(kind, str) else "", OtherOutput).model_validate(loaded)
    except ValidationError as error:
        raise ResultInvalid(where, _problem(error)) from None


def manifest_json(manifest: Output) -> bytes:
    """The bytes of `manifest.json`, as the transcoder has always written them: keys sorted,
    UTF-8 kept."""
    return json.dumps(manifest.stored(), ensure_ascii=False, sort_keys=True).encode()


# --------------------------------------------------------------------------- document text

class PageText(Stored):
    """One page's extracted text in `text.json` (a list, page 1 first), for search and screening."""

    page: Annotated[int, Field(ge=1)]
    text: str = ""


_PAGE_TEXTS: TypeAdapter[list[PageText]] = TypeAdapter(list[PageText])


def page_texts_json(pages: list[PageText]) -> bytes:
    return json.dumps([page.stored() for page in pages], ensure_ascii=False).encode()


def read_page_texts(raw: bytes, *, where: str = "text.json") -> list[PageText]:
    try:
        return _PAGE_TEXTS.validate_json(raw)
    except ValidationError as error:
        raise ResultInvalid(where, _problem(error)) from None
