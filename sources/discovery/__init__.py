"""Discovery: which pages are worth fetching for a claim, and why.

``plan.plan`` turns a claim into query families (origin, topic, refutation) that each
configured source (an adapter kind plus a base URL, written ``KIND=URL``) is sent in its own
query language, within its own candidate budget; ``run.discover`` runs the adapters side by
side and fuses what they propose into one ranking; ``followup`` plans a second round from
the first round's best passages;
``record.record_discovery`` writes it to the candidate and fact_check tables with audit
events. A new adapter subclasses ``base.Adapter`` and joins ``ADAPTER_CLASSES`` below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from evidence.errors import BadInput
from evidence.settings import Settings
from sources.discovery.base import Adapter
from sources.discovery.factcheck_api import FactCheckApiAdapter
from sources.discovery.gdelt import GdeltAdapter
from sources.discovery.localdir import LocalDirAdapter
from sources.discovery.mediawiki import MediaWikiAdapter
from sources.discovery.origin import OriginAdapter
from sources.discovery.rss import RssAdapter
from sources.discovery.sitemap import SitemapAdapter
from sources.discovery.url import UrlAdapter

ADAPTER_CLASSES: tuple[type[Adapter], ...] = (
    OriginAdapter,
    MediaWikiAdapter,
    RssAdapter,
    SitemapAdapter,
    GdeltAdapter,
    FactCheckApiAdapter,
    UrlAdapter,
    LocalDirAdapter,
)
ADAPTERS: dict[str, type[Adapter]] = {cls.kind: cls for cls in ADAPTER_CLASSES}


@dataclass(frozen=True)
class SourceSpec:
    """One configured source: an adapter kind and its base URL (or folder, for ``dir``)."""

    kind: str
    target: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}={self.target}" if self.target else self.kind

    def build(self, settings: Settings) -> Adapter:
        return ADAPTERS[self.kind](self.target, settings=settings)


def parse_source(spec: str) -> SourceSpec:
    """``KIND=URL`` (or ``KIND`` alone for kinds with a default) as a SourceSpec; a bad
    spec raises BadInput with one sentence.

    >>> parse_source("mediawiki=https://de.wikipedia.org/w/api.php")
    SourceSpec(kind='mediawiki', target='https://de.wikipedia.org/w/api.php')
    """
    kind, _, target = spec.strip().partition("=")
    kind, target = kind.strip().lower(), target.strip()
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        known = ", ".join(ADAPTERS)
        raise BadInput(f"Unknown source kind {kind!r} in {spec!r}; the kinds are {known}.")
    if not target:
        if adapter.needs_target:
            what = "PATH" if adapter.target_is_path else "URL"
            raise BadInput(f"The source {kind!r} needs a target: write {kind}={what}.")
        return SourceSpec(kind)
    if adapter.target_is_path:
        return SourceSpec(kind, _folder(kind, target))
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise BadInput(f"The source {kind!r} needs an absolute http(s) URL, not {target!r}.")
    return SourceSpec(kind, target)


def _folder(kind: str, target: str) -> str:
    if target.startswith("file://"):
        target = unquote(urlsplit(target).path)
    path = Path(target).expanduser()
    if not path.is_dir():
        raise BadInput(f"The folder {target!r} of source {kind!r} does not exist.")
    return str(path.resolve())


def sources_from_settings(settings: Settings, extra: Iterable[str] = ()) -> list[SourceSpec]:
    """The sources of ``settings.sources`` (factcheck.toml or FACTCHECK_SOURCES) followed
    by ``extra`` ones (``--source`` on the command line), each once, in that order."""
    specs: list[SourceSpec] = []
    for text in [*settings.sources, *extra]:
        spec = parse_source(text)
        if spec not in specs:
            specs.append(spec)
    return specs


__all__ = [
    "ADAPTERS",
    "ADAPTER_CLASSES",
    "SourceSpec",
    "parse_source",
    "sources_from_settings",
]
