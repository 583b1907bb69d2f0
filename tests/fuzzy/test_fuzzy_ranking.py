"""How fuzzy_score and NameIndex rank names: the behaviour editors expect from Ctrl+T."""

from __future__ import annotations

import pytest

from quiver.fuzzy import MAX_QUERY_LENGTH, NameIndex, fuzzy_score


def ranked_names(names: list[str], query: str, limit: int = 100) -> list[str]:
    index: NameIndex[int] = NameIndex()
    index.add(list(range(len(names))), names)
    return [names[match.key] for match in index.search(query, limit)]


def score_of(query: str, name: str) -> float:
    result = fuzzy_score(query, name)
    assert result is not None, f"{query!r} should match {name!r}"
    return result[0]


# --- what matches -------------------------------------------------------------------


def test_query_matches_when_its_characters_appear_in_order() -> None:
    assert fuzzy_score("hsr", "HttpServerRequest") is not None
    assert fuzzy_score("rsh", "HttpServerRequest") is None
    assert fuzzy_score("abc", "xyz") is None


def test_matching_ignores_case_both_ways() -> None:
    assert fuzzy_score("HTTP", "httpGet") is not None
    assert fuzzy_score("httpget", "HTTPGet") is not None


def test_positions_are_the_string_indices_of_the_matched_characters() -> None:
    result = fuzzy_score("hsr", "HttpServerRequest")
    assert result is not None
    assert result[1] == (0, 4, 10)


def test_query_longer_than_the_name_does_not_match() -> None:
    assert fuzzy_score("abcd", "abc") is None


# --- word starts ----------------------------------------------------------------------


def test_characters_on_word_starts_outrank_the_same_characters_mid_word() -> None:
    # "whiskers" contains h, s, r in order but none on a word start.
    names = ["whiskers", "HttpServerRequest", "hasSortedRows"]
    ranked = ranked_names(names, "hsr")
    assert ranked[-1] == "whiskers"
    assert score_of("hsr", "HttpServerRequest") > score_of("hsr", "whiskers") + 20


def test_between_two_full_acronym_matches_the_shorter_wins_unless_case_decides() -> None:
    # Both names have H/h, S and R on their three word starts: with a lower-case
    # query the shorter name (whose h is also typed in the same case) is first;
    # typing the capitals picks the name with those capitals.
    assert ranked_names(["HttpServerRequest", "hasSortedRows"], "hsr") == [
        "hasSortedRows",
        "HttpServerRequest",
    ]
    assert ranked_names(["hasSortedRows", "HttpServerRequest"], "HSR") == [
        "HttpServerRequest",
        "hasSortedRows",
    ]


def test_word_starts_are_found_in_snake_case_camel_case_and_acronyms() -> None:
    assert fuzzy_score("gub", "get_user_by")[1] == (0, 4, 9)  # type: ignore[index]
    assert fuzzy_score("gub", "getUserBy")[1] == (0, 3, 7)  # type: ignore[index]
    assert fuzzy_score("hs", "HTTPServer")[1] == (0, 4)  # type: ignore[index]
    assert fuzzy_score("d", "utf8decode")[1] == (4,)  # type: ignore[index]


def test_alignment_prefers_word_starts_over_earlier_mid_word_characters() -> None:
    # The first "s" is in "has"; the best alignment jumps to "Sorted".
    result = fuzzy_score("hs", "hasSorted")
    assert result is not None
    assert result[1] == (0, 3)


def test_skipping_whole_words_costs_the_same_however_long_they_are() -> None:
    short = score_of("ab", "a_b")
    long = score_of("ab", "a_xxxxxxxxxxxxx_b")
    # Only the length penalty (per uncovered character) separates them.
    assert short - long == pytest.approx(0.25 * 14)


# --- runs, prefixes, exact names, length -------------------------------------------------


def test_a_contiguous_run_outranks_scattered_characters() -> None:
    # "getUsesMapper": the run is broken by letters in the middle of a word.
    assert ranked_names(["getUsesMapper", "getUser"], "user") == ["getUser", "getUsesMapper"]
    assert score_of("user", "getUser") > score_of("user", "getUsesMapper") + 10


def test_a_prefix_outranks_the_same_run_inside_the_name() -> None:
    assert ranked_names(["target", "getter"], "get") == ["getter", "target"]


def test_an_exact_name_comes_first_whatever_its_length() -> None:
    names = ["mapper", "map_items", "mp", "heatmap", "map"]
    assert ranked_names(names, "map")[0] == "map"


def test_exact_case_wins_between_names_that_differ_only_in_case() -> None:
    assert ranked_names(["user", "User"], "User") == ["User", "user"]
    assert ranked_names(["User", "user"], "user") == ["user", "User"]
    assert ranked_names(["parseUrl", "parseURL"], "parseURL")[0] == "parseURL"


def test_shorter_names_first_when_the_match_is_otherwise_equal() -> None:
    names = ["foo_bar_baz_qux", "foo_bar", "foo_bar_baz"]
    assert ranked_names(names, "foo") == ["foo_bar", "foo_bar_baz", "foo_bar_baz_qux"]


def test_separators_in_the_query_are_optional() -> None:
    names = ["get_user_by_id", "getUser", "get_users_list"]
    ranked = ranked_names(names, "get_user")
    assert ranked[0] == "getUser"
    assert set(ranked) == set(names)
    assert ranked.index("get_user_by_id") < ranked.index("get_users_list")


def test_a_query_with_separators_still_finds_the_exact_name_first() -> None:
    assert ranked_names(["getUser", "get_user_by_id", "get_user"], "get_user")[0] == "get_user"


def test_a_query_made_only_of_separators_matches_them_literally() -> None:
    assert ranked_names(["__init__", "main", "a_b"], "__") == ["__init__"]


# --- unicode -----------------------------------------------------------------------------


def test_non_ascii_names_match_case_insensitively_with_word_starts() -> None:
    assert ranked_names(["berechneGröße", "größe", "Größenordnung"], "größe")[0] == "größe"
    result = fuzzy_score("bg", "berechneGröße")
    assert result is not None
    assert result[1] == (0, 8)
    assert fuzzy_score("ÉTÉ", "étéChaud") is not None


def test_cjk_names_match_by_subsequence() -> None:
    ranked = ranked_names(["データ", "データベース", "ベース"], "データ")
    assert ranked == ["データ", "データベース"]


def test_positions_count_python_characters_even_beyond_the_basic_plane() -> None:
    result = fuzzy_score("ab", "😀_a😀b")
    assert result is not None
    assert result[1] == (2, 4)


def test_a_lone_surrogate_in_a_name_is_indexed_without_error() -> None:
    # The surrogate is not alphanumeric, so the "n" after it starts a word.
    assert ranked_names(["badname", "bad\ud800name"], "bn") == ["bad\ud800name", "badname"]


# --- empty and very long queries -----------------------------------------------------------


def test_an_empty_query_lists_names_in_insertion_order() -> None:
    index: NameIndex[int] = NameIndex()
    index.add([30, 10, 20], ["zeta", "alpha", "mid"])
    assert [match.key for match in index.search("", limit=2)] == [30, 10]
    assert [match.key for match in index.search("   ")] == [30, 10, 20]
    assert all(match.score == 0.0 and match.positions == () for match in index.search(""))


def test_fuzzy_score_of_an_empty_query_is_no_match() -> None:
    assert fuzzy_score("", "anything") is None
    assert fuzzy_score("  ", "anything") is None


def test_a_very_long_query_matches_nothing_and_returns_at_once() -> None:
    index: NameIndex[int] = NameIndex()
    long_name = "a" * (MAX_QUERY_LENGTH + 10)
    index.add([1, 2], ["abc", long_name])
    assert index.search("a" * 100_000) == []
    assert fuzzy_score("a" * 100_000, long_name) is None
    # The longest accepted query still matches a name that contains it.
    assert [m.key for m in index.search("a" * MAX_QUERY_LENGTH)] == [2]


def test_leading_and_trailing_whitespace_is_ignored() -> None:
    assert fuzzy_score("  user ", "user") == fuzzy_score("user", "user")
