"""Rank fusion and query-shape detection."""

import pytest

from quiver.engine.fusion import QueryShape, classify_query, reciprocal_rank_fusion


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


def test_score_fusion_adds_normalised_text_evidence_to_the_cosine() -> None:
    from quiver.engine.fusion import FusionWeights, score_fusion

    fused = score_fusion(
        semantic=[(1, 0.60), (2, 0.58)],
        text=[(2, 12.0), (3, 6.0)],
        text_cosines={3: 0.50},
        weights=FusionWeights(semantic=1.0, text=0.1),
    )
    scores = dict(fused)
    assert [key for key, _ in fused] == [2, 1, 3]
    assert scores[2] == pytest.approx(0.58 + 0.1)
    assert scores[3] == pytest.approx(0.50 + 0.05)


def test_score_fusion_without_text_hits_is_the_semantic_ranking() -> None:
    from quiver.engine.fusion import FusionWeights, score_fusion

    fused = score_fusion([(1, 0.9), (2, 0.8)], [], {}, FusionWeights(1.0, 0.5))
    assert fused == [(1, 0.9), (2, 0.8)]
