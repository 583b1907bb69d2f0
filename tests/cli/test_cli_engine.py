"""`quiver index`, `quiver search` and `quiver status` from a terminal, on a real tree.

The polyglot tree (Python, Rust, TypeScript, Go) is indexed once per module
with the real model into a cache under a temporary directory (``--cache-dir``);
every test then runs ``quiver.cli.main`` in this process (the model is loaded
once and shared) or, for the exit status, the installed ``quiver`` script.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from quiver.cli import main

DATA = Path(__file__).parents[1] / "data"
QUIVER = Path(sys.executable).parent / "quiver"

pytestmark = pytest.mark.model


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def quiver(*args: str | Path) -> Run:
    """``quiver ARGS...`` in this process, with its stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Indexed:
    root: Path
    cache: Path
    first_report: dict[str, Any]

    def search(self, query: str, *options: str) -> list[dict[str, Any]]:
        run = quiver("search", self.root, query, "--cache-dir", self.cache, "--json", *options)
        assert run.code == 0, run.err
        results: list[dict[str, Any]] = run.json()["results"]
        return results


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    base = tmp_path_factory.mktemp("cli-engine")
    root, cache = base / "workspace", base / "cache"
    shutil.copytree(DATA / "polyglot", root)
    run = quiver("index", root, "--cache-dir", cache, "--json")
    assert run.code == 0, run.err
    return Indexed(root, cache, run.json())


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line containing ``needle``."""
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


# --- quiver index ------------------------------------------------------------------------


def test_the_first_index_parses_every_file_and_embeds_every_symbol(indexed: Indexed) -> None:
    report = indexed.first_report
    assert report["files_seen"] == report["files_indexed"] == 4
    assert report["files_unchanged"] == report["files_removed"] == report["files_skipped"] == 0
    assert report["symbols_total"] >= 20
    assert report["symbols_embedded"] == report["symbols_total"]


def test_indexing_an_unchanged_tree_again_embeds_nothing(indexed: Indexed) -> None:
    run = quiver("index", indexed.root, "--cache-dir", indexed.cache, "--json")
    assert run.code == 0, run.err
    report = run.json()
    assert report["symbols_embedded"] == 0
    assert report["files_indexed"] == 0
    assert report["files_unchanged"] == report["files_seen"] == 4
    assert report["symbols_total"] == indexed.first_report["symbols_total"]


def test_index_without_json_prints_a_summary_and_the_cache(indexed: Indexed) -> None:
    run = quiver("index", indexed.root, "--cache-dir", indexed.cache)
    assert run.code == 0, run.err
    assert run.out.startswith("Indexed 4 files (0 changed, 0 removed, 0 skipped): ")
    assert ", 0 embedded in " in run.out
    assert f"Cache: {indexed.cache}" in run.out


# --- quiver search -----------------------------------------------------------------------


def test_search_json_finds_a_symbol_by_its_name(indexed: Indexed) -> None:
    (first, *_) = indexed.search("parse_status_line")
    assert first["name"] == "parse_status_line"
    assert first["kind"] == "function"
    assert first["path"] == "net/http_client.py"
    assert first["line"] == line_of(indexed.root / "net/http_client.py", "def parse_status_line")
    assert first["language"] == "python"
    assert isinstance(first["score"], float) and first["score"] > 0
    assert "text" in first["retrievers"]
    assert set(first["retrievers"]) <= {"semantic", "text"}


def test_search_json_finds_a_symbol_by_a_description(indexed: Indexed) -> None:
    results = indexed.search("retry a request that failed, waiting longer each time")
    names = [r["name"] for r in results]
    assert "send_with_retries" in names[:3]
    found = results[names.index("send_with_retries")]
    assert found["kind"] == "function"
    assert found["path"] == "net/http_client.py"
    assert found["line"] == line_of(indexed.root / "net/http_client.py", "def send_with_retries")
    assert "semantic" in found["retrievers"]
    assert {"name", "kind", "path", "line", "score", "retrievers"} <= set(found)


def test_search_json_results_are_ranked_by_score_and_limited(indexed: Indexed) -> None:
    results = indexed.search("settings", "--limit", "3")
    assert len(results) == 3
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_text_mode_answers_from_the_text_index_only(indexed: Indexed) -> None:
    results = indexed.search("WordTokenizer", "--mode", "text")
    assert results[0]["name"] == "WordTokenizer"
    assert all(r["retrievers"] == ["text"] for r in results)


def test_semantic_mode_answers_from_the_vector_index_only(indexed: Indexed) -> None:
    results = indexed.search("count how often each word occurs", "--mode", "semantic")
    assert "word_frequencies" in [r["name"] for r in results[:3]]
    assert all(r["retrievers"] == ["semantic"] for r in results)


def test_kind_filter_keeps_only_that_kind(indexed: Indexed) -> None:
    methods = indexed.search("split words", "--kind", "method")
    assert methods and all(r["kind"] == "method" for r in methods)
    assert "split_identifier" in [r["name"] for r in methods]
    both = indexed.search("settings", "--kind", "struct", "--kind", "function")
    assert both and {r["kind"] for r in both} <= {"struct", "function"}


def test_lang_filter_keeps_only_that_language(indexed: Indexed) -> None:
    go = indexed.search("read a configuration file", "--lang", "go")
    assert go and all(r["language"] == "go" and r["path"].endswith(".go") for r in go)
    assert go[0]["name"] == "LoadSettings"
    two = indexed.search("words", "--lang", "rust", "--lang", "typescript")
    assert two and {r["language"] for r in two} <= {"rust", "typescript"}


def test_search_without_json_prints_a_ranked_list_with_locations(indexed: Indexed) -> None:
    run = quiver(
        "search", indexed.root, "LoadSettings", "--cache-dir", indexed.cache, "--limit", "2"
    )
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    line = line_of(indexed.root / "config/loader.go", "func LoadSettings")
    assert lines[0].startswith(" 1. ")
    assert f"LoadSettings  (function, config/loader.go:{line})" in lines[0]
    assert lines[1].strip().startswith("func LoadSettings(")
    assert lines[-1].startswith("(2 results in ")


def test_search_on_a_tree_never_indexed_indexes_it_first(indexed: Indexed, tmp_path: Path) -> None:
    run = quiver(
        "search", indexed.root, "parse_status_line", "--cache-dir", tmp_path / "cache", "--json"
    )
    assert run.code == 0, run.err
    assert run.json()["results"][0]["name"] == "parse_status_line"


# --- quiver status -----------------------------------------------------------------------


def test_status_json_prints_the_cache_dir_and_counts(indexed: Indexed) -> None:
    run = quiver("status", indexed.root, "--cache-dir", indexed.cache, "--json")
    assert run.code == 0, run.err
    status = run.json()
    cache_dir = Path(status["cacheDir"])
    assert cache_dir.parent == indexed.cache
    assert cache_dir.is_dir()
    assert status["root"] == str(indexed.root.resolve())
    assert status["files"] == 4
    assert status["symbols"] == status["vectors"] == indexed.first_report["symbols_total"]
    assert status["generation"] >= 1
    assert status["diskBytes"] > 0
    assert status["model"]
    assert status["lastUpdate"] is not None


def test_status_without_json_prints_one_field_a_line(indexed: Indexed) -> None:
    run = quiver("status", indexed.root, "--cache-dir", indexed.cache)
    assert run.code == 0, run.err
    fields = dict(line.strip().split(": ", 1) for line in run.out.splitlines())
    assert fields["files"] == "4"
    assert fields["cacheDir"].startswith(str(indexed.cache))


def test_search_on_an_indexed_tree_is_not_partial(indexed: Indexed) -> None:
    run = quiver("search", indexed.root, "retry", "--cache-dir", indexed.cache, "--json")
    assert run.code == 0, run.err
    assert run.json()["partial"] is False


# --- a cache another process writes --------------------------------------------------------


def test_while_another_process_writes_status_names_it_and_index_refuses(
    indexed: Indexed, hold_writer_lock: Callable[[Path], subprocess.Popen[str]]
) -> None:
    from quiver.store.lock import WriterLock

    cache_dir = Path(
        quiver("status", indexed.root, "--cache-dir", indexed.cache, "--json").json()["cacheDir"]
    )
    holder = hold_writer_lock(cache_dir)
    status = quiver("status", indexed.root, "--cache-dir", indexed.cache, "--json").json()
    assert status["writerPid"] == holder.pid
    assert status["symbols"] == indexed.first_report["symbols_total"]
    refused = quiver("index", indexed.root, "--cache-dir", indexed.cache)
    assert refused.code == 1
    assert f"process {holder.pid}" in refused.err and "Suggestion:" in refused.err
    # Searching still works: it reads what the other process published.
    assert indexed.search("parse_status_line")[0]["name"] == "parse_status_line"
    cleaned = quiver("cache", "clean", indexed.root, "--cache-dir", indexed.cache)
    assert cleaned.code == 1 and "in use" in cleaned.err and "Suggestion:" in cleaned.err
    assert cache_dir.is_dir()
    holder.kill()
    holder.wait(timeout=30)
    assert WriterLock(cache_dir).holder_pid() is None


def test_cache_clean_removes_one_workspace_or_all_of_them(tmp_path: Path) -> None:
    from quiver.cache_paths import cache_dir_for

    cache_root = tmp_path / "caches"
    roots = []
    for name in ("one", "two"):
        root = tmp_path / name
        root.mkdir()
        (root / "m.py").write_text("def f():\n    pass\n")
        roots.append(root)
        assert quiver("index", root, "--cache-dir", cache_root).code == 0  # creates the cache
        (cache_dir_for(root.resolve(), cache_root) / "catalog").mkdir(exist_ok=True)
    keep = cache_root / "not-a-quiver-cache"
    keep.mkdir()
    for compiled in ("startup", "numba"):  # code caches every process rebuilds
        (cache_root / compiled).mkdir()
        (cache_root / compiled / "cached").write_bytes(b"code")
    first = quiver("cache", "clean", roots[0], "--cache-dir", cache_root)
    assert first.code == 0, first.err
    assert not cache_dir_for(roots[0].resolve(), cache_root).exists()
    assert cache_dir_for(roots[1].resolve(), cache_root).exists()
    assert (cache_root / "startup").is_dir()  # one workspace's clean leaves them
    everything = quiver("cache", "clean", "--all", "--cache-dir", cache_root)
    assert everything.code == 0, everything.err
    assert not cache_dir_for(roots[1].resolve(), cache_root).exists()
    assert not (cache_root / "startup").exists() and not (cache_root / "numba").exists()
    assert keep.is_dir()  # only workspace indexes and Quiver's code caches are touched
    assert "Nothing to remove" in quiver("cache", "clean", "--all", "--cache-dir", cache_root).out


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["index"], ["search", "{path}", "retry"], ["status"]], ids=lambda c: c[0]
)
def test_a_path_that_does_not_exist_exits_1_with_a_suggestion(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "no-such-workspace"
    args = [missing if a == "{path}" else a for a in command]
    if len(args) == 1:
        args.append(missing)
    run = quiver(*args, "--cache-dir", tmp_path / "cache", "--json")
    assert run.code == 1
    assert run.out == ""
    assert f"{missing} does not exist" in run.err
    assert "Suggestion:" in run.err


def test_a_file_passed_as_the_workspace_exits_1_with_a_suggestion(
    indexed: Indexed, tmp_path: Path
) -> None:
    run = quiver("index", indexed.root / "net/http_client.py", "--cache-dir", tmp_path / "c")
    assert run.code == 1
    assert "is not a directory" in run.err
    assert "Suggestion:" in run.err


def test_an_unknown_kind_exits_1_with_a_suggestion(indexed: Indexed) -> None:
    run = quiver("search", indexed.root, "retry", "--kind", "gizmo", "--cache-dir", indexed.cache)
    assert run.code == 1
    assert run.out == ""
    assert "Unknown symbol kind" in run.err
    assert "gizmo" in run.err.lower()
    assert "Suggestion:" in run.err


def test_the_installed_script_exits_1_on_a_missing_workspace(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [str(QUIVER), "status", str(missing), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"quiver: {missing} does not exist.")
    assert "\nSuggestion: " in done.stderr
