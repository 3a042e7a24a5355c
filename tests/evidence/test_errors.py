"""The exception tree drawn in ``evidence.errors``' docstring names every error class we have."""

from __future__ import annotations

import importlib
import pkgutil
import re

import evidence.errors
from evidence.errors import FactcheckError

PACKAGES = ("evidence", "sources", "verdicts", "flows")


def _import_everything() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_class_is_drawn_in_the_tree() -> None:
    _import_everything()
    ours = {c for c in _subclasses(FactcheckError) if c.__module__.split(".")[0] in PACKAGES}
    drawn = set(re.findall(r"[├└]── (\w+)", evidence.errors.__doc__ or ""))
    missing = sorted(c.__name__ for c in ours if c.__name__ not in drawn)
    assert not missing, f"add these to the tree in evidence/errors.py: {missing}"
    assert len(ours) >= 20  # the import walk really found the tree


def test_the_tree_draws_each_class_under_its_parent() -> None:
    _import_everything()
    classes = {c.__name__: c for c in _subclasses(FactcheckError)}
    stack: list[tuple[int, str]] = [(-1, "FactcheckError")]
    classes["FactcheckError"] = FactcheckError
    for line in (evidence.errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*(?:[│ ]   )*)[├└]── (\w+)", line)
        if not match:
            continue
        depth, name = len(match.group(1)) // 4, match.group(2)
        while stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1]
        assert classes[name].__bases__[0] is classes[parent], f"{name} is not under {parent}"
        stack.append((depth, name))
