"""The resolver of inherited, effective-dated configuration (`tenants.inheritance`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.tenants.inheritance import (
    Version,
    candidates,
    in_force,
    in_force_frame,
    instant,
)
from billstream.tenants.tree import TenantTree

TREE = TenantTree.of(
    [("root", None), ("uk", "root"), ("uk_biz", "uk"), ("us", "root"), ("us_biz", "us")]
)
JAN, MAR, JUN = date(2026, 1, 1), date(2026, 3, 1), date(2026, 6, 1)


def test_the_nearest_owner_with_a_value_in_force_wins() -> None:
    # given the root's rate for voice and the UK brand's own rate from March
    versions = [Version("root", "voice", 10, JAN), Version("uk", "voice", 8, MAR)]
    # when a UK business customer's tenant asks before and after March
    before = in_force(TREE, versions, "uk_biz", date(2026, 2, 1))["voice"]
    after = in_force(TREE, versions, "uk_biz", date(2026, 4, 1))["voice"]
    # then the root's rate applies before, the brand's after, each naming who set it
    assert (before.value, before.source, before.depth) == (10, "root", 2)
    assert (after.value, after.source, after.depth) == (8, "uk", 1)
    assert (after.effective_from, after.valid_to) == (MAR, None)


def test_an_ended_value_falls_through_to_the_next_owner_up() -> None:
    versions = [
        Version("root", "voice", 10),
        Version("uk", "voice", 8, MAR),
        Version("uk", "voice", None, JUN),
    ]
    assert in_force(TREE, versions, "uk", date(2026, 4, 1))["voice"].value == 8
    assert in_force(TREE, versions, "uk", JUN)["voice"].source == "root"


def test_nothing_in_force_before_the_first_version() -> None:
    versions = [Version("uk", "voice", 8, MAR)]
    assert in_force(TREE, versions, "uk", JAN) == {}


def test_a_later_version_of_the_same_start_wins_by_order() -> None:
    # given two sets of tiers of one day, created one after the other
    versions = [
        Version("uk", "voice", "second", MAR, (2,)),
        Version("uk", "voice", "first", MAR, (1,)),
    ]
    # then only the later is ever in force
    assert in_force(TREE, versions, "uk", MAR)["voice"].value == "second"
    assert [w.value for w in candidates(TREE, versions, "uk")] == ["second"]


def test_without_a_date_the_open_ended_versions_answer() -> None:
    versions = [Version("root", "currency", "USD"), Version("uk", "currency", "GBP")]
    resolved = in_force(TREE, versions, "uk_biz")
    assert (resolved["currency"].value, resolved["currency"].source) == ("GBP", "uk")


def test_candidates_list_the_chain_nearest_owner_first_keys_in_given_order() -> None:
    versions = [
        Version("root", "voice", "root-voice"),
        Version("root", None, "root-all"),
        Version("uk", "voice", "uk-voice", JAN),
        Version("uk", "voice", "uk-voice-2", MAR),
        Version("us", "voice", "us-voice"),  # not on the chain
    ]
    found = candidates(TREE, versions, "uk_biz")
    assert [(w.value, w.depth, w.valid_to) for w in found] == [
        ("uk-voice", 1, MAR),
        ("uk-voice-2", 1, None),
        ("root-voice", 2, None),
        ("root-all", 2, None),
    ]


def test_the_frame_form_answers_many_pairs_with_instants() -> None:
    # given versions dated by UTC instants
    mar = datetime(2026, 3, 1, tzinfo=UTC)
    versions = [Version("root", "voice", 10), Version("uk", "voice", 8, mar)]
    pairs = pl.DataFrame(
        {
            "tenant_id": ["uk_biz", "uk_biz", "us_biz"],
            "at": [mar - timedelta(seconds=1), mar, mar],
        },
        schema={"tenant_id": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    # when resolved as one frame
    found = in_force_frame(TREE, versions, pairs)
    # then each pair has the value in force at its instant and who set it
    assert found.select("tenant_id", "version", "source", "depth").rows() == [
        ("uk_biz", 0, "root", 2),
        ("uk_biz", 1, "uk", 1),
        ("us_biz", 0, "root", 2),
    ]


def test_the_frame_form_of_no_versions_is_empty() -> None:
    pairs = pl.DataFrame({"tenant_id": ["uk"], "at": [JAN]})
    assert in_force_frame(TREE, [], pairs).is_empty()


def test_instant_refuses_a_plain_date() -> None:
    assert instant(None) is None
    with pytest.raises(TypeError, match="instant"):
        instant(JAN)


# --- properties against a naive reference walk ---------------------------------------------

OWNERS = 6
DAYS = 12


@st.composite
def trees(draw: st.DrawFn) -> TenantTree:
    """Random forests of `OWNERS` tenants: each tenant's parent is an earlier one, or none."""
    parents: list[tuple[str, str | None]] = [("t0", None)]
    for i in range(1, OWNERS):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1)))
        parents.append((f"t{i}", None if parent is None else f"t{parent}"))
    return TenantTree.of(parents)


def versions_of(n: int) -> st.SearchStrategy[list[Version[str, int]]]:
    version = st.tuples(
        st.integers(0, OWNERS - 1),
        st.sampled_from(["a", "b"]),
        st.one_of(st.none(), st.integers(0, 99)),
        st.one_of(st.none(), st.integers(0, DAYS)),
    )
    return st.lists(version, max_size=n).map(
        lambda rows: [
            Version(
                f"t{owner}",
                key,
                value,
                None if day is None else JAN + timedelta(days=day),
                (index,),
            )
            for index, (owner, key, value, day) in enumerate(rows)
        ]
    )


def reference(
    tree: TenantTree, versions: list[Version[str, int]], tenant: str, at: date
) -> dict[str, tuple[int, str]]:
    """Up the chain, nearest first: per key, the owner's latest version started by `at`; a
    version without a value passes the key on to the next owner up."""
    out: dict[str, tuple[int, str]] = {}
    for owner in tree.chain(tenant):
        for key in ("a", "b"):
            if key in out:
                continue
            started = [
                v
                for v in versions
                if v.owner == owner
                and v.key == key
                and (v.effective_from is None or v.effective_from <= at)
            ]
            if not started:
                continue
            latest = max(
                started, key=lambda v: (v.effective_from is not None, v.effective_from, v.order)
            )
            if latest.value is not None:
                out[key] = (latest.value, owner)
    return out


DAY = st.integers(0, DAYS + 1).map(lambda d: JAN + timedelta(days=d))
TENANT = st.integers(0, OWNERS - 1).map(lambda i: f"t{i}")


@settings(max_examples=200, deadline=None)
@given(tree=trees(), versions=versions_of(20), tenant=TENANT, at=DAY)
def test_in_force_equals_the_reference_walk(
    tree: TenantTree, versions: list[Version[str, int]], tenant: str, at: date
) -> None:
    found = in_force(tree, versions, tenant, at)
    assert {k: (r.value, r.source) for k, r in found.items()} == reference(
        tree, versions, tenant, at
    )


@settings(max_examples=100, deadline=None)
@given(
    tree=trees(),
    versions=versions_of(20),
    pairs=st.lists(st.tuples(TENANT, DAY), min_size=1, max_size=15),
)
def test_the_frame_form_equals_the_one_tenant_form_per_pair(
    tree: TenantTree, versions: list[Version[str, int]], pairs: list[tuple[str, date]]
) -> None:
    frame = pl.DataFrame(pairs, schema={"tenant_id": pl.String, "at": pl.Date}, orient="row")
    found = in_force_frame(tree, versions, frame)
    by_pair: dict[tuple[str, date], dict[str, tuple[int | None, str]]] = {}
    for tenant, at, index, source in found.select("tenant_id", "at", "version", "source").rows():
        by_pair.setdefault((tenant, at), {})[versions[index].key] = (
            versions[index].value,
            source,
        )
    for tenant, at in pairs:
        expected = {k: (r.value, r.source) for k, r in in_force(tree, versions, tenant, at).items()}
        assert by_pair.get((tenant, at), {}) == expected


@settings(max_examples=100, deadline=None)
@given(tree=trees(), versions=versions_of(20), tenant=TENANT, at=DAY, value=st.integers(100, 199))
def test_the_tenants_own_value_always_wins_and_never_reaches_its_ancestors(
    tree: TenantTree, versions: list[Version[str, int]], tenant: str, at: date, value: int
) -> None:
    # given a value the tenant sets itself from always, later than anything else of its own
    own = Version(tenant, "a", value, None, (10_000,))
    changed = [v for v in versions if not (v.owner == tenant and v.key == "a")] + [own]
    # then the tenant sees its own value
    assert in_force(tree, changed, tenant, at)["a"].value == value
    # and its ancestors see what they saw before
    for ancestor in tree.chain(tenant)[1:]:
        before = in_force(tree, versions, ancestor, at)
        after = in_force(tree, changed, ancestor, at)
        assert {k: r.value for k, r in before.items()} == {k: r.value for k, r in after.items()}


@settings(max_examples=100, deadline=None)
@given(tree=trees(), versions=versions_of(20), tenant=TENANT)
def test_candidate_windows_of_one_owner_and_key_do_not_overlap(
    tree: TenantTree, versions: list[Version[str, int]], tenant: str
) -> None:
    windows = candidates(tree, versions, tenant)
    depths = [w.depth for w in windows]
    assert depths == sorted(depths)
    for w in windows:
        for other in windows:
            if other is w or (other.source, other.key) != (w.source, w.key):
                continue
            assert (
                w.valid_to is not None
                and other.effective_from is not None
                and w.valid_to <= other.effective_from
            ) or (
                other.valid_to is not None
                and w.effective_from is not None
                and other.valid_to <= w.effective_from
            )
