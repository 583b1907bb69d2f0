"""Quiver symbols → LSP types: kinds, positions, workspace symbols and the
hierarchical document-symbol tree built from one file's flat symbol list."""

from __future__ import annotations

from lsprotocol import types as lsp

from quiver.lsp.convert import (
    position_from_lsp,
    range_from_lsp,
    to_document_symbols,
    to_lsp_position,
    to_lsp_range,
    to_lsp_symbol_kind,
    to_symbol_information,
    to_workspace_symbol,
)
from quiver.symbols import Position, Range, Symbol, SymbolKind


def span(start_line: int, start_char: int, end_line: int, end_char: int) -> Range:
    return Range(Position(start_line, start_char), Position(end_line, end_char))


def make_symbol(
    name: str,
    kind: SymbolKind,
    whole: Range,
    *,
    container: str = "",
    path: str = "/repo/pkg/mod.py",
    selection: Range | None = None,
    signature: str = "",
) -> Symbol:
    return Symbol(
        name=name,
        kind=kind,
        container=container,
        signature=signature,
        doc="",
        range=whole,
        selection_range=selection or Range(whole.start, whole.start),
        language="python",
        path=path,
        body="",
        content_hash="0" * 32,
    )


def tree(symbols: list[lsp.DocumentSymbol]) -> list[object]:
    """A compact picture of a document-symbol tree: [name, [children...]]."""
    return [[s.name, tree(list(s.children or []))] for s in symbols]


def test_every_symbol_kind_converts_to_the_lsp_kind_of_the_same_number() -> None:
    for kind in SymbolKind:
        assert to_lsp_symbol_kind(kind) == lsp.SymbolKind(kind.value)
    assert to_lsp_symbol_kind(SymbolKind.FUNCTION) is lsp.SymbolKind.Function


def test_positions_and_ranges_convert_both_ways_unchanged() -> None:
    whole = span(3, 4, 10, 0)
    assert to_lsp_position(Position(3, 4)) == lsp.Position(line=3, character=4)
    assert to_lsp_range(whole) == lsp.Range(
        start=lsp.Position(line=3, character=4), end=lsp.Position(line=10, character=0)
    )
    assert range_from_lsp(to_lsp_range(whole)) == whole
    assert position_from_lsp(lsp.Position(line=1, character=2)) == Position(1, 2)


def test_symbol_information_carries_location_kind_and_container() -> None:
    symbol = make_symbol(
        "retry_with_backoff",
        SymbolKind.FUNCTION,
        span(40, 0, 58, 0),
        container="net.http",
        path="/repo/net/my http.py",
    )
    info = to_symbol_information(symbol)
    assert info.name == "retry_with_backoff"
    assert info.kind is lsp.SymbolKind.Function
    assert info.container_name == "net.http"
    assert info.location.uri == "file:///repo/net/my%20http.py"
    assert info.location.range == to_lsp_range(span(40, 0, 58, 0))


def test_a_top_level_symbol_has_no_container_name() -> None:
    symbol = make_symbol("main", SymbolKind.FUNCTION, span(0, 0, 1, 0))
    assert to_symbol_information(symbol).container_name is None
    assert to_workspace_symbol(symbol).container_name is None


def test_workspace_symbol_keeps_resolve_data() -> None:
    symbol = make_symbol("Thing", SymbolKind.CLASS, span(0, 0, 5, 0), container="pkg")
    workspace_symbol = to_workspace_symbol(symbol, data={"id": 7})
    assert workspace_symbol.data == {"id": 7}
    assert isinstance(workspace_symbol.location, lsp.Location)
    assert workspace_symbol.location.uri == "file:///repo/pkg/mod.py"


def test_document_symbols_nest_by_range_in_document_order() -> None:
    flat = [
        make_symbol("helper", SymbolKind.FUNCTION, span(30, 0, 32, 0), container="mod"),
        make_symbol("method_b", SymbolKind.METHOD, span(12, 4, 20, 0), container="mod.Outer"),
        make_symbol("Outer", SymbolKind.CLASS, span(0, 0, 25, 0), container="mod"),
        make_symbol("Inner", SymbolKind.CLASS, span(2, 4, 10, 0), container="mod.Outer"),
        make_symbol("method_a", SymbolKind.METHOD, span(3, 8, 9, 0), container="mod.Outer.Inner"),
    ]
    assert tree(to_document_symbols(flat)) == [
        ["Outer", [["Inner", [["method_a", []]]], ["method_b", []]]],
        ["helper", []],
    ]


def test_document_symbols_use_the_signature_as_detail_and_keep_the_selection() -> None:
    symbol = make_symbol(
        "run",
        SymbolKind.FUNCTION,
        span(1, 0, 4, 0),
        selection=span(1, 4, 1, 7),
        signature="def run(self) -> None:",
    )
    (converted,) = to_document_symbols([symbol])
    assert converted.detail == "def run(self) -> None:"
    assert converted.selection_range == to_lsp_range(span(1, 4, 1, 7))
    assert converted.kind is lsp.SymbolKind.Function
    assert converted.children is None


def test_identical_ranges_nest_only_when_the_container_says_so() -> None:
    # A decorated property and its backing field can share one range; so can a
    # module-level alias and its value.
    whole = span(5, 0, 5, 20)
    parent = make_symbol("Config", SymbolKind.CLASS, whole, container="mod")
    child = make_symbol("field", SymbolKind.FIELD, whole, container="mod.Config")
    sibling = make_symbol("Alias", SymbolKind.VARIABLE, whole, container="mod")
    # Same start: shallower containers first, then by name.
    assert tree(to_document_symbols([child, sibling, parent])) == [
        ["Alias", []],
        ["Config", [["field", []]]],
    ]


def test_a_symbol_outside_its_containers_range_stays_at_the_top_level() -> None:
    # A Rust method in an `impl Foo` block whose impl was not extracted.
    struct = make_symbol("Foo", SymbolKind.STRUCT, span(0, 0, 3, 1))
    method = make_symbol("new", SymbolKind.METHOD, span(5, 4, 7, 5), container="Foo")
    assert tree(to_document_symbols([method, struct])) == [["Foo", []], ["new", []]]


def test_a_selection_range_outside_the_range_is_clamped_so_clients_accept_it() -> None:
    symbol = make_symbol("odd", SymbolKind.FUNCTION, span(2, 0, 4, 0), selection=span(9, 0, 9, 3))
    (converted,) = to_document_symbols([symbol])
    assert converted.selection_range == to_lsp_range(span(2, 0, 2, 0))


def test_an_empty_name_is_replaced_because_clients_reject_it() -> None:
    symbol = make_symbol("", SymbolKind.FUNCTION, span(0, 0, 1, 0))
    assert to_document_symbols([symbol])[0].name == "<anonymous>"


def test_document_symbols_of_no_symbols_is_an_empty_list() -> None:
    assert to_document_symbols([]) == []


def test_the_tree_does_not_depend_on_the_input_order() -> None:
    flat = [
        make_symbol("A", SymbolKind.CLASS, span(0, 0, 10, 0)),
        make_symbol("a1", SymbolKind.METHOD, span(1, 4, 3, 0), container="A"),
        make_symbol("a2", SymbolKind.METHOD, span(4, 4, 6, 0), container="A"),
        make_symbol("B", SymbolKind.CLASS, span(11, 0, 20, 0)),
        make_symbol("b1", SymbolKind.METHOD, span(12, 4, 19, 0), container="B"),
        make_symbol("inner", SymbolKind.FUNCTION, span(13, 8, 14, 0), container="B.b1"),
    ]
    expected = to_document_symbols(flat)
    assert to_document_symbols(list(reversed(flat))) == expected
    assert to_document_symbols(flat[3:] + flat[:3]) == expected
    assert tree(expected) == [
        ["A", [["a1", []], ["a2", []]]],
        ["B", [["b1", [["inner", []]]]]],
    ]


def test_converted_symbols_serialise_to_the_protocols_json() -> None:
    from lsprotocol.converters import get_converter

    flat = [
        make_symbol("Outer", SymbolKind.CLASS, span(0, 0, 9, 0), container="mod"),
        make_symbol(
            "run",
            SymbolKind.METHOD,
            span(1, 4, 3, 0),
            container="mod.Outer",
            selection=span(1, 8, 1, 11),
            signature="def run(self):",
        ),
    ]
    converter = get_converter()
    (outer,) = converter.unstructure(to_document_symbols(flat), list[lsp.DocumentSymbol])
    assert outer["name"] == "Outer"
    assert outer["kind"] == 5
    assert "children" in outer and "selectionRange" in outer
    (run,) = outer["children"]
    assert run["detail"] == "def run(self):"
    assert run["selectionRange"] == {
        "start": {"line": 1, "character": 8},
        "end": {"line": 1, "character": 11},
    }
    assert "children" not in run  # absent, not null
    info = converter.unstructure(to_symbol_information(flat[1]), lsp.SymbolInformation)
    assert info["containerName"] == "mod.Outer"
    assert info["location"]["uri"] == "file:///repo/pkg/mod.py"
