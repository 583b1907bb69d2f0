"""The symbol index: ranking, filters, incremental updates, reopening, readers, cluster rewrites."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from text_fixtures import documents, make_symbol, names

from quiver.ids import ClusterId, SymbolId
from quiver.symbols import Symbol, SymbolKind
from quiver.text.index import DocumentIndex, TextDocument

Opener = Callable[..., DocumentIndex]


def _http_corpus() -> list[TextDocument]:
    return documents(
        make_symbol(
            "parseHttpHeader",
            container="net.http",
            path="src/net/http.py",
            doc="Parse one HTTP header line into a name and a value.",
        ),
        make_symbol(
            "parseHttpHeaderValue",
            container="net.http",
            path="src/net/http.py",
            doc="Parse the value of an HTTP header; parse http header parameters.",
            body="header = parse_http_header(line)\nreturn parse header value http",
        ),
        make_symbol(
            "parse_http_header",
            path="src/net/compat.py",
            doc="Parse an http header (legacy snake_case spelling).",
        ),
        make_symbol(
            "HttpHeader",
            kind=SymbolKind.CLASS,
            container="net.http",
            path="src/net/http.py",
            signature="class HttpHeader:",
        ),
        make_symbol(
            "retry_with_backoff",
            path="src/net/retry.py",
            doc="Retry failed requests with exponential backoff.",
            body="for attempt in range(attempts):\n    send(request)",
        ),
        make_symbol(
            "get",
            kind=SymbolKind.METHOD,
            container="net.http.Client",
            path="src/net/client.rs",
            language="rust",
            signature="fn get(&self, url: &str) -> Response",
        ),
        make_symbol(
            "get_header",
            kind=SymbolKind.METHOD,
            container="net.http.Client",
            path="src/net/client.rs",
            language="rust",
        ),
        make_symbol(
            "ParseHttpHeader",
            kind=SymbolKind.CLASS,
            path="web/parser.ts",
            language="typescript",
        ),
    )


@pytest.fixture
def corpus(open_index: Opener) -> DocumentIndex:
    index = open_index()
    index.add(_http_corpus())
    index.commit()
    return index


def test_exact_name_ranks_first_even_against_documents_repeating_its_words(
    corpus: DocumentIndex,
) -> None:
    hits = names(corpus, "parseHttpHeader")
    assert hits[:2] == ["parseHttpHeader", "ParseHttpHeader"]  # case-exact above case-insensitive
    assert set(hits) >= {"parseHttpHeaderValue", "parse_http_header", "HttpHeader"}


def test_exact_name_ignores_case_when_no_case_exact_symbol_exists(corpus: DocumentIndex) -> None:
    assert names(corpus, "RETRY_WITH_BACKOFF")[0] == "retry_with_backoff"


def test_camel_and_snake_case_names_are_found_by_their_words(corpus: DocumentIndex) -> None:
    hits = names(corpus, "http header")
    assert {"parseHttpHeader", "parse_http_header", "HttpHeader"} <= set(hits)
    assert names(corpus, "header parse")[0] in {"parseHttpHeader", "parse_http_header"}


def test_qualified_name_with_any_separator_is_an_exact_hit(corpus: DocumentIndex) -> None:
    assert names(corpus, "Client.get")[0] == "get"
    assert names(corpus, "http::Client::get")[0] == "get"
    assert names(corpus, "net.http.Client#get")[0] == "get"


def test_sentence_finds_the_doc_comment_through_stemming(corpus: DocumentIndex) -> None:
    assert names(corpus, "where do we retry the failing request?")[0] == "retry_with_backoff"


def test_a_word_in_the_name_outranks_the_same_word_in_the_body(open_index: Opener) -> None:
    index = open_index()
    index.add(
        documents(
            make_symbol("run", body="backoff backoff backoff backoff", doc="Runs."),
            make_symbol("backoff", body="x = 1"),
        )
    )
    index.commit()
    assert names(index, "backoff strategy") == ["backoff", "run"]


def test_kind_filter(corpus: DocumentIndex) -> None:
    assert set(names(corpus, "http header", kinds=[SymbolKind.CLASS])) == {
        "HttpHeader",
        "ParseHttpHeader",
    }


def test_language_filter_ignores_case(corpus: DocumentIndex) -> None:
    assert set(names(corpus, "get header", languages=["Rust"])) == {"get", "get_header"}
    assert names(corpus, "header", languages=["go"]) == []


def test_path_filter_uses_globs(corpus: DocumentIndex) -> None:
    assert set(names(corpus, "parse header", paths=["src/net/http.py"])) == {
        "parseHttpHeader",
        "parseHttpHeaderValue",
        "HttpHeader",
    }
    assert set(names(corpus, "header", paths=["*.ts", "**/compat.py"])) == {
        "ParseHttpHeader",
        "parse_http_header",
    }


def test_cluster_restriction_returns_only_those_clusters(open_index: Opener) -> None:
    index = open_index()
    symbols = [make_symbol(f"load_config_{number}", path=f"c{number}.py") for number in range(6)]
    index.add(
        TextDocument(SymbolId(number + 1), ClusterId(number % 3), symbol)
        for number, symbol in enumerate(symbols)
    )
    index.commit()
    assert len(index.search("load config")) == 6
    restricted = index.search("load config", clusters=[ClusterId(0), ClusterId(2)])
    assert {hit.symbol_id for hit in restricted} == {1, 3, 4, 6}


def test_filters_combine_and_an_empty_filter_matches_nothing(corpus: DocumentIndex) -> None:
    assert names(
        corpus, "header", kinds=[SymbolKind.METHOD], languages=["rust"], paths=["src/**"]
    ) == ["get_header"]
    assert corpus.search("header", kinds=[]) == []
    assert corpus.search("header", clusters=[]) == []


def test_limit_bounds_the_hits(corpus: DocumentIndex) -> None:
    assert len(corpus.search("http header", limit=2)) == 2
    assert corpus.search("http header", limit=0) == []


def test_deleting_and_re_adding_one_file_changes_only_that_file(corpus: DocumentIndex) -> None:
    before = corpus.num_docs()
    corpus.delete_paths(["src/net/http.py"])
    corpus.add(
        documents(
            make_symbol("parseHttpHeader", path="src/net/http.py", doc="Parse a header."),
            make_symbol("formatHttpHeader", path="src/net/http.py"),
            first_id=100,
        )
    )
    corpus.commit()
    assert corpus.num_docs() == before - 3 + 2
    assert "parseHttpHeaderValue" not in names(corpus, "header value")
    assert names(corpus, "formatHttpHeader")[0] == "formatHttpHeader"
    assert names(corpus, "retry_with_backoff") == ["retry_with_backoff"]
    hits = corpus.search("parseHttpHeader")
    assert hits[0].symbol_id == 100


def test_deleting_a_single_symbol_works(corpus: DocumentIndex) -> None:
    corpus.delete_symbols([SymbolId(5)])
    corpus.commit()
    assert names(corpus, "retry_with_backoff") == []


def test_delete_symbols_removes_just_those(corpus: DocumentIndex) -> None:
    corpus.delete_symbols([SymbolId(1), SymbolId(4), SymbolId(999)])
    corpus.commit()
    assert "parseHttpHeader" not in names(corpus, "http header")
    assert "HttpHeader" not in names(corpus, "http header")
    assert corpus.num_docs() == len(_http_corpus()) - 2


def test_writes_are_invisible_until_commit(corpus: DocumentIndex) -> None:
    corpus.add(documents(make_symbol("uncommittedThing"), first_id=50))
    corpus.delete_paths(["src/net/retry.py"])
    assert names(corpus, "uncommittedThing") == []
    assert names(corpus, "retry_with_backoff") == ["retry_with_backoff"]
    corpus.commit()
    assert names(corpus, "uncommittedThing") == ["uncommittedThing"]
    assert names(corpus, "retry_with_backoff") == []


def test_reopening_sees_committed_documents_and_drops_uncommitted(open_index: Opener) -> None:
    first = open_index("shared")
    first.add(_http_corpus())
    first.commit()
    first.add(documents(make_symbol("neverCommitted"), first_id=77))
    first.close()
    again = open_index("shared")
    assert again.num_docs() == len(_http_corpus())
    assert names(again, "parseHttpHeader")[0] == "parseHttpHeader"
    assert names(again, "neverCommitted") == []


def test_reader_keeps_its_snapshot_until_reload(open_index: Opener) -> None:
    writer = open_index("shared")
    writer.add(_http_corpus())
    writer.commit()
    reader = open_index("shared", writable=False)
    assert reader.num_docs() == len(_http_corpus())
    assert reader.reload_if_changed() is False

    writer.delete_paths(["src/net/retry.py"])
    writer.add(documents(make_symbol("freshlyAdded"), first_id=60))
    writer.commit()
    assert names(reader, "freshlyAdded") == []  # still the old snapshot

    assert reader.reload_if_changed() is True
    assert names(reader, "freshlyAdded") == ["freshlyAdded"]
    assert names(reader, "retry_with_backoff") == []
    reader.reload()  # an explicit reload with nothing new is harmless
    assert reader.num_docs() == writer.num_docs()


def test_read_only_index_refuses_writes(open_index: Opener) -> None:
    open_index("shared").commit()
    reader = open_index("shared", writable=False)
    assert not reader.writable
    with pytest.raises(RuntimeError, match="read-only"):
        reader.add(documents(make_symbol("x")))


def test_reassign_clusters_moves_documents_and_keeps_them_searchable(corpus: DocumentIndex) -> None:
    assert {hit.symbol_id for hit in corpus.search("http", clusters=[ClusterId(5)])} == set()
    rewritten = corpus.reassign_clusters(
        {SymbolId(1): ClusterId(5), SymbolId(6): ClusterId(-1), SymbolId(12345): ClusterId(5)}
    )
    corpus.commit()
    assert rewritten == 2
    assert corpus.num_docs() == len(_http_corpus())
    assert [hit.symbol_id for hit in corpus.search("http header", clusters=[ClusterId(5)])] == [1]
    assert names(corpus, "Client.get", clusters=[ClusterId(-1)]) == ["get"]
    assert names(corpus, "parseHttpHeader", clusters=[ClusterId(0)])[0] == "ParseHttpHeader"


def test_reassign_clusters_sees_writes_not_yet_committed(open_index: Opener) -> None:
    index = open_index()
    index.add(documents(make_symbol("pendingSymbol"), first_id=3))
    assert index.reassign_clusters({SymbolId(3): ClusterId(9)}) == 1
    index.commit()
    assert index.num_docs() == 1
    assert [hit.symbol_id for hit in index.search("pendingSymbol", clusters=[ClusterId(9)])] == [3]


def test_stored_returns_the_exact_symbols(corpus: DocumentIndex) -> None:
    originals = {document.symbol_id: document.symbol for document in _http_corpus()}
    stored = corpus.stored([SymbolId(2), SymbolId(6), SymbolId(404)])
    assert stored == {SymbolId(2): originals[SymbolId(2)], SymbolId(6): originals[SymbolId(6)]}


def test_unusual_text_is_stored_and_searchable(open_index: Opener) -> None:
    index = open_index()
    symbol = make_symbol(
        "größeBerechnen",
        path="src/ünï code/\udcff.py",  # an undecodable byte from the file system
        doc="Berechnet die Größe.\x00 日本語",
        body="\ud800 lone surrogate",
    )
    index.add(documents(symbol))
    index.commit()
    assert names(index, "größe") == ["größeBerechnen"]
    assert names(index, "größeBerechnen") == ["größeBerechnen"]
    stored = index.stored([SymbolId(1)])[SymbolId(1)]
    assert stored == symbol


def test_large_ids_and_negative_clusters_round_trip(open_index: Opener) -> None:
    index = open_index()
    index.add([TextDocument(SymbolId(2**64 - 1), ClusterId(-(2**63)), make_symbol("edgeCase"))])
    index.commit()
    hits = index.search("edgeCase", clusters=[ClusterId(-(2**63))])
    assert [hit.symbol_id for hit in hits] == [2**64 - 1]
    assert list(index.symbol_ids()) == [2**64 - 1]


def test_out_of_range_ids_are_refused(open_index: Opener) -> None:
    index = open_index()
    with pytest.raises(ValueError, match="symbol id"):
        index.add([TextDocument(SymbolId(-1), ClusterId(0), make_symbol("x"))])
    with pytest.raises(ValueError, match="cluster id"):
        index.add([TextDocument(SymbolId(1), ClusterId(2**63), make_symbol("x"))])


def test_refresh_makes_writes_searchable_here_before_the_commit(open_index: Opener) -> None:
    writer = open_index("shared")
    writer.add(_http_corpus())
    writer.commit()
    reader = open_index("shared", writable=False)

    writer.delete_paths(["src/net/http.py"])
    writer.add(
        documents(
            make_symbol("parseHttpHeader", path="src/net/http.py", doc="New version."),
            make_symbol("formatHttpHeader", path="src/net/http.py"),
            first_id=100,
        )
    )
    writer.refresh()
    assert names(writer, "formatHttpHeader")[0] == "formatHttpHeader"
    assert [hit.symbol_id for hit in writer.search("parseHttpHeader")][:2] == [100, 8]
    assert "parseHttpHeaderValue" not in names(writer, "http header value")
    assert writer.num_docs() == len(_http_corpus()) - 3 + 2
    assert writer.stored([SymbolId(100)])[SymbolId(100)].doc == "New version."
    assert writer.stored([SymbolId(2)]) == {}
    assert sorted(writer.symbol_ids()) == [3, 5, 6, 7, 8, 100, 101]
    # Not durable yet: another process's reader still sees the last commit.
    assert reader.reload_if_changed() is False
    assert "formatHttpHeader" not in names(reader, "formatHttpHeader")

    writer.commit()
    assert reader.reload_if_changed() is True
    assert names(reader, "formatHttpHeader")[0] == "formatHttpHeader"
    assert writer.num_docs() == reader.num_docs() == len(_http_corpus()) - 1
    assert names(writer, "formatHttpHeader")[0] == "formatHttpHeader"


def test_successive_refreshes_keep_the_order_of_writes(open_index: Opener) -> None:
    index = open_index()
    index.add(documents(make_symbol("alpha", path="a.py"), make_symbol("beta", path="b.py")))
    index.commit()
    index.add(documents(make_symbol("gamma", path="c.py"), first_id=3))
    index.refresh()
    index.delete_paths(["c.py", "a.py"])
    index.add(documents(make_symbol("gammaTwo", path="c.py"), first_id=4))
    index.refresh()
    index.delete_symbols([SymbolId(4)])
    index.add(documents(make_symbol("gammaThree", path="c.py"), first_id=5))
    index.refresh()
    expected = {"beta", "gammaThree"}
    everything = "alpha beta gamma gammaTwo gammaThree"
    assert set(names(index, everything)) == expected
    assert index.num_docs() == 2
    index.commit()
    assert set(names(index, everything)) == expected
    assert index.num_docs() == 2


def test_rollback_drops_refreshed_writes(corpus: DocumentIndex) -> None:
    corpus.add(documents(make_symbol("temporary"), first_id=70))
    corpus.delete_paths(["src/net/retry.py"])
    corpus.refresh()
    assert names(corpus, "temporary") == ["temporary"]
    corpus.rollback()
    assert names(corpus, "temporary") == []
    assert names(corpus, "retry_with_backoff") == ["retry_with_backoff"]
    corpus.commit()  # nothing queued any more
    assert corpus.num_docs() == len(_http_corpus())


def test_closing_without_commit_loses_refreshed_writes(open_index: Opener) -> None:
    index = open_index("shared")
    index.add(documents(make_symbol("kept")))
    index.commit()
    index.add(documents(make_symbol("onlyRefreshed"), first_id=2))
    index.refresh()
    index.close()
    again = open_index("shared")
    assert names(again, "kept onlyRefreshed") == ["kept"]


def test_refresh_commits_when_too_much_was_written(
    open_index: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("quiver.text.state.MAX_DELTA_DOCUMENTS", 3)
    writer = open_index("shared")
    writer.commit()
    reader = open_index("shared", writable=False)
    writer.add(documents(*(make_symbol(f"bulkSymbol{number}") for number in range(5))))
    writer.refresh()
    assert reader.reload_if_changed() is True  # it was a durable commit
    assert reader.num_docs() == writer.num_docs() == 5


def test_searches_from_other_threads_see_whole_updates_only(open_index: Opener) -> None:
    index = open_index()
    files = {
        f"src/module_{number}.py": [
            make_symbol(f"handleRequest{number}_{line}", path=f"src/module_{number}.py", line=line)
            for line in range(5)
        ]
        for number in range(8)
    }
    id_of = {
        symbol.name: SymbolId(offset + 1)
        for offset, symbol in enumerate(symbol for symbols in files.values() for symbol in symbols)
    }

    def as_documents(symbols: list[Symbol]) -> list[TextDocument]:
        return [TextDocument(id_of[symbol.name], ClusterId(0), symbol) for symbol in symbols]

    index.add(document for symbols in files.values() for document in as_documents(symbols))
    index.commit()
    failures: list[str] = []
    done = threading.Event()

    def search_until_done() -> None:
        while not done.is_set():
            try:
                total = index.num_docs()
                hits = index.search("handle request", limit=100, paths=["src/**"])
                if total != 40 or len(hits) != 40:
                    failures.append(f"saw {total} documents and {len(hits)} hits")
            except Exception as error:  # any failure in a search thread is the finding
                failures.append(repr(error))

    searchers = [threading.Thread(target=search_until_done) for _ in range(3)]
    for thread in searchers:
        thread.start()
    try:
        for round_number in range(12):
            path = f"src/module_{round_number % 8}.py"
            index.delete_paths([path])
            index.add(as_documents(files[path]))
            if round_number % 4 == 3:
                index.commit()
            else:
                index.refresh()
    finally:
        done.set()
        for thread in searchers:
            thread.join()
    assert failures == []
    assert index.num_docs() == 40


def test_a_writer_killed_inside_a_commit_does_not_block_the_next_writers_commit(
    open_index: Opener, tmp_path: Path
) -> None:
    """A commit writes its files (registered in .managed.json first), then renames
    meta.json. Killed in between, it leaves a ``<segment>.<opstamp>.del`` that the
    next writer's first delete would create again: that commit must not fail."""
    first = open_index("killed")
    first.add(_http_corpus())
    first.commit()
    first.close()
    committed_meta = (tmp_path / "killed" / "meta.json").read_bytes()
    interrupted = open_index("killed")
    interrupted.delete_symbols([SymbolId(1)])
    interrupted.commit()
    interrupted.close()
    assert any(p.suffix == ".del" for p in (tmp_path / "killed").iterdir())
    (tmp_path / "killed" / "meta.json").write_bytes(committed_meta)  # as if killed here

    again = open_index("killed")
    assert again.num_docs() == len(_http_corpus())
    again.delete_symbols([SymbolId(1)])
    again.commit()
    assert again.num_docs() == len(_http_corpus()) - 1
    assert "parseHttpHeader" not in names(again, "parseHttpHeader")
