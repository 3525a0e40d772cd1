"""Every table's model, imported so that `Base.metadata` knows the whole schema."""

from billstream.access.models import ApiKey
from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.api.models import IdempotencyRecord
from billstream.db import Base
from billstream.tenants.models import Tenant

metadata = Base.metadata

__all__ = [
    "Account",
    "ApiKey",
    "IdempotencyRecord",
    "NumberAssignment",
    "PhoneNumber",
    "Tenant",
    "metadata",
]
