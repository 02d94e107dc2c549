"""Text the app shows: escaped, free of server paths, one line per notice.

Everything derived from user input or from files (slider names, messages that quote them) goes
through :func:`shown` before it reaches the page, in the info box and in toasts alike.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

MAX_CHARS = 400
# An absolute path: /a/b..., ~/a/..., or C:\\a\\... (a server path must never be shown).
_PATH = re.compile(r"(?<![\w:/.])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\"`,;)]+[/\\])+"
                   r"([^\s/\\'\"`,;)]*)")


def without_paths(text: str) -> str:
    """``text`` with absolute paths cut to their last part (``/srv/x/y.json`` -> ``y.json``)."""
    return _PATH.sub(lambda match: match.group(1) or "(folder)", text)


# A fix written for the command line: a `semantify ...` command, or a --flag.
_CLI_FIX = re.compile(r"`semantify |(?:^|\s)--[a-z]")
OPERATOR = "the server's operator can fix this (the server log says how)"


def for_visitors(message: str) -> str:
    """``message`` ("problem; fix.") with a fix meant for the command line replaced by a
    pointer to the operator, who finds the full message in the server log."""
    problem, sep, fix = str(message).partition("; ")
    if sep and _CLI_FIX.search(fix):
        return f"{problem}; {OPERATOR}."
    return str(message)


# HTML's and Markdown's own syntax, written as character references: shown as itself, never
# as markup, a link, an image (which the browser would fetch), emphasis or a table.
_MARKDOWN = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]!|~"})


def shown(text: str) -> str:
    """One line of text safe to put on the page (Markdown or HTML): no server paths, HTML
    and Markdown escaped, bounded."""
    text = " ".join(without_paths(str(text)).split())
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1] + "…"
    return html.escape(text, quote=True).translate(_MARKDOWN)


def notices(lines: Iterable[str]) -> str:
    """Markdown bullets of ``lines``, each :func:`shown`."""
    return "\n".join(f"- {shown(line)}" for line in lines if line)
