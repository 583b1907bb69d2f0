"""The text each symbol is embedded from, and its hash."""

from __future__ import annotations

import pytest

from quiver.embed.text import TextTemplate, split_identifier, symbol_text, text_hash
from quiver.symbols import Position, Range, Symbol, SymbolKind

_NOWHERE = Range(Position(0, 0), Position(0, 0))


def _symbol(**fields: object) -> Symbol:
    defaults: dict[str, object] = {
        "name": "parseHttpHeader",
        "kind": SymbolKind.FUNCTION,
        "container": "net.http",
        "signature": "def parseHttpHeader(line: str) -> tuple[str, str]:",
        "doc": "Split one header line into its name and value.",
        "range": _NOWHERE,
        "selection_range": _NOWHERE,
        "language": "python",
        "path": "net/http.py",
        "body": (
            "def parseHttpHeader(line: str) -> tuple[str, str]:\n"
            '    """Split one header line into its name and value."""\n'
            "    name, _, value = line.partition(':')\n"
            "    return name.strip().lower(), value.strip()\n"
        ),
        "content_hash": "0" * 32,
    }
    defaults.update(fields)
    return Symbol(**defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("parseHttpHeader", ["parse", "http", "header"]),
        ("HTTPServer2", ["http", "server", "2"]),
        ("XMLHttpRequest", ["xml", "http", "request"]),
        ("snake_case_name", ["snake", "case", "name"]),
        ("kebab-case-name", ["kebab", "case", "name"]),
        ("SCREAMING_SNAKE", ["screaming", "snake"]),
        ("__init__", ["init"]),
        ("utf8Decode", ["utf", "8", "decode"]),
        ("getX", ["get", "x"]),
        ("pkg.module.Class", ["pkg", "module", "class"]),
        ("größeBerechnen", ["größe", "berechnen"]),
        ("x", ["x"]),
        ("", []),
        ("___", []),
    ],
)
def test_split_identifier_splits_every_naming_convention(identifier: str, words: list[str]) -> None:
    assert split_identifier(identifier) == words


def test_symbol_text_carries_kind_name_words_signature_doc_and_body() -> None:
    text = symbol_text(_symbol())
    lines = text.splitlines()
    assert lines[0] == "function net.http.parseHttpHeader"
    assert lines[1] == "parse http header"
    assert lines[2] == "def parseHttpHeader(line: str) -> tuple[str, str]:"
    assert lines[3] == "Split one header line into its name and value."
    assert "name, _, value = line.partition(':')" in text


def test_body_head_skips_what_signature_and_doc_already_say() -> None:
    text = symbol_text(_symbol())
    assert text.count("def parseHttpHeader") == 1
    assert text.count("Split one header line") == 1


def test_undocumented_symbols_still_get_a_meaningful_text() -> None:
    text = symbol_text(_symbol(doc="", body="def f(x):\n    return x * 2\n", name="doubleIt"))
    assert text.startswith("function net.http.doubleIt\ndouble it\n")
    assert "return x * 2" in text


def test_symbol_text_respects_the_character_budget_and_keeps_the_name_first() -> None:
    long_body = "\n".join(f"    step_{i} = compute({i})" for i in range(500))
    text = symbol_text(_symbol(body=long_body), max_chars=300)
    assert len(text) <= 300
    assert text.startswith("function net.http.parseHttpHeader")


def test_templates_include_progressively_more() -> None:
    symbol = _symbol()
    name_only = symbol_text(symbol, template=TextTemplate.NAME)
    with_doc = symbol_text(symbol, template=TextTemplate.SIGNATURE_DOC)
    full = symbol_text(symbol, template=TextTemplate.FULL)
    assert name_only == "function net.http.parseHttpHeader\nparse http header"
    assert with_doc.startswith(name_only) and "Split one header line" in with_doc
    assert full.startswith(with_doc) and "partition" in full


def test_enum_member_kind_reads_as_words() -> None:
    text = symbol_text(_symbol(kind=SymbolKind.ENUM_MEMBER, name="RED", container="Color"))
    assert text.startswith("enum member Color.RED")


def test_text_hash_is_stable_and_distinguishes_texts() -> None:
    assert text_hash("abc") == text_hash("abc")
    assert text_hash("abc") != text_hash("abd")
    assert len(text_hash("")) == 32
    int(text_hash("x"), 16)


def test_declaration_lines_are_dropped_however_the_parser_writes_the_signature() -> None:
    body = (
        "@functools.cache\n"
        "def scale(\n"
        "    value: float,\n"
        "    factor: float = 2.0,\n"
        ") -> float:\n"
        '    """Multiply a value."""\n'
        "    return value * factor\n"
    )
    symbol = _symbol(
        name="scale",
        signature="def scale(value: float, factor: float = 2.0) -> float",  # no colon
        doc="Multiply a value.",
        body=body,
    )
    text = symbol_text(symbol)
    body_part = text.split("Multiply a value.\n", 1)[1]
    assert body_part == "@functools.cache\nreturn value * factor"
