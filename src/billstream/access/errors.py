from enum import StrEnum


class AccessErrorCode(StrEnum):
    LAST_ACCESS = "api_key_last_access"
