"""NameIndex bookkeeping: adding, replacing, removing, limits, ties and scale."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from quiver.fuzzy import FuzzyMatch, NameIndex, fuzzy_score
from quiver.ids import SymbolId


def make_index(names: list[str]) -> NameIndex[int]:
    index: NameIndex[int] = NameIndex()
    index.add(list(range(len(names))), names)
    return index


def test_removed_names_are_no_longer_found() -> None:
    index = make_index(["getUser", "getUserById", "setUser"])
    index.remove([1])
    assert [m.key for m in index.search("getuser")] == [0]
    assert len(index) == 2
    assert 1 not in index


def test_removing_an_absent_key_is_ignored() -> None:
    index = make_index(["a"])
    index.remove([42, 0, 0])
    assert len(index) == 0
    assert index.search("a") == []
    assert index.search("") == []


def test_adding_an_existing_key_replaces_its_name() -> None:
    index = make_index(["oldName"])
    index.add([0], ["newName"])
    assert len(index) == 1
    assert index.search("old") == []
    assert [m.key for m in index.search("new")] == [0]


def test_a_key_repeated_in_one_add_keeps_its_last_name() -> None:
    index: NameIndex[int] = NameIndex()
    index.add([7, 7], ["first", "second"])
    assert len(index) == 1
    assert [m.key for m in index.search("second")] == [7]
    assert index.search("first") == []


def test_add_rejects_keys_and_names_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="2 keys but 1 names"):
        NameIndex[int]().add([1, 2], ["only"])


def test_a_negative_limit_is_rejected_and_zero_returns_nothing() -> None:
    index = make_index(["a"])
    with pytest.raises(ValueError, match="limit"):
        index.search("a", limit=-1)
    assert index.search("a", limit=0) == []


def test_many_removals_compact_the_index_and_keep_the_order_of_the_rest() -> None:
    names = [f"name_{i:05d}" for i in range(5000)]
    index = make_index(names)
    index.remove(range(0, 5000, 3))
    index.remove(range(1, 5000, 3))
    survivors = list(range(2, 5000, 3))
    assert len(index) == len(survivors)
    assert [m.key for m in index.search("", limit=10)] == survivors[:10]
    # After compaction the survivors are still searchable and can be replaced.
    assert index.search("name_00002")[0].key == 2
    index.add([2], ["renamed"])
    assert index.search("renamed")[0].key == 2
    assert all(m.key != 2 for m in index.search("name_00002"))


def test_removed_and_readded_names_are_found_again() -> None:
    index = make_index(["alpha", "beta"])
    index.remove([0, 1])
    index.add([0, 1], ["alpha", "beta"])
    assert [m.key for m in index.search("a")] == [0, 1]


def test_ties_are_broken_by_name_then_key_whatever_the_insertion_order() -> None:
    names = ["run", "run", "Run", "ran"]
    first: NameIndex[int] = NameIndex()
    first.add([4, 2, 3, 1], names)
    second: NameIndex[int] = NameIndex()
    second.add([1, 3, 2, 4], list(reversed(names)))
    assert first.search("r") == second.search("r")
    # "ran" and the two "run" score the same (same case, same length): name, then key;
    # "Run" is last because its R is not typed in the same case.
    assert [m.key for m in first.search("r")] == [1, 2, 4, 3]


def test_a_limit_cut_through_a_tie_is_deterministic() -> None:
    names = [f"item{i % 10}" for i in range(200)]
    keys = list(range(200))
    shuffled = list(zip(keys, names, strict=True))
    random.Random(5).shuffle(shuffled)
    index: NameIndex[int] = NameIndex()
    index.add([k for k, _ in shuffled], [n for _, n in shuffled])
    top = index.search("item", limit=15)
    assert [m.key for m in top] == sorted(range(200), key=lambda k: (names[k], k))[:15]


def test_search_scores_are_the_scores_of_fuzzy_score() -> None:
    names = ["HttpServerRequest", "hasSortedRows", "whiskers", "hsr", "h_s_r"]
    index = make_index(names)
    for match in index.search("hsr"):
        assert (match.score, match.positions) == fuzzy_score("hsr", names[match.key])


def test_keys_keep_their_type() -> None:
    index: NameIndex[SymbolId] = NameIndex()
    index.add([SymbolId(5)], ["thing"])
    match: FuzzyMatch[SymbolId] = index.search("th")[0]
    assert match.key == SymbolId(5)


def test_a_hundred_thousand_names_build_and_answer_ranked_results() -> None:
    rng = random.Random(11)
    words = ["get", "set", "user", "http", "server", "request", "parse", "index", "tree", "node"]
    names = [
        "".join(w.capitalize() if j else w for j, w in enumerate(rng.sample(words, 3))) + str(i)
        for i in range(100_000)
    ]
    index = make_index(names)
    assert len(index) == 100_000
    for query in ["g", "gur", "httpServerRequest", "zzz", "node9999"]:
        results = index.search(query, limit=50)
        scores = [m.score for m in results]
        assert scores == sorted(scores, reverse=True)
        assert len(results) <= 50
    assert len(index.search("g", limit=50)) == 50
    assert index.search("zzz") == []
    assert index.search("99999", limit=1)[0].key == 99999


def test_warm_up_leaves_the_module_ready_to_match() -> None:
    from quiver.fuzzy import warm_up

    warm_up()
    assert fuzzy_score("wu", "warm_up") is not None


def test_a_limit_larger_than_the_index_returns_every_match() -> None:
    index = make_index(["alpha", "beta", "gamma"])
    assert {m.key for m in index.search("a", limit=10**9)} == {0, 1, 2}


def test_add_utf8_rejects_offsets_that_do_not_match_the_keys() -> None:
    index: NameIndex[int] = NameIndex()
    blob = np.frombuffer(b"onetwo", dtype=np.uint8)
    with pytest.raises(ValueError, match="one offset per key"):
        index.add_utf8([1, 2], blob, np.array([0, 3], dtype=np.int64))
    with pytest.raises(ValueError, match="outside the blob"):
        index.add_utf8([1, 2], blob, np.array([0, 3, 7], dtype=np.int64))
    with pytest.raises(ValueError, match="outside the blob"):
        index.add_utf8([1, 2], blob, np.array([0, 4, 3], dtype=np.int64))


def test_add_utf8_keeps_the_last_name_of_a_repeated_key_and_replaces_existing_ones() -> None:
    index = make_index(["oldName"])
    blob = np.frombuffer("newNameördnungzweite".encode(), dtype=np.uint8)
    index.add_utf8([0, 5, 5], blob, np.array([0, 7, 15, 21], dtype=np.int64))
    assert len(index) == 2
    assert index.search("old") == []
    assert [m.key for m in index.search("new")] == [0]
    assert [m.key for m in index.search("zweite")] == [5]
    assert index.search("ördnung") == []


def test_a_fresh_process_matches_names_without_importing_numba_until_warm_up() -> None:
    # A warm server's first Ctrl+T must not wait for numba (~0.35 s to import and load).
    code = (
        "import sys\n"
        "from quiver import fuzzy\n"
        "index = fuzzy.NameIndex()\n"
        "index.add([1, 2, 3], ['getUser', 'get_user_by_id', 'setUser'])\n"
        "before = [m.key for m in index.search('gu', limit=2)]\n"
        "print('numba' in sys.modules, fuzzy.kernels_compiled(), before)\n"
        "fuzzy.warm_up()\n"
        "after = [m.key for m in index.search('gu', limit=2)]\n"
        "print('numba' in sys.modules, fuzzy.kernels_compiled(), after)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert shown == ["False False [2, 1]", "True True [2, 1]"]


def test_the_uncompiled_search_answers_exactly_what_the_compiled_one_does() -> None:
    # Many names, so that the numpy search runs several batches and stops early, and
    # queries of every kind: prefixes, abbreviations, weak scattered matches, ties.
    from quiver import fuzzy
    from quiver.fuzzy.compiled import ACTIVE

    rng = random.Random(11)
    words = ["get", "set", "user", "http", "Server", "request", "parse", "json", "id", "x2"]
    names = [
        rng.choice(["", "_", "__"])
        + rng.choice(["_", ""]).join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        for _ in range(6_000)
    ]
    index = make_index(names)
    queries = ["g", "gu", "gur", "usr", "hs", "HSR", "parse_json", "pj", "x", "rqst", "_", "s2"]
    queries += ["".join(rng.sample("getuserhttpsrv", 3)) for _ in range(20)]
    active = ACTIVE
    fuzzy.warm_up()
    compiled = active.kernels
    try:
        for query in queries:
            for limit in (1, 7, 100):
                active.kernels = active.plain
                uncompiled = index.search(query, limit=limit)
                active.kernels = compiled
                assert uncompiled == index.search(query, limit=limit), (query, limit)
    finally:
        active.kernels = compiled


def test_ties_between_very_long_names_are_ranked_by_name_as_between_short_ones() -> None:
    # Past 64 characters the ranking compares names as strings, not column by column.
    stem = "generated_" * 10  # 100 characters
    names = [stem + "zeta", stem + "alpha", stem + "mu_é", stem + "alpha", stem + "Beta"]
    index = make_index(names)
    found = index.search("generated", limit=len(names))
    order = [(-m.score, len(names[m.key]), names[m.key], m.key) for m in found]
    assert order == sorted(order)
    assert len(found) == len(names)
