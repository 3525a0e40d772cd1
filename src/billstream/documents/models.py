"""Tables of documents: tenant and customer templates, and the record of every invoice e-mail.

A template row belongs to a tenant (a brand or the parent company) and, with `account_id`,
to one customer of it. The template in force for a document is the customer's own, else the
nearest tenant's up the brand's tree, else the template shipped with billstream.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billstream.db import Base, TimestampMixin
from billstream.documents.kinds import DeliveryStatus as DeliveryStatus
from billstream.documents.kinds import TemplateKind as TemplateKind


class DocumentTemplate(TimestampMixin, Base):
    """A tenant's (or one customer's) Jinja2 template of one kind."""

    __tablename__ = "document_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "kind"),
        Index("ix_document_templates_tenant_id_kind", "tenant_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)


class InvoiceDelivery(Base):
    """One e-mail of an invoice: to whom, when, the message id, and how it went."""

    __tablename__ = "invoice_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    invoice_id: Mapped[str] = mapped_column(
        ForeignKey("invoices.id", ondelete="RESTRICT"), index=True
    )
    to: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime]
    message_id: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(1000))
