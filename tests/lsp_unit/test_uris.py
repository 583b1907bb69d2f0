"""File paths ↔ file:// URIs: what clients send comes back as the same path and string."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quiver.lsp import convert
from quiver.lsp.convert import path_to_uri, uri_to_path


def test_a_plain_path_becomes_a_file_uri() -> None:
    assert path_to_uri("/repo/net/http.py") == "file:///repo/net/http.py"
    assert path_to_uri(Path("/repo/net/http.py")) == "file:///repo/net/http.py"


def test_spaces_and_reserved_characters_are_percent_encoded() -> None:
    uri = path_to_uri("/my repo/a#b?c%d.py")
    assert uri == "file:///my%20repo/a%23b%3Fc%25d.py"
    assert uri_to_path(uri) == "/my repo/a#b?c%d.py"


def test_unicode_is_encoded_as_utf8_like_vscode_does() -> None:
    assert path_to_uri("/home/jürgen/データ.py") == (
        "file:///home/j%C3%BCrgen/%E3%83%87%E3%83%BC%E3%82%BF.py"
    )
    assert uri_to_path("file:///home/j%C3%BCrgen/%E3%83%87%E3%83%BC%E3%82%BF.py") == (
        "/home/jürgen/データ.py"
    )


def test_a_file_name_that_is_not_utf8_round_trips_byte_for_byte(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.py")  # Latin-1 bytes, as an old file system may hold
    path = str(tmp_path / name)
    uri = path_to_uri(path)
    assert "caf%E9.py" in uri
    assert uri_to_path(uri) == path


def test_a_relative_path_is_refused() -> None:
    with pytest.raises(ValueError, match="relative path"):
        path_to_uri("src/main.py")


def test_uris_that_are_not_local_files_have_no_path() -> None:
    assert uri_to_path("untitled:Untitled-1") is None
    assert uri_to_path("vscode-notebook-cell:/a.ipynb#W0sZmlsZQ%3D%3D") is None
    assert uri_to_path("https://example.com/a.py") is None
    assert uri_to_path("file://otherhost/share/a.py") is None


def test_localhost_and_upper_case_scheme_count_as_local() -> None:
    assert uri_to_path("file://localhost/repo/a.py") == "/repo/a.py"
    assert uri_to_path("FILE:///repo/a.py") == "/repo/a.py"


def test_a_drive_letter_means_nothing_on_posix() -> None:
    # On Linux and macOS "C:" is an ordinary directory name under "/".
    assert uri_to_path("file:///C:/Users/me/a.py") == "/C:/Users/me/a.py"
    assert uri_to_path("file:///c%3A/Users/me/a.py") == "/c:/Users/me/a.py"


def test_windows_paths_keep_the_drive_letter_lower_cased() -> None:
    assert convert._path_to_uri(r"C:\Users\me\my file.py", windows=True) == (
        "file:///c:/Users/me/my%20file.py"
    )
    assert convert._uri_to_path("file:///C:/Users/me/my%20file.py", windows=True) == (
        r"c:\Users\me\my file.py"
    )
    assert convert._uri_to_path("file:///c%3A/Users/x.py", windows=True) == r"c:\Users\x.py"
    assert convert._uri_to_path("file://server/share/x.py", windows=True) == (
        r"\\server\share\x.py"
    )
    with pytest.raises(ValueError, match="relative path"):
        convert._path_to_uri(r"src\main.py", windows=True)


path_segments = st.lists(
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="/\x00"),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(segments=path_segments)
def test_any_absolute_path_round_trips(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    uri = path_to_uri(path)
    assert uri.startswith("file:///")
    assert all(c.isascii() and not c.isspace() for c in uri)
    assert uri_to_path(uri) == path
    assert path_to_uri(uri_to_path(uri) or "") == uri
