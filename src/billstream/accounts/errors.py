from enum import StrEnum


class AccountErrorCode(StrEnum):
    CYCLE = "account_cycle"
    EXTERNAL_ID_TAKEN = "account_external_id_taken"
    NO_PARENT_TO_BILL = "account_no_parent_to_bill"
    CURRENCY_MISMATCH = "account_currency_mismatch"
    HAS_CHILDREN = "account_has_children"
    HAS_NUMBERS = "account_has_numbers"
    NUMBER_INVALID = "number_invalid"
    NUMBER_EXISTS = "number_exists"
    ASSIGNMENT_OVERLAP = "number_assignment_overlap"
    NOT_ASSIGNED = "number_not_assigned"
