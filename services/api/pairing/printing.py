"""Semester reports as files: CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese)
and a printable PDF with Noto Sans CJK embedded (Debian's fonts-noto-cjk, infra/cjk-fonts.sh)."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from services.api import semesters
from services.api.pairing.schemas import DistrictReport, PairReport, PairSummary

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
# The faces in that collection: JP, KR, SC, TC, HK, then the monospaced ones. SC is Simplified Chinese.
CJK_FONT_SC = 2
_KINDS = {"sync_class": "同步课堂", "master_class": "名师课堂", "joint_preparation": "集体备课"}
_STATUSES = {"planned": "计划中", "held": "已开展", "cancelled": "已取消"}
SUMMARY_COLUMNS = ["帮扶学校", "受援学校", "学期", "目标次数", "已开展", "计划中(含已开展)", "已取消", "按进度应开展",
                   "未达目标", "进度落后", "受援校观看分钟", "播放次数", "观看教室数", "共享资源数", "受援校使用资源数"]


class FontMissing(RuntimeError):
    """The CJK font is not installed: run infra/cjk-fonts.sh install."""


def summary_row(p: PairSummary) -> list[str | int | float]:
    return [p.helper_school.name, p.assisted_school.name, p.semester, p.goal_exchanges, p.held, p.planned,
            p.cancelled, p.expected_by_now, _yes(p.below_goal), _yes(p.at_risk), p.minutes_watched, p.plays,
            p.classrooms, p.resources_shared, p.resources_used]


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _local(moment: datetime) -> str:
    return moment.astimezone(semesters.SCHOOL_TIME).strftime("%Y-%m-%d %H:%M")


def pair_csv(report: PairReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SUMMARY_COLUMNS)
    writer.writerow(summary_row(report))
    writer.writerow([])
    writer.writerow(["活动", "类型", "状态", "开始时间", "学科", "课堂录像", "资源包数量", "受援校观看分钟"])
    for line in report.activities:
        writer.writerow([line.id, _KINDS[line.kind], _STATUSES[line.status], _local(line.starts_at),
                         line.subject or "", line.recording_resource_id or "", line.pack_size, line.minutes_watched])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def district_csv(report: DistrictReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["结对", *SUMMARY_COLUMNS])
    for pair in report.pairs:
        writer.writerow([pair.pairing_id, *summary_row(pair)])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def pair_pdf(report: PairReport) -> bytes:
    pdf = _document()
    term = semesters.parse(report.semester)
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, f"结对帮扶学期报告（{term.label}）", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    lines = [f"帮扶学校：{report.helper_school.name}", f"受援学校：{report.assisted_school.name}",
             f"学期：{_local(report.semester_starts)[:10]} 至 {_local(report.semester_ends)[:10]}（{report.semester}）",
             f"统计截至：{_local(report.as_of)}",
             f"交流活动：已开展 {report.held} 次 / 目标 {report.goal_exchanges} 次"
             f"（按进度此时应开展 {report.expected_by_now} 次）",
             f"状态：{'进度落后，需关注' if report.at_risk else ('未达目标' if report.below_goal else '已达目标')}",
             f"受援校观看：{report.minutes_watched} 分钟，{report.plays} 次播放，{report.classrooms} 个教室",
             f"共享资源：{report.resources_shared} 个，受援校使用 {report.resources_used} 个"]
    for text in lines:
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [("开始时间", "类型", "状态", "学科", "资源包", "观看分钟")] + [
        (_local(a.starts_at), _KINDS[a.kind], _STATUSES[a.status], a.subject or "-", str(a.pack_size),
         str(a.minutes_watched)) for a in report.activities]
    _table(pdf, rows, widths=(40, 30, 25, 30, 20, 30))
    return bytes(pdf.output())


def district_pdf(report: DistrictReport) -> bytes:
    pdf = _document()
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(0, 10, f"结对帮扶学期汇总（{semesters.parse(report.semester).label}）", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.multi_cell(0, 7, f"统计截至：{_local(report.as_of)}", new_x="LMARGIN", new_y="NEXT")
    rows = [("帮扶学校", "受援学校", "已开展/目标", "观看分钟", "状态")] + [
        (p.helper_school.name, p.assisted_school.name, f"{p.held}/{p.goal_exchanges}", str(p.minutes_watched),
         "进度落后" if p.at_risk else ("未达目标" if p.below_goal else "达标")) for p in report.pairs]
    _table(pdf, rows, widths=(50, 50, 30, 25, 25))
    return bytes(pdf.output())


def _document() -> FPDF:
    if not CJK_FONT.exists():
        raise FontMissing(f"{CJK_FONT} is missing: run infra/cjk-fonts.sh install")
    pdf = FPDF(format="A4")
    pdf.set_title("结对帮扶学期报告")
    pdf.add_font("cjk", fname=str(CJK_FONT), collection_font_number=CJK_FONT_SC)
    pdf.add_page()
    return pdf


def _table(pdf: FPDF, rows: list[tuple[str, ...]], *, widths: tuple[int, ...]) -> None:
    pdf.set_font("cjk", size=10)
    for index, row in enumerate(rows):
        for text, width in zip(row, widths, strict=True):
            pdf.cell(width, 7, text, border=1, fill=False, align="C" if index == 0 else "L")
        pdf.ln(7)
