"""The values a choice column of an import accepts: its codes (the API's contract) and the
labels people write — "Nữ", "Nông dân", "Hội Liên hiệp Phụ nữ" — taken from the process
table's labels (process.CHOICE_LABELS, the states' labels), never a second list.

A value matches when, ignoring case, diacritics and spacing (text.fold), it is
- a code ("female", "civil servant" for civil_servant),
- a label in Vietnamese or English ("Nữ", "nu", "Female"),
- a label without the column's own name in front ("Chính thức" in the column "Đảng viên"
  for "Đảng viên chính thức"),
- one part of a label listing several ("Công an" or "Quân đội" for "Công an, quân
  đội"), or the first words of a label ("Đoàn Thanh niên" for "Đoàn Thanh niên Cộng sản
  Hồ Chí Minh"), where that part has two words or more and belongs to one choice only.
Anything else is refused with the accepted labels listed (`accepted`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workflow.text import Text, fold


@dataclass(frozen=True)
class Choices:
    """A choice column: its label (for messages) and its codes with their labels."""

    column: Text
    labels: dict[str, Text]  # code → label, in the order the column offers them
    _keys: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: dict[str, str] = {}
        prefix = fold(self.column.vi) + " "
        for code, label in self.labels.items():  # whole labels first: they win over parts
            for key in (code, code.replace("_", " "), label.vi, label.en):
                keys.setdefault(fold(key), code)
        for code, label in self.labels.items():
            if fold(label.vi).startswith(prefix):
                keys.setdefault(fold(label.vi).removeprefix(prefix), code)
        for key, code in self._unique_parts().items():
            keys.setdefault(key, code)
        object.__setattr__(self, "_keys", keys)

    def _unique_parts(self) -> dict[str, str]:
        """The parts of comma-separated labels (two words or more) that name one choice."""
        parts: dict[str, set[str]] = {}
        for code, label in self.labels.items():
            for part in (*label.vi.split(","), *label.en.split(",")):
                if len(part.split()) >= 2:
                    parts.setdefault(fold(part), set()).add(code)
        return {key: codes.pop() for key, codes in parts.items() if len(codes) == 1}

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def match(self, value: str) -> str | None:
        """The code `value` names, or None."""
        key = fold(value)
        found = self._keys.get(key)
        if found is not None or len(key.split()) < 2:
            return found
        starting = {
            code
            for code, label in self.labels.items()
            for text in (label.vi, label.en)
            if fold(text).startswith(key + " ")
        }
        return starting.pop() if len(starting) == 1 else None

    def label(self, code: str, locale: str = "vi") -> str:
        """What an export shows for `code` (an unknown code, from old data, as stored)."""
        label = self.labels.get(code)
        return label.say(locale) if label else code

    def accepted(self) -> Text:
        """The accepted values, label then code: "Nữ (female), Nam (male)"."""
        return Text(
            ", ".join(f"{label.vi} ({code})" for code, label in self.labels.items()),
            ", ".join(f"{label.en} ({code})" for code, label in self.labels.items()),
        )

    def refusal(self, value: str) -> Text:
        """The message for a value that names no choice."""
        accepted = self.accepted()
        return Text(
            f"'{value}' không phải giá trị hợp lệ của cột '{self.column.vi}'. "
            f"Chấp nhận: {accepted.vi}",
            f"'{value}' is not a valid value of the column '{self.column.en}'. "
            f"Accepted: {accepted.en}",
        )
