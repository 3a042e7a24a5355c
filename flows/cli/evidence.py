"""How the command line shows a claim's evidence: `verify` and `claim show` say the same.

The JSON shape (``evidence_json``) is the contract outside tools read: each item carries
url, site (the outlet's name when the page says it), title, published, text, stance,
reasons and score; ``origin`` is the earliest passage that makes the claim, when found;
``suggested`` is the suggested verdict (never published by itself). In words, refuting
evidence comes first, then the origin, supporting passages and context.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

STANCE_ORDER = ("refutes", "origin", "supports", "context", None)
_HEADINGS = {
    "refutes": "Refutes the claim",
    "origin": "Origin (first seen making the claim)",
    "supports": "Supports the claim",
    "context": "Context",
    None: "Evidence",
}
TEXT_CHARS = 300


def evidence_item(ev: dict[str, Any]) -> dict[str, Any]:
    """One evidence item in the JSON contract (from ``claims.claim_evidence``)."""
    return {
        "rank": ev["rank"],
        "evidence_id": ev["evidence_id"],
        "passage_id": ev["passage_id"],
        "url": ev["url"],
        "site": ev["site"],
        "title": ev["title"],
        "published": ev["published"],
        "text": ev["passage"],
        "stance": ev.get("stance"),
        "stance_confidence": ev.get("stance_confidence"),
        "reasons": list(ev.get("reasons") or []),
        "role": ev.get("role"),
        "score": ev["score"],
        "matched_terms": ev.get("matched_terms", []),
    }


def evidence_json(
    evidence: list[dict[str, Any]], suggestion: dict[str, Any] | None
) -> dict[str, Any]:
    """``evidence``, ``origin`` and ``suggested`` as `verify --json` and `claim show --json`
    print them."""
    items = [evidence_item(ev) for ev in evidence]
    origin = next((item for item in items if item["role"] == "origin"), None)
    suggested = None
    if suggestion:
        suggested = {
            "rating": suggestion.get("rating"),
            "confidence": suggestion.get("confidence"),
            "explanation": suggestion.get("explanation"),
            "model": suggestion.get("model"),
        }
    return {"evidence": items, "origin": origin, "suggested": suggested}


def _group(ev: dict[str, Any]) -> str | None:
    if ev.get("role") == "origin":
        return "origin"
    stance = ev.get("stance")
    return stance if stance in _HEADINGS else None


def print_evidence(
    console: Console,
    evidence: list[dict[str, Any]],
    suggestion: dict[str, Any] | None,
    *,
    empty: str = "no evidence found",
) -> None:
    """The suggested verdict, then the evidence grouped by what it does to the claim,
    refuting first. Fetched text is printed without markup (it is untrusted)."""
    if suggestion:
        confidence = float(suggestion.get("confidence") or 0)
        console.print(
            f"  Suggested verdict: {suggestion.get('rating')} (confidence {confidence:.2f}); "
            "a suggestion, not published until a reviewer decides."
        )
        if suggestion.get("explanation"):
            console.print(f"    {suggestion['explanation']}")
    if not evidence:
        console.print(f"  {empty}")
        return
    for group in STANCE_ORDER:
        members = [ev for ev in evidence if _group(ev) == group]
        if not members:
            continue
        console.print(f"  {_HEADINGS[group]}:")
        for ev in members:
            when = (ev.get("published") or "")[:10] or "undated"
            label = f"[{ev['stance']}] " if ev.get("stance") else ""
            console.print(
                f"   #{ev['rank']} {label}{ev['site'] or ''}, {when}: "
                f"{ev['title'] or ''} <{ev['url']}>"
            )
            console.print(f"     {ev['passage'][:TEXT_CHARS]}")
            if ev.get("reasons"):
                console.print(f"     why: {'; '.join(ev['reasons'])}")
