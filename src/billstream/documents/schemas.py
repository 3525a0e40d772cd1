"""API shapes of documents: templates and invoice e-mail deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from billstream.core.inputs import Input


class DocumentChoice(StrEnum):
    INVOICE = "invoice"  # the invoice or credit note itself
    RECEIPT = "receipt"  # the receipt of a paid invoice


class TemplatePut(BaseModel):
    """A Jinja2 template (sandboxed). It may ``{% extends "invoice.html" %}`` and override
    blocks; it is compiled and tried on a sample invoice before it is stored."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, description="The template's Jinja2 source")
    tenant_id: str | None = Field(default=None, description="Default: the caller's tenant")
    account_id: str | None = Field(
        default=None, description="Set: this customer's own template (overrides its brand's)"
    )


class TemplateOut(BaseModel):
    id: str
    tenant_id: str
    account_id: str | None
    kind: str
    body: str
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)


class SendRequest(Input):
    force: bool = Field(default=False, description="Send again even if it was sent before")


class DeliveryOut(BaseModel):
    id: str
    invoice_id: str
    to: str
    sent_at: datetime
    message_id: str | None
    status: str = Field(description="sent, or failed (see error)")
    error: str | None
    already_sent: bool = Field(description="True: an earlier delivery, nothing sent now")

    model_config = ConfigDict(from_attributes=True)
