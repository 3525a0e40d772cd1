"""Who pays: `paying_ancestor`, `paying_accounts` and cycle detection on the account tree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billstream.accounts.hierarchy import (
    AccountNode,
    BrokenHierarchyError,
    paying_accounts,
    paying_ancestor,
    would_create_cycle,
)


def org_abc() -> dict[str, AccountNode]:
    """SPEC C2: ABC and Support pay; Sales, HR, Tier1 and Tier2 are billed to their parent."""
    nodes = [
        AccountNode("abc", None, self_paying=True),
        AccountNode("sales", "abc", self_paying=False),
        AccountNode("support", "abc", self_paying=True),
        AccountNode("hr", "abc", self_paying=False),
        AccountNode("tier1", "support", self_paying=False),
        AccountNode("tier2", "support", self_paying=False),
    ]
    return {n.id: n for n in nodes}


ORG_ABC_PAYERS = {
    "abc": "abc",
    "sales": "abc",
    "hr": "abc",
    "support": "support",
    "tier1": "support",
    "tier2": "support",
}


def test_org_abc_each_account_is_paid_by_its_nearest_paying_ancestor() -> None:
    nodes = org_abc()
    assert {a: paying_ancestor(a, nodes) for a in nodes} == ORG_ABC_PAYERS


def test_org_abc_abc_pays_for_abc_sales_hr_and_support_for_support_tier1_tier2() -> None:
    payers = paying_accounts(org_abc())
    assert payers == ORG_ABC_PAYERS
    invoices: dict[str, set[str]] = {}
    for account, payer in payers.items():
        invoices.setdefault(payer, set()).add(account)
    assert invoices == {"abc": {"abc", "sales", "hr"}, "support": {"support", "tier1", "tier2"}}


def test_a_non_paying_root_is_a_broken_hierarchy() -> None:
    nodes = {"a": AccountNode("a", None, self_paying=False)}
    with pytest.raises(BrokenHierarchyError, match="billed to a parent it does not have"):
        paying_ancestor("a", nodes)
    with pytest.raises(BrokenHierarchyError, match="billed to a parent it does not have"):
        paying_accounts(nodes)


def test_a_missing_parent_is_a_broken_hierarchy() -> None:
    nodes = {"a": AccountNode("a", "gone", self_paying=False)}
    with pytest.raises(BrokenHierarchyError, match="account gone is not in the hierarchy"):
        paying_ancestor("a", nodes)
    with pytest.raises(BrokenHierarchyError, match="account gone is not in the hierarchy"):
        paying_accounts(nodes)


def test_a_stored_cycle_of_non_paying_accounts_is_refused_not_looped_over() -> None:
    nodes = {
        "a": AccountNode("a", "b", self_paying=False),
        "b": AccountNode("b", "c", self_paying=False),
        "c": AccountNode("c", "a", self_paying=False),
    }
    with pytest.raises(BrokenHierarchyError, match="has a cycle"):
        paying_ancestor("a", nodes)
    with pytest.raises(BrokenHierarchyError, match="has a cycle"):
        paying_accounts(nodes)


def test_a_self_loop_is_a_cycle() -> None:
    nodes = {"a": AccountNode("a", "a", self_paying=False)}
    with pytest.raises(BrokenHierarchyError, match="has a cycle"):
        paying_ancestor("a", nodes)
    with pytest.raises(BrokenHierarchyError, match="has a cycle"):
        paying_accounts(nodes)


# --- would_create_cycle --------------------------------------------------------------------

PARENT_OF: dict[str, str | None] = {n.id: n.parent_id for n in org_abc().values()}


def test_an_account_under_itself_is_a_cycle() -> None:
    assert would_create_cycle("support", "support", PARENT_OF)


def test_an_account_under_its_descendant_is_a_cycle() -> None:
    assert would_create_cycle("abc", "tier1", PARENT_OF)
    assert would_create_cycle("support", "tier2", PARENT_OF)


def test_an_account_under_an_unrelated_branch_or_at_the_top_is_no_cycle() -> None:
    assert not would_create_cycle("tier1", "sales", PARENT_OF)
    assert not would_create_cycle("support", "hr", PARENT_OF)
    assert not would_create_cycle("tier1", None, PARENT_OF)
    assert not would_create_cycle("new", "tier2", PARENT_OF)


def test_a_deep_chain_is_walked_to_the_top() -> None:
    # given a chain n0 <- n1 <- ... <- n499
    parent_of: dict[str, str | None] = {f"n{i}": (f"n{i - 1}" if i else None) for i in range(500)}
    # then putting n0 under the deepest node closes a loop; putting n499 under n0 does not
    assert would_create_cycle("n0", "n499", parent_of)
    assert would_create_cycle("n250", "n499", parent_of)
    assert not would_create_cycle("n499", "n0", {"n0": None})
    assert not would_create_cycle("x", "n499", parent_of)


def test_an_existing_loop_above_the_new_parent_is_refused_rather_than_walked_forever() -> None:
    parent_of: dict[str, str | None] = {"a": "b", "b": "a"}
    assert would_create_cycle("x", "a", parent_of)


# --- property: paying_accounts equals paying_ancestor on every node of random trees -------


@st.composite
def account_trees(draw: st.DrawFn) -> dict[str, AccountNode]:
    """A random forest: each node's parent is an earlier node; every root pays."""
    size = draw(st.integers(min_value=1, max_value=40))
    nodes: dict[str, AccountNode] = {}
    for i in range(size):
        parent = draw(st.none() | st.integers(min_value=0, max_value=i - 1)) if i else None
        parent_id = None if parent is None else f"a{parent}"
        pays = True if parent_id is None else draw(st.booleans())
        nodes[f"a{i}"] = AccountNode(f"a{i}", parent_id, pays)
    order = draw(st.permutations(list(nodes)))
    return {k: nodes[k] for k in order}


def walk_up(account_id: str, nodes: dict[str, AccountNode]) -> str:
    """The reference: climb parent by parent until someone pays."""
    node = nodes[account_id]
    while not node.self_paying:
        assert node.parent_id is not None
        node = nodes[node.parent_id]
    return node.id


@settings(max_examples=200)
@given(nodes=account_trees())
def test_paying_accounts_equals_paying_ancestor_for_every_node(
    nodes: dict[str, AccountNode],
) -> None:
    payers = paying_accounts(nodes)
    assert set(payers) == set(nodes)
    for account_id in nodes:
        assert payers[account_id] == paying_ancestor(account_id, nodes)
        assert payers[account_id] == walk_up(account_id, nodes)
        assert nodes[payers[account_id]].self_paying


@settings(max_examples=200)
@given(nodes=account_trees(), data=st.data())
def test_would_create_cycle_is_true_exactly_for_self_and_descendants(
    nodes: dict[str, AccountNode], data: st.DataObject
) -> None:
    parent_of = {n.id: n.parent_id for n in nodes.values()}
    account = data.draw(st.sampled_from(sorted(nodes)))
    new_parent = data.draw(st.sampled_from(sorted(nodes)))

    def ancestors_and_self(node_id: str | None) -> set[str]:
        seen: set[str] = set()
        while node_id is not None:
            seen.add(node_id)
            node_id = parent_of[node_id]
        return seen

    expected = account in ancestors_and_self(new_parent)
    assert would_create_cycle(account, new_parent, parent_of) is expected
