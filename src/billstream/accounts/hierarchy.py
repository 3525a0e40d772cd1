"""The account tree, as pure functions over a map of nodes.

An account is either self-paying or billed to its parent. Charges of an account that does
not pay go to its nearest paying ancestor (SPEC C2, Org ABC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccountNode:
    id: str
    parent_id: str | None
    self_paying: bool


class BrokenHierarchyError(ValueError):
    """The map has a cycle, a missing parent, or a non-paying root."""


def paying_ancestor(account_id: str, nodes: Mapping[str, AccountNode]) -> str:
    """Who pays `account_id`'s charges: itself, or its nearest self-paying ancestor.

    >>> n = {"abc": AccountNode("abc", None, True), "hr": AccountNode("hr", "abc", False)}
    >>> paying_ancestor("hr", n)
    'abc'
    """
    seen: set[str] = set()
    current = account_id
    while True:
        node = nodes.get(current)
        if node is None:
            raise BrokenHierarchyError(f"account {current} is not in the hierarchy")
        if node.self_paying:
            return node.id
        if node.parent_id is None:
            raise BrokenHierarchyError(f"account {current} is billed to a parent it does not have")
        seen.add(current)
        if node.parent_id in seen:
            raise BrokenHierarchyError(f"the hierarchy above {account_id} has a cycle")
        current = node.parent_id


def paying_accounts(nodes: Mapping[str, AccountNode]) -> dict[str, str]:
    """`paying_ancestor` for every node at once, each chain walked once (for bill runs)."""
    payer: dict[str, str] = {}
    for start in nodes:
        path: list[str] = []
        current = start
        while current not in payer:
            node = nodes.get(current)
            if node is None:
                raise BrokenHierarchyError(f"account {current} is not in the hierarchy")
            if node.self_paying:
                payer[current] = current
                break
            if node.parent_id is None:
                raise BrokenHierarchyError(
                    f"account {current} is billed to a parent it does not have"
                )
            if current in path:
                raise BrokenHierarchyError(f"the hierarchy above {start} has a cycle")
            path.append(current)
            current = node.parent_id
        for node_id in path:
            payer[node_id] = payer[current]
    return payer


def would_create_cycle(
    account_id: str, new_parent_id: str | None, parent_of: Mapping[str, str | None]
) -> bool:
    """True if making `new_parent_id` the parent of `account_id` closes a loop.

    `parent_of` must hold the chain above `new_parent_id` (its ancestors are enough).
    """
    current = new_parent_id
    steps = 0
    while current is not None:
        if current == account_id:
            return True
        current = parent_of.get(current)
        steps += 1
        if steps > len(parent_of) + 1:
            return True  # an existing loop: refuse rather than spin
    return False
