"""Architecture rules, checked over the source with `ast` (DESIGN.md, STYLE.md).

1. Pure modules import no framework, database, HTTP edge, environment or clock.
2. A domain package imports only packages upstream of it in the flow.
3. Services never commit: the edge owns the transaction.
4. No float anywhere in money code.

Each rule is a function from source text to a list of violations, so each has a self-test
that feeds it a bad snippet and sees it fail.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import billstream

SRC = Path(billstream.__file__).resolve().parent

# --- the rules' data -----------------------------------------------------------------------

PURE_MODULES = re.compile(
    r"^(core/(money|errors|ids|periods|limits)|tenants/(settings|inheritance|tree)|accounts/(hierarchy|number_lookup|phone)"
    r"|access/keys|catalog/(layers|adjustments|billable)|subscriptions/(timeline|charges|cycles|lifecycle)"
    r"|mediation/(definition|parsing|normalise)"
    r"|rating/(reference|allowances|prefixes|card_file|margin_pricing|bands|band_split)"
    r"|documents/view"
    r"|billing/(states|taxes|closing|credit_notes)"
    r"|(.+/)?(proration|price_models|rater|allocation|assembly))\.py$"
)
FORBIDDEN_IN_PURE = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "billstream.db",
    "billstream.api",
    "billstream.settings",
    "billstream.bootstrap",
    "billstream.core.clock",
    "os",
    "pydantic_settings",
    "time",
)
CLOCK_READS = {"now", "utcnow", "today", "monotonic", "perf_counter", "getenv", "environ"}

FLOW = (
    "core",
    "db",
    "tenants",
    "accounts",
    "access",
    "catalog",
    "subscriptions",
    "mediation",
    "rating",
    "billing",
    "documents",
    "tax",
    "payments",
    "quotes",
    "reports",
    "integrations",
)
EDGES = ("api", "web", "jobs", "demo", "migrations", "cli")
EDGE_MODULES = ("bootstrap.py", "demo.py", "settings.py")  # settings: read at the edge

MONEY_WORDS = re.compile(r"money|price|proration|tax|invoice|payment")


def relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def source_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["billstream", *parts])


def imported_modules(tree: ast.AST, current: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Every module an import statement names (relative imports resolved), with its line."""
    package = current.split(".") if is_package else current.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
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


def imports_of(rel: str, source: str) -> list[tuple[int, str]]:
    return imported_modules(
        ast.parse(source), module_name(rel), is_package=rel.endswith("__init__.py")
    )


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# --- the checkers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    where: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.what}"


def check_pure(rel: str, source: str) -> list[Violation]:
    out: list[Violation] = []
    for line, name in imports_of(rel, source):
        if any(within(name, bad) for bad in FORBIDDEN_IN_PURE):
            out.append(Violation(rel, line, f"pure module imports {name}"))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_READS:
            out.append(Violation(rel, node.lineno, f"pure module reads .{node.attr}"))
    return out


def domain_of(rel: str) -> str | None:
    """The flow package a file belongs to, or None for an edge."""
    first = rel.split("/")[0]
    if first.removesuffix(".py") in EDGES or rel in EDGE_MODULES or rel == "__init__.py":
        return None
    return first if first in FLOW else "?"


def check_layers(rel: str, source: str) -> list[Violation]:
    domain = domain_of(rel)
    if domain is None:
        return []
    if domain == "?":
        return [Violation(rel, 1, "top-level package not placed in the flow or the edges")]
    allowed = set(FLOW[: FLOW.index(domain) + 1])
    is_router = rel.endswith("/api.py")
    out: list[Violation] = []
    for line, name in imports_of(rel, source):
        if not within(name, "billstream") or name == "billstream":
            continue
        target = name.split(".")[1]
        if target in allowed or (is_router and target == "api"):
            continue
        if target in FLOW:
            out.append(Violation(rel, line, f"{domain} imports downstream {name}"))
        else:  # billstream.<module> outside the flow: an edge (api, cli, settings, bootstrap…)
            out.append(Violation(rel, line, f"{domain} imports the edge {name}"))
    return out


def is_service(rel: str) -> bool:
    parts = rel.split("/")
    return parts[-1] == "service.py" or "service" in parts[:-1]


def check_no_commit(rel: str, source: str) -> list[Violation]:
    return [
        Violation(rel, node.lineno, "a service calls .commit()")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def is_money_code(rel: str) -> bool:
    return bool(MONEY_WORDS.search(rel))


def check_no_float(rel: str, source: str) -> list[Violation]:
    """`float` named anywhere (calls, annotations, isinstance), float literals, and quoted
    annotations naming float."""
    tree = ast.parse(source)
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


# --- the rules over the source -------------------------------------------------------------


def violations(applies: object, check: object) -> list[str]:
    out: list[str] = []
    for path in source_files():
        rel = relative(path)
        if applies(rel):  # type: ignore[operator]
            out += [str(v) for v in check(rel, path.read_text())]  # type: ignore[operator]
    return out


def test_the_pure_modules_exist_where_the_rule_expects_them() -> None:
    pure = {relative(p) for p in source_files() if PURE_MODULES.match(relative(p))}
    assert {
        "core/money.py",
        "core/errors.py",
        "core/ids.py",
        "tenants/settings.py",
        "accounts/hierarchy.py",
        "accounts/number_lookup.py",
        "accounts/phone.py",
        "access/keys.py",
        "core/periods.py",
        "core/proration.py",
        "catalog/price_models.py",
        "catalog/adjustments.py",
        "catalog/layers.py",
        "subscriptions/timeline.py",
        "subscriptions/charges.py",
        "subscriptions/cycles.py",
        "subscriptions/lifecycle.py",
        "mediation/definition.py",
        "mediation/parsing.py",
        "mediation/normalise.py",
        "rating/rater.py",
        "rating/reference.py",
        "rating/allowances.py",
        "rating/prefixes.py",
        "rating/card_file.py",
    } <= pure


def test_pure_modules_import_no_framework_database_environment_or_clock() -> None:
    assert violations(PURE_MODULES.match, check_pure) == []


def test_domain_packages_import_only_upstream_packages() -> None:
    assert violations(lambda rel: True, check_layers) == []


def test_services_never_commit() -> None:
    services = [relative(p) for p in source_files() if is_service(relative(p))]
    assert "tenants/service.py" in services
    assert "accounts/service/numbers.py" in services
    assert violations(is_service, check_no_commit) == []


def test_money_code_has_no_float() -> None:
    assert "core/money.py" in [relative(p) for p in source_files() if is_money_code(relative(p))]
    assert violations(is_money_code, check_no_float) == []


# --- each rule can fail --------------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        "import sqlalchemy",
        "from sqlalchemy.orm import Session",
        "from fastapi import APIRouter",
        "import starlette.requests",
        "from billstream.db import Base",
        "from billstream.api.context import Context",
        "import os",
        "from os import environ",
        "from billstream.core.clock import SystemClock",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.date.today()",
    ],
)
def test_the_purity_rule_fails_on_a_bad_snippet(snippet: str) -> None:
    assert check_pure("rating/rater.py", snippet) != []


def test_the_purity_rule_passes_a_pure_snippet() -> None:
    snippet = "from decimal import Decimal\nfrom billstream.core.money import Money\n"
    assert check_pure("rating/rater.py", snippet) == []


def test_future_pure_modules_are_matched_by_name() -> None:
    for rel in ("billing/proration.py", "catalog/price_models.py", "payments/allocation.py"):
        assert PURE_MODULES.match(rel)
    assert not PURE_MODULES.match("billing/service.py")


@pytest.mark.parametrize(
    ("rel", "snippet"),
    [
        ("tenants/service.py", "from billstream.accounts.models import Account"),
        ("core/money.py", "from billstream.db import Base"),
        ("accounts/models.py", "import billstream.billing.service"),
        ("accounts/service/numbers.py", "from ...billing import invoices"),
        ("accounts/__init__.py", "from ..billing import invoices"),
        ("tenants/service.py", "from billstream.api.context import Context"),
        ("tenants/service.py", "from billstream.cli import app"),
        ("newthing/service.py", "import decimal"),
    ],
)
def test_the_layering_rule_fails_on_a_bad_snippet(rel: str, snippet: str) -> None:
    assert check_layers(rel, snippet) != []


@pytest.mark.parametrize(
    ("rel", "snippet"),
    [
        ("accounts/service/numbers.py", "from billstream.tenants.scope import TenantScope"),
        ("accounts/api.py", "from billstream.api.context import Context"),
        ("api/app.py", "from billstream.accounts.api import router"),
        ("cli/usage.py", "from billstream.integrations import webhooks"),
        ("migrations/models.py", "from billstream.access.models import ApiKey"),
        ("billing/service.py", "from . import models\nfrom .models import Invoice"),
        ("accounts/service/__init__.py", "from ..models import Account"),
        ("accounts/service/numbers.py", "from ...tenants import scope"),
    ],
)
def test_the_layering_rule_allows_upstream_and_edges(rel: str, snippet: str) -> None:
    assert check_layers(rel, snippet) == []


def test_the_commit_rule_fails_on_a_bad_snippet() -> None:
    snippet = "def create(session):\n    session.add(x)\n    session.commit()\n"
    assert [v.line for v in check_no_commit("billing/service.py", snippet)] == [3]
    assert is_service("billing/service.py")
    assert is_service("billing/service/bill_runs.py")
    assert not is_service("billing/api.py")


@pytest.mark.parametrize(
    "snippet",
    [
        "x = float(amount)",
        "def f(amount: float) -> None: ...",
        "def f() -> float: ...",
        "rate = 0.1",
        "x: 'float | None' = None",
        "x = isinstance(y, float)",
        "def f(amount: 'float') -> None: ...",
    ],
)
def test_the_float_rule_fails_on_a_bad_snippet(snippet: str) -> None:
    assert check_no_float("billing/invoice_assembly.py", snippet) != []


def test_the_float_rule_passes_prose_about_floats() -> None:
    snippet = '"""A float never touches money."""\nx: "Decimal" = Decimal("0.1")\n'
    assert check_no_float("core/money.py", snippet) == []


def test_the_float_rule_applies_to_money_named_modules() -> None:
    for rel in ("core/money.py", "catalog/price_models.py", "tax/engine.py"):
        assert is_money_code(rel)
    assert is_money_code("billing/invoices.py")
    assert is_money_code("payments/payment_methods.py")
    assert not is_money_code("accounts/hierarchy.py")
