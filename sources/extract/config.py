"""Named defaults for extraction: the thresholds the heuristics use, in one place.

The values were tuned on the saved pages under ``tests/sources/pages`` and on the dev split
of the shared extraction devset (``make bench-extraction``; never on its held-out pages).
Changing one changes passage ids for long paragraphs (``max_passage_chars``), so treat them
as part of the format.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractConfig:
    """Tunable thresholds for `sources.extract.extract`."""

    # Paragraphs longer than this are split at sentence boundaries into several passages.
    max_passage_chars: int = 600
    # A block whose anchor text is more than this share of its text is a link list.
    max_link_density: float = 0.5
    # ...unless it is at least this long (a long paragraph with many citations is prose).
    link_dense_prose_chars: int = 300
    # A semantic container (<article>, <main>…) shorter than this is not trusted as main text.
    min_main_chars: int = 140
    # The densest block replaces a marked-up container (<article>…) that does not hold it
    # when it has this many times the container's prose.
    dense_over_semantic: float = 3.0
    # A lone container grows to its highest ancestor whose extra prose stays under this
    # share of the container's own (the standfirst next to the article body).
    climb_prose_share: float = 4.0
    # Siblings of the densest block join it when they score at least this share of its score.
    sibling_score_share: float = 0.25
    # An element named like chrome is kept when it holds at least this share of the page's
    # prose (text outside links): a wrapper called "share-zone" around the article.
    chrome_prose_share: float = 0.5
    # Blocks shorter than this that mention cookies and consent are a banner, not prose.
    max_banner_chars: int = 600
    # Pages longer than this (characters) are cut before parsing: bounded time and memory.
    max_input_chars: int = 5_000_000


DEFAULT_CONFIG = ExtractConfig()
