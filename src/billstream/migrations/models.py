"""Every table's model, imported so that `Base.metadata` knows the whole schema."""

from billstream.access.models import ApiKey
from billstream.accounts.models import Account, NumberAssignment, PhoneNumber
from billstream.api.models import IdempotencyRecord
from billstream.billing.models import (
    BillRun,
    BillRunItem,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    InvoiceTax,
    TaxRate,
)
from billstream.catalog.models import Plan, PlanCharge, Price, Product
from billstream.db import Base
from billstream.documents.models import DocumentTemplate, InvoiceDelivery
from billstream.mediation.models import UsageFile, UsageRecord, UsageReject
from billstream.rating.models import (
    MarginRule,
    Rate,
    RateCard,
    RateCardVersion,
    RatedUsage,
    RatingRule,
    RatingRun,
    RatingTier,
)
from billstream.subscriptions.models import Subscription, SubscriptionChange
from billstream.tenants.models import Tenant

metadata = Base.metadata

__all__ = [
    "Account",
    "ApiKey",
    "BillRun",
    "BillRunItem",
    "DocumentTemplate",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceDelivery",
    "InvoiceLine",
    "InvoiceSequence",
    "InvoiceTax",
    "MarginRule",
    "NumberAssignment",
    "PhoneNumber",
    "Plan",
    "PlanCharge",
    "Price",
    "Product",
    "Rate",
    "RateCard",
    "RateCardVersion",
    "RatedUsage",
    "RatingRule",
    "RatingRun",
    "RatingTier",
    "Subscription",
    "SubscriptionChange",
    "TaxRate",
    "Tenant",
    "UsageFile",
    "UsageRecord",
    "UsageReject",
    "metadata",
]
