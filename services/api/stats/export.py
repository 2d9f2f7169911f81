"""Participation figures as CSV for spreadsheets: UTF-8 with a byte order mark, which is how
Excel recognises UTF-8 (without it, school names in Chinese come out garbled), and column
headings in the reader's language."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.api.stats.schemas import DistrictParticipation, Filters, SchoolParticipation
from services.common.i18n import Language, Message, translate

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
_ROLE: dict[str, Message] = {"helper": {"zh-CN": "帮扶", "en": "helper"},
                             "assisted": {"zh-CN": "受援", "en": "assisted"}}

Column = tuple[Message, Callable[[Any], object]]


def days(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds / 86400:.1f}"


def share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


_FILTERS: list[Column] = [
    ({"zh-CN": "学期", "en": "semester"}, lambda f: f.semester.code),
    ({"zh-CN": "学段", "en": "stage"}, lambda f: f.stage or ""),
    ({"zh-CN": "学科", "en": "subject"}, lambda f: f.subject or ""),
]
_PUBLISHING: list[Column] = [
    ({"zh-CN": "教师数", "en": "teachers"}, lambda r: r.teachers),
    ({"zh-CN": "本学期发布教师数", "en": "publishing_teachers"}, lambda r: r.publishing_teachers),
    ({"zh-CN": "发布教师占比", "en": "publishing_share"}, lambda r: share(r.publishing_share)),
    ({"zh-CN": "本学期发布资源数", "en": "resources_published"}, lambda r: r.resources_published),
    ({"zh-CN": "其中被播放的资源数", "en": "resources_played"}, lambda r: r.resources_played),
    ({"zh-CN": "累计播放次数", "en": "plays"}, lambda r: r.plays),
    ({"zh-CN": "待审核数", "en": "reviews_pending"}, lambda r: r.reviews_pending.count),
    ({"zh-CN": "最久待审天数", "en": "oldest_pending_days"}, lambda r: days(r.reviews_pending.oldest_age_s)),
    ({"zh-CN": "待审天数中位数", "en": "median_pending_days"}, lambda r: days(r.reviews_pending.median_age_s)),
]


def _school_columns(language: Language) -> list[Column]:
    def partners(row: SchoolParticipation) -> str:
        return "；".join(f"{p.school_name}（{translate(_ROLE[p.role], language)}）" for p in row.pairings)

    return [({"zh-CN": "学校编号", "en": "school_id"}, lambda r: r.school_id),
            ({"zh-CN": "学校", "en": "school"}, lambda r: r.school_name),
            ({"zh-CN": "类型", "en": "kind"}, lambda r: r.school_kind.value),
            *_PUBLISHING,
            ({"zh-CN": "结对数", "en": "pairings"}, lambda r: len(r.pairings)),
            ({"zh-CN": "本学期交流活动", "en": "exchanges_held"}, lambda r: sum(p.exchanges_held for p in r.pairings)),
            ({"zh-CN": "结对学校", "en": "paired_with"}, partners)]


_DISTRICT: list[Column] = [
    ({"zh-CN": "区县编号", "en": "district_id"}, lambda r: r.district_id),
    ({"zh-CN": "学校数", "en": "schools"}, lambda r: r.schools),
    ({"zh-CN": "有发布的学校数", "en": "schools_publishing"}, lambda r: r.schools_publishing),
    *_PUBLISHING,
    ({"zh-CN": "结对数", "en": "pairings"}, lambda r: r.pairings),
    ({"zh-CN": "结对学校数", "en": "paired_schools"}, lambda r: r.paired_schools),
    ({"zh-CN": "本学期交流活动", "en": "exchanges_held"}, lambda r: r.exchanges_held),
]


def _render(filters: Filters, columns: list[Column], rows: Iterable[Any], language: Language) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([translate(title, language) for title, _ in _FILTERS + columns])
    fixed = [value(filters) for _, value in _FILTERS]
    for row in rows:
        writer.writerow(fixed + [value(row) for _, value in columns])
    return BOM + out.getvalue()


def district_csv(filters: Filters, district: DistrictParticipation, language: Language) -> str:
    return _render(filters, _DISTRICT, [district], language)


def schools_csv(filters: Filters, schools: Iterable[SchoolParticipation], language: Language) -> str:
    return _render(filters, _school_columns(language), schools, language)


_COVERAGE: list[Column] = [
    ({"zh-CN": "知识点编码", "en": "code"}, lambda p: p.code),
    ({"zh-CN": "知识点", "en": "name"}, lambda p: p.name),
    ({"zh-CN": "路径", "en": "path"}, lambda p: p.path),
    ({"zh-CN": "层级", "en": "depth"}, lambda p: p.depth),
    ({"zh-CN": "已发布资源数", "en": "published_resources"}, lambda p: p.count),
    ({"zh-CN": "已覆盖", "en": "covered"}, lambda p: 1 if p.count else 0),
]


def coverage_csv(points: Iterable[Any], *, subject: str, stage: str, edition: str | None, language: Language) -> str:
    """学科资源覆盖率 per knowledge point (`GET /statistics/coverage?format=csv`): one row a point,
    the subject, stage and edition asked for repeated on each, as the participation CSVs do."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    scope: list[tuple[Message, object]] = [({"zh-CN": "学科", "en": "subject"}, subject),
                                           ({"zh-CN": "学段", "en": "stage"}, stage),
                                           ({"zh-CN": "教材版本", "en": "edition"}, edition or "")]
    writer.writerow([translate(title, language) for title, _ in scope + _COVERAGE])
    fixed = [value for _, value in scope]
    for point in points:
        writer.writerow(fixed + [value(point) for _, value in _COVERAGE])
    return BOM + out.getvalue()


def wants_csv(request: Request, format: str | None) -> bool:
    """CSV when `format=csv`, or, without `format`, when the client's Accept asks for text/csv."""
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def csv_response(body: str, *, filename: str) -> Response:
    return Response(body.encode("utf-8"), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
