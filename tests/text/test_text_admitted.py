"""The admitted set of a filter: ids and per-list counts from the fast fields (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from text_fixtures import make_symbol

from quiver.errors import InvalidQueryError
from quiver.ids import ClusterId, SymbolId
from quiver.symbols import SymbolKind
from quiver.text.index import DocumentIndex, TextDocument
from quiver.text.query import Filters

Opener = Callable[..., DocumentIndex]


def _document(
    symbol_id: int, cluster: int, *, language: str = "python", path: str = ""
) -> TextDocument:
    symbol = make_symbol(
        f"symbol{symbol_id}",
        language=language,
        path=path or f"src/mod{symbol_id % 5}.py",
        kind=SymbolKind.CLASS if symbol_id % 4 == 0 else SymbolKind.FUNCTION,
    )
    return TextDocument(SymbolId(symbol_id), ClusterId(cluster), symbol)


@pytest.fixture
def index(open_index: Opener) -> DocumentIndex:
    """40 symbols in 8 lists; ids 1-3 are Go, in three lists."""
    index = open_index()
    index.add(
        _document(i, i % 8, language="go" if i <= 3 else "python", path=f"go/f{i}.go")
        if i <= 3
        else _document(i, i % 8)
        for i in range(1, 41)
    )
    index.commit()
    return index


def _sorted(ids: list[SymbolId]) -> list[int]:
    return sorted(int(i) for i in ids)


def test_admitted_ids_follow_each_filter(index: DocumentIndex) -> None:
    assert _sorted(index.admitted_symbols(Filters(languages=["Go"]))) == [1, 2, 3]
    classes = _sorted(index.admitted_symbols(Filters(kinds=[SymbolKind.CLASS])))
    assert classes == list(range(4, 41, 4))
    assert _sorted(index.admitted_symbols(Filters(paths=["src/mod1.py"]))) == [
        i for i in range(4, 41) if i % 5 == 1
    ]
    in_lists = _sorted(index.admitted_symbols(Filters(clusters=[ClusterId(1), ClusterId(2)])))
    assert in_lists == [i for i in range(1, 41) if i % 8 in (1, 2)]
    chosen = [SymbolId(2), SymbolId(7), SymbolId(99)]
    assert _sorted(index.admitted_symbols(Filters(languages=["python"], symbols=chosen))) == [7]
    assert _sorted(index.admitted_symbols(Filters())) == list(range(1, 41))
    assert index.admitted_symbols(Filters(languages=[])) == []


def test_admitted_clusters_count_symbols_per_list(index: DocumentIndex) -> None:
    go = index.admitted_clusters(Filters(languages=["go"]), max_clusters=9)
    assert go == {ClusterId(1): 1, ClusterId(2): 1, ClusterId(3): 1}
    everything = index.admitted_clusters(Filters(), max_clusters=9)
    assert everything == {ClusterId(c): 5 for c in range(8)}
    assert index.admitted_clusters(Filters(kinds=[]), max_clusters=9) == {}


def test_refreshed_writes_replace_and_add_admitted_symbols(index: DocumentIndex) -> None:
    """Not yet committed: the delta's documents count, the ones they replace do not."""
    index.delete_symbols([SymbolId(2)])
    index.add([_document(41, 5, language="go", path="go/new.go")])
    index.refresh()
    assert _sorted(index.admitted_symbols(Filters(languages=["go"]))) == [1, 3, 41]
    counts = index.admitted_clusters(Filters(languages=["go"]), max_clusters=9)
    assert counts[ClusterId(5)] == 1
    # Replacing a document: the old version is hidden, the new one (new list) admitted.
    index.delete_symbols([SymbolId(3)])
    index.add([_document(3, 7, language="go", path="go/f3.go")])
    index.refresh()
    assert _sorted(index.admitted_symbols(Filters(languages=["go"]))) == [1, 3, 41]
    in_seven = index.admitted_symbols(Filters(languages=["go"], clusters=[ClusterId(7)]))
    assert _sorted(in_seven) == [3]
    in_three = index.admitted_symbols(Filters(languages=["go"], clusters=[ClusterId(3)]))
    assert _sorted(in_three) == []


def test_a_malformed_glob_is_refused(index: DocumentIndex) -> None:
    with pytest.raises(InvalidQueryError):
        index.admitted_symbols(Filters(paths=["/"]))
