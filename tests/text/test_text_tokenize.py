"""Identifiers, paths and prose are cut into the words a person would type."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from quiver.text.tokenize import identifier_words, normalise_qualified, word_text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("parseHTTPHeader2", ["parse", "http", "header", "2"]),
        ("XMLHttpRequest", ["xml", "http", "request"]),
        ("parse_http_header", ["parse", "http", "header"]),
        ("PARSE_HTTP_HEADER", ["parse", "http", "header"]),
        ("kebab-case-name", ["kebab", "case", "name"]),
        ("__init__", ["init"]),
        ("getX", ["get", "x"]),
        ("IOError", ["io", "error"]),
        ("x86_64", ["x", "86", "64"]),
        ("src/net/http_client.py", ["src", "net", "http", "client", "py"]),
        ("Retry failed requests.", ["retry", "failed", "requests"]),
    ],
)
def test_identifier_words_split_case_changes_digits_and_punctuation(
    text: str, words: list[str]
) -> None:
    assert identifier_words(text) == words


def test_non_ascii_words_stay_whole_and_camel_case_still_splits() -> None:
    assert identifier_words("ÜberParser") == ["über", "parser"]
    assert identifier_words("größe_berechnen") == ["größe", "berechnen"]
    assert identifier_words("日本語テキスト") == ["日本語テキスト"]


def test_text_without_letters_or_digits_has_no_words() -> None:
    assert identifier_words("") == []
    assert identifier_words(':"(*+-^~[]{}\\/ \x00') == []


def test_qualified_names_compare_equal_whatever_the_separator() -> None:
    assert normalise_qualified("http::Client#get") == "http.client.get"
    assert normalise_qualified(" Http.Client.get ") == "http.client.get"
    assert normalise_qualified("Client->get") == "client.get"


@settings(max_examples=200, deadline=None)
@given(st.text())
@example("İstanbul_ǅemal ΣΑΣ")
def test_words_are_lower_case_without_separators_and_splitting_is_idempotent(text: str) -> None:
    words = identifier_words(text)
    for word in words:
        assert word
        # Lower-casing may add a combining mark ("İ" -> "i̇"), never a separator.
        assert not any(char.isspace() or (char.isascii() and not char.isalnum()) for char in word)
        assert word == word.lower()
    # The index stores word_text; the query side re-splits it: both must agree.
    assert identifier_words(word_text(text)) == words
