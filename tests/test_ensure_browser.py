"""scripts/ensure-browser.sh, the `browser` prerequisite of `make test`: installs Debian's
chromium and chromium-driver when missing (as root), else one line saying what to install.

Run against stub ``apt-get`` and ``id`` commands that record their calls, so nothing is
installed here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "ensure-browser.sh"


def _stubs(tmp_path: Path, uid: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for name, body in (("apt-get", f'echo "apt-get $*" >> {calls}'), ("id", f"echo {uid}")):
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    return bin_dir


def _run(
    tmp_path: Path, uid: int, *, chromium: bool, driver: bool
) -> subprocess.CompletedProcess[str]:
    present = tmp_path / "present"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    env = {
        "PATH": f"{_stubs(tmp_path, uid)}:/usr/bin:/bin",
        "CHROMIUM": str(present if chromium else tmp_path / "no-chromium"),
        "CHROMEDRIVER": str(present if driver else tmp_path / "no-driver"),
    }
    return subprocess.run(
        ["sh", str(SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=30
    )


def _calls(tmp_path: Path) -> list[str]:
    calls = tmp_path / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


def test_root_gets_both_installed_after_one_update(tmp_path: Path) -> None:
    done = _run(tmp_path, 0, chromium=False, driver=False)
    assert done.returncode == 0, done.stderr
    assert _calls(tmp_path) == [
        "apt-get update -qq",
        "apt-get install -y -qq chromium chromium-driver",
    ]


def test_only_the_missing_package_is_installed(tmp_path: Path) -> None:
    assert _run(tmp_path, 0, chromium=True, driver=False).returncode == 0
    assert _calls(tmp_path)[-1] == "apt-get install -y -qq chromium-driver"


def test_nothing_happens_when_both_are_there(tmp_path: Path) -> None:
    done = _run(tmp_path, 1000, chromium=True, driver=True)
    assert (done.returncode, done.stderr, _calls(tmp_path)) == (0, "", [])


def test_a_user_is_told_in_one_line_what_to_install(tmp_path: Path) -> None:
    done = _run(tmp_path, 1000, chromium=False, driver=False)
    assert done.returncode == 1 and _calls(tmp_path) == []
    assert len(done.stderr.strip().splitlines()) == 1
    assert "apt-get install -y chromium chromium-driver" in done.stderr


def test_make_test_runs_it_first() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    commands = dry.stdout.splitlines()
    browser = commands.index("sh scripts/ensure-browser.sh")
    assert browser < next(i for i, c in enumerate(commands) if "pytest" in c)
