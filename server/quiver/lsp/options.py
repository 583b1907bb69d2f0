"""The server's options, read once from ``initializationOptions`` (and again
from ``workspace/didChangeConfiguration``) into one typed, immutable object.

The accepted JSON is documented in ``docs/protocol.md`` ("initializationOptions"):

```json
{"cacheDir": "/home/me/.cache/quiver", "exclude": ["**/generated/**"],
 "maxFileSize": 1048576,
 "search": {"limit": 50, "mode": "hybrid", "secondaryPaths": ["tests/"], "secondaryWeight": 0.9},
 "watch": true, "logLevel": "info"}
```

A bad option never stops the server: ``parse_options`` keeps the previous (by
default, the default) value of every key it cannot use and returns one
human-readable problem per key, each ending with a ``Suggestion:`` line, for
the server to show (errors) or log (warnings). Pure: no pygls import, so it is
unit-testable and usable from the CLI.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

from quiver.api import DEFAULT_LIMIT, MAX_LIMIT, SEARCH_MODES, SearchMode
from quiver.secondary_code import (
    DEFAULT_PATH_PRIOR,
    DEFAULT_SECONDARY_PATHS,
    PathPrior,
    pattern_problem,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "LogLevel",
    "OptionProblem",
    "ServerOptions",
    "parse_options",
]

LogLevel = Literal["error", "warning", "info", "debug"]


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything a client can configure, with the defaults a client gets by sending nothing.

    ``cache_dir`` None means "the default location" (decided by the store);
    ``exclude`` holds glob patterns on workspace-relative paths, added to the
    built-in excludes; ``max_file_size`` is in bytes; ``search_limit`` and
    ``search_mode`` are the defaults of requests that do not say; ``path_prior``
    ranks tests, fixtures, vendored and generated code below product code.
    """

    cache_dir: Path | None = None
    exclude: tuple[str, ...] = ()
    max_file_size: int = 1_048_576
    search_limit: int = DEFAULT_LIMIT
    search_mode: SearchMode = "hybrid"
    path_prior: PathPrior = DEFAULT_PATH_PRIOR
    watch: bool = True
    log_level: LogLevel = "info"


DEFAULT_OPTIONS = ServerOptions()


@dataclass(frozen=True, slots=True)
class OptionProblem:
    """One problem found in the client's options.

    ``severity`` is ``"warning"`` for an unknown key (ignored) and ``"error"``
    for a value that cannot be used (the previous value is kept); ``key`` is the
    dotted JSON key (``"search.limit"``); ``message`` is the full text to show,
    ending with a ``Suggestion:`` line.
    """

    severity: Literal["warning", "error"]
    key: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class _Reader:
    """Collects the values and problems while one options object is read."""

    current: ServerOptions
    problems: list[OptionProblem] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    def unknown(self, key: str, known: tuple[str, ...]) -> None:
        close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
        prefix = key.rsplit(".", 1)[0] + "." if "." in key else ""
        hint = (
            f"did you mean {prefix + close[0]!r}?"
            if close
            else "the known keys here are " + ", ".join(prefix + k for k in known) + "."
        )
        self.problems.append(
            OptionProblem(
                "warning",
                key,
                f"Unknown Quiver option {key!r} ignored.\n"
                f"Suggestion: {hint} Check the spelling against docs/protocol.md.",
            )
        )

    def bad(self, key: str, value: object, expected: str, kept: str, example: str) -> None:
        """Report an unusable value; ``kept`` says (in words) what is used instead."""
        self.problems.append(
            OptionProblem(
                "error",
                key,
                f"Invalid Quiver option {key}: {_show(value)} is not {expected}; "
                f"keeping {kept}.\n"
                f"Suggestion: set {key!r} to {example}, or remove it to use the default.",
            )
        )


def parse_options(
    raw: object, base: ServerOptions = DEFAULT_OPTIONS
) -> tuple[ServerOptions, list[OptionProblem]]:
    """Read the client's options: the options to use and the problems found.

    ``raw`` is the decoded JSON the client sent (``None`` or ``{}`` for none).
    Keys that are absent keep their value in ``base`` (the defaults, or the
    options in force when a configuration change arrives); so do keys whose
    value is unusable, each reported as an ``"error"``; unknown keys are
    reported as ``"warning"``. Settings wrapped in a ``{"quiver": {...}}``
    section (as ``workspace/didChangeConfiguration`` often sends them) are
    unwrapped. Never raises; O(size of ``raw``).
    """
    reader = _Reader(current=base)
    if raw is None:
        return base, []
    if not _is_object(raw):
        reader.problems.append(
            OptionProblem(
                "error",
                "",
                f"Quiver's initialization options must be a JSON object, got {_show(raw)}; "
                "using the defaults.\n"
                'Suggestion: send an object such as {"search": {"limit": 50}}, or nothing.',
            )
        )
        return base, reader.problems
    settings: Mapping[str, object] = raw
    section = raw.get("quiver")
    if set(raw) == {"quiver"} and _is_object(section):
        settings = section

    top_level = ("cacheDir", "exclude", "maxFileSize", "search", "watch", "logLevel")
    for key, value in settings.items():
        if key == "cacheDir":
            _read_cache_dir(reader, value)
        elif key == "exclude":
            _read_exclude(reader, value)
        elif key == "maxFileSize":
            _read_max_file_size(reader, value)
        elif key == "search":
            _read_search(reader, value)
        elif key == "watch":
            if isinstance(value, bool):
                reader.changes["watch"] = value
            else:
                reader.bad("watch", value, "true or false", _show(base.watch), "true or false")
        elif key == "logLevel":
            _read_choice(reader, "logLevel", "log_level", value, get_args(LogLevel))
        else:
            reader.unknown(str(key), top_level)
    return replace(base, **reader.changes), reader.problems


def _read_cache_dir(reader: _Reader, value: object) -> None:
    kept = (
        "the default location"
        if reader.current.cache_dir is None
        else _show(reader.current.cache_dir)
    )
    example = 'an absolute path such as "/home/me/.cache/quiver"'
    if value is None:
        reader.changes["cache_dir"] = None
    elif not isinstance(value, str) or not value.strip():
        reader.bad("cacheDir", value, "a directory path", kept, example)
    else:
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            reader.bad("cacheDir", value, "an absolute path", kept, example)
        else:
            reader.changes["cache_dir"] = path


def _read_exclude(reader: _Reader, value: object) -> None:
    example = 'a list of glob patterns such as ["**/generated/**", "*.min.js"]'
    if value is None:
        reader.changes["exclude"] = ()
        return
    if not isinstance(value, list):
        reader.bad(
            "exclude",
            value,
            "a list of glob patterns",
            _show(list(reader.current.exclude)),
            example,
        )
        return
    # Keep the usable patterns: dropping the whole list for one typo would index
    # exactly what the user meant to exclude.
    patterns = []
    for position, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            patterns.append(item.strip())
        else:
            reader.problems.append(
                OptionProblem(
                    "error",
                    f"exclude[{position}]",
                    f"Invalid Quiver option exclude[{position}]: {_show(item)} is not a glob "
                    "pattern; ignoring this entry and keeping the others.\n"
                    "Suggestion: make every entry of 'exclude' a non-empty glob pattern, "
                    'as in ["**/generated/**", "*.min.js"].',
                )
            )
    reader.changes["exclude"] = tuple(patterns)


def _read_max_file_size(reader: _Reader, value: object) -> None:
    size = _as_int(value)
    if size is None or size < 1:
        reader.bad(
            "maxFileSize",
            value,
            "a positive number of bytes",
            _show(reader.current.max_file_size),
            "a number of bytes such as 1048576 (1 MiB)",
        )
    else:
        reader.changes["max_file_size"] = size


def _read_search(reader: _Reader, value: object) -> None:
    if not _is_object(value):
        reader.bad(
            "search",
            value,
            "an object",
            "the current search settings",
            '{"limit": 20, "mode": "hybrid"}',
        )
        return
    for key, item in value.items():
        if key == "limit":
            limit = _as_int(item)
            if limit is None or not 1 <= limit <= MAX_LIMIT:
                reader.bad(
                    "search.limit",
                    item,
                    f"a whole number from 1 to {MAX_LIMIT}",
                    _show(reader.current.search_limit),
                    "a number such as 20",
                )
            else:
                reader.changes["search_limit"] = limit
        elif key == "mode":
            _read_choice(reader, "search.mode", "search_mode", item, SEARCH_MODES)
        elif key == "secondaryPaths":
            _read_secondary_paths(reader, item)
        elif key == "secondaryWeight":
            _read_secondary_weight(reader, item)
        else:
            reader.unknown(f"search.{key}", ("limit", "mode", "secondaryPaths", "secondaryWeight"))


def _prior(reader: _Reader) -> PathPrior:
    """The path prior as read so far (``secondaryPaths`` and ``secondaryWeight`` each
    replace their half of it)."""
    prior = reader.changes.get("path_prior", reader.current.path_prior)
    assert isinstance(prior, PathPrior)
    return prior


def _read_secondary_paths(reader: _Reader, value: object) -> None:
    key = "search.secondaryPaths"
    if value is None:
        reader.changes["path_prior"] = replace(_prior(reader), patterns=DEFAULT_SECONDARY_PATHS)
        return
    if not isinstance(value, list):
        reader.bad(
            key,
            value,
            "a list of glob patterns",
            _show(list(_prior(reader).patterns)),
            'a list such as ["tests/", "test_*.py", "vendor/"] ([] ranks all code alike)',
        )
        return
    # Keep the usable patterns, as for 'exclude': one typo should not undo the rest.
    patterns = []
    for position, item in enumerate(value):
        problem = "is not a glob pattern"
        if isinstance(item, str) and item.strip():
            unusable = pattern_problem(item)
            if unusable is None:
                patterns.append(item.strip())
                continue
            problem = f"is not usable ({unusable})"
        reader.problems.append(
            OptionProblem(
                "error",
                f"{key}[{position}]",
                f"Invalid Quiver option {key}[{position}]: {_show(item)} {problem}; "
                "ignoring this entry and keeping the others.\n"
                f"Suggestion: make every entry of {key!r} a non-empty glob pattern on "
                'workspace-relative paths, as in ["tests/", "*_test.go"].',
            )
        )
    reader.changes["path_prior"] = replace(_prior(reader), patterns=tuple(patterns))


def _read_secondary_weight(reader: _Reader, value: object) -> None:
    weight = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if weight is None or not (math.isfinite(weight) and 0.0 < weight <= 1.0):
        reader.bad(
            "search.secondaryWeight",
            value,
            "a number greater than 0 and at most 1",
            _show(_prior(reader).weight),
            f"a number such as {DEFAULT_PATH_PRIOR.weight} (1 ranks all code alike)",
        )
    else:
        reader.changes["path_prior"] = replace(_prior(reader), weight=float(weight))


def _read_choice(
    reader: _Reader, key: str, attribute: str, value: object, choices: tuple[str, ...]
) -> None:
    if isinstance(value, str) and value.strip().lower() in choices:
        reader.changes[attribute] = value.strip().lower()
        return
    reader.bad(
        key,
        value,
        "one of " + ", ".join(repr(c) for c in choices),
        _show(getattr(reader.current, attribute)),
        " or ".join(f'"{c}"' for c in choices),
    )


def _as_int(value: object) -> int | None:
    """An integer from JSON (clients written in Lua or JS may send ``20.0``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _is_object(value: object) -> TypeGuard[Mapping[str, object]]:
    return isinstance(value, Mapping) and all(isinstance(key, str) for key in value)


def _show(value: object) -> str:
    """A value as the user wrote it (JSON spelling), shortened to one line."""
    if isinstance(value, Path):
        value = str(value)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
