"""The wording of a finding: a pack's template filled with the measured values.

Templates are Python format strings over the check's variables, with these formats:

| in the template | gives |
|---|---|
| ``{value}`` | the value as it is (a whole number stays whole) |
| ``{value:n}`` / ``{value:n2}`` | the number to 4 / 2 decimals (12.3456, 72.45) |
| ``{value:pct}`` / ``{value:pctzh}`` | a ratio as a percentage: ``72.5 %`` / ``72.5%`` |
| ``{passed:meets\\|is below}`` | the first text when the variable is true, else the second; either may hold ``{other:n}`` |

Numbers are exact fractions until they are printed.
"""

from __future__ import annotations

import string
from fractions import Fraction
from typing import Any


def num(x: Fraction | int | float, places: int = 4) -> float:
    return round(float(x), places)


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            yes, no = format_spec.split("|", 1)
            return yes if value else no
        if value is None:
            return "—"
        if format_spec == "n":
            return str(num(value))
        if format_spec == "n2":
            return str(num(value, 2))
        if format_spec == "pct":
            return f"{num(Fraction(value) * 100, 2)} %"
        if format_spec == "pctzh":
            return f"{num(Fraction(value) * 100, 2)}%"
        if isinstance(value, Fraction):
            value = value.numerator if value.denominator == 1 else num(value)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def render(template: str, variables: dict[str, Any]) -> str:
    """The template filled in; a variable the template names but the measure did not give is a
    pack error, said with the names the check has."""
    try:
        return _FORMATTER.vformat(template, (), variables)
    except KeyError as exc:
        raise KeyError(f"the template names {exc.args[0]!r}; this check's variables are {sorted(variables)}") from None
