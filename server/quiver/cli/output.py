"""What the command line writes: JSON that is always valid UTF-8, names as the disk has them.

A file name that is not valid UTF-8 is a ``str`` with lone surrogates in Python
(``os.fsdecode``: ``b"bad\\xff.py"`` is ``"bad\\udcff.py"``). Written as is, it either
raises (a strict UTF-8 stdout) or puts the raw byte into the output (the C locale's
``surrogateescape``), which is not valid JSON text.
"""

from __future__ import annotations

import io
import json
import re
from typing import TextIO

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_line(payload: object) -> str:
    """``payload`` as one line of JSON, always valid UTF-8.

    Other non-ASCII text is written as itself; a lone surrogate becomes a ``\\uXXXX``
    escape, so ``json.loads`` gives back the same ``str`` and ``os.fsencode`` of a
    path the file's real name. Costs one ``json.dumps`` (plus one regex pass when a
    surrogate is present).
    """
    text = json.dumps(payload, ensure_ascii=False)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Outside string literals JSON text is ASCII, so every surrogate is inside one.
        return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return text


def write_names_as_bytes(stream: TextIO) -> None:
    """Make ``stream`` write an undecodable file name's own bytes, as ``ls`` and ``find``
    do, instead of raising ``UnicodeEncodeError`` under a strict UTF-8 locale."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="surrogateescape")
