from __future__ import annotations

from pathlib import Path

import pytest

from evidence.errors import BadInput
from evidence.settings import Settings
from sources.discovery import (
    ADAPTER_CLASSES,
    ADAPTERS,
    SourceSpec,
    parse_source,
    sources_from_settings,
)
from sources.discovery.base import Adapter, AdapterMisconfigured
from sources.discovery.config import FACTCHECK_SEARCH_API, GDELT_DOC_API, MEDIAWIKI_API


def test_every_documented_kind_is_registered_once():
    assert sorted(ADAPTERS) == sorted(
        ["origin", "mediawiki", "rss", "sitemap", "gdelt", "factcheck-api", "url", "dir"]
    )
    assert len(ADAPTER_CLASSES) == len(ADAPTERS)
    assert all(issubclass(cls, Adapter) for cls in ADAPTER_CLASSES)


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "mediawiki=https://de.wikipedia.org/w/api.php",
            SourceSpec("mediawiki", "https://de.wikipedia.org/w/api.php"),
        ),
        (
            " RSS = https://feeds.example/world.xml ",
            SourceSpec("rss", "https://feeds.example/world.xml"),
        ),
        (
            "sitemap=https://news.example/sitemap.xml",
            SourceSpec("sitemap", "https://news.example/sitemap.xml"),
        ),
        ("gdelt", SourceSpec("gdelt")),
        ("factcheck-api", SourceSpec("factcheck-api")),
        (
            "url=http://127.0.0.1:8080/page?a=b=c",
            SourceSpec("url", "http://127.0.0.1:8080/page?a=b=c"),
        ),
        ("origin", SourceSpec("origin")),
        ("origin=https://x.example/post", SourceSpec("origin", "https://x.example/post")),
    ],
)
def test_parse_source(text, expected):
    assert parse_source(text) == expected


def test_kinds_with_a_default_use_the_public_service():
    settings = Settings(factcheck_api_key="k")
    assert parse_source("mediawiki").build(settings).base_url == MEDIAWIKI_API
    assert parse_source("gdelt").build(settings).base_url == GDELT_DOC_API
    assert parse_source("factcheck-api").build(settings).base_url == FACTCHECK_SEARCH_API
    mirror = parse_source("gdelt=http://mirror.example/doc").build(settings)
    assert mirror.base_url == "http://mirror.example/doc"


def test_dir_takes_an_existing_folder_as_path_or_file_uri(tmp_path: Path):
    assert parse_source(f"dir={tmp_path}") == SourceSpec("dir", str(tmp_path.resolve()))
    assert parse_source(f"dir={tmp_path.as_uri()}") == SourceSpec("dir", str(tmp_path.resolve()))


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("wikipedia=https://x", "Unknown source kind 'wikipedia'"),
        ("", "Unknown source kind ''"),
        ("rss", "needs a target: write rss=URL"),
        ("dir=", "needs a target: write dir=PATH"),
        ("rss=feeds.example/world.xml", "needs an absolute http(s) URL"),
        ("sitemap=ftp://x.example/sitemap.xml", "needs an absolute http(s) URL"),
        ("url=https://user:pw@x.example/", "needs an absolute http(s) URL"),
        ("dir=/no/such/folder/anywhere", "does not exist"),
    ],
)
def test_bad_specs_are_one_sentence_of_bad_input(text, fragment):
    with pytest.raises(BadInput) as caught:
        parse_source(text)
    message = str(caught.value)
    assert fragment in message
    assert message.endswith(".") and "\n" not in message
    assert caught.value.exit_code == 2


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(
        BadInput, match="origin, mediawiki, rss, sitemap, gdelt, factcheck-api, url, dir"
    ):
        parse_source("bing=https://bing.example")


def test_settings_sources_come_first_then_the_command_line_without_repeats():
    settings = Settings(sources=["mediawiki", "rss=https://feeds.example/a.xml"])
    specs = sources_from_settings(
        settings, ["rss=https://feeds.example/a.xml", "gdelt", "url=https://x.example/"]
    )
    assert [str(s) for s in specs] == [
        "mediawiki",
        "rss=https://feeds.example/a.xml",
        "gdelt",
        "url=https://x.example/",
    ]


def test_sources_from_the_toml_file_and_from_the_environment(tmp_path, monkeypatch):
    toml = tmp_path / "factcheck.toml"
    toml.write_text(
        'sources = ["mediawiki=https://es.wikipedia.org/w/api.php", '
        '"sitemap=https://news.example/sitemap.xml"]\n'
    )
    monkeypatch.setenv("FACTCHECK_CONFIG", str(toml))
    monkeypatch.delenv("FACTCHECK_SOURCES", raising=False)
    assert [str(s) for s in sources_from_settings(Settings())] == [
        "mediawiki=https://es.wikipedia.org/w/api.php",
        "sitemap=https://news.example/sitemap.xml",
    ]
    monkeypatch.setenv("FACTCHECK_SOURCES", "gdelt,rss=https://feeds.example/a.xml")
    assert [s.kind for s in sources_from_settings(Settings())] == ["gdelt", "rss"]


def test_a_bad_source_in_settings_is_bad_input():
    with pytest.raises(BadInput, match="Unknown source kind 'nope'"):
        sources_from_settings(Settings(sources=["nope=https://x"]))


def test_an_adapter_built_without_its_url_refuses():
    with pytest.raises(AdapterMisconfigured, match="no URL"):
        ADAPTERS["rss"](None, settings=Settings())
