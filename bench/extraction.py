"""Extraction quality and speed on the shared development set, ours against trafilatura.

    python -m bench.extraction                       # make bench-extraction
    python -m bench.extraction --no-reference --failures 20 --split dev

The set is ``../shared/extraction-devset`` next to the repository (or ``$EXTRACTION_DEVSET``):
990 real pages with human annotations of snippets the main text must (``with``) and must not
(``without``) contain, and gold title, author and date for some pages (its README.md). When it
is absent the script says so in one line and exits 0: a clone without it still builds.

The pages are split once and for all by a hash of their key: one page in five is *held out*
and only reported, never looked at while tuning; the rest is *dev*. For each split and each
extractor, in the same run and the same process:

- pass: the share of pages whose every snippet passes (every ``with`` found, no ``without``);
- precision, recall, F1 over snippets (found ``with`` = TP, found ``without`` = FP, missing
  ``with`` = FN), comparing after folding whitespace, case-sensitive;
- title: exact match after folding whitespace, over pages with a gold title;
- author: the same set of names (split at ``;`` ``,`` "and" "und" ``&``, case-folded), over
  pages with a gold author; date: the same calendar day, over pages with a gold date;
- pages per second of process CPU time (the machine is shared: wall time lies).

trafilatura (a dev dependency, used only here) runs with its defaults except comments, which
it would otherwise append to the main text: ``bare_extraction(page, url, with_metadata=True,
include_comments=False)``. Ours is ``sources.extract.extract(page, url)``; its date is the
publication date, else the modification date (trafilatura's ``date`` is the same idea).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sources.extract import extract

DEVSET_ENV = "EXTRACTION_DEVSET"
DEFAULT_DEVSET = Path(__file__).resolve().parents[2] / "shared" / "extraction-devset"
# One page in HELD_OUT_EVERY is held out (by a hash of its key, so the split never moves).
HELD_OUT_EVERY = 5
WARM_UP_PAGES = 5
_NAME_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b)\s*", re.I)


@dataclass(frozen=True)
class Page:
    key: str
    url: str | None
    body: bytes
    gold: dict[str, object]

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha256(self.key.encode("utf-8")).hexdigest()
        return int(digest[:8], 16) % HELD_OUT_EVERY == 0


@dataclass(frozen=True)
class Output:
    """What the scoring needs from one extractor on one page."""

    text: str
    title: str | None
    authors: tuple[str, ...]
    day: str | None  # YYYY-MM-DD


@dataclass
class Score:
    pages: int = 0
    passed: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    titles: list[bool] = field(default_factory=list)
    authors: list[bool] = field(default_factory=list)
    dates: list[bool] = field(default_factory=list)
    cpu: float = 0.0

    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def row(self) -> dict[str, float]:
        def share(values: list[bool]) -> float:
            return sum(values) / len(values) if values else 0.0

        return {
            "pass": self.passed / self.pages if self.pages else 0.0,
            "precision": self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0,
            "recall": self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0,
            "f1": self.f1(),
            "title": share(self.titles),
            "author": share(self.authors),
            "date": share(self.dates),
            "pages_per_cpu_s": self.pages / self.cpu if self.cpu else 0.0,
        }


# ---- the set ------------------------------------------------------------------------------


def devset_dir() -> Path:
    return Path(os.environ.get(DEVSET_ENV) or DEFAULT_DEVSET)


def load_pages(root: Path) -> list[Page]:
    """Every annotated page whose bytes are present (``cache/`` or ``eval/``)."""
    gold = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for key, item in gold.items():
        for folder in ("cache", "eval"):
            path = root / folder / item["file"]
            if path.is_file():
                url = key if key.startswith(("http://", "https://")) else None
                pages.append(Page(key, url, path.read_bytes(), item))
                break
    return pages


# ---- the extractors -----------------------------------------------------------------------


def run_ours(page: Page) -> Output:
    found = extract(page.body, page.url)
    when = found.published or found.modified
    return Output(found.text, found.title, found.authors, when.date().isoformat() if when else None)


def reference() -> Callable[[Page], Output] | None:
    """trafilatura's extractor, or None when it is not installed."""
    try:
        import trafilatura
    except ImportError:
        return None
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)

    def run(page: Page) -> Output:
        doc = trafilatura.bare_extraction(
            page.body, url=page.url, with_metadata=True, include_comments=False
        )
        if doc is None:
            return Output("", None, (), None)
        authors = tuple(a for a in (doc.author or "").split(";") if a.strip())
        return Output(doc.text or "", doc.title, authors, doc.date or None)

    return run


# ---- scoring ------------------------------------------------------------------------------


def fold(text: str) -> str:
    return " ".join(text.split())


def names(value: object) -> frozenset[str]:
    parts = value if isinstance(value, list | tuple) else [value]
    found = set()
    for part in parts:
        if isinstance(part, str):
            found |= {fold(n).casefold() for n in _NAME_SPLIT.split(part) if fold(n)}
    return frozenset(found)


@dataclass(frozen=True)
class Verdict:
    """One page scored: snippet counts and what went wrong (for ``--failures``)."""

    tp: int
    fp: int
    fn: int
    missed: tuple[str, ...]
    leaked: tuple[str, ...]
    title: bool | None
    author: bool | None
    date: bool | None


def judge(page: Page, out: Output) -> Verdict:
    text = fold(out.text)
    wanted = [fold(s) for s in _strings(page.gold.get("with"))]
    unwanted = [fold(s) for s in _strings(page.gold.get("without"))]
    missed = tuple(s for s in wanted if s not in text)
    leaked = tuple(s for s in unwanted if s in text)
    gold_title = page.gold.get("title")
    gold_author = page.gold.get("author")
    gold_date = page.gold.get("date")
    return Verdict(
        tp=len(wanted) - len(missed),
        fp=len(leaked),
        fn=len(missed),
        missed=missed,
        leaked=leaked,
        title=fold(out.title or "") == fold(gold_title) if _given(gold_title) else None,
        author=names(out.authors) == names(gold_author) if _given(gold_author) else None,
        date=(out.day or "")[:10] == gold_date
        if isinstance(gold_date, str) and gold_date
        else None,
    )


def _given(value: object) -> bool:
    return bool(fold(value)) if isinstance(value, str) else bool(value)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def add(score: Score, verdict: Verdict, cpu: float) -> None:
    score.pages += 1
    score.passed += not verdict.missed and not verdict.leaked
    score.tp += verdict.tp
    score.fp += verdict.fp
    score.fn += verdict.fn
    score.cpu += cpu
    for bucket, value in (
        (score.titles, verdict.title),
        (score.authors, verdict.author),
        (score.dates, verdict.date),
    ):
        if value is not None:
            bucket.append(value)


# ---- the run ------------------------------------------------------------------------------


def timed(run: Callable[[Page], Output], page: Page) -> tuple[Output, float]:
    start = time.process_time()
    out = run(page)
    return out, time.process_time() - start


def evaluate(
    pages: Iterable[Page], extractors: dict[str, Callable[[Page], Output]]
) -> tuple[dict[tuple[str, str], Score], list[tuple[Page, Verdict, Output]]]:
    """Scores by (split, extractor), and ours' failing pages. Extractors alternate page by
    page so that a noisy neighbour slows both alike."""
    scores: dict[tuple[str, str], Score] = {}
    failures: list[tuple[Page, Verdict, Output]] = []
    for page in pages:
        split = "held-out" if page.held_out else "dev"
        for name, run in extractors.items():
            out, cpu = timed(run, page)
            verdict = judge(page, out)
            add(scores.setdefault((split, name), Score()), verdict, cpu)
            if name == "ours" and split == "dev" and (verdict.missed or verdict.leaked):
                failures.append((page, verdict, out))
    return scores, failures


COLUMNS = ("pass", "precision", "recall", "f1", "title", "author", "date", "pages_per_cpu_s")


def report(scores: dict[tuple[str, str], Score], names_: list[str]) -> None:
    header = f"{'split':9} {'extractor':17} {'pages':>5} " + " ".join(
        f"{c.replace('pages_per_cpu_s', 'pages/cpu-s'):>11}" for c in COLUMNS
    )
    print(header)
    for split in ("dev", "held-out", "all"):
        rows: dict[str, dict[str, float]] = {}
        for name in names_:
            score = _merged(scores, name) if split == "all" else scores.get((split, name))
            if score is None:
                continue
            rows[name] = score.row()
            cells = " ".join(f"{rows[name][c]:11.3f}" for c in COLUMNS[:-1])
            print(f"{split:9} {name:17} {score.pages:5d} {cells} {rows[name][COLUMNS[-1]]:11.1f}")
        if "ours" in rows and "trafilatura" in rows:
            ours, ref = rows["ours"], rows["trafilatura"]
            ratio = (
                ours["pages_per_cpu_s"] / ref["pages_per_cpu_s"] if ref["pages_per_cpu_s"] else 0
            )
            deltas = " ".join(f"{ours[c] - ref[c]:+11.3f}" for c in COLUMNS[:-1])
            print(f"{split:9} {'ours - trafilatura':17} {'':5} {deltas} {ratio:10.2f}x")


def _merged(scores: dict[tuple[str, str], Score], name: str) -> Score | None:
    parts = [s for (_, n), s in scores.items() if n == name]
    if not parts:
        return None
    total = Score()
    for part in parts:
        total.pages += part.pages
        total.passed += part.passed
        total.tp += part.tp
        total.fp += part.fp
        total.fn += part.fn
        total.titles += part.titles
        total.authors += part.authors
        total.dates += part.dates
        total.cpu += part.cpu
    return total


def show_failures(failures: list[tuple[Page, Verdict, Output]], limit: int) -> None:
    for page, verdict, out in failures[:limit]:
        print(f"\n== {page.gold['file']}  ({page.key})  {len(out.text)} chars")
        for snippet in verdict.missed:
            print(f"   missed: {snippet[:100]!r}")
        for snippet in verdict.leaked:
            print(f"   leaked: {snippet[:100]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "held-out", "all"), default="all")
    parser.add_argument("--no-reference", action="store_true", help="skip trafilatura")
    parser.add_argument("--failures", type=int, default=0, help="list N failing dev pages")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    args = parser.parse_args(argv)

    root = devset_dir()
    if not (root / "evaldata.json").is_file():
        print(f"extraction benchmark skipped: no devset at {root} (set ${DEVSET_ENV})")
        return 0
    pages = load_pages(root)
    if args.split != "all":
        pages = [p for p in pages if p.held_out == (args.split == "held-out")]
    if args.limit:
        pages = pages[: args.limit]
    extractors: dict[str, Callable[[Page], Output]] = {"ours": run_ours}
    ref = None if args.no_reference else reference()
    if ref is not None:
        extractors["trafilatura"] = ref
    elif not args.no_reference:
        print("trafilatura is not installed (pip install -e '.[dev]'): reporting ours alone")
    for page in pages[:WARM_UP_PAGES]:  # imports, regex compilation, caches
        for run in extractors.values():
            run(page)
    held = sum(p.held_out for p in pages)
    print(f"extraction devset {root}: {len(pages)} pages, dev {len(pages) - held}, held-out {held}")
    scores, failures = evaluate(pages, extractors)
    report(scores, list(extractors))
    if args.failures:
        show_failures(failures, args.failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
