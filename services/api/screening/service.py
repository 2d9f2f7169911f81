"""Pre-screening results for the moderation queue: `automatic_checks` answers for a page of
resources in a fixed number of queries (assets, blocklist, lexicon revisions), whatever the
page's size, plus one storage read per document the process has not read at this lexicon's
revision.

Checks, and what they mean (`result`):
* blocked_content (hard): a file's bytes are on the blocklist → fail. New files are refused
  when attached (blocklist.refuse_blocked); this shows those attached before the block.
* sensitive_words (soft): the district lexicon in the title, description, tags, a document's
  extracted text or a lesson's subtitles → flag, with the words and where (a page, a cue's time).
* duration (soft): a video or recording whose length does not fit its kind (DURATION_LIMITS_S).
* what processing reported per file (soft): black_video, frozen_video, silent_audio,
  document_text; and any other check a job's manifest carries (`checks`, services/common/checks.py).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.deps import require_role
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.orgs.models import Role
from services.api.resources.models import Asset, Resource, ResourceKind
from services.api.resources.renditions import readable_renditions
from services.api.screening import blocklist, lexicon
from services.api.screening.errors import InvalidLexicon, UnsupportedLexiconFormat
from services.api.screening.models import SensitiveLexicon, SensitiveWord
from services.api.subtitles import service as subtitles
from services.common.checks import AutomaticCheck
from services.common.renditions import AudioOutput, DocumentOutput, HlsOutput, read_page_texts
from services.common.storage import BlobStore

log = structlog.get_logger("screening")

# What length a kind's video or recording may have, in seconds (None: no bound). A lesson is a
# whole class period; a micro-lesson (微课) explains one point in minutes.
DURATION_LIMITS_S: dict[ResourceKind, tuple[float | None, float | None]] = {
    ResourceKind.lesson_recording: (10 * 60, 2 * 3600),
    ResourceKind.excellent_lesson: (10 * 60, 2 * 3600),
    ResourceKind.micro_lesson: (None, 20 * 60),
}
TIMED_CATEGORIES = ("video", "audio")
MAX_TEXT_BYTES = 2 * 1024 * 1024  # as search reads it
_document_hits = lexicon.HitCache()


def automatic_checks(session: Session, *, store: BlobStore,
                     resources: Sequence[Resource]) -> dict[str, list[AutomaticCheck]]:
    ids = [resource.id for resource in resources]
    assets: dict[str, list[Asset]] = {}
    for asset in session.scalars(select(Asset).where(Asset.resource_id.in_(ids)).order_by(Asset.created_at, Asset.id)):
        assets.setdefault(asset.resource_id, []).append(asset)
    blocked = blocklist.blocked_among(session, sha256s=[a.sha256 for own in assets.values() for a in own])
    matchers = lexicon.matchers(session, district_ids={resource.district_id for resource in resources})
    subtitle_keys = subtitles.blob_keys(session, resource_ids=ids)
    out = {}
    for resource in resources:
        own = assets.get(resource.id, [])
        revision, matcher = matchers[resource.district_id]
        checks = [_blocked_content(own, blocked),
                  _sensitive_words(resource, own, store=store, matcher=matcher, revision=revision,
                                   subtitle_keys=subtitle_keys)]
        checks += _durations(resource, own)
        for asset in own:
            for rendition in readable_renditions(asset):
                if isinstance(rendition, HlsOutput | DocumentOutput | AudioOutput):
                    checks += [check.model_copy(update={"asset_id": asset.id}) for check in rendition.checks]
        out[resource.id] = checks
    return out


def _blocked_content(assets: list[Asset], blocked: set[str]) -> AutomaticCheck:
    hits = [asset for asset in assets if asset.sha256 in blocked]
    if hits:
        return AutomaticCheck(check="blocked_content", result="fail", asset_id=hits[0].id,
                              facts={"asset_ids": [asset.id for asset in hits]},
                              detail="the same bytes as content taken down / 与已下架内容相同")
    return AutomaticCheck(check="blocked_content", result="pass")


def _sensitive_words(resource: Resource, assets: list[Asset], *, store: BlobStore, matcher: lexicon.Matcher,
                     revision: int, subtitle_keys: dict[str, str] | None = None) -> AutomaticCheck:
    if not matcher.size:
        return AutomaticCheck(check="sensitive_words", result="pass", detail="no lexicon / 未配置敏感词库",
                              facts={"lexicon_revision": revision})
    hits: list[dict[str, Any]] = []
    for where, text in (("title", resource.title), ("description", resource.description or ""),
                        ("tags", " ".join(resource.tags or []))):
        hits += [{"word": h.word, "category": h.category, "count": h.count, "where": where}
                 for h in matcher.find(text)]
    for asset in assets:
        for rendition in readable_renditions(asset):
            if isinstance(rendition, DocumentOutput) and rendition.text:
                hits += _document_text_hits(store, rendition.key(rendition.text), asset_id=asset.id,
                                            matcher=matcher, cache_key=(resource.district_id, str(revision)))
        if subtitle_keys and asset.id in subtitle_keys:
            hits += _subtitle_hits(store, subtitle_keys[asset.id], asset_id=asset.id, matcher=matcher,
                                   cache_key=(resource.district_id, str(revision)))
    facts = {"lexicon_revision": revision, "hits": hits}
    if not hits:
        return AutomaticCheck(check="sensitive_words", result="pass", facts=facts)
    words = "、".join(dict.fromkeys(hit["word"] for hit in hits))
    return AutomaticCheck(check="sensitive_words", result="flag", facts=facts,
                          detail=f"sensitive words / 命中敏感词：{words}"[:500])


def _document_text_hits(store: BlobStore, key: str, *, asset_id: str, matcher: lexicon.Matcher,
                        cache_key: tuple[str, str]) -> list[dict[str, Any]]:
    cached = _document_hits.get((key, *cache_key))
    if cached is not None:
        return cached
    try:
        pages = read_page_texts(b"".join(store.open(key, end=MAX_TEXT_BYTES - 1)), where=key)
    except Exception as error:  # noqa: BLE001 - unreadable text is shown as no hits, and logged
        log.warning("document_text_unreadable", key=key, error=str(error))
        return []
    hits = [{"word": h.word, "category": h.category, "count": h.count, "where": "document",
             "asset_id": asset_id, "page": page.page}
            for page in pages for h in matcher.find(page.text)]
    _document_hits.put((key, *cache_key), hits)
    return hits


def _subtitle_hits(store: BlobStore, key: str, *, asset_id: str, matcher: lexicon.Matcher,
                   cache_key: tuple[str, str]) -> list[dict[str, Any]]:
    """The lexicon in a subtitle's cues, each hit with the cue's time (cached as document text is)."""
    cached = _document_hits.get((key, *cache_key))
    if cached is not None:
        return cached
    cues = subtitles.read_cues(store, key)
    hits = [{"word": h.word, "category": h.category, "count": h.count, "where": "subtitle", "asset_id": asset_id,
             "at_s": round(cue.start_s, 3)} for cue in cues for h in matcher.find(cue.text)]
    _document_hits.put((key, *cache_key), hits)
    return hits


def _durations(resource: Resource, assets: list[Asset]) -> list[AutomaticCheck]:
    low, high = DURATION_LIMITS_S.get(resource.kind, (None, None))
    if low is None and high is None:
        return []
    checks = []
    for asset in assets:
        if asset.category not in TIMED_CATEGORIES or not asset.duration_s:
            continue
        facts = {"duration_s": round(asset.duration_s, 1), "min_s": low, "max_s": high}
        minutes = asset.duration_s / 60
        if low is not None and asset.duration_s < low:
            detail = f"{minutes:.1f} min is short for a {resource.kind.value} / 时长 {minutes:.1f} 分钟，少于 {low / 60:.0f} 分钟"
        elif high is not None and asset.duration_s > high:
            detail = f"{minutes:.1f} min is long for a {resource.kind.value} / 时长 {minutes:.1f} 分钟，超过 {high / 60:.0f} 分钟"
        else:
            detail = ""
        checks.append(AutomaticCheck(check="duration", result="flag" if detail else "pass", asset_id=asset.id,
                                     facts=facts, detail=detail))
    return checks


# --------------------------------------------------------------------------- the lexicon

MAX_WORD_LENGTH = 100
MAX_LEXICON_ERRORS = 100


def import_lexicon(session: Session, *, actor: Principal, raw: bytes, media_type: str, replace: bool) -> dict[str, int]:
    """A district administrator loads the district's lexicon: plain text, one word a line (`#`
    starts a comment), or CSV with a `word` column and an optional `category`; UTF-8 (with or
    without BOM) or GB18030, as Chinese spreadsheets save it. All of it or none; `replace`
    drops the words not in the document; a category given replaces the word's old one."""
    require_role(actor, Role.district_admin)
    entries = parse_lexicon(raw, media_type=media_type)
    district_id = actor.district_id
    existing = {entry.word: entry for entry in session.scalars(
        select(SensitiveWord).where(SensitiveWord.district_id == district_id))}
    incoming = {word for word, _ in entries}
    for word, category in entries:  # the document's category wins where it gives one
        if word in existing and category and existing[word].category != category:
            existing[word].category = category
    removed = 0
    if replace:
        removed = session.execute(delete(SensitiveWord).where(SensitiveWord.district_id == district_id,
                                                              SensitiveWord.word.not_in(incoming))).rowcount or 0
    added = [SensitiveWord(district_id=district_id, word=word, category=category)
             for word, category in entries if word not in existing]
    session.add_all(added)
    current = session.get(SensitiveLexicon, district_id, with_for_update=True)
    if current is None:
        current = SensitiveLexicon(district_id=district_id, revision=0)
        session.add(current)
    current.revision += 1
    current.updated_by = actor.user_id
    session.flush()
    total = session.scalar(select(func.count()).select_from(SensitiveWord)
                           .where(SensitiveWord.district_id == district_id)) or 0
    audit.record(session, actor_id=actor.user_id, district_id=district_id, action="screening.lexicon_import",
                 target_type="district", target_id=district_id, added=len(added), removed=removed, words=total,
                 revision=current.revision)
    return {"added": len(added), "removed": removed, "words": total, "revision": current.revision}


def parse_lexicon(raw: bytes, *, media_type: str) -> list[tuple[str, str]]:
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in ("text/plain", "text/csv", "application/csv"):
        raise UnsupportedLexiconFormat()
    text = _decode(raw)
    if "\x00" in text:
        raise InvalidLexicon(errors=[{"loc": ["body"], "msg": "NUL character"}])
    rows: list[tuple[int, str, str]] = []
    if kind == "text/plain":
        for number, line in enumerate(text.splitlines(), start=1):
            word = line.strip()
            if word and not word.startswith("#"):
                rows.append((number, word, ""))
    else:
        reader = csv.DictReader(io.StringIO(text))
        fields = [name.strip().lower() for name in reader.fieldnames or []]
        if "word" not in fields:
            raise InvalidLexicon(errors=[{"loc": ["body", 1], "msg": "the header needs a 'word' column"}])
        reader.fieldnames = fields
        for row in reader:
            word = (row.get("word") or "").strip()
            if word:
                rows.append((reader.line_num, word, (row.get("category") or "").strip()[:50]))
    errors = [{"loc": ["body", number], "msg": f"longer than {MAX_WORD_LENGTH} characters"}
              for number, word, _ in rows if len(word) > MAX_WORD_LENGTH]
    errors += [{"loc": ["body", number], "msg": "nothing left to match once spaces and symbols are removed"}
               for number, word, _ in rows if len(word) <= MAX_WORD_LENGTH and not lexicon.normalise(word)]
    if errors:
        raise InvalidLexicon(errors=errors[:MAX_LEXICON_ERRORS])
    return lexicon.parse_words((word, category) for _, word, category in rows)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidLexicon(errors=[{"loc": ["body"], "msg": "neither UTF-8 nor GB18030"}]) from None


def export_lexicon(session: Session, *, actor: Principal, as_csv: bool) -> str:
    """The district's lexicon in the form it is imported (reviewers and district administrators)."""
    if not actor.reviews_district:
        raise Forbidden()
    words = session.execute(select(SensitiveWord.word, SensitiveWord.category)
                            .where(SensitiveWord.district_id == actor.district_id)
                            .order_by(SensitiveWord.category, SensitiveWord.word)).all()
    if not as_csv:
        return "".join(f"{word}\n" for word, _ in words)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["word", "category"])
    writer.writerows(words)
    return out.getvalue()
