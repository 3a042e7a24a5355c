"""`make demo`: the main job on the embedded defaults (SQLite in ./data/demo, Prefect local)."""

from __future__ import annotations

import os
from pathlib import Path


def main() -> int:
    data_dir = Path(os.environ.get("FACTCHECK_DATA_DIR", "data/demo")).resolve()
    os.environ["FACTCHECK_DATA_DIR"] = str(data_dir)
    from flows.cli import main as cli

    example = "North Korea directly contacted the US seeking talks, its first such direct offer"
    for args in (
        ["db", "upgrade"],
        [
            "claim",
            "add",
            example,
            "--url",
            "https://example.org/article",
            "--claimant",
            "Donald Trump",
            "--date",
            "2018-03-03",
        ],
        ["claim", "list"],
        ["audit", "verify"],
    ):
        code = cli(args)
        if code:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
