"""A report's tables as text (the CLI), CSV and XLSX (download). One source — the
"tables" of `catalogue.compute` — so every format shows the same figures.

CSV starts with a byte-order mark so spreadsheet programs read the Vietnamese
correctly, and writes decimals with a dot (it is for machines); text and XLSX show the
percentages as people read them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from workflow import hygiene
from workflow.hygiene import xml_text
from workflow.reports.figures import NO_FIGURE, decimals_for, exact, vi_number, vi_share
from workflow.text import dmy


def cell_text(value: Any, kind: str, precision: int = 1) -> str:
    """A table cell as a person reads it: 2.365; 56,8%; 0,64%; —. A share is printed
    from its exact value, rounded here once."""
    if value is None:
        return NO_FIGURE if kind != "text" else ""
    if kind == "percent":
        return vi_share(value, precision)
    if kind == "int" and isinstance(value, int):
        return vi_number(value)
    if kind == "date":
        return _dmy(str(value))
    return str(value)


FORMULA_STARTS = hygiene.FORMULA_START


def safe_text(value: Any) -> Any:
    """Text a spreadsheet would run as a formula ("=HYPERLINK(…)" typed as a class name
    or a village) is kept as text with a leading apostrophe; numbers pass unchanged."""
    return hygiene.formula_safe(value)


def xlsx_text(value: Any) -> Any:
    """An XLSX cell: formula-safe and without what XML cannot hold (a control character
    in a name stored before Ketnap refused them)."""
    return hygiene.spreadsheet_text(value)


def heading(result: dict[str, Any]) -> list[str]:
    org = result["organisation"]["name"]
    return [result["title"], f"{org} — từ {_dmy(result['from'])} đến {_dmy(result['to'])}"]


def _dmy(iso: str) -> str:
    return dmy(date.fromisoformat(iso))


def to_text(result: dict[str, Any]) -> str:
    lines = heading(result)
    for table in result["tables"]:
        kinds = [c["type"] for c in table["columns"]]
        cells = [[c["label"] for c in table["columns"]]] + [
            [cell_text(v, k, result.get("precision", 1)) for v, k in zip(row, kinds, strict=True)]
            for row in table["rows"]
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(kinds))]
        lines += ["", table["title"]]
        for row in cells:
            lines.append(
                "  ".join(
                    text.ljust(width) if kind == "text" else text.rjust(width)
                    for text, width, kind in zip(row, widths, kinds, strict=True)
                ).rstrip()
            )
    return "\n".join(lines) + "\n"


def to_csv(result: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in heading(result):
        writer.writerow([safe_text(line)])
    for table in result["tables"]:
        writer.writerow([])
        writer.writerow([table["title"]])
        writer.writerow([c["label"] for c in table["columns"]])
        for row in table["rows"]:  # a share as the API gives it: two decimals, a dot
            writer.writerow([NO_FIGURE if v is None else safe_text(v) for v in row])
    return "\ufeff" + out.getvalue()


def to_xlsx(result: dict[str, Any]) -> bytes:
    """A workbook: a cover sheet, then one sheet per table."""
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Báo cáo"
    for line in heading(result):
        cover.append([xlsx_text(line)])
    cover["A1"].font = Font(bold=True, size=13)
    used = {cover.title}
    for index, table in enumerate(result["tables"], start=1):
        sheet = book.create_sheet(_sheet_name(f"{index}. {table['title']}", used))
        sheet.append([xlsx_text(c["label"]) for c in table["columns"]])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        kinds = [c["type"] for c in table["columns"]]
        for row in table["rows"]:
            sheet.append([_xlsx_value(v, k) for v, k in zip(row, kinds, strict=True)])
            for cell, kind, value in zip(sheet[sheet.max_row], kinds, row, strict=True):
                if kind == "percent" and isinstance(cell.value, float):
                    cell.number_format = _percent_format(value, result.get("precision", 1))
                elif kind == "date":
                    cell.number_format = "DD/MM/YYYY"
        for letter, width in zip("ABCDEFGHIJ", _widths(table), strict=False):
            sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any, kind: str) -> Any:
    if value is None:
        return NO_FIGURE if kind != "text" else ""
    if kind == "percent":  # the exact share: the spreadsheet rounds it, once, to show it
        figure = exact(value)
        assert figure is not None
        return float(figure / 100)
    if kind == "date":
        return date.fromisoformat(str(value))
    return xlsx_text(value)


def _percent_format(value: Any, precision: int) -> str:
    figure = exact(value)
    return "0.00%" if figure is not None and decimals_for(figure, precision) == 2 else "0.0%"


def _widths(table: dict[str, Any]) -> list[int]:
    columns = len(table["columns"])
    longest = [len(c["label"]) for c in table["columns"]]
    for row in table["rows"]:
        for i in range(columns):
            longest[i] = max(longest[i], len(str(row[i] or "")))
    return [min(max(10, n + 2), 60) for n in longest]


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel sheet names: ≤ 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "-", hygiene.one_line(title))[:31] or "-"
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


NARRATIVE_FONT = "Times New Roman"  # as the committees' documents are typed


def narrative_docx(summary: dict[str, Any]) -> bytes:
    """The narrative summary as a Word document a committee edits into its report: the
    title, the period, one paragraph per topic."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = NARRATIVE_FONT
    normal.font.size = Pt(14)
    heading = document.add_paragraph()
    heading.add_run(xml_text(summary["title"])).bold = True
    document.add_paragraph(
        xml_text(f"{summary['period']} ({_dmy(summary['from'])} – {_dmy(summary['to'])})")
    )
    for paragraph in summary["paragraphs"]:
        document.add_paragraph(xml_text(paragraph["text"]))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
