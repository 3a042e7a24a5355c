"""Named defaults of discovery, in one place (STYLE 13).

Per-deployment knobs (the sources, the candidate cap, the adapter time budget, the API key)
are settings; these are the constants a newsroom rarely changes, named so that no call site
carries a bare literal.
"""

from __future__ import annotations

# default base URLs: the public services; each can be pointed at a mirror with KIND=URL
MEDIAWIKI_API = "https://en.wikipedia.org/w/api.php"
GDELT_DOC_API = "https://api.gdeltproject.org/api/v2/doc/doc"
FACTCHECK_SEARCH_API = "https://factchecktools.googleapis.com/v1alpha1/claims:search"

# search APIs are asked fewer queries than planned: GDELT rate-limits to about one request
# per five seconds, and the first queries are the most specific ones
QUERIES_PER_SEARCH = {"mediawiki": 3, "gdelt": 2, "factcheck-api": 2}

# a GDELT search around the claim date (the API otherwise searches only the last 3 months)
GDELT_WINDOW_DAYS = 30

# query planning
MAX_QUERY_WORDS = 8
MAX_QUERY_CHARS = 200

# token-overlap matching of feed entries, sitemap entries and local files
MATCH_MIN_SCORE = 0.5  # share of a query's words the entry must contain
MATCH_MIN_WORDS = 2  # ... and at least this many (unless the query has fewer)

# sitemaps: bounded recursion into sitemap indexes, bounded work per file
SITEMAP_MAX_DEPTH = 2
SITEMAP_MAX_CHILDREN = 20
SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's own per-file limit
SITEMAP_MAX_ENTRIES = 100_000  # in all files together: matching costs ~20-50 us an entry

# local archives
LOCALDIR_MAX_FILES = 5_000
LOCALDIR_TEXT_CHARS = 20_000  # of each page's text used for matching

ACCEPT_JSON = "application/json"
ACCEPT_XML = "application/rss+xml, application/atom+xml, application/xml, text/xml;q=0.9, */*;q=0.1"
