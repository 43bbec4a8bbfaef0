"""Figures as the district reports print them: percentages to one decimal, rounded half
up (the articles' hand arithmetic sometimes rounds down; we do not), and Vietnamese
number formatting — "." groups thousands, "," marks decimals: 2.365; 56,8%.

Integer arithmetic throughout, so 2.25 never becomes 2.2 through binary floats.
"""

from __future__ import annotations

NO_FIGURE = "—"  # a share of nothing, or a target nobody set


def percent_tenths(part: int, whole: int | None) -> int | None:
    """part / whole as a percentage in tenths, half up (625 of 1100 → 568); None if no whole."""
    if not whole or whole <= 0:
        return None
    numerator = part * 1000
    tenths, remainder = divmod(numerator, whole)
    return tenths + 1 if remainder * 2 >= whole else tenths


def percent(part: int, whole: int | None) -> float | None:
    """The percentage to one decimal (56.8), or None when there is nothing to divide by."""
    tenths = percent_tenths(part, whole)
    return None if tenths is None else tenths / 10


def vi_number(value: int) -> str:
    """2365 → "2.365"."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def vi_decimal_tenths(tenths: int) -> str:
    """568 → "56,8"; 1128 → "112,8"; 12345 → "1.234,5"."""
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{vi_number(whole)},{tenth}"


def vi_percent(part: int, whole: int | None) -> str:
    """625 of 1100 → "56,8%"; of nothing → "—"."""
    tenths = percent_tenths(part, whole)
    return NO_FIGURE if tenths is None else vi_decimal_tenths(tenths) + "%"


def vi_percent_value(value: float | None) -> str:
    """An already rounded percentage (56.8) → "56,8%"."""
    if value is None:
        return NO_FIGURE
    return vi_decimal_tenths(round(value * 10)) + "%"


def points_tenths(before: int | None, after: int | None) -> int | None:
    """The change between two percentages in tenths (for "tăng 5,7%")."""
    if before is None or after is None:
        return None
    return after - before
