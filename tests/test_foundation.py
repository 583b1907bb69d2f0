"""The shared records and errors behave as the rest of the pipeline relies on."""

from quiver.errors import DimensionMismatchError
from quiver.symbols import SymbolKind, content_hash


def test_symbol_kind_values_match_the_lsp_enumeration() -> None:
    assert SymbolKind.FILE == 1
    assert SymbolKind.FUNCTION == 12
    assert SymbolKind.TYPE_PARAMETER == 26
    assert SymbolKind.from_label("enum-member") is SymbolKind.ENUM_MEMBER


def test_errors_end_with_a_suggestion_line() -> None:
    error = DimensionMismatchError("expected 384, got 768", "re-index with --rebuild")
    assert str(error).splitlines()[-1] == "Suggestion: re-index with --rebuild"


def test_content_hash_separates_parts_and_is_stable() -> None:
    assert content_hash("ab", "c") != content_hash("a", "bc")
    assert content_hash("x") == content_hash("x")
