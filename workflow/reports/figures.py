"""Figures as the district reports print them, from exact shares.

A share is kept exact (`Share`: a percentage as a Fraction, 110 of 321 → 34,2679…%) and
rounded once, where it is shown: the API gives two decimals; pages and the narrative
print one decimal, or two where the share is under 1 % ("học sinh 04 (0,64%)") or the
reader asks for two (`precision=2`). A change between two dates is the difference of
the exact shares (110/321 − 107/321 = 0,93 points), never of rounded ones (34,3 − 33,3).
Rounding is half away from zero, in integer arithmetic, so 2,25 never becomes 2,2
through binary floats. Vietnamese number formatting: "." groups thousands, ","
marks decimals: 2.365; 56,8%.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

NO_FIGURE = "—"  # a share of nothing, or a target nobody set
PRECISIONS = (1, 2)  # decimals a reader may ask for
API_DECIMALS = 2


def _scaled(exact: Fraction, decimals: int) -> int:
    """exact × 10^decimals rounded half away from zero."""
    scaled = abs(exact) * 10**decimals
    whole: int
    remainder: int
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if remainder * 2 >= scaled.denominator:
        whole += 1
    return -whole if exact < 0 else whole


class Share(float):
    """A percentage kept exact. As a number (JSON, comparisons) it is the percentage to
    two decimals — what the API gives; `exact` is the Fraction every printed figure and
    every change is computed from."""

    exact: Fraction

    def __new__(cls, exact: Fraction) -> Share:
        value = super().__new__(cls, _scaled(exact, API_DECIMALS) / 10**API_DECIMALS)
        value.exact = exact
        return value

    def __reduce__(self) -> tuple[Any, ...]:  # copy and pickle rebuild it exactly
        return (Share, (self.exact,))

    @classmethod
    def of(cls, part: int, whole: int | None) -> Share | None:
        """part of whole as a percentage; None when there is nothing to divide by."""
        if not whole or whole <= 0:
            return None
        return cls(Fraction(part * 100, whole))

    def change_to(self, later: Share) -> Share:
        """The change from this share to `later`, in percentage points, exactly."""
        return Share(later.exact - self.exact)


def exact(value: Any) -> Fraction | None:
    """The exact percentage of a Share; a plain number (older callers) as written."""
    if value is None:
        return None
    if isinstance(value, Share):
        return value.exact
    return Fraction(str(value))


def decimals_for(value: Fraction, precision: int = 1) -> int:
    """Two decimals when asked, or when a share is under 1 % (0,64%); else one."""
    return 2 if precision >= 2 or 0 < abs(value) < 1 else 1


def vi_share(value: Any, precision: int = 1) -> str:
    """An exact share as the reports print it: "56,8%", "0,64%"; "—" for none."""
    figure = exact(value)
    if figure is None:
        return NO_FIGURE
    return vi_fixed(figure, decimals_for(figure, precision)) + "%"


def vi_fixed(value: Fraction, decimals: int) -> str:
    """34,2679… with 2 decimals → "34,27"; 1234,5 with 1 → "1.234,5"."""
    scaled = _scaled(value, decimals)
    sign = "-" if scaled < 0 else ""
    whole, fraction = divmod(abs(scaled), 10**decimals)
    return f"{sign}{vi_number(whole)},{fraction:0{decimals}d}"


def percent(part: int, whole: int | None) -> Share | None:
    """part / whole as an exact percentage, or None when there is nothing to divide by."""
    return Share.of(part, whole)


def percent_tenths(part: int, whole: int | None) -> int | None:
    """part / whole as a percentage in tenths, half up (625 of 1100 → 568); None if no whole."""
    share = Share.of(part, whole)
    return None if share is None else _scaled(share.exact, 1)


def vi_number(value: int) -> str:
    """2365 → "2.365"."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def vi_percent(part: int, whole: int | None, precision: int = 1) -> str:
    """625 of 1100 → "56,8%"; 4 of 625 → "0,64%"; of nothing → "—"."""
    return vi_share(Share.of(part, whole), precision)


def vi_percent_value(value: Any, precision: int = 1) -> str:
    """A share (exact, or an already rounded number) → "56,8%"."""
    return vi_share(value, precision)


def change(before: Share | None, after: Share | None) -> Share | None:
    """The change between two shares in points, from the exact shares ("tăng 0,93%")."""
    if before is None or after is None:
        return None
    return before.change_to(after)


def restate(result: Any, precision: int) -> None:
    """Print every share of a report's result at `precision`: each {"percent", "text"}
    figure's text is rewritten from its exact share (never from a rounded one)."""
    if isinstance(result, dict):
        if "text" in result and isinstance(result.get("percent"), Share):
            result["text"] = vi_share(result["percent"], precision)
        for value in result.values():
            restate(value, precision)
    elif isinstance(result, list):
        for value in result:
            restate(value, precision)
