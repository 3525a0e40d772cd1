"""Account and number-inventory use cases."""

from billstream.accounts.service.accounts import (
    account_of_tenant,
    account_tree,
    create_account,
    delete_account,
    get_account,
    list_accounts,
    move_account,
    paying_account_of,
    update_account,
)
from billstream.accounts.service.importing import ImportReport, RowError, import_accounts
from billstream.accounts.service.lookup import account_names, find_account, owners_of
from billstream.accounts.service.numbers import (
    add_numbers,
    assign_number,
    get_number,
    list_assignments,
    list_numbers,
    number_holders,
    release_number,
)

__all__ = [
    "ImportReport",
    "RowError",
    "account_names",
    "account_of_tenant",
    "account_tree",
    "add_numbers",
    "assign_number",
    "create_account",
    "delete_account",
    "find_account",
    "get_account",
    "get_number",
    "import_accounts",
    "list_accounts",
    "list_assignments",
    "list_numbers",
    "move_account",
    "number_holders",
    "owners_of",
    "paying_account_of",
    "release_number",
    "update_account",
]
