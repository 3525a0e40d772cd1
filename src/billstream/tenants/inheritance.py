"""Configuration a tenant sets and the tenants below it inherit, in force on a date.

Every kind of inherited configuration (settings, rounding rules, tiers, margin rules, cost
cards, tax rates, catalogue codes, …) is a list of versions (`Version`): an owner tenant, a
key (a setting's name, a usage type, ``(jurisdiction, name)``, a carrier), the date it takes
effect and its value. One rule answers "what is in force for tenant T at D, and which tenant
set it":

- a version is in force from its `effective_from` until the next version of the same owner
  and key starts (versions starting together: the greatest `order` wins);
- the **nearest** owner up T's chain (T itself, its parent, …, the root) with a value in force
  at D wins; a version whose value is None ends its owner's value, so the next owner up
  decides.

`in_force` answers for one tenant, `in_force_frame` for a whole frame of (tenant, instant)
pairs at once (joins, no loop per pair), and `candidates` lists the windows of a tenant's
chain in priority order for code that picks per record itself (the rater's rules).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import polars as pl

from billstream.tenants.tree import TenantTree

__all__ = ["Resolved", "Version", "candidates", "in_force", "in_force_frame", "instant"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Version(Generic[K, V]):
    """`owner`'s value of `key` from `effective_from` on (None: from always).

    `value` None: from then on `owner` sets nothing for `key`, the next owner up decides.
    `order` breaks the tie between versions of one owner and key starting together: the
    greatest wins (the others are never in force). One call compares only dates or only
    datetimes, never both.
    """

    owner: str
    key: K
    value: V | None
    effective_from: date | None = None
    order: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved(Generic[K, V]):
    """A value in force over ``[effective_from, valid_to)`` (None: unbounded), set by
    `source`, `depth` tenants up the asking tenant's chain (0: the tenant itself)."""

    key: K
    value: V
    source: str
    effective_from: date | None
    valid_to: date | None
    depth: int
    version: int  # the index of the version in the list it came from

    def covers(self, at: date | None) -> bool:
        """In force at `at` (None: from now on, i.e. the latest, open-ended window)."""
        if at is None:
            return self.valid_to is None
        return (self.effective_from is None or self.effective_from <= at) and (
            self.valid_to is None or at < self.valid_to
        )


def instant(day: date | None) -> datetime | None:
    """A window bound of versions dated by instants, typed as one (None: unbounded)."""
    if day is not None and not isinstance(day, datetime):
        raise TypeError(f"{day!r} is a date where an instant was expected")
    return day


@dataclass(frozen=True, slots=True)
class _Span(Generic[K, V]):
    index: int
    version: Version[K, V]
    valid_to: date | None


def _spans(versions: Sequence[Version[K, V]]) -> dict[str, list[_Span[K, V]]]:
    """Per owner, each version's window, keys in order of first appearance, then by date.
    A version a later one of its owner and key starts together with is dropped (empty)."""
    keys = _key_order(versions)

    def sort_key(item: tuple[int, Version[K, V]]) -> tuple[Any, ...]:
        v = item[1]
        return (keys[v.key], v.effective_from is not None, v.effective_from, v.order)

    series: dict[tuple[str, Hashable], list[tuple[int, Version[K, V]]]] = {}
    for index, version in sorted(enumerate(versions), key=sort_key):
        series.setdefault((version.owner, version.key), []).append((index, version))
    out: dict[str, list[_Span[K, V]]] = {}
    for (owner, _key), items in series.items():
        spans = out.setdefault(owner, [])
        for (index, version), after in zip(items, [*items[1:], None], strict=True):
            valid_to = after[1].effective_from if after is not None else None
            if after is not None and valid_to == version.effective_from:
                continue  # replaced the moment it starts
            spans.append(_Span(index, version, valid_to))
    return out


def candidates(
    tree: TenantTree, versions: Sequence[Version[K, V]], tenant_id: str
) -> list[Resolved[K, V]]:
    """Every window with a value along `tenant_id`'s chain, in priority order: the nearest
    owner first; within an owner, keys in the order they first appear in `versions`, each
    key's windows by date. The first that covers a record's instant and matches it wins.

    >>> tree = TenantTree.of([("root", None), ("uk", "root")])
    >>> versions = [
    ...     Version("root", "voice", "60/60"),
    ...     Version("uk", "voice", "1/1", date(2026, 3, 1)),
    ...     Version("uk", "voice", None, date(2026, 6, 1)),
    ... ]
    >>> [(w.value, w.source, w.depth, str(w.effective_from), str(w.valid_to))
    ...  for w in candidates(tree, versions, "uk")]
    [('1/1', 'uk', 0, '2026-03-01', '2026-06-01'), ('60/60', 'root', 1, 'None', 'None')]
    """
    spans = _spans(versions)
    return [
        Resolved(
            key=span.version.key,
            value=span.version.value,
            source=owner,
            effective_from=span.version.effective_from,
            valid_to=span.valid_to,
            depth=depth,
            version=span.index,
        )
        for depth, owner in enumerate(tree.chain(tenant_id))
        for span in spans.get(owner, ())
        if span.version.value is not None
    ]


def in_force(
    tree: TenantTree,
    versions: Sequence[Version[K, V]],
    tenant_id: str,
    at: date | None = None,
) -> dict[K, Resolved[K, V]]:
    """Per key, the value in force for `tenant_id` at `at` and who set it. `at` None: the
    values in force from now on (each owner's latest, open-ended version).

    Parameters
    ----------
    tree
        The tenant tree holding `tenant_id`'s chain.
    versions
        Every version owned along the chain (others are ignored).
    tenant_id
        The tenant asking.
    at
        The date or instant (the same kind as the versions' `effective_from`).

    Returns
    -------
    dict
        Per key with a value in force, its `Resolved` (keys in force nowhere are absent).

    Examples
    --------
    >>> tree = TenantTree.of([("root", None), ("uk", "root"), ("uk_biz", "uk")])
    >>> versions = [
    ...     Version("root", "currency", "USD"),
    ...     Version("uk", "currency", "GBP", date(2026, 1, 1)),
    ...     Version("uk", "currency", None, date(2026, 7, 1)),
    ... ]
    >>> [(r.value, r.source) for r in in_force(tree, versions, "uk_biz", date(2026, 2, 1)).values()]
    [('GBP', 'uk')]
    >>> [(r.value, r.source) for r in in_force(tree, versions, "uk_biz", date(2026, 8, 1)).values()]
    [('USD', 'root')]
    >>> in_force(tree, versions, "root", date(2026, 2, 1))["currency"].value
    'USD'
    """
    chosen: dict[K, Resolved[K, V]] = {}
    for window in candidates(tree, versions, tenant_id):
        if window.key not in chosen and window.covers(at):
            chosen[window.key] = window
    return chosen


def in_force_frame(
    tree: TenantTree,
    versions: Sequence[Version[K, V]],
    pairs: pl.DataFrame,
    *,
    tenant: str = "tenant_id",
    at: str = "at",
) -> pl.DataFrame:
    """`in_force` for every ``(tenant, at)`` row of `pairs` at once, by joins.

    Parameters
    ----------
    tree
        The tenant tree holding the chains of all the tenants of `pairs`.
    versions
        Every version owned along those chains.
    pairs
        A frame with a String column `tenant` and a Date or Datetime column `at` (the same
        kind as the versions' `effective_from`); other columns are carried along.
    tenant, at
        The names of those columns.

    Returns
    -------
    polars.DataFrame
        One row per pair and key in force: the pair's columns, then ``version`` (the index
        into `versions` of the version in force: its key and value), ``source`` (who set
        it), ``depth`` (how far up the pair's tenant's chain), ``valid_from`` and
        ``valid_to``. In the order of `pairs`, then of the keys' first appearance in
        `versions`. A pair with nothing in force has no row.

    Examples
    --------
    >>> tree = TenantTree.of([("root", None), ("uk", "root")])
    >>> versions = [
    ...     Version("root", "voice", "60/60"),
    ...     Version("uk", "voice", "1/1", date(2026, 3, 1)),
    ... ]
    >>> pairs = pl.DataFrame(
    ...     {"tenant_id": ["uk", "uk", "root"],
    ...      "at": [date(2026, 2, 1), date(2026, 4, 1), date(2026, 4, 1)]}
    ... )
    >>> in_force_frame(tree, versions, pairs).select("tenant_id", "at", "version", "source")
    shape: (3, 4)
    ┌───────────┬────────────┬─────────┬────────┐
    │ tenant_id ┆ at         ┆ version ┆ source │
    │ ---       ┆ ---        ┆ ---     ┆ ---    │
    │ str       ┆ date       ┆ i64     ┆ str    │
    ╞═══════════╪════════════╪═════════╪════════╡
    │ uk        ┆ 2026-02-01 ┆ 0       ┆ root   │
    │ uk        ┆ 2026-04-01 ┆ 1       ┆ uk     │
    │ root      ┆ 2026-04-01 ┆ 0       ┆ root   │
    └───────────┴────────────┴─────────┴────────┘
    """
    instant = pairs.schema[at]
    spans = _spans(versions)
    windows = _windows_frame(spans, _key_order(versions), instant)
    chains = _chains_frame(tree, pairs[tenant].unique().to_list())
    found = (
        pairs.with_row_index("_pair")
        .join(chains, left_on=tenant, right_on="_tenant")
        .join(windows, left_on="_owner", right_on="source")
        .filter(
            (pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col(at)))
            & (pl.col("valid_to").is_null() | (pl.col(at) < pl.col("valid_to")))
        )
        .sort("_pair", "_key", "depth")
        .unique(["_pair", "_key"], keep="first", maintain_order=True)
        .rename({"_owner": "source"})
    )
    return found.select(*pairs.columns, "version", "source", "depth", "valid_from", "valid_to")


def _key_order(versions: Sequence[Version[K, V]]) -> dict[Hashable, int]:
    """Each key's rank: the order of its first appearance in `versions`."""
    keys: dict[Hashable, int] = {}
    for version in versions:
        keys.setdefault(version.key, len(keys))
    return keys


def _windows_frame(
    spans: dict[str, list[_Span[K, V]]], keys: dict[Hashable, int], instant: pl.DataType
) -> pl.DataFrame:
    rows = [
        (owner, keys[s.version.key], s.index, s.version.effective_from, s.valid_to)
        for owner, owned in spans.items()
        for s in owned
        if s.version.value is not None
    ]
    columns = list(zip(*rows, strict=True)) if rows else [()] * 5
    return pl.DataFrame(
        [
            pl.Series("source", columns[0], pl.String),
            pl.Series("_key", columns[1], pl.Int64),
            pl.Series("version", columns[2], pl.Int64),
            pl.Series("valid_from", columns[3], instant),
            pl.Series("valid_to", columns[4], instant),
        ]
    )


def _chains_frame(tree: TenantTree, tenants: Iterable[str]) -> pl.DataFrame:
    """Each tenant's chain as rows ``(tenant, owner, depth)``: one loop per tenant, not pair."""
    rows = [(t, owner, depth) for t in tenants for depth, owner in enumerate(tree.chain(t))]
    return pl.DataFrame(
        rows,
        schema={"_tenant": pl.String, "_owner": pl.String, "depth": pl.Int64},
        orient="row",
    )
