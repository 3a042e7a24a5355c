"""Build the demo ``Corpus`` from the data files: page bodies wrapped in each site's chrome.

Each site's ``template.html`` is a ``string.Template`` with ``$title``, ``$body``,
``$canonical``, ``$published``, ``$jsonld``, ``$related`` and friends; metadata comes from
``site.json``. Cross-site links are written as ``{{url:SITE:/path}}`` and resolved by the
server, so the files carry no port. Pure apart from reading the package's own files.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from demo.corpus.model import Corpus, DictPages, Entry, Page, Site

CORPUS_DIR = Path(__file__).parent
CLAIMS_FILE = CORPUS_DIR / "claims.jsonl"
SITE_ORDER = ("wire", "courier", "ledger", "epb", "wiki", "claimcheck", "gov", "blog")


def _ref(site: str, ref: str) -> tuple[str, str]:
    """``"other:/path"`` or ``"/path"`` (same site) -> (site, path)."""
    if ref.startswith("/"):
        return site, ref
    other, _, path = ref.partition(":")
    return other, path


def _placeholder(site: str, path: str) -> str:
    return "{{url:" + site + ":" + path + "}}"


def _human(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def _article_ld(kind: str, site: Site, meta: dict[str, Any], url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": kind,
        "headline": meta["title"],
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": meta["published"],
        "dateModified": meta.get("modified") or meta["published"],
        "publisher": {"@type": "Organization", "name": site.name},
    }
    if meta.get("author"):
        data["author"] = {"@type": "Person", "name": meta["author"]}
    return data


def _claim_review_ld(site: Site, meta: dict[str, Any], url: str) -> dict[str, Any]:
    review = meta["claim_review"]
    item: dict[str, Any] = {
        "@type": "Claim",
        "author": {"@type": "Organization", "name": review["claimant"]},
        "datePublished": review["claim_date"],
    }
    if review.get("appearance"):
        item["appearance"] = {
            "@type": "CreativeWork",
            "url": _placeholder(*_ref(site.key, review["appearance"])),
        }
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "datePublished": meta["published"][:10],
        "claimReviewed": review["claim"],
        "itemReviewed": item,
        "author": {"@type": "Organization", "name": site.name, "url": _placeholder(site.key, "/")},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": review["rating_value"],
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": review["rating"],
        },
    }


def _jsonld(kind: str | None, site: Site, meta: dict[str, Any], url: str) -> str:
    blocks = [_article_ld(kind, site, meta, url)] if kind else []
    if meta.get("claim_review"):
        blocks.append(_claim_review_ld(site, meta, url))
    return "\n".join(
        f'<script type="application/ld+json">{json.dumps(b, ensure_ascii=False)}</script>'
        for b in blocks
    )


def _related(site: Site, refs: list[str], titles: dict[tuple[str, str], str]) -> str:
    items = []
    for ref in refs:
        key = _ref(site.key, ref)
        items.append(f'<li><a href="{_placeholder(*key)}">{escape(titles[key])}</a></li>')
    return "".join(items)


def render_page(
    site: Site,
    template: Template,
    meta: dict[str, Any],
    body: str,
    jsonld_kind: str | None,
    titles: dict[tuple[str, str], str],
) -> str:
    """One page's HTML: the body in the site's chrome, with metadata and JSON-LD."""
    published = datetime.fromisoformat(meta["published"])
    modified = datetime.fromisoformat(meta.get("modified") or meta["published"])
    url = _placeholder(site.key, meta["path"])
    canonical = _placeholder(*_ref(site.key, meta["canonical"])) if meta.get("canonical") else url
    return template.substitute(
        lang=site.language,
        title=escape(meta["title"]),
        description=escape(meta["summary"]),
        author=escape(meta.get("author", "")),
        section=escape(meta.get("section", "")),
        url=url,
        canonical=canonical,
        published=published.isoformat(),
        published_human=_human(published),
        modified=modified.isoformat(),
        modified_human=_human(modified),
        page_class=meta["path"].rsplit("/", 1)[-1] or "index",
        jsonld=_jsonld(jsonld_kind, site, meta, canonical),
        related=_related(site, meta.get("related", []), titles),
        body=body,
    )


def _entry(meta: dict[str, Any]) -> Entry:
    modified = meta.get("modified")
    return Entry(
        path=meta["path"],
        title=meta["title"],
        summary=meta["summary"],
        published=datetime.fromisoformat(meta["published"]),
        modified=datetime.fromisoformat(modified) if modified else None,
        author=meta.get("author"),
        in_feed=meta.get("in_feed", True),
        in_sitemap=meta.get("in_sitemap", True),
    )


def _site(config: dict[str, Any]) -> Site:
    return Site(
        key=config["key"],
        name=config["name"],
        address=config["address"],
        pages=DictPages(()),
        kind=config["kind"],
        description=config["description"],
        feed_path=config["feed_path"],
        feed_format=config["feed_format"],
        sitemap_style=config["sitemap_style"],
        disallow=tuple(config["disallow"]),
        wiki_api=config.get("wiki_api", False),
    )


def load_claims(path: Path = CLAIMS_FILE) -> list[dict[str, str]]:
    """The demo claims; origin URLs are ``corpus://SITE/path`` until a server resolves them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_demo_corpus(root: Path = CORPUS_DIR) -> Corpus:
    """Every site under ``root`` with its rendered pages, plus the demo claims."""
    configs = [json.loads((root / key / "site.json").read_text("utf-8")) for key in SITE_ORDER]
    titles = {(c["key"], p["path"]): p["title"] for c in configs for p in c["pages"]}
    sites = []
    for config in configs:
        site = _site(config)
        template = Template((root / site.key / "template.html").read_text("utf-8"))
        pages = []
        for meta in config["pages"]:
            body = (root / site.key / "pages" / meta["file"]).read_text("utf-8")
            html = render_page(site, template, meta, body, config.get("jsonld"), titles)
            pages.append(Page(_entry(meta), html))
        site.pages = DictPages(pages)
        sites.append(site)
    return Corpus(sites=sites, claims=load_claims(root / "claims.jsonl"))
