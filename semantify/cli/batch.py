"""``semantify shape --batch ROWS.csv``: one mesh (and params) per row of slider values.

The first row names sliders; each later row holds their values (an empty cell leaves that
slider unset). Every row is read and checked before the first mesh is written.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from semantify import limits
from semantify.errors import SemantifyError
from semantify.files import check_file


def read_rows(path: str, slider_set) -> list[dict[str, float]]:
    """The {slider: value} of each data row of the CSV at ``path``, or a one-line error naming
    the row and column."""
    try:
        check_file(path, f"--batch {path}", "pass a UTF-8 CSV file whose first row names "
                   "sliders", limits.MAX_BATCH_BYTES, "split it into smaller files")
        with open(path, newline="", encoding="utf-8-sig") as file:
            return _rows(csv.reader(file), path, slider_set)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = getattr(error, "strerror", None) or str(error).split("\n")[0][:80]
        raise SemantifyError(f"cannot read --batch {path} ({reason}); pass a UTF-8 CSV file "
                             "whose first row names sliders.") from None


def _rows(reader, path: str, slider_set) -> list[dict[str, float]]:
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise SemantifyError(f"--batch {path} is empty; its first row names sliders "
                             f"({', '.join(slider_set.names)}).")
    unknown = [name for name in header if name not in slider_set.names]
    if unknown:
        raise SemantifyError(f"--batch {path}: column {unknown[0][:60]!r} is not a slider of "
                             f"{slider_set.name!r}; its sliders: {', '.join(slider_set.names)}.")
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(rows) == limits.MAX_BATCH_ROWS:
            raise SemantifyError(f"--batch {path} has more than {limits.MAX_BATCH_ROWS} rows; "
                                 "split it into smaller files.")
        if len(cells) > len(header):
            raise SemantifyError(f"--batch {path} row {line} has {len(cells)} cells for "
                                 f"{len(header)} columns; remove the extra cells.")
        rows.append({name: _number(text, name, line, path)
                     for name, text in zip(header, cells) if text.strip()})
    if not rows:
        raise SemantifyError(f"--batch {path} has a header but no rows; add one row of slider "
                             "values per mesh.")
    return rows


def _number(text: str, name: str, line: int, path: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SemantifyError(f"--batch {path} row {line}, {name}: {text.strip()[:30]!r} is not "
                             "a finite number.")
    return value


def numbered(path: Path, index: int, count: int) -> Path:
    """``body.glb`` -> ``body-007.glb``: the file of row ``index`` (from 1) of ``count``."""
    return path.with_name(f"{path.stem}-{index:0{len(str(count))}d}{path.suffix}")
