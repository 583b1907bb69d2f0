"""Rank fusion and query-shape detection."""

import pytest

from quiver.fusion import QueryShape, classify_query, reciprocal_rank_fusion


@pytest.mark.parametrize(
    "query",
    ["parseHttpHeader", "parse_http_header", "Foo.bar", "std::vector", "run()", "HTTPServer"],
)
def test_identifier_like_queries_are_classified_as_identifiers(query: str) -> None:
    assert classify_query(query) is QueryShape.IDENTIFIER


@pytest.mark.parametrize(
    "query", ["retry failed http requests", "where do we parse the config file", "split words"]
)
def test_sentences_are_classified_as_sentences(query: str) -> None:
    assert classify_query(query) is QueryShape.SENTENCE


def test_an_id_found_by_both_retrievers_outranks_one_found_by_one() -> None:
    fused = reciprocal_rank_fusion([([1, 2, 3], 1.0), ([3, 4], 1.0)])
    assert fused[0][0] == 3
    assert {key for key, _ in fused} == {1, 2, 3, 4}


def test_weights_decide_between_two_first_places() -> None:
    fused = reciprocal_rank_fusion([([1], 1.0), ([2], 0.25)])
    assert [key for key, _ in fused] == [1, 2]
    fused = reciprocal_rank_fusion([([1], 0.25), ([2], 1.0)])
    assert [key for key, _ in fused] == [2, 1]


def test_fusion_of_nothing_is_empty() -> None:
    assert reciprocal_rank_fusion([([], 1.0), ([], 0.5)]) == []
