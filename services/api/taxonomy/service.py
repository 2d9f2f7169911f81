from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.taxonomy.errors import InvalidTaxonomyDocument, KnowledgePointNotFound, UnsupportedTaxonomyFormat
from services.api.taxonomy.models import Chapter, Edition, Grade, KnowledgePoint, Stage, Subject, Volume
from services.api.taxonomy.schemas import ImportReport, KnowledgePointEntry, TaxonomyDocument
from services.common import text
from services.common.problems import InvalidField

SEED_DIR = Path(__file__).parent / "seed"
KNOWLEDGE_POINT_CSV_COLUMNS = ["code", "name", "subject", "stage", "parent", "edition", "same_as", "aliases"]
# Aliases share one CSV cell, separated by this (a character no alias needs).
ALIAS_SEPARATOR = "|"
SEED_ALIASES = Path(__file__).parent / "seed" / "aliases" / "knowledge_point_aliases.json"
SEP = KnowledgePoint.PATH_SEPARATOR
Progress = Callable[[int], None]


# --- reading -----------------------------------------------------------------------------------

def knowledge_points_query(*, subject: str | None, stage: str | None, q: str | None,
                           parent_id: str | None, roots_only: bool) -> Select[tuple[KnowledgePoint]]:
    query = select(KnowledgePoint)
    if subject:
        query = query.where(KnowledgePoint.subject_code == subject)
    if stage:
        query = query.where(KnowledgePoint.stage_code == stage)
    if parent_id:
        query = query.where(KnowledgePoint.parent_id == parent_id)
    if roots_only:
        query = query.where(KnowledgePoint.parent_id.is_(None))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(KnowledgePoint.name.like(pattern, escape="\\"),
                                KnowledgePoint.code.like(pattern, escape="\\")))
    return query.order_by(KnowledgePoint.path)


def get_knowledge_point(session: Session, *, knowledge_point_id: str) -> KnowledgePoint:
    node = session.get(KnowledgePoint, knowledge_point_id)
    if node is None:
        raise KnowledgePointNotFound()
    return node


def descendant_ids(node: KnowledgePoint) -> Select[tuple[str]]:
    """The node and everything below it (a prefix match on the materialised path)."""
    return select(KnowledgePoint.id).where(or_(KnowledgePoint.id == node.id,
                                               KnowledgePoint.path.startswith(node.path + SEP)))


def resolve_knowledge_points(session: Session, *, ids: list[str], field: str) -> list[KnowledgePoint]:
    """The nodes for `ids`, in order, or a 422 naming the first unknown one."""
    unique = list(dict.fromkeys(ids))
    found = {kp.id: kp for kp in session.scalars(select(KnowledgePoint).where(KnowledgePoint.id.in_(unique)))}
    for index, kp_id in enumerate(ids):
        if kp_id not in found:
            raise InvalidField(loc=["body", field, index],
                               msg={"zh-CN": "未知的知识点：{value}", "en": "Unknown knowledge point: {value}"},
                               value=kp_id)
    return [found[kp_id] for kp_id in unique]


_VOCABULARIES: dict[str, type[Subject | Stage | Grade | Edition | Volume | Chapter]] = {
    "subject": Subject, "stage": Stage, "grade": Grade, "edition": Edition, "volume": Volume, "chapter": Chapter,
}


def check_codes(session: Session, **codes: str | None) -> None:
    """Raises a 422 for the first given code that its vocabulary does not have."""
    for field, code in codes.items():
        if code is None:
            continue
        model = _VOCABULARIES[field]
        if session.scalar(select(model.id).where(model.code == code)) is None:
            raise InvalidField(loc=["body", field], msg={"zh-CN": "未知的{kind}代码：{value}",
                                                         "en": "Unknown {kind} code: {value}"},
                               kind=field, value=code)


# --- import --------------------------------------------------------------------------------

def parse_document(raw: bytes, *, media_type: str) -> TaxonomyDocument:
    """A document from JSON (the whole taxonomy) or CSV (knowledge points only)."""
    media_type = media_type.split(";")[0].strip().lower()
    if media_type in ("application/json", "text/json"):
        if text.json_has_nul(raw):
            raise InvalidTaxonomyDocument(errors=[{"loc": ["body"], "msg": text.NUL_IN_TEXT["en"]}], count=1)
        try:
            return TaxonomyDocument.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:100]]
            raise InvalidTaxonomyDocument(errors=errors, count=exc.error_count()) from None
    if media_type in ("text/csv", "application/csv"):
        return _parse_knowledge_point_csv(raw)
    raise UnsupportedTaxonomyFormat()


def _parse_knowledge_point_csv(raw: bytes) -> TaxonomyDocument:
    try:
        decoded = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise InvalidTaxonomyDocument(errors=[{"loc": ["body"], "msg": "not UTF-8 text"}], count=1) from None
    if "\x00" in decoded:
        line = decoded[:decoded.index("\x00")].count("\n") + 1
        raise InvalidTaxonomyDocument(errors=[{"loc": ["line", line], "msg": text.NUL_IN_TEXT["en"]}], count=1)
    reader = csv.DictReader(io.StringIO(decoded))
    missing = {"code", "name", "subject", "stage"} - set(reader.fieldnames or [])
    if missing:
        raise InvalidTaxonomyDocument(errors=[{"loc": ["header"], "msg": f"missing columns: {sorted(missing)}"}],
                                      count=1)
    entries, errors = [], []
    for line, row in enumerate(reader, start=2):
        values: dict[str, Any] = {k: (v.strip() or None) for k, v in row.items()
                                  if k in KNOWLEDGE_POINT_CSV_COLUMNS and v is not None}
        if "aliases" in values:  # an empty cell clears them; a missing column leaves them
            values["aliases"] = [a.strip() for a in (values["aliases"] or "").split(ALIAS_SEPARATOR) if a.strip()]
        try:
            entries.append(KnowledgePointEntry.model_validate(values))
        except ValidationError as exc:
            errors += [{"loc": ["line", line, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
    if errors:
        raise InvalidTaxonomyDocument(errors=errors[:100], count=len(errors))
    return TaxonomyDocument(knowledge_points=entries)


def import_document(session: Session, document: TaxonomyDocument, *, actor_id: str | None,
                    district_id: str | None, progress: Progress | None = None) -> ImportReport:
    """Upserts every entry by code, in one transaction: all of it, or (422) none of it."""
    _check_references(session, document)
    report = ImportReport(created={}, updated={})
    changed: dict[str, set[str]] = {}  # codes updated per kind; a node can change in two steps
    step = progress or (lambda _n: None)

    def upsert(kind: str, model: Any, entries: Iterable[Any], values: Callable[[Any], dict[str, Any]],
               **on_create: Any) -> dict[str, Any]:
        rows = {row.code: row for row in session.scalars(select(model))}
        created, updated = 0, changed.setdefault(kind, set())
        for entry in entries:
            fields = values(entry)
            row = rows.get(entry.code)
            if row is None:
                row = rows[entry.code] = model(code=entry.code, **fields, **on_create)
                session.add(row)
                created += 1
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for key, value in fields.items():
                    setattr(row, key, value)
                updated.add(entry.code)
            step(1)
        report.created[kind] = created
        session.flush()
        return rows

    upsert("subjects", Subject, document.subjects, lambda e: {"name": e.name})
    upsert("stages", Stage, document.stages, lambda e: {"name": e.name})
    upsert("editions", Edition, document.editions, lambda e: {"name": e.name})
    upsert("grades", Grade, document.grades, lambda e: {"name": e.name, "stage_code": e.stage, "position": e.position})
    upsert("volumes", Volume, document.volumes, lambda e: {
        "name": e.name, "edition_code": e.edition, "subject_code": e.subject, "grade_code": e.grade, "term": e.term})
    # Knowledge points: insert the nodes, then link parents and equivalents by code, then paths.
    nodes = upsert("knowledge_points", KnowledgePoint, document.knowledge_points, lambda e: {
        "name": e.name, "subject_code": e.subject, "stage_code": e.stage, "edition_code": e.edition,
        **({"aliases": list(dict.fromkeys(e.aliases))} if e.aliases is not None else {})},
        path="", depth=0)
    for position, entry in enumerate(document.knowledge_points):
        node = nodes[entry.code]
        links = {"parent_id": nodes[entry.parent].id if entry.parent else None,
                 "same_as_id": nodes[entry.same_as].id if entry.same_as else None}
        if node.path and any(getattr(node, key) != value for key, value in links.items()):
            changed["knowledge_points"].add(entry.code)  # an existing node moved or re-linked
        for key, value in links.items():
            setattr(node, key, value)
        node.position = position
    session.flush()
    _recompute_paths(session)
    chapters = upsert("chapters", Chapter, document.chapters, lambda e: {
        "name": e.name, "volume_code": e.volume, "position": e.position})
    for entry in document.chapters:
        chapters[entry.code].knowledge_points = [nodes[code] for code in entry.knowledge_points]
    session.flush()
    report.updated = {kind: len(codes) for kind, codes in changed.items()}
    audit.record(session, actor_id=actor_id, district_id=district_id, action="taxonomy.import",
                 target_type="taxonomy", target_id="taxonomy", created=report.created, updated=report.updated)
    return report


def document_size(document: TaxonomyDocument) -> int:
    return sum(len(getattr(document, field)) for field in TaxonomyDocument.model_fields)


def _check_references(session: Session, document: TaxonomyDocument) -> None:
    """Every code an entry names must exist in the document or the database, once each."""
    def known(model: Any, entries: list[Any]) -> set[str]:
        return set(session.scalars(select(model.code))) | {e.code for e in entries}

    subjects, stages = known(Subject, document.subjects), known(Stage, document.stages)
    editions, grades = known(Edition, document.editions), known(Grade, document.grades)
    volumes, points = known(Volume, document.volumes), known(KnowledgePoint, document.knowledge_points)
    errors: list[dict[str, Any]] = []

    def need(value: str | None, codes: set[str], loc: list[Any]) -> None:
        if value is not None and value not in codes:
            errors.append({"loc": loc, "msg": f"unknown code {value!r}"})

    for field in TaxonomyDocument.model_fields:
        seen: set[str] = set()
        for i, entry in enumerate(getattr(document, field)):
            if entry.code in seen:
                errors.append({"loc": [field, i, "code"], "msg": f"duplicate code {entry.code!r}"})
            seen.add(entry.code)
    for i, grade in enumerate(document.grades):
        need(grade.stage, stages, ["grades", i, "stage"])
    for i, volume in enumerate(document.volumes):
        need(volume.edition, editions, ["volumes", i, "edition"])
        need(volume.subject, subjects, ["volumes", i, "subject"])
        need(volume.grade, grades, ["volumes", i, "grade"])
    for i, chapter in enumerate(document.chapters):
        need(chapter.volume, volumes, ["chapters", i, "volume"])
        for j, code in enumerate(chapter.knowledge_points):
            need(code, points, ["chapters", i, "knowledge_points", j])
    in_document = {e.code for e in document.knowledge_points}
    for i, point in enumerate(document.knowledge_points):
        need(point.subject, subjects, ["knowledge_points", i, "subject"])
        need(point.stage, stages, ["knowledge_points", i, "stage"])
        need(point.edition, editions, ["knowledge_points", i, "edition"])
        need(point.same_as, points, ["knowledge_points", i, "same_as"])
        # A parent must come with the document or already exist; nodes are linked after insert.
        if point.parent is not None and point.parent not in in_document and point.parent not in points:
            errors.append({"loc": ["knowledge_points", i, "parent"], "msg": f"unknown code {point.parent!r}"})
        if point.parent == point.code:
            errors.append({"loc": ["knowledge_points", i, "parent"], "msg": "a node cannot be its own parent"})
    if errors:
        raise InvalidTaxonomyDocument(errors=errors[:100], count=len(errors))


def _recompute_paths(session: Session) -> None:
    """Sets every node's path and depth from its parent chain; refuses cycles."""
    rows = session.execute(select(KnowledgePoint.id, KnowledgePoint.code, KnowledgePoint.parent_id)).all()
    by_id = {row.id: row for row in rows}
    paths: dict[str, tuple[str, int]] = {}

    def path_of(node_id: str, trail: frozenset[str]) -> tuple[str, int]:
        if node_id in paths:
            return paths[node_id]
        if node_id in trail:
            raise InvalidTaxonomyDocument(errors=[{"loc": ["knowledge_points"],
                                                   "msg": f"cycle through {by_id[node_id].code!r}"}], count=1)
        row = by_id[node_id]
        if row.parent_id is None:
            result = (row.code, 0)
        else:
            parent_path, parent_depth = path_of(row.parent_id, trail | {node_id})
            result = (parent_path + SEP + row.code, parent_depth + 1)
        paths[node_id] = result
        return result

    for node in session.scalars(select(KnowledgePoint)):
        path, depth = path_of(node.id, frozenset())
        if node.path != path or node.depth != depth:
            node.path, node.depth = path, depth
    session.flush()


# --- export and seed -----------------------------------------------------------------------

def export_document(session: Session) -> TaxonomyDocument:
    points = list(session.scalars(select(KnowledgePoint).order_by(KnowledgePoint.path)))
    code_of = {kp.id: kp.code for kp in points}
    return TaxonomyDocument(
        subjects=[{"code": s.code, "name": s.name} for s in session.scalars(select(Subject).order_by(Subject.code))],
        stages=[{"code": s.code, "name": s.name} for s in session.scalars(select(Stage).order_by(Stage.code))],
        editions=[{"code": e.code, "name": e.name} for e in session.scalars(select(Edition).order_by(Edition.code))],
        grades=[{"code": g.code, "name": g.name, "stage": g.stage_code, "position": g.position}
                for g in session.scalars(select(Grade).order_by(Grade.position))],
        volumes=[{"code": v.code, "name": v.name, "edition": v.edition_code, "subject": v.subject_code,
                  "grade": v.grade_code, "term": v.term} for v in session.scalars(select(Volume).order_by(Volume.code))],
        knowledge_points=[_point_entry(kp, code_of) for kp in points],
        chapters=[{"code": c.code, "name": c.name, "volume": c.volume_code, "position": c.position,
                   "knowledge_points": [kp.code for kp in c.knowledge_points]}
                  for c in session.scalars(select(Chapter).order_by(Chapter.volume_code, Chapter.position))],
    )


def export_knowledge_points_csv(session: Session) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=KNOWLEDGE_POINT_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    points = list(session.scalars(select(KnowledgePoint).order_by(KnowledgePoint.path)))
    code_of = {kp.id: kp.code for kp in points}
    for kp in points:
        entry = _point_entry(kp, code_of)
        entry["aliases"] = ALIAS_SEPARATOR.join(entry["aliases"])
        writer.writerow({k: v or "" for k, v in entry.items()})
    return out.getvalue()


def _point_entry(kp: KnowledgePoint, code_of: dict[str, str]) -> dict[str, Any]:
    return {"code": kp.code, "name": kp.name, "subject": kp.subject_code, "stage": kp.stage_code,
            "parent": code_of.get(kp.parent_id or ""), "edition": kp.edition_code,
            "same_as": code_of.get(kp.same_as_id or ""), "aliases": list(kp.aliases or [])}


def seed_document() -> TaxonomyDocument:
    """The taxonomy shipped with LessonBridge: the vocabularies, then each curriculum file."""
    files = sorted(SEED_DIR.glob("*.json"), key=lambda p: (p.name != "vocabulary.json", p.name))
    document = TaxonomyDocument()
    for path in files:
        document = document.merged(TaxonomyDocument.model_validate(json.loads(path.read_text("utf-8"))))
    aliases = {code: names for code, names in json.loads(SEED_ALIASES.read_text("utf-8")).items()
               if not code.startswith("_")}
    unknown = set(aliases) - {kp.code for kp in document.knowledge_points}
    if unknown:
        raise ValueError(f"{SEED_ALIASES.name}: aliases for unknown knowledge points: {sorted(unknown)}")
    return document.model_copy(update={"knowledge_points": [
        kp.model_copy(update={"aliases": aliases[kp.code]}) if kp.code in aliases else kp
        for kp in document.knowledge_points]})
