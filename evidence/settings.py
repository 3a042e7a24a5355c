"""The one settings object.

Every setting comes from the environment (prefix ``FACTCHECK_``) or from a TOML file named
by ``FACTCHECK_CONFIG`` (default ``factcheck.toml`` in the working directory, if present).
The environment wins over the file. Every field is documented in README.md's settings table,
and a test fails when one is missing there.
"""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

StrList = Annotated[list[str], NoDecode]
"""A list setting that the environment may give as JSON or as comma-separated text."""


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("factcheck", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FACTCHECK_", extra="ignore", toml_file=None, validate_default=True
    )

    environment: str = Field(
        default="development",
        description="development or production; production refuses placeholder secrets",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir, description="where SQLite, WARC files and exports live"
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; default: SQLite file in data_dir"
    )
    sqlite_busy_timeout_s: float = Field(
        default=30.0, description="how long a SQLite writer waits for the lock"
    )

    # fetching (sources/)
    allowed_networks: StrList = Field(
        default_factory=list, description="CIDRs the fetcher may reach although private/loopback"
    )
    user_agent: str = Field(
        default="factcheck/0.1 (+https://github.com/factcheck/factcheck; verification bot)",
        description="User-Agent sent with every request; include a contact URL",
    )
    fetch_concurrency: int = Field(default=16, description="global limit of requests in flight")
    per_host_concurrency: int = Field(default=2, description="requests in flight per host")
    per_host_delay_s: float = Field(
        default=0.5, description="minimum delay between requests to one host"
    )
    connect_timeout_s: float = Field(default=5.0, description="connect timeout")
    read_timeout_s: float = Field(default=10.0, description="read timeout between bytes")
    fetch_deadline_s: float = Field(
        default=30.0, description="total deadline per URL, redirects and retries included"
    )
    max_body_bytes: int = Field(default=10_000_000, description="body cap (bytes on the wire)")
    max_decompressed_bytes: int = Field(default=20_000_000, description="cap after decompression")
    max_redirects: int = Field(default=10, description="redirect hops followed by hand")
    max_retries: int = Field(
        default=3, description="retries on connect errors, 429 and 502/503/504"
    )
    retry_after_cap_s: float = Field(default=30.0, description="longest Retry-After honoured")
    robots_cache_ttl_s: float = Field(
        default=3600.0, description="how long a robots.txt is cached per host"
    )
    respect_robots: bool = Field(default=True, description="honour robots.txt")
    warc_max_bytes: int = Field(default=100_000_000, description="rotate WARC files past this size")

    # discovery (sources/discovery)
    sources: StrList = Field(
        default_factory=list,
        description="discovery sources as KIND=URL, e.g. mediawiki=https://en.wikipedia.org/w/api.php",
    )
    max_candidates: int = Field(default=30, description="per-claim cap on candidate URLs")
    batch_chunk: int = Field(
        default=20, ge=1, description="claims per Prefect task in verify-batch and the nightly run"
    )
    candidate_budgets: dict[str, int] = Field(
        default_factory=lambda: {
            "origin": 30,
            "url": 5,
            "mediawiki": 40,
            "gdelt": 25,
            "factcheck-api": 10,
            "rss": 15,
            "sitemap": 15,
            "dir": 15,
        },
        description="candidates each source kind may propose (JSON object); other kinds 15",
    )
    followup_queries: int = Field(
        default=3, description="follow-the-story queries of the second discovery round"
    )
    followup_candidates: int = Field(
        default=15, description="pages the second discovery round may add to a claim"
    )
    factcheck_api_key: str = Field(
        default="", description="Google Fact Check Tools API key (no default)"
    )
    adapter_timeout_s: float = Field(default=20.0, description="time budget per discovery adapter")

    # ranking and matching
    evidence_top_k: int = Field(default=8, description="evidence passages kept per claim")
    max_per_site: int = Field(default=2, description="evidence slots one site may take")
    match_threshold: float = Field(
        default=0.65, description="similarity above which a new claim is a near-duplicate"
    )

    semantic_rerank: bool = Field(
        default=False,
        description="re-rank passages with sentence embeddings (needs the semantic extra)",
    )

    # optional model-backed stance and suggested verdict (sources/llm.py)
    llm_url: str = Field(
        default="",
        description="base URL of an OpenAI-compatible chat server (Ollama, vLLM) for stance "
        "and suggested verdicts, e.g. http://127.0.0.1:11434; empty: off (offline cue models)",
    )
    llm_model: str = Field(
        default="", description="model name the chat server knows, e.g. qwen2.5:7b"
    )
    llm_timeout_s: float = Field(
        default=20.0, gt=0, description="total time one model request may take before the fallback"
    )
    llm_api_key: SecretStr = Field(
        default=SecretStr(""),
        description="bearer token for the chat server, if it wants one (no default; never logged)",
    )

    # review (verdicts/)
    lease_minutes: int = Field(default=30, description="how long `review next` holds a claim")
    review_policy: str = Field(default="single", description="single, two-person or blind-double")
    rating_scale: StrList = Field(
        default_factory=lambda: [
            "true",
            "mostly-true",
            "mixed",
            "mostly-false",
            "false",
            "misleading",
            "unverifiable",
        ],
        description="verdict ratings, best first",
    )
    rating_values: str = Field(
        default="true=5,mostly-true=4,mixed=3,mostly-false=2,false=1",
        description="ClaimReview ratingValue of each rating on the truth line as RATING=N, "
        "comma-separated (highest = bestRating, lowest = worstRating); a rating not listed "
        "(misleading, unverifiable) is off the line and exported by alternateName only",
    )
    webhook_url: str = Field(
        default="", description="URL notified (HMAC-signed) on publish / re-open"
    )
    webhook_secret: str = Field(default="", description="HMAC key for webhooks (no default)")
    secret_key: str = Field(
        default="dev-insecure-change-me", description="signs session cookies and CSRF tokens"
    )
    publisher_name: str = Field(
        default="factcheck", description="ClaimReview author/publisher name"
    )
    publisher_url: str = Field(
        default="https://example.org", description="ClaimReview publisher URL"
    )
    host: str = Field(default="127.0.0.1", description="web app bind address")
    port: int = Field(default=8000, description="web app port")

    # flows
    nightly_cron: str = Field(
        default="0 2 * * *", description="cron of the nightly re-verification"
    )
    timezone: str = Field(default="UTC", description="time zone of nightly_cron")
    review_policy_by_queue: str = Field(
        default="",
        description="per-queue review policy overrides as QUEUE=POLICY, comma-separated, "
        "e.g. health=two-person,elections=blind-double",
    )
    prefect_port: int = Field(
        default=4200,
        description="port of the Prefect server `factcheck schedule` starts on 127.0.0.1 "
        "when PREFECT_API_URL is not set",
    )

    @field_validator("allowed_networks", "sources", "rating_scale", mode="before")
    @classmethod
    def _lists_from_text(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("allowed_networks")
    @classmethod
    def _valid_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @field_validator("llm_model")
    @classmethod
    def _llm_model_with_url(cls, value: str, info: Any) -> str:
        url = str(info.data.get("llm_url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("FACTCHECK_LLM_URL must be an http(s) URL")
        if url and not value.strip():
            raise ValueError("FACTCHECK_LLM_MODEL must be set when FACTCHECK_LLM_URL is")
        return value.strip()

    @field_validator("secret_key")
    @classmethod
    def _no_placeholder_in_production(cls, value: str, info: Any) -> str:
        if info.data.get("environment") == "production" and value.startswith("dev-insecure"):
            raise ValueError("FACTCHECK_SECRET_KEY must be set in production")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("FACTCHECK_CONFIG", "factcheck.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'factcheck.db'}"

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warc"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, built once per process (tests call ``get_settings.cache_clear()``)."""
    return Settings()
