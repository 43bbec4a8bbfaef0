"""The caps of an import, checked before a row is parsed: the file's size, an .xlsx's
uncompressed size (the sum of its zip members' declared sizes, read from the zip's
directory — openpyxl never sees a bomb; Python's zipfile stops a member at its declared
size, so a member cannot lie its way past the cap), the rows of the sheet (counted in
the raw XML stream, cheaply, before openpyxl reads it), and the rejected rows' messages
kept (the rest are counted). Each refusal names the cap in Vietnamese and English."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from workflow.exchange.report import ImportFileError

MB = 1024 * 1024
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])([^>]*)>")
_ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d{1,9})["']""")
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SMALL_PART = 4 * MB  # workbook.xml and its relationships, read whole to find sheet 1


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 50 * MB
    max_unpacked_bytes: int = 256 * MB
    max_rows: int = 200_000
    max_errors: int = 10_000

    @classmethod
    def of(cls, imports: Mapping[str, Any]) -> Limits:
        """From the [imports] section of the configuration (defaults for a missing key)."""
        default = cls()
        return cls(
            int(imports.get("max_upload_mb", default.max_upload_bytes // MB)) * MB,
            int(imports.get("max_unpacked_mb", default.max_unpacked_bytes // MB)) * MB,
            int(imports.get("max_rows", default.max_rows)),
            int(imports.get("max_errors", default.max_errors)),
        )

    def check_size(self, size: int) -> None:
        if size > self.max_upload_bytes:
            raise ImportFileError(
                f"Tệp {_mb(size)} lớn hơn giới hạn {_mb(self.max_upload_bytes)}",
                f"The file ({_mb(size)}) is larger than the limit of {_mb(self.max_upload_bytes)}",
            )

    def check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise ImportFileError(
                f"Tệp có hơn {self.max_rows:,} dòng (giới hạn của một lần nhập); "
                "hãy chia tệp thành nhiều phần",
                f"The file has more than {self.max_rows:,} rows (the limit of one import); "
                "split it into several files",
            )

    def check_xlsx(self, path: Path) -> None:
        """Refuse a workbook whose members unpack past the cap, or whose first sheet has
        more rows than the cap, without handing it to openpyxl."""
        try:
            with zipfile.ZipFile(path) as book:
                unpacked = sum(member.file_size for member in book.infolist())
                if unpacked > self.max_unpacked_bytes:
                    raise ImportFileError(
                        f"Tệp Excel giải nén ra {_mb(unpacked)}, quá giới hạn "
                        f"{_mb(self.max_unpacked_bytes)}: tệp có thể là một 'bom nén'",
                        f"The Excel file unpacks to {_mb(unpacked)}, over the limit of "
                        f"{_mb(self.max_unpacked_bytes)}: it may be a zip bomb",
                    )
                sheet = _first_sheet(book)
                if sheet is not None:
                    rows = _count_rows(book, sheet, stop_past=self.max_rows + 1)
                    self.check_rows(max(rows - 1, 0))  # less the header
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, KeyError) as e:
            raise ImportFileError(
                "Không mở được tệp Excel (.xlsx): tệp hỏng hoặc không phải .xlsx",
                "Cannot open the Excel file: it is damaged or not .xlsx",
            ) from e


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _first_sheet(book: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's first sheet (the one the import reads)."""
    names = set(book.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None  # openpyxl will refuse it with its own message
    workbook = ElementTree.fromstring(_small(book, "xl/workbook.xml"))
    first = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
    if first is None:
        return None
    relations = ElementTree.fromstring(_small(book, "xl/_rels/workbook.xml.rels"))
    for relation in relations.iter(f"{_RELATIONSHIPS}Relationship"):
        if relation.get("Id") == first.get(_OFFICE_REL):
            target = relation.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


def _small(book: zipfile.ZipFile, name: str) -> bytes:
    if book.getinfo(name).file_size > _SMALL_PART:
        raise ImportFileError(
            f"Tệp Excel có phần '{name}' lớn bất thường",
            f"The Excel file's part '{name}' is unusually large",
        )
    return book.read(name)


def _count_rows(book: zipfile.ZipFile, member: str, stop_past: int) -> int:
    """The rows of a sheet, from its raw XML read chunk by chunk: the number of <row>
    elements or the highest row number one names (r="1048576" alone makes openpyxl
    walk a million empty rows), whichever is larger — no further than `stop_past`."""
    count = highest = 0
    pending = b""
    with book.open(member) as stream:
        while chunk := stream.read(1 << 20):
            pending += chunk
            cut = pending.rfind(b"<")
            if cut == -1 or b">" in pending[cut:]:
                cut = len(pending)  # no tag left open at the chunk's end
            for match in _ROW.finditer(pending, 0, cut):
                count += 1
                number = _ROW_NUMBER.search(match.group(1))
                if number:
                    highest = max(highest, int(number.group(1)))
            pending = pending[cut:]
            if max(count, highest) > stop_past:
                break  # enough to refuse the file
    return max(count, highest)
