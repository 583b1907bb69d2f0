"""Properties checked on generated names: the compiled alignment is the optimum
of the scoring definition, and the index ranks by exactly that score."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiver.fuzzy import NameIndex, fuzzy_score

from .reference import alignment_score, best_alignment_score, pattern_of, reference_score

# A small alphabet with both cases, a digit, separators and a non-ASCII letter,
# so that word starts of every kind and repeated letters are frequent.
name_chars = st.sampled_from(list("aAbBcC_1-éÉ"))
names = st.text(name_chars, min_size=0, max_size=9)
queries = st.text(st.sampled_from(list("aAbBc_1éÉ ")), min_size=0, max_size=4)

BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@BOUNDED
@given(query=queries, name=names)
def test_fuzzy_score_equals_the_best_alignment_of_the_definition(query: str, name: str) -> None:
    result = fuzzy_score(query, name)
    expected = reference_score(query, name)
    if expected is None:
        assert result is None
        return
    assert result is not None
    assert result[0] == expected


@BOUNDED
@given(query=queries, name=names)
def test_returned_positions_are_an_optimal_alignment(query: str, name: str) -> None:
    result = fuzzy_score(query, name)
    if result is None:
        return
    _, positions = result
    pattern = pattern_of(query)
    assert list(positions) == sorted(set(positions))
    assert all(name[p].lower() == c.lower() for p, c in zip(positions, pattern, strict=True))
    assert alignment_score(pattern, name, positions) == best_alignment_score(pattern, name)


@settings(max_examples=60, deadline=None)
@given(query=queries, name_list=st.lists(names, min_size=1, max_size=25))
def test_index_returns_every_match_ranked_by_fuzzy_score(query: str, name_list: list[str]) -> None:
    index: NameIndex[int] = NameIndex()
    index.add(list(range(len(name_list))), name_list)
    results = index.search(query, limit=len(name_list))
    if not query.strip():
        assert [m.key for m in results] == list(range(len(name_list)))
        return
    expected = {
        key: scored
        for key, name in enumerate(name_list)
        if (scored := fuzzy_score(query, name)) is not None
    }
    assert {m.key for m in results} == set(expected)
    for match in results:
        assert (match.score, match.positions) == expected[match.key]
    order = [(-m.score, len(name_list[m.key]), name_list[m.key], m.key) for m in results]
    assert order == sorted(order)


@settings(max_examples=80, deadline=None)
@given(
    query=queries,
    name_list=st.lists(names, min_size=1, max_size=40),
    limit=st.integers(min_value=1, max_value=6),
)
def test_a_small_limit_returns_the_head_of_the_full_ranking(
    query: str, name_list: list[str], limit: int
) -> None:
    # The index skips names whose score bound cannot reach the current top
    # ``limit``; that must never change which names come back, ties included.
    index: NameIndex[int] = NameIndex()
    index.add(list(range(len(name_list))), name_list)
    full = index.search(query, limit=len(name_list))
    assert index.search(query, limit=limit) == full[:limit]


@BOUNDED
@given(query=queries, name=names)
def test_the_pruning_bound_is_never_below_the_real_score(query: str, name: str) -> None:
    # Internal invariant behind the pruning: upper_bound(name) >= score(name).
    from quiver.fuzzy import encoding, kernels

    result = fuzzy_score(query, name)
    prepared = encoding.prepare_query(query)
    if result is None or prepared is None:
        return
    index: NameIndex[int] = NameIndex()
    index.add([0], [name])
    bound = kernels.upper_bound(
        index._lower.view(),
        0,
        len(name),
        index._word_start_masks.view()[0],
        prepared.pattern_lower,
        prepared.pattern_bits,
        prepared.raw_lower,
    )
    assert bound >= result[0]


# Names as a catalog column holds them: UTF-8, with what Python's surrogatepass
# writes for a lone surrogate, characters outside the BMP and empty names.
column_chars = st.sampled_from(list("aAbB_1éÉ\U0001f600\ud800"))


@settings(max_examples=80, deadline=None)
@given(
    query=queries,
    name_list=st.lists(st.text(column_chars, max_size=8), min_size=1, max_size=30),
    skip=st.integers(min_value=0, max_value=5),
)
def test_names_added_as_a_utf8_column_are_found_as_names_added_as_strings(
    query: str, name_list: list[str], skip: int
) -> None:
    encoded = [name.encode("utf-8", "surrogatepass") for name in name_list]
    blob = np.frombuffer(b"x" * skip + b"".join(encoded) + b"tail", dtype=np.uint8)
    offsets = np.cumsum([skip, *map(len, encoded)], dtype=np.int64)
    keys = list(range(len(name_list)))
    from_strings: NameIndex[int] = NameIndex()
    from_strings.add(keys, name_list)
    from_column: NameIndex[int] = NameIndex()
    from_column.add_utf8(keys, blob, offsets)
    limit = len(name_list)
    assert from_column.search(query, limit=limit) == from_strings.search(query, limit=limit)


@settings(max_examples=100, deadline=None)
@given(query=queries, name_list=st.lists(names, min_size=1, max_size=20))
def test_the_vectorised_bounds_equal_the_kernels_bound_of_each_name(
    query: str, name_list: list[str]
) -> None:
    # The uncompiled search stops at the first name whose vectorised bound is below
    # the heap: exact equality with the kernel's own bound is what keeps it exact.
    from quiver.fuzzy import encoding, kernels, numpy_scoring

    prepared = encoding.prepare_query(query)
    if prepared is None:
        return
    index: NameIndex[int] = NameIndex()
    index.add(list(range(len(name_list))), name_list)
    lengths = index._lengths.view()
    candidates = np.flatnonzero(lengths >= prepared.length).astype(np.int64)
    if candidates.shape[0] == 0:
        return
    arrays = (index._offsets.view(), lengths, index._word_start_masks.view(), index._lower.view())
    vectorised = numpy_scoring.upper_bounds(
        candidates,
        *arrays,
        prepared.pattern_lower,
        prepared.pattern_bits,
        prepared.raw_lower,
    )
    one_by_one = [
        kernels.upper_bound(
            arrays[3],
            arrays[0][slot],
            arrays[1][slot],
            arrays[2][slot],
            prepared.pattern_lower,
            prepared.pattern_bits,
            prepared.raw_lower,
        )
        for slot in candidates.tolist()
    ]
    assert vectorised.tolist() == one_by_one
