"""A file name that is not valid UTF-8 must not stop the index (issue 18).

On Linux a name is bytes; Python hands it over as a ``str`` with lone surrogates
(``os.fsdecode``: ``b"bad\\xff.py"`` is ``"bad\\udcff.py"``). That name reaches the
symbol's qualified name and so the text the model embeds, and the tokenizer takes
only valid Unicode: one such file used to abort ``quiver index`` altogether.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quiver.api import SearchQuery
from quiver.cli.output import json_line
from quiver.embed.embedder import Embedder
from quiver.embed.model import OnnxEmbedder, tokenizer_text
from quiver.engine import EngineOptions, VectorSearchEngine

UNDECODABLE_NAME = b"bad\xff.py"


def _tree_with_an_undecodable_name(root: Path) -> Path:
    root.mkdir()
    (root / "good.py").write_text("def fine_function():\n    return 1\n")
    Path(os.fsdecode(os.fsencode(root) + b"/" + UNDECODABLE_NAME)).write_bytes(
        b"def undecodable_neighbour(x):\n    return x * 2\n"
    )
    return root


def test_tokenizer_text_replaces_lone_surrogates_and_keeps_valid_text() -> None:
    assert tokenizer_text("function bad\udcff.helper") == "function bad\ufffd.helper"
    assert tokenizer_text("\ud800") == "\ufffd"
    valid = "größe 日本語 plain"
    assert tokenizer_text(valid) is valid
    ascii_text = "def f(x): return x"
    assert tokenizer_text(ascii_text) is ascii_text
    tokenizer_text("x\udcff").encode("utf-8")  # never raises


def test_the_model_embeds_texts_with_lone_surrogates(real_embedder: OnnxEmbedder) -> None:
    vectors = real_embedder.embed_documents(["function bad\udcff.helper", "plain text"])
    replaced = real_embedder.embed_documents(["function bad\ufffd.helper"])
    np.testing.assert_array_equal(vectors[0], replaced[0])
    query = real_embedder.embed_query("helper in bad\udcff")
    assert query.shape == (real_embedder.dim,)


def test_a_tree_with_an_undecodable_file_name_is_indexed_end_to_end(
    tmp_path: Path, real_embedder: Embedder
) -> None:
    root = _tree_with_an_undecodable_name(tmp_path / "workspace")
    with VectorSearchEngine(
        root,
        embedder_factory=lambda: real_embedder,
        cache_dir=tmp_path / "cache",
        options=EngineOptions(parse_workers=1),
    ) as engine:
        engine.index_tree()
        for mode in ("semantic", "text", "hybrid"):
            response = engine.search(SearchQuery("undecodable neighbour", mode=mode, limit=5))
            names = [result.name for result in response.results]
            assert "undecodable_neighbour" in names, (mode, names)
        assert [s.name for s in engine.workspace_symbols("undecodable", limit=5)] == [
            "undecodable_neighbour"
        ]
    with VectorSearchEngine(  # a warm start reads the name back from every store
        root,
        embedder_factory=lambda: real_embedder,
        cache_dir=tmp_path / "cache",
        options=EngineOptions(parse_workers=1),
    ) as engine:
        assert engine.index_tree().files_indexed == 0
        response = engine.search(SearchQuery("undecodable neighbour", limit=5))
        paths = {os.fsencode(result.relative_path) for result in response.results}
        assert UNDECODABLE_NAME in paths


def _quiver(
    *args: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "quiver", *args],
        capture_output=True,
        env={**os.environ, **(environment or {})},
        timeout=300,
        check=False,
    )


# Under a UTF-8 locale other than C/POSIX, Python's stdout refuses lone surrogates;
# this environment gives the same strict stdout whatever locale the tests run under.
STRICT_STDOUT = {"PYTHONIOENCODING": "utf-8:strict"}


def test_json_lines_are_valid_utf8_and_give_back_the_undecodable_name() -> None:
    line = json_line({"path": "bad\udcff.py", "name": "größe"})
    assert line.encode("utf-8").decode("utf-8") == line
    assert "größe" in line  # other text stays readable
    decoded = json.loads(line)
    assert decoded == {"path": "bad\udcff.py", "name": "größe"}
    assert os.fsencode(decoded["path"]) == UNDECODABLE_NAME


def test_quiver_symbols_lists_a_file_with_an_undecodable_name(tmp_path: Path) -> None:
    root = _tree_with_an_undecodable_name(tmp_path / "workspace")
    listed = _quiver("symbols", "--json", str(root), environment=STRICT_STDOUT)
    assert listed.returncode == 0, listed.stderr.decode(errors="replace")
    rows = [json.loads(line) for line in listed.stdout.decode("utf-8").splitlines()]
    assert {os.fsencode(row["path"]) for row in rows} == {b"good.py", UNDECODABLE_NAME}
    readable = _quiver("symbols", str(root), environment=STRICT_STDOUT)
    assert readable.returncode == 0, readable.stderr.decode(errors="replace")
    # a person's terminal gets the name's own bytes, as ls and find print it
    assert UNDECODABLE_NAME in readable.stdout


@pytest.mark.model
@pytest.mark.slow
def test_the_cli_indexes_and_searches_a_tree_with_an_undecodable_file_name(
    tmp_path: Path,
) -> None:
    root = _tree_with_an_undecodable_name(tmp_path / "workspace")
    cache = {"QUIVER_CACHE_DIR": str(tmp_path / "cache"), **STRICT_STDOUT}
    indexed = _quiver("index", str(root), environment=cache)
    assert indexed.returncode == 0, indexed.stderr.decode(errors="replace")
    query = "undecodable neighbour"
    searched = _quiver("search", "--json", str(root), query, environment=cache)
    assert searched.returncode == 0, searched.stderr.decode(errors="replace")
    answer = json.loads(searched.stdout.decode("utf-8"))
    paths = {os.fsencode(result["path"]) for result in answer["results"]}
    assert UNDECODABLE_NAME in paths
    readable = _quiver("search", str(root), query, environment=cache)
    assert readable.returncode == 0, readable.stderr.decode(errors="replace")
    assert UNDECODABLE_NAME in readable.stdout
