"""The lock files agree with pyproject.toml (`make lock` writes them; Makefile installs them).

A dependency added to pyproject.toml without `make lock` would install nowhere (the installs
are `--no-deps` from the lock), so these checks fail first, naming the package.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, Version]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name): Version(version) for name, version in PIN.findall(text)}


def project() -> dict[str, list[Requirement]]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "runtime": [Requirement(r) for r in table["dependencies"]],
        "test": [Requirement(r) for r in table["optional-dependencies"]["test"]],
    }


def unmet(requirements: list[Requirement], pinned: dict[str, Version]) -> list[str]:
    problems = []
    for requirement in requirements:
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}: locked {version} outside {requirement.specifier}")
    return problems


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("runtime.txt", ["runtime"]), ("test.txt", ["runtime", "test"])],
)
def test_every_dependency_is_locked_within_its_range(lock: str, groups: list[str]) -> None:
    requirements = [r for group in groups for r in project()[group]]
    assert unmet(requirements, pins(lock)) == []


def test_the_runtime_lock_holds_no_test_tool_and_agrees_with_the_test_lock() -> None:
    runtime, test = pins("runtime.txt"), pins("test.txt")
    test_only = {canonicalize_name(r.name) for r in project()["test"]}
    assert sorted(test_only & runtime.keys()) == []
    assert {name: test[name] for name in runtime} == runtime


def test_a_pin_outside_its_range_is_named() -> None:
    requirement = Requirement("polars>=1.0")
    assert unmet([requirement], {"polars": Version("0.20.31")}) == [
        "polars: locked 0.20.31 outside >=1.0"
    ]
    assert unmet([requirement], {}) == ["polars: not in the lock"]
