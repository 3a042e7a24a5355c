"""`factcheck extract FILE... [--url U] [--json]`: offline, no database."""

from __future__ import annotations

import json
from pathlib import Path

from .pages_util import PAGES_DIR


def _page(name: str) -> str:
    return str(PAGES_DIR / name)


def test_json_is_one_line_per_file_with_the_contract_fields(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("extract", _page("factcheck_claimreview.html"), _page("wire_story.html"), "--json")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    for field in (
        "title", "canonical_url", "site_name", "authors", "published", "modified",
        "language", "text", "passages", "links", "claim_reviews",
    ):  # fmt: skip
        assert field in first, field
    assert first["file"].endswith("factcheck_claimreview.html")
    assert first["claim_reviews"][0]["rating"] == "Mostly False"
    assert first["published"] == "2018-03-12T19:30:00+00:00"
    passage = first["passages"][0]
    assert first["text"][passage["start"] : passage["end"]] == passage["text"]
    assert passage["id"].startswith("p-")
    assert second["authors"] == ["Hana Lee", "Mark Whitfield"]
    assert result.err == ""


def test_the_human_summary_names_title_author_date_and_passages(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("extract", _page("korean_article.html"))
    assert result.code == 0, result.err
    assert '대북특사단 "北, 비핵화 의지 밝혀…4월말 판문점서 남북정상회담"' in result.out
    assert "by 김민수" in result.out
    assert "published 2018-03-06 11:47 UTC (opengraph)" in result.out
    assert "language ko" in result.out
    assert "[p-" in result.out


def test_the_summary_shows_a_claim_review(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("extract", _page("factcheck_claimreview.html"))
    assert "rated 'Mostly False'" in result.out


def test_brackets_in_titles_are_printed_as_they_are(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "p.html"
    page.write_text(
        "<title>[bold]Talks[/bold] offer</title><article><p>Seoul said so today.</p></article>"
    )
    result = cli("extract", str(page))
    assert "[bold]Talks[/bold] offer" in result.out


def test_url_resolves_relative_links(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "saved.html"
    page.write_text(
        "<article><p>Full text of <a href='/statements/0308'>the statement</a> released by the "
        "White House on Thursday evening.</p></article>"
    )
    result = cli("extract", str(page), "--url", "https://whitehouse.example/briefings/x", "--json")
    data = json.loads(result.out)
    assert data["url"] == "https://whitehouse.example/briefings/x"
    assert data["links"] == [
        {"url": "https://whitehouse.example/statements/0308", "text": "the statement"}
    ]


def test_a_text_file_is_read_as_paragraphs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.txt"
    notes.write_text("<p>not markup</p> first paragraph.\n\nSecond paragraph.\n")
    data = json.loads(cli("extract", str(notes), "--json").out)
    assert [p["text"] for p in data["passages"]] == [
        "<p>not markup</p> first paragraph.",
        "Second paragraph.",
    ]


def test_a_missing_file_is_one_sentence_and_exit_2_with_nothing_written(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "gone.html"
    result = cli("extract", _page("wire_story.html"), str(missing), "--json")
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == f"No such file: {missing}."


def test_a_directory_is_bad_input(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("extract", str(tmp_path))
    assert result.code == 2
    assert result.err.strip() == f"{tmp_path} is a directory, not a saved page."


def test_an_unreadable_file_is_bad_input(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locked = tmp_path / "locked.html"
    locked.write_text("<p>x</p>")
    locked.chmod(0)
    try:
        readable = locked.open("rb")  # root can read it anyway: then there is nothing to test
    except PermissionError:
        result = cli("extract", str(locked))
        assert result.code == 2
        assert result.err.startswith(f"Cannot read {locked}")
        assert len(result.err.strip().splitlines()) == 1
    else:
        readable.close()
        result = cli("extract", str(locked))
        assert result.code == 0
    finally:
        locked.chmod(0o644)


def test_a_bad_url_is_bad_input(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("extract", _page("wire_story.html"), "--url", "ftp://files.example/x")
    assert result.code == 2
    assert result.out == ""
    assert "not an absolute http(s) URL" in result.err


def test_binary_input_is_refused_in_one_sentence(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n\x00\x01\x02 binary")
    # random bytes behind a UTF-16 byte-order mark decode to CJK-looking mojibake
    noise = tmp_path / "noise.bin"
    noise.write_bytes(b"\xff\xfe" + bytes(range(1, 256)) * 8 + b"\x00\xd8\x41")
    for path in (pdf, noise):
        for extra in ((), ("--json",)):
            result = cli("extract", _page("wire_story.html"), str(path), *extra)
            assert result.code == 2, (path, result.out)
            assert result.out == ""  # every file is checked before anything is printed
            assert len(result.err.strip().splitlines()) == 1
            assert str(path) in result.err and "not a web page" in result.err
