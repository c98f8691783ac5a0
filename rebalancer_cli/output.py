"""Printing: aligned tables, drift bars (colour only on a TTY or with --color), JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

RED = "\033[31m"
GREEN = "\033[32m"
BOLD = "\033[1m"
DIM = "\033[2m"
RESET = "\033[0m"


def use_color(flag: bool | None, stream: TextIO) -> bool:
    """--color / --no-color when given; else colour on a TTY unless NO_COLOR is set."""
    if flag is not None:
        return flag
    return stream.isatty() and not os.environ.get("NO_COLOR")


@dataclass
class Out:
    """Where a command prints: stdout, as text (maybe coloured) or as one JSON document."""

    json: bool = False
    color: bool = False
    stream: TextIO = sys.stdout

    def line(self, text: str = "") -> None:
        """A line of text."""
        print(text, file=self.stream)

    def paint(self, text: str, code: str) -> str:
        """`text` in colour when colour is on (the text itself always says it all)."""
        return f"{code}{text}{RESET}" if self.color and text else text

    def document(self, value: Any) -> None:
        """The command's one JSON document."""
        print(json.dumps(jsonable(value), indent=2), file=self.stream)


def jsonable(value: Any) -> Any:
    """Decimals as numbers' strings, dates as ISO strings, mappings and lists recursively."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Column:
    """A table column: header and alignment."""

    header: str
    right: bool = False


def table(columns: Sequence[Column], rows: Iterable[Sequence[str]], out: Out) -> None:
    """Print an aligned table; cells may carry colour codes (widths ignore them)."""
    body = [list(row) for row in rows]
    widths = [len(c.header) for c in columns]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], visible_len(cell))

    def render(cells: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - visible_len(cell))
            parts.append(pad + cell if columns[i].right else cell + pad)
        return "  ".join(parts).rstrip()

    out.line(render([c.header for c in columns]))
    for row in body:
        out.line(render(row))


def visible_len(text: str) -> int:
    """Length without ANSI colour codes."""
    length, skipping = 0, False
    for char in text:
        if char == "\033":
            skipping = True
        elif skipping:
            skipping = char != "m"
        else:
            length += 1
    return length


def drift_bar(drift: float, band: float, scale: float, out: Out, half: int = 10) -> str:
    """A bar centred on `|`: left (green, `-`) underweight, right (red, `+`) overweight.

    `scale` is the drift that fills half the bar; a `:` marks the band's edge on each side
    when it falls inside. Sign and text beside the colour: the drift column says the same.
    """
    cells = min(half, round(abs(drift) / scale * half)) if scale > 0 else 0
    edge = min(half, round(band / scale * half)) if scale > 0 else half
    left = [" "] * half
    right = [" "] * half
    if 0 < edge < half:
        left[half - edge - 1] = ":"
        right[edge] = ":"
    if drift < 0:
        for i in range(cells):
            left[half - 1 - i] = "-"
        return out.paint("".join(left), GREEN) + "|" + "".join(right)
    for i in range(cells):
        right[i] = "+"
    return "".join(left) + "|" + out.paint("".join(right), RED)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a header row (LF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def money(value: Any) -> str:
    """$1,234.56 (negative: -$1,234.56); '' for None."""
    if value is None:
        return ""
    amount = float(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def signed(value: Any, places: int = 2) -> str:
    """+1.23 / -1.23; '' for None."""
    return "" if value is None else f"{float(value):+.{places}f}"


def number(value: Any, places: int = 2) -> str:
    """1.23; '' for None."""
    return "" if value is None else f"{float(value):.{places}f}"


def qty(value: Any) -> str:
    """A quantity as the broker has it (decimal string), '' for None."""
    if value is None:
        return ""
    return format(Decimal(str(value)).normalize(), "f")
