"""``search.secondaryPaths`` and ``search.secondaryWeight``: the path prior from the client's
options, bad entries reported with a Suggestion and the rest kept."""

from __future__ import annotations

import pytest

from quiver.lsp.options import DEFAULT_OPTIONS, parse_options
from quiver.secondary_code import DEFAULT_SECONDARY_PATHS, PathPrior


def test_by_default_the_prior_is_on_with_the_documented_patterns() -> None:
    assert DEFAULT_OPTIONS.path_prior == PathPrior()
    assert DEFAULT_OPTIONS.path_prior.patterns == DEFAULT_SECONDARY_PATHS
    assert DEFAULT_OPTIONS.path_prior.enabled


def test_patterns_and_weight_are_read() -> None:
    options, problems = parse_options(
        {"search": {"secondaryPaths": ["spec/", " *_test.go "], "secondaryWeight": 0.8}}
    )
    assert problems == []
    assert options.path_prior == PathPrior(patterns=("spec/", "*_test.go"), weight=0.8)


@pytest.mark.parametrize(
    "search", [{"secondaryPaths": []}, {"secondaryWeight": 1}, {"secondaryWeight": 1.0}]
)
def test_an_empty_list_or_a_weight_of_one_turns_the_prior_off(search: dict[str, object]) -> None:
    options, problems = parse_options({"search": search})
    assert problems == []
    assert not options.path_prior.enabled


def test_null_patterns_restore_the_defaults() -> None:
    base, _ = parse_options({"search": {"secondaryPaths": []}})
    options, problems = parse_options({"search": {"secondaryPaths": None}}, base)
    assert problems == []
    assert options.path_prior.patterns == DEFAULT_SECONDARY_PATHS


def test_a_bad_pattern_is_dropped_with_a_suggestion_and_the_others_kept() -> None:
    options, problems = parse_options(
        {"search": {"secondaryPaths": ["tests/", "", 7, "x" * 2000, "vendor/"]}}
    )
    assert options.path_prior.patterns == ("tests/", "vendor/")
    assert [p.key for p in problems] == [
        "search.secondaryPaths[1]",
        "search.secondaryPaths[2]",
        "search.secondaryPaths[3]",
    ]
    assert all(p.severity == "error" and "\nSuggestion: " in p.message for p in problems)
    assert "at most 1000" in problems[2].message


def test_patterns_that_are_not_a_list_keep_the_previous_ones() -> None:
    options, problems = parse_options({"search": {"secondaryPaths": "tests/"}})
    assert options.path_prior == DEFAULT_OPTIONS.path_prior
    assert problems[0].key == "search.secondaryPaths"
    assert "a list of glob patterns" in problems[0].message
    assert "\nSuggestion: " in problems[0].message


@pytest.mark.parametrize("weight", [0, -1, 1.5, "0.9", True, None, float("nan")])
def test_a_bad_weight_keeps_the_previous_one_with_a_suggestion(weight: object) -> None:
    base, _ = parse_options({"search": {"secondaryWeight": 0.7}})
    options, problems = parse_options({"search": {"secondaryWeight": weight}}, base)
    assert options.path_prior.weight == 0.7
    assert len(problems) == 1 and problems[0].severity == "error"
    assert problems[0].key == "search.secondaryWeight"
    assert "keeping 0.7" in problems[0].message
    assert "\nSuggestion: " in problems[0].message


def test_a_misspelt_key_is_suggested() -> None:
    _, problems = parse_options({"search": {"secondaryPath": ["tests/"]}})
    assert problems[0].severity == "warning"
    assert "search.secondaryPaths" in problems[0].message
