"""Behaviour shared by every language: positions, hashes, robustness, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from parse_helpers import by_name, name_span, span

from quiver.parse import SUPPORTED_LANGUAGES, UnsupportedLanguageError, extract_symbols
from quiver.parse.extract import _symbol_hash
from quiver.symbols import content_hash


def test_columns_are_utf16_units_after_emoji_and_cjk(extract) -> None:
    # "🎉" is 4 UTF-8 bytes but 2 UTF-16 units; "漢字" is 6 bytes but 2 units.
    source = 'const label = "🎉漢字"; function greet() {}\n/* 🎉 */ class Ünï {}\n'
    symbols = extract(source, "emoji.ts")
    greet = by_name(symbols, "emoji.greet")
    line = source.splitlines()[0]
    expected_start = len(line[: line.index("function")].encode("utf-16-le")) // 2
    assert expected_start == 22
    assert span(greet) == (0, 22, 0, 41)
    assert name_span(greet) == (0, 31, 0, 36)
    klass = by_name(symbols, "emoji.Ünï")
    assert name_span(klass) == (1, 15, 1, 18)  # "Ünï" is 3 units (5 bytes)


def test_columns_count_astral_characters_in_identifiers(extract) -> None:
    symbols = extract("𝔸 = 1\ndef 𝔣𝔫(): pass\n", "math.py")
    fn = by_name(symbols, "math.𝔣𝔫")
    assert name_span(fn) == (1, 4, 1, 8)  # two astral letters, two units each


def test_content_hash_changes_with_the_symbol_text_only(extract) -> None:
    before = extract("def a():\n    return 1\n\ndef b():\n    return 2\n", "m.py")
    after = extract("def a():\n    return 1\n\ndef b():\n    return 3\n", "m.py")
    assert before[0].content_hash == after[0].content_hash
    assert before[1].content_hash != after[1].content_hash
    moved = extract("\n\n\ndef a():\n    return 1\n", "m.py")
    assert moved[0].content_hash == before[0].content_hash  # position is not content


def test_symbol_hash_equals_the_shared_content_hash_for_utf8_text() -> None:
    text = "def ünï():\n    return '🎉'\n"
    assert _symbol_hash("function", "m.ünï", "def ünï()", "", text.encode()) == content_hash(
        "function", "m.ünï", "def ünï()", "", text
    )


def test_every_language_tolerates_garbage_and_empty_input() -> None:
    garbage = b"}{)(][ \xff\xfe class def fn func function <?php ?> @@@ \x00\x01"
    for language in SUPPORTED_LANGUAGES:
        assert isinstance(extract_symbols(garbage, "x", language), list)
        assert extract_symbols(b"", "x", language) == []


def test_unknown_language_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(UnsupportedLanguageError) as raised:
        extract_symbols(b"x", "a.cobol", "cobol")
    assert "Suggestion: use one of: python" in str(raised.value)


def test_extraction_is_thread_safe_and_deterministic() -> None:
    source = b"".join(
        f"class C{i}:\n    def m{i}(self):\n        return {i}\n".encode() for i in range(200)
    )
    expected = extract_symbols(source, "big.py", "python")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: extract_symbols(source, "big.py", "python"), range(16)))
    assert all(result == expected for result in results)
    assert len(expected) == 400


def test_symbols_record_language_and_path_as_given(extract) -> None:
    symbol = extract("fn main() {}", "crates/app/src/main.rs")[0]
    assert symbol.language == "rust"
    assert symbol.path == "crates/app/src/main.rs"
