"""initializationOptions → ServerOptions: good values are used, bad ones are
reported with the key, the value and what is kept, and never stop the server."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from quiver.api import MAX_LIMIT
from quiver.lsp.options import (
    DEFAULT_OPTIONS,
    OptionProblem,
    ServerOptions,
    parse_options,
)


def errors(problems: list[OptionProblem]) -> list[OptionProblem]:
    return [p for p in problems if p.severity == "error"]


def test_no_options_give_the_defaults_and_no_problems() -> None:
    assert parse_options(None) == (DEFAULT_OPTIONS, [])
    assert parse_options({}) == (DEFAULT_OPTIONS, [])
    assert DEFAULT_OPTIONS.search_limit == 20
    assert DEFAULT_OPTIONS.search_mode == "hybrid"
    assert DEFAULT_OPTIONS.watch is True


def test_the_documented_example_is_read_in_full(tmp_path: Path) -> None:
    raw = {
        "cacheDir": str(tmp_path / "cache"),
        "exclude": ["**/generated/**"],
        "maxFileSize": 1048576,
        "search": {"limit": 50, "mode": "semantic"},
        "watch": False,
        "logLevel": "debug",
    }
    options, problems = parse_options(raw)
    assert problems == []
    assert options == ServerOptions(
        cache_dir=tmp_path / "cache",
        exclude=("**/generated/**",),
        max_file_size=1048576,
        search_limit=50,
        search_mode="semantic",
        watch=False,
        log_level="debug",
    )


def test_an_unknown_key_is_a_warning_that_suggests_the_close_spelling() -> None:
    options, problems = parse_options({"maxFilesize": 10, "colour": "red"})
    assert options == DEFAULT_OPTIONS
    assert [p.severity for p in problems] == ["warning", "warning"]
    assert problems[0].key == "maxFilesize"
    assert "did you mean 'maxFileSize'?" in problems[0].message
    assert "cacheDir" in problems[1].message  # no close match: the known keys are listed


def test_an_unknown_nested_key_is_named_with_its_section() -> None:
    _, problems = parse_options({"search": {"limt": 5}})
    assert problems[0].key == "search.limt"
    assert "did you mean 'search.limit'?" in problems[0].message


@pytest.mark.parametrize(
    ("raw", "key", "shown_value", "kept"),
    [
        ({"maxFileSize": -5}, "maxFileSize", "-5", "1048576"),
        ({"maxFileSize": "big"}, "maxFileSize", '"big"', "1048576"),
        ({"maxFileSize": True}, "maxFileSize", "true", "1048576"),
        ({"search": {"limit": 0}}, "search.limit", "0", "20"),
        ({"search": {"limit": MAX_LIMIT + 1}}, "search.limit", "201", "20"),
        ({"search": {"limit": 2.5}}, "search.limit", "2.5", "20"),
        ({"search": {"mode": "fuzzy"}}, "search.mode", '"fuzzy"', '"hybrid"'),
        ({"search": "fast"}, "search", '"fast"', "the current search settings"),
        ({"watch": "yes"}, "watch", '"yes"', "true"),
        ({"logLevel": "loud"}, "logLevel", '"loud"', '"info"'),
        ({"cacheDir": "relative/dir"}, "cacheDir", '"relative/dir"', "the default location"),
        ({"cacheDir": 42}, "cacheDir", "42", "the default location"),
        ({"exclude": "**/gen/**"}, "exclude", '"**/gen/**"', "[]"),
    ],
)
def test_a_bad_value_is_an_error_naming_key_value_and_what_is_kept(
    raw: dict[str, object], key: str, shown_value: str, kept: str
) -> None:
    options, problems = parse_options(raw)
    assert options == DEFAULT_OPTIONS
    assert len(problems) == 1
    problem = problems[0]
    assert problem.severity == "error"
    assert problem.key == key
    first_line, suggestion = problem.message.split("\n")
    assert f"Invalid Quiver option {key}: {shown_value} is not" in first_line
    assert first_line.endswith(f"keeping {kept}.")
    assert suggestion.startswith("Suggestion: ")
    assert str(problem) == problem.message


def test_every_problem_ends_with_a_suggestion_line() -> None:
    _, problems = parse_options(
        {"nope": 1, "search": {"mode": 3, "x": 1}, "exclude": [1, "ok"], "watch": None}
    )
    assert len(problems) == 5
    assert all(p.message.splitlines()[-1].startswith("Suggestion: ") for p in problems)


def test_good_keys_are_used_even_when_others_are_bad() -> None:
    options, problems = parse_options({"maxFileSize": -1, "search": {"limit": 7, "mode": "x"}})
    assert options.search_limit == 7
    assert options.max_file_size == DEFAULT_OPTIONS.max_file_size
    assert options.search_mode == "hybrid"
    assert [p.key for p in errors(problems)] == ["maxFileSize", "search.mode"]


def test_bad_exclude_entries_are_dropped_and_the_good_ones_kept() -> None:
    options, problems = parse_options({"exclude": ["build/**", 3, "", " dist/** "]})
    assert options.exclude == ("build/**", "dist/**")
    assert [p.key for p in problems] == ["exclude[1]", "exclude[2]"]


def test_options_that_are_not_an_object_keep_all_defaults() -> None:
    options, problems = parse_options(["cacheDir", "/tmp"])
    assert options == DEFAULT_OPTIONS
    assert problems[0].severity == "error"
    assert "must be a JSON object" in problems[0].message


def test_whole_number_floats_are_accepted_as_integers() -> None:
    options, problems = parse_options({"maxFileSize": 2048.0, "search": {"limit": 30.0}})
    assert problems == []
    assert options.max_file_size == 2048
    assert options.search_limit == 30
    assert isinstance(options.search_limit, int)


def test_non_finite_numbers_are_rejected() -> None:
    _, problems = parse_options({"maxFileSize": math.inf, "search": {"limit": math.nan}})
    assert [p.key for p in errors(problems)] == ["maxFileSize", "search.limit"]


def test_choices_ignore_case_and_surrounding_spaces() -> None:
    options, problems = parse_options({"search": {"mode": " Text "}, "logLevel": "WARNING"})
    assert problems == []
    assert options.search_mode == "text"
    assert options.log_level == "warning"


def test_cache_dir_expands_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    options, problems = parse_options({"cacheDir": "~/quiver-cache"})
    assert problems == []
    assert options.cache_dir == tmp_path / "quiver-cache"


def test_null_resets_cache_dir_and_exclude_to_their_defaults(tmp_path: Path) -> None:
    base, _ = parse_options({"cacheDir": str(tmp_path), "exclude": ["a/**"]})
    options, problems = parse_options({"cacheDir": None, "exclude": None}, base)
    assert problems == []
    assert options.cache_dir is None
    assert options.exclude == ()


def test_a_configuration_change_keeps_current_values_for_absent_and_bad_keys() -> None:
    current, _ = parse_options({"search": {"limit": 40}, "watch": False})
    changed, problems = parse_options({"search": {"mode": "text", "limit": -3}}, current)
    assert changed.search_limit == 40
    assert changed.search_mode == "text"
    assert changed.watch is False
    assert "keeping 40." in problems[0].message


def test_settings_under_a_quiver_section_are_unwrapped() -> None:
    options, problems = parse_options({"quiver": {"watch": False}})
    assert problems == []
    assert options.watch is False


def test_long_bad_values_are_shortened_in_the_message() -> None:
    _, problems = parse_options({"logLevel": "x" * 500})
    assert len(problems[0].message.splitlines()[0]) < 250
    assert "..." in problems[0].message


def test_server_options_are_immutable() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_OPTIONS.watch = False  # type: ignore[misc]
