"""Where evidence comes from: safe fetching, archiving, extraction, discovery adapters.

Never imports `verdicts`; translates third-party errors (httpx, parsers, feeds) into ours.
"""
