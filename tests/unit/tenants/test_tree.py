"""The tenant tree's chains and subtrees."""

from __future__ import annotations

import pytest

from billstream.tenants.tree import TenantTree

TREE = TenantTree.of(
    [("root", None), ("uk", "root"), ("uk_biz", "uk"), ("us", "root"), ("other", None)]
)


def test_a_chain_runs_from_the_tenant_up_to_its_root() -> None:
    assert TREE.chain("uk_biz") == ("uk_biz", "uk", "root")
    assert TREE.chain("other") == ("other",)


def test_depth_counts_up_the_chain_and_is_none_off_it() -> None:
    assert [TREE.depth("uk_biz", t) for t in ("uk_biz", "uk", "root", "us")] == [0, 1, 2, None]


def test_a_subtree_holds_the_tenant_and_everything_below_it() -> None:
    assert TREE.subtree("root") == {"root", "uk", "uk_biz", "us"}
    assert TREE.subtree("us") == {"us"}


def test_an_unknown_tenant_is_named() -> None:
    with pytest.raises(KeyError, match="nowhere"):
        TREE.chain("nowhere")


def test_a_cycle_is_refused_rather_than_walked_forever() -> None:
    with pytest.raises(ValueError, match="cycle"):
        TenantTree.of([("a", "b"), ("b", "a")]).chain("a")
