"""Lists an administrator hands upward, as CSV (UTF-8 with a BOM, for Excel) or XLSX."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from starlette.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(*, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> Response:
    if fmt == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = name[:31]
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(v) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return Response(buffer.getvalue(), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    buffer_text = io.StringIO()
    writer = csv.writer(buffer_text)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return Response(("\ufeff" + buffer_text.getvalue()).encode(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    if value is None:
        return ""
    text = value if isinstance(value, (int, float)) else str(value)
    # A cell starting with =, +, - or @ is a formula to a spreadsheet: keep it text.
    return "'" + text if isinstance(text, str) and text[:1] in ("=", "+", "-", "@") else text
