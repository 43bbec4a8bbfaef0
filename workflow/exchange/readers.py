"""Reading an import file: CSV (UTF-8, with or without a BOM; comma, semicolon or tab)
or XLSX (the first sheet), as a header and numbered rows, and matching the header to a
layout. A file that cannot be read, or whose columns are unknown, doubled or missing
the required ones, is refused as a whole (`ImportFileError`) before any row is read.
A header cell names a column by its code ("full_name") or its label ("Họ và tên",
"Full name"). Blank rows are skipped; line numbers stay those a spreadsheet shows."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.exchange.layouts import (
    INFORMATIONAL,
    KINDS,
    columns,
    header_names,
    required_columns,
)
from workflow.exchange.limits import Limits
from workflow.exchange.report import ImportFileError
from workflow.text import fold

# Columns read from a sheet: more than any layout has. A sheet that claims 16,384
# columns would otherwise be padded to that width on every row.
MAX_COLUMNS = 256


@dataclass
class Table:
    header: list[str]
    total: int  # data rows (an estimate for XLSX files without a dimension)
    rows: Iterator[tuple[int, list[Any]]]  # (line number, values)


@contextmanager
def open_table(
    path: Path, file_name: str | None = None, limits: Limits | None = None
) -> Iterator[Table]:
    """The file's header and rows; ImportFileError when it cannot be read as a table or
    goes past one of the `limits` (checked before any row is parsed)."""
    name = (file_name or path.name).lower()
    limits = limits or Limits()
    try:
        limits.check_size(path.stat().st_size)
        with path.open("rb") as probe:
            head = probe.read(4)
    except OSError as error:
        raise ImportFileError(
            f"Không đọc được tệp: {error.strerror}", f"Cannot read the file: {error.strerror}"
        ) from error
    if not head:
        raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
    if head.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        limits.check_xlsx(path)
        with _xlsx_table(path) as table:
            yield table
    elif name.endswith((".csv", ".txt")) or not name.rpartition(".")[1]:
        with _csv_table(path, limits) as table:
            yield table
    else:
        raise ImportFileError(
            "Chỉ nhận tệp CSV (UTF-8) hoặc Excel (.xlsx)", "Only CSV (UTF-8) or XLSX files"
        )


@contextmanager
def _csv_table(path: Path, limits: Limits) -> Iterator[Table]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as probe:
            sample = probe.read(64 * 1024)
            probe.seek(0)
            delimiter = _delimiter(sample)
            total = sum(1 for row in csv.reader(probe, delimiter=delimiter) if _filled(row))
            limits.check_rows(total - 1)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)

            def numbered() -> Iterator[tuple[int, list[Any]]]:
                for row in reader:
                    if _filled(row):
                        yield reader.line_num, list(row)

            rows = numbered()
            header = next(rows, None)
            if header is None:
                raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
            yield Table([str(h) for h in header[1]], total - 1, rows)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "Tệp CSV không phải mã UTF-8: hãy lưu lại với kiểu 'CSV UTF-8'",
            "The CSV file is not UTF-8: save it again as 'CSV UTF-8'",
        ) from error
    except csv.Error as error:
        raise ImportFileError(
            f"Tệp CSV bị lỗi định dạng: {error}", f"The CSV file is malformed: {error}"
        ) from error


def _delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    return max((",", ";", "\t"), key=first.count)


def _filled(row: Sequence[Any]) -> bool:
    return any(v is not None and str(v).strip() for v in row)


@contextmanager
def _xlsx_table(path: Path) -> Iterator[Table]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(
            "Không mở được tệp Excel (.xlsx): tệp hỏng hoặc không phải .xlsx",
            "Cannot open the Excel file: it is damaged or not .xlsx",
        ) from error
    try:
        sheet = book.worksheets[0]

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            for number, row in enumerate(cells, start=1):
                if _filled(row):
                    yield number, list(row)

        rows = numbered()
        header = next(rows, None)
        if header is None:
            raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
        total = max((sheet.max_row or 0) - header[0], 0)
        yield Table(["" if h is None else str(h) for h in header[1]], total, rows)
    finally:
        book.close()


def match_header(table: Table, kind: str | None) -> tuple[str, list[str]]:
    """The kind of the file and its column names — each header cell a column's name or
    its Vietnamese or English label, in any case, with or without diacritics (an export
    with labels reads back); ImportFileError otherwise."""
    raw = [unicodedata.normalize("NFC", h).strip().lstrip("\ufeff") for h in table.header]
    if kind is None:
        fitting = [k for k in KINDS if set(required_columns(k)) <= set(_named(raw, k))]
        if len(fitting) > 1:  # a sheet of members by village holds a member's columns too
            fitting = [k for k in fitting if set(_named(raw, k)) <= _known(k) | {""}] or fitting
        if len(fitting) != 1:
            expected = "; ".join(f"{k}: {', '.join(required_columns(k))}" for k in KINDS)
            raise ImportFileError(
                f"Không nhận ra loại dữ liệu từ các cột. Các cột bắt buộc — {expected}",
                f"Cannot tell what the file holds from its columns. Required columns — {expected}",
            )
        kind = fitting[0]
    if kind not in KINDS:
        raise ImportFileError(
            f"Loại dữ liệu '{kind}' không có (có: {', '.join(KINDS)})",
            f"No kind '{kind}' (known: {', '.join(KINDS)})",
        )
    names = _named(raw, kind)
    doubled = sorted({n for n in names if n and names.count(n) > 1})
    if doubled:
        raise ImportFileError(
            f"Cột bị lặp: {', '.join(doubled)}", f"Columns appear twice: {', '.join(doubled)}"
        )
    known = _known(kind)
    unknown = [h for h, n in zip(raw, names, strict=True) if n and n not in known]
    missing = [n for n in required_columns(kind) if n not in names]
    if unknown or missing:
        _refuse(kind, unknown, missing)
    return kind, names


def _known(kind: str) -> set[str]:
    return set(columns(kind)) | set(INFORMATIONAL[kind])


def _named(header: list[str], kind: str) -> list[str]:
    """The header's cells as the columns of `kind` they name (unknown ones as written,
    lowered; empty ones empty: a nameless column is ignored)."""
    known = header_names(kind)
    return [known.get(fold(h), h.lower()) if h else "" for h in header]


def _refuse(kind: str, unknown: list[str], missing: list[str]) -> None:
    problems_vi, problems_en = [], []
    if missing:
        problems_vi.append(f"thiếu cột: {', '.join(missing)}")
        problems_en.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        problems_vi.append(f"cột không biết: {', '.join(unknown)}")
        problems_en.append(f"unknown columns: {', '.join(unknown)}")
    raise ImportFileError(
        f"Các cột của tệp không đúng mẫu '{kind}' ({'; '.join(problems_vi)}). "
        f"Các cột cần có: {', '.join(columns(kind))}",
        f"The file's columns do not match the '{kind}' layout ({'; '.join(problems_en)}). "
        f"Expected columns: {', '.join(columns(kind))}",
    )
