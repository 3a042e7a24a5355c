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

# search APIs are asked at most this many of the plan's queries (origin, topics, refutation,
# in that order): GDELT rate-limits to about one request per five seconds
QUERIES_PER_SEARCH = {"mediawiki": 6, "gdelt": 6, "factcheck-api": 2}

# candidates a source kind may propose when settings.candidate_budgets does not name it
DEFAULT_CANDIDATE_BUDGET = 15

# the news search window around the claim date: corrections and denials come days or weeks
# after the claim, earlier instances of a "first" years before it (GDELT otherwise searches
# only the last 3 months)
NEWS_WINDOW_BEFORE_DAYS = 3 * 365
NEWS_WINDOW_AFTER_DAYS = 60

# query planning
MAX_QUERY_WORDS = 8  # of the plain queries of `plan_queries`
MAX_QUERY_CHARS = 200
MAX_FAMILY_TERMS = 4  # words or phrases in one family query: short, because search ANDs them
GDELT_MIN_KEYWORD = 3  # GDELT refuses shorter keywords outside quoted phrases
# the refutation family's OR group: how corrections, denials and fact-checks are worded
CORRECTION_TERMS = ("denied", "clarified", "correction", "false", "not the first", "misleading")
FOLLOWUP_MIN_PASSAGES = 2  # a name or date must recur in this many top passages to be followed

# token-overlap matching of feed entries, sitemap entries and local files
MATCH_MIN_SCORE = 0.5  # share of a query's words the entry must contain
MATCH_MIN_WORDS = 2  # ... and at least this many (unless the query has fewer)
# BM25 over a listing (Lucene's defaults); an entry must hold MATCH_MIN_WORDS query terms
BM25_K1 = 1.2
BM25_B = 0.75
LISTING_TITLE_WEIGHT = 2  # a listing's title words count twice: a headline says what it is
LISTING_TEXT_CHARS = 400  # of a candidate's listed text kept for the run's fused ranking

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
