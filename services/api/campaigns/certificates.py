"""Certificates as PDF, in Chinese (Debian's Noto Sans CJK, infra/libreoffice.sh installs
fonts-noto-cjk), with the verification code that resolves at GET /api/v1/certificates/{code}."""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from services.api.campaigns.service import CertificateView

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED_CHINESE = 2  # the collection's faces: JP, KR, SC, TC, HK


def render_pdf(view: CertificateView, *, verify_url: str) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("noto", fname=str(FONT), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.set_draw_color(170, 30, 30)
    pdf.set_line_width(2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_font("noto", size=36)
    pdf.set_y(30)
    pdf.cell(0, 20, "荣誉证书", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=18)
    pdf.ln(10)
    pdf.multi_cell(0, 12, f"{view.school} {view.teacher} 老师：", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 12, f"您的课例《{view.title}》在“{view.campaign}”活动中荣获{view.award}。", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 12, "特发此证，以资鼓励。", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=12)
    pdf.set_y(165)
    pdf.cell(0, 8, f"证书编号（验证码）：{view.code}    颁发日期：{view.issued_at:%Y-%m-%d}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, f"验证：{verify_url}", align="C")
    return bytes(pdf.output())
