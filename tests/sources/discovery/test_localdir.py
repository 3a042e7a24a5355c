from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sources.discovery.base import AdapterMisconfigured, Candidate
from sources.discovery.localdir import LocalDirAdapter, is_local, load_local, page_text
from tests.sources.discovery.support import request_for

QUERY = "North Korea direct offer talks"


def page(title: str, body: str, head: str = "", prefix: str = "") -> bytes:
    return (
        f"{prefix}<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}"
        f"</head><body><script>var korea = 'talks offer direct north';</script>"
        f"<p>{body}</p></body></html>"
    ).encode()


NK = page("Talks", "North Korea made a direct offer of talks to Washington.")
OTHER = page("Budget", "The parliament passed the budget.")


def write_warc(path: Path, records: list[tuple[str, str, bytes, int]]) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=path.name.endswith(".gz"))
        for url, content_type, body, status in records:
            headers = StatusAndHeaders(
                f"{status} OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers
                )
            )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    (root / "saved").mkdir(parents=True)
    (root / "saved" / "from-browser.html").write_bytes(
        page(
            "Saved",
            "North Korea offers direct talks, officials say.",
            prefix="<!-- saved from url=(0032)https://news.example/nk-offer -->\n",
        )
    )
    (root / "saved" / "canonical.htm").write_bytes(
        page(
            "Canonical",
            "A direct offer: North Korea wants talks.",
            head='<link rel="canonical" href="https://paper.example/canonical-nk">',
        )
    )
    (root / "saved" / "plain.html").write_bytes(page("Plain", "North Korea direct offer of talks."))
    (root / "saved" / "budget.html").write_bytes(OTHER)
    (root / "notes.txt").write_text("North Korea direct offer talks")  # not a page: ignored
    write_warc(
        root / "crawl.warc.gz",
        [
            ("https://wire.example/budget", "text/html", OTHER, 200),
            ("https://wire.example/nk", "text/html; charset=utf-8", NK, 200),
            ("https://wire.example/nk.json", "application/json", b'{"north korea talks": 1}', 200),
        ],
    )
    write_warc(root / "old.warc", [("https://wire.example/nk-old", "text/html", NK, 200)])
    (root / "broken.warc.gz").write_bytes(b"\x1f\x8b not really a warc")
    return root


def test_pages_and_warc_records_matching_the_queries_are_candidates(archive, settings, run_adapter):
    out = run_adapter(LocalDirAdapter(str(archive), settings=settings), request_for(QUERY))
    urls = sorted(c.url for c in out.candidates)
    assert urls == sorted(
        [
            "https://news.example/nk-offer",
            "https://paper.example/canonical-nk",
            (archive / "saved" / "plain.html").resolve().as_uri(),
            "https://wire.example/nk",
            "https://wire.example/nk-old",
        ]
    )
    assert all(c.adapter == "dir" and c.query == QUERY for c in out.candidates)
    assert sorted(c.rank for c in out.candidates) == [1, 2, 3, 4, 5]
    warc = next(c for c in out.candidates if c.url == "https://wire.example/nk")
    assert warc.meta["path"] == str((archive / "crawl.warc.gz").resolve())
    assert warc.meta["format"] == "warc" and warc.meta["offset"] > 0
    assert is_local(warc)


def test_load_local_reads_a_warc_record_back(archive, settings, run_adapter):
    out = run_adapter(LocalDirAdapter(str(archive), settings=settings), request_for(QUERY))
    for url in ("https://wire.example/nk", "https://wire.example/nk-old"):
        result = load_local(next(c for c in out.candidates if c.url == url), max_bytes=10**6)
        assert result.ok and result.status == 200
        assert result.body == NK
        assert result.sha256 == hashlib.sha256(NK).hexdigest()
        assert result.final_url == url
        assert "direct offer of talks" in (result.text or "")
        assert result.fetched_at is not None


def test_load_local_reads_a_saved_page_back(archive, settings, run_adapter):
    out = run_adapter(LocalDirAdapter(str(archive), settings=settings), request_for(QUERY))
    saved = next(c for c in out.candidates if c.url == "https://news.example/nk-offer")
    result = load_local(saved, max_bytes=10**6)
    assert result.ok and result.content_type == "text/html"
    assert result.body == (archive / "saved" / "from-browser.html").read_bytes()


def test_load_local_of_a_vanished_file_is_a_failed_result(tmp_path):
    gone = Candidate(
        "https://x.example/",
        "dir",
        None,
        1,
        meta={"path": str(tmp_path / "gone.html"), "offset": None},
    )
    result = load_local(gone, max_bytes=1000)
    assert not result.ok and result.error_kind == "connect"
    odd = Candidate("https://x.example/", "dir", None, 1, meta={"path": "/etc/passwd"})
    assert load_local(odd, max_bytes=1000).error_kind == "invalid_url"


def test_symlinks_out_of_the_folder_are_not_followed(tmp_path, settings, run_adapter):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.html").write_bytes(NK)
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.html").symlink_to(outside / "secret.html")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    out = run_adapter(LocalDirAdapter(str(root), settings=settings), request_for(QUERY))
    assert out.candidates == ()


def test_a_missing_folder_is_a_configuration_failure(tmp_path, settings, run_adapter):
    with pytest.raises(AdapterMisconfigured, match="is not a folder"):
        run_adapter(LocalDirAdapter(str(tmp_path / "nope"), settings=settings), request_for(QUERY))


def test_page_text_drops_scripts_and_finds_the_declared_url():
    title, text, url = page_text(
        NK.decode().replace(
            "<head>", '<head><meta property="og:url" content="https://o.example/x">'
        )
    )
    assert title == "Talks"
    assert "var korea" not in text and "direct offer of talks" in text
    assert url == "https://o.example/x"
    assert page_text("") == (None, "", None)
