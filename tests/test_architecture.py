"""Architecture rules (DESIGN.md, STYLE.md), each a function over a source tree, and each
shown to fail on a violation planted in a copy of the tree.

1. Every module has a place, and its place decides what it may do (`place`):
   - an edge or a composition root may do anything: a module at the top of the package
     (`app.py`, `bootstrap.py`, `settings.py`) and the packages `api/` (the routers'
     toolkit), `cli/`, `jobs/`, `demo/`, `migrations/`;
   - the database's own places may use the database: the `db/` package, tables (`models.py`),
     use cases (`service.py`, `service/`), queries (`repository.py`), background jobs
     (`tasks.py`), a domain's router (`api.py`, `api/`) and its commands (`cli.py`, `cli/`);
   - the clock seam (`clock.py`) is the one module that reads the wall clock;
   - API shapes (`schemas.py`) are Pydantic models that may read the rows they describe: no
     framework, database, settings or clock of their own, but they may import tables;
   - every other module is pure: no SQLAlchemy, FastAPI, Starlette, settings, environment or
     clock, and it imports only pure modules, so it stays pure however deep its imports go
     (imports under `if TYPE_CHECKING:` never run: a pure function may name a row's type).
2. A package imports only the packages upstream of it in the flow, and the edges sit on top:
   the import-linter contracts in pyproject.toml (`lint-imports`), and every top-level
   package or module is placed in that flow.
3. Only an edge commits: use cases, routers and pure code never call `.commit()`.
4. Money code has no float (no `float` named, annotated or quoted, no float literal). Money
   code is every package of the flow below the edges (`core`, `db` and the domains, and each
   new domain once it is placed); the edges above them (the routers' toolkit, the jobs, the
   CLI, the demo) may time or sample with floats.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import billstream

SRC = Path(billstream.__file__).resolve().parent
PROJECT = SRC.parents[1]

# --- places --------------------------------------------------------------------------------

EDGE_PACKAGES = frozenset({"api", "cli", "jobs", "demo", "migrations"})
DATABASE_PACKAGES = frozenset({"db", "service", "api", "cli"})
DATABASE_MODULES = frozenset({"models", "service", "repository", "tasks", "api", "cli", "clock"})
SHAPE_MODULES = frozenset({"schemas"})

PURE, SHAPE, IMPURE = "pure", "shape", "impure"

FORBIDDEN_IN_PURE = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic_settings",
    "os",
    "time",
)
CLOCK_READS = frozenset(
    {"now", "utcnow", "today", "monotonic", "perf_counter", "getenv", "environ"}
)


def place(rel: str) -> str:
    """PURE, SHAPE or IMPURE, by where `rel` (a path below src/billstream) sits.

    >>> [place(r) for r in ("rating/rater.py", "billing/schemas.py", "billing/service/runs.py")]
    ['pure', 'shape', 'impure']
    >>> [place(r) for r in ("app.py", "cli/rating.py", "tenants/inheritance.py")]
    ['impure', 'impure', 'pure']
    """
    *folders, file = rel.removesuffix(".py").split("/")
    if not folders:  # beside the packages: the composition root and the edges
        return PURE if file == "__init__" else IMPURE
    if folders[0] in EDGE_PACKAGES or any(f in DATABASE_PACKAGES for f in folders):
        return IMPURE
    if file in DATABASE_MODULES:
        return IMPURE
    return SHAPE if file in SHAPE_MODULES else PURE


# --- reading a tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    where: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.what}"


def python_files(root: Path) -> list[str]:
    """The path of each module below `root` (src/billstream or a copy), relative to it."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.py") if "__pycache__" not in p.parts
    )


def source_files(
    root: Path, applies: Callable[[str], bool] = lambda rel: True
) -> Iterator[tuple[str, ast.Module]]:
    """Each module below `root` a rule `applies` to, as its relative path and syntax tree."""
    for rel in python_files(root):
        if applies(rel):
            yield rel, ast.parse((root / rel).read_text())


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["billstream", *parts])


def imported_names(rel: str, tree: ast.AST) -> list[tuple[int, str]]:
    """Every dotted name an import statement that runs names (relative imports resolved),
    with its line: `from a import b` names both `a` and `a.b`, since `b` may be a module.
    Imports under `if TYPE_CHECKING:` never run, so they are left out."""
    current = module_name(rel).split(".")
    package = current if rel.endswith("__init__.py") else current[:-1]
    found: list[tuple[int, str]] = []
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree` except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                yield other
                yield from runtime_nodes(other)
            continue
        yield node
        yield from runtime_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def module_files(root: Path) -> dict[str, str]:
    """Each module's dotted name, mapped to its path relative to `root`."""
    return {module_name(rel): rel for rel in python_files(root)}


# --- rule 1: purity by place ---------------------------------------------------------------


def purity_violations(root: Path) -> list[Violation]:
    modules = module_files(root)
    out: list[Violation] = []
    for rel, tree in source_files(root, lambda rel: place(rel) != IMPURE):
        kind = place(rel)
        for line, name in imported_names(rel, tree):
            if any(within(name, bad) for bad in FORBIDDEN_IN_PURE):
                out.append(Violation(rel, line, f"a {kind} module imports {name}"))
            elif name in modules and place(modules[name]) == IMPURE and kind == PURE:
                out.append(Violation(rel, line, f"a pure module imports {modules[name]}"))
            elif name in modules and place(modules[name]) == IMPURE and _edge_or_clock(name):
                out.append(Violation(rel, line, f"a {kind} module imports {modules[name]}"))
        out += [
            Violation(rel, node.lineno, f"a {kind} module reads .{node.attr}")
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in CLOCK_READS
        ]
    return out


def _edge_or_clock(module: str) -> bool:
    """What an API shape may not import either: the database session, the API, the edges
    and the composition root, the clock."""
    parts = module.split(".")[1:]
    return len(parts) == 1 or parts[0] in {*EDGE_PACKAGES, "db"} or parts[-1] == "clock"


# --- rule 2: the flow ----------------------------------------------------------------------


def flow_layers(project: Path) -> list[str]:
    """The top-level names the import-linter layers contract places, top first."""
    config = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["importlinter"]
    (flow,) = [c for c in config["contracts"] if c["id"] == "flow"]
    names = [n.strip(" ()") for layer in flow["layers"] for n in layer.split("|")]
    return [n.removeprefix("billstream.") for n in names]


def unplaced_packages(project: Path) -> list[str]:
    placed = set(flow_layers(project))
    root = project / "src" / "billstream"
    tops = {p.name.removesuffix(".py") for p in root.iterdir() if p.suffix == ".py" or p.is_dir()}
    return sorted(tops - placed - {"__init__", "__pycache__"})


def broken_import_contracts(project: Path) -> str:
    """What `lint-imports` says is broken in `project` (its pyproject.toml and src/), or ""."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


# --- rule 3: only an edge commits ----------------------------------------------------------


def is_edge(rel: str) -> bool:
    *folders, _ = rel.split("/")
    return not folders or folders[0] in EDGE_PACKAGES


def commit_violations(root: Path) -> list[Violation]:
    return [
        Violation(rel, node.lineno, "only an edge calls .commit()")
        for rel, tree in source_files(root, lambda rel: not is_edge(rel))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


# --- rule 4: no float in money code --------------------------------------------------------


def money_packages(project: Path) -> list[str]:
    """The packages of the flow below the routers' toolkit: the domains, `db` and `core`."""
    layers = flow_layers(project)
    return layers[layers.index("api") + 1 :]


def float_violations(project: Path) -> list[Violation]:
    money = money_packages(project)
    root = project / "src" / "billstream"
    files = source_files(root, lambda rel: rel.split("/")[0] in money)
    return [v for rel, tree in files for v in floats_in(rel, tree)]


def floats_in(rel: str, tree: ast.AST) -> list[Violation]:
    """`float` named anywhere (calls, annotations, isinstance), float literals, and quoted
    annotations naming float."""
    out: list[Violation] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "float":
            out.append(Violation(rel, node.lineno, "money code names float"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, float):
            out.append(Violation(rel, node.lineno, f"money code has the float {node.value!r}"))
    for annotation in _annotations(tree):
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            quoted = ast.parse(annotation.value, mode="eval")
            if any(isinstance(n, ast.Name) and n.id == "float" for n in ast.walk(quoted)):
                out.append(Violation(rel, annotation.lineno, "money code annotates float"))
    return out


def _annotations(tree: ast.AST) -> list[ast.expr]:
    found: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
    return [a for a in found if a is not None]


# --- the rules hold over the source --------------------------------------------------------


def test_modules_are_placed_where_the_design_says() -> None:
    places = {rel: place(rel) for rel, _ in source_files(SRC)}
    assert {places[r] for r in ("core/money.py", "rating/rater.py", "billing/assembly.py")} == {
        PURE
    }
    assert places["rating/windows.py"] == PURE
    assert places["billing/schemas.py"] == SHAPE
    impure = ("app.py", "bootstrap.py", "settings.py", "api/routing.py", "billing/service/runs.py")
    assert {places[r] for r in impure} == {IMPURE}


def test_pure_modules_import_no_framework_database_environment_or_clock() -> None:
    assert [str(v) for v in purity_violations(SRC)] == []


def test_every_package_is_placed_in_the_flow() -> None:
    assert unplaced_packages(PROJECT) == []


def test_packages_import_only_upstream_packages() -> None:
    assert broken_import_contracts(PROJECT) == ""


def test_only_edges_commit() -> None:
    assert [str(v) for v in commit_violations(SRC)] == []


def test_money_code_has_no_float() -> None:
    assert {"core", "db", "catalog", "subscriptions", "rating", "billing"} <= set(
        money_packages(PROJECT)
    )
    assert [str(v) for v in float_violations(PROJECT)] == []


def test_the_examples_in_the_docstrings_run_as_tests() -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = config["ini_options"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "src/billstream" in options["testpaths"]


# --- each rule fails on a violation planted in a copy of the tree --------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's sources and pyproject.toml, to plant violations in."""
    shutil.copytree(SRC, tmp_path / "src" / "billstream", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    return tmp_path


def plant(project: Path, rel: str, code: str) -> None:
    path = project / "src" / "billstream" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text() if path.exists() else ""
    path.write_text(before + "\n" + code + "\n")


def found(violations: list[Violation], rel: str) -> list[str]:
    return [v.what for v in violations if v.where == rel]


def test_the_copy_breaks_no_rule(project: Path) -> None:
    root = project / "src" / "billstream"
    assert purity_violations(root) == []
    assert commit_violations(root) == []
    assert float_violations(project) == []
    assert broken_import_contracts(project) == ""


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("rating/windows.py", "import sqlalchemy"),
        ("rating/rater.py", "from sqlalchemy.orm import Session"),
        ("billing/assembly.py", "from fastapi import APIRouter"),
        ("catalog/price_models.py", "import os"),
        ("core/money.py", "from datetime import datetime\nNOW = datetime.now()"),
        ("subscriptions/timeline.py", "from billstream.db import Base"),
        ("rating/bands.py", "from billstream.api.context import Context"),
        ("rating/windows.py", "from billstream.core.clock import SystemClock"),
        ("billing/closing.py", "from billstream.billing.models import Invoice"),
        ("rating/rater.py", "from billstream.rating.service import runs"),
        ("documents/view.py", "from billstream import settings"),
        ("tenants/inheritance.py", "from billstream.tenants.models import Tenant"),
        ("billing/schemas.py", "from sqlalchemy.orm import Session"),
        ("billing/schemas.py", "from billstream.db import Base"),
        ("tenants/scope.py", "from sqlalchemy import select"),
    ],
)
def test_the_purity_rule_fails_on_a_planted_import(project: Path, rel: str, code: str) -> None:
    plant(project, rel, code)
    assert found(purity_violations(project / "src" / "billstream"), rel) != []


def test_the_purity_rule_passes_imports_made_for_type_checking_only(project: Path) -> None:
    code = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import Row"
    plant(project, "rating/windows.py", code)
    assert purity_violations(project / "src" / "billstream") == []


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("rating/rater.py", "from billstream.billing import assembly"),
        ("core/money.py", "import billstream.rating.rater"),
        ("tenants/service.py", "from billstream.accounts.models import Account"),
        ("rating/windows.py", "from ..billing import closing"),
        ("billing/service/runs.py", "from billstream.documents import view"),
        ("accounts/service/accounts.py", "from billstream.app import create_app"),
        ("catalog/service/pricing.py", "from billstream.api.problems import problem"),
        ("subscriptions/lifecycle.py", "from billstream.bootstrap import bootstrap"),
        ("billing/assembly.py", "from billstream.cli import app"),
        ("core/money.py", "import sqlalchemy"),
    ],
)
def test_the_flow_fails_on_a_planted_downstream_import(project: Path, rel: str, code: str) -> None:
    plant(project, rel, code)
    assert broken_import_contracts(project) != ""


def test_the_flow_fails_on_a_package_it_does_not_place(project: Path) -> None:
    plant(project, "loyalty/__init__.py", '"""Points."""')
    assert unplaced_packages(project) == ["loyalty"]


@pytest.mark.parametrize(
    "rel", ["billing/service/runs.py", "tenants/service.py", "rating/api.py", "rating/rater.py"]
)
def test_the_commit_rule_fails_on_a_planted_commit(project: Path, rel: str) -> None:
    plant(project, rel, "def close(session):\n    session.commit()")
    assert found(commit_violations(project / "src" / "billstream"), rel) != []


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("rating/rater.py", "RATE = 0.1"),
        ("billing/assembly.py", "def total(amount: float) -> None: ..."),
        ("billing/service/runs.py", "def total() -> 'float | None': ..."),
        ("core/money.py", "x = float('1.10')"),
        ("catalog/price_models.py", "y = isinstance(1, float)"),
        ("subscriptions/timeline.py", "def f(amount: 'float') -> None: ..."),
        ("mediation/parsing.py", "EPSILON = 1e-9"),
        ("db/types.py", "SCALE = 1e6"),
        ("tenants/inheritance.py", "x: float = 1"),
    ],
)
def test_the_float_rule_fails_on_a_planted_float(project: Path, rel: str, code: str) -> None:
    plant(project, rel, code)
    assert found(float_violations(project), rel) != []


def test_the_float_rule_passes_prose_about_floats_and_the_edges(project: Path) -> None:
    plant(project, "core/money.py", '"""A float never touches money."""\nX = "0.1"')
    plant(project, "jobs/bill_runs.py", "PROGRESS = 0.5")
    plant(project, "cli/progress.py", "SHARE = 0.5")
    assert float_violations(project) == []


# --- the places of modules still to come ---------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("cli/__init__.py", IMPURE),
        ("cli/rating.py", IMPURE),
        ("tenants/inheritance.py", PURE),
        ("tenants/context.py", PURE),
        ("subscriptions/charges.py", PURE),
        ("billing/credit_notes.py", PURE),
        ("billing/service/credit_notes.py", IMPURE),
        ("payments/allocation.py", PURE),
        ("payments/tasks.py", IMPURE),
        ("payments/repository.py", IMPURE),
        ("billing/api/invoices.py", IMPURE),
        ("tax/schemas.py", SHAPE),
    ],
)
def test_new_modules_take_the_place_their_path_gives(rel: str, expected: str) -> None:
    assert place(rel) == expected


@pytest.mark.parametrize(
    ("rel", "edge"),
    [
        ("cli/rating.py", True),
        ("app.py", True),
        ("jobs/bill_runs.py", True),
        ("api/routing.py", True),
        ("billing/service/runs.py", False),
        ("rating/api.py", False),
        ("core/money.py", False),
    ],
)
def test_the_edges_are_the_top_modules_and_edge_packages(rel: str, edge: bool) -> None:
    assert is_edge(rel) is edge
