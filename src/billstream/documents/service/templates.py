"""Tenant and customer templates: save (checked first), list, and resolve the one in force.

Resolution for a document of account X in tenant T: X's own template, else the template of
the nearest tenant from T up to the root, else the template shipped with billstream.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from billstream.accounts.service import account_of_tenant, get_account
from billstream.core.clock import Clock
from billstream.core.errors import InvalidInputError
from billstream.core.ids import new_id
from billstream.db.locks import locked
from billstream.db.pagination import Page, paginate
from billstream.documents.models import DocumentTemplate, TemplateKind
from billstream.documents.rendering import DocumentRenderer
from billstream.documents.service.renderers import current_renderer
from billstream.documents.view import brand_of
from billstream.tenants.inheritance import Version, in_force
from billstream.tenants.scope import TenantScope
from billstream.tenants.service import ancestor_chain, get_tenant, load_context
from billstream.tenants.tree import TenantTree

MAX_TEMPLATE_LENGTH = 200_000


def template_kind(value: str, *, field: str = "kind") -> TemplateKind:
    try:
        return TemplateKind(value)
    except ValueError:
        known = ", ".join(k.value for k in TemplateKind)
        raise InvalidInputError(
            f"{value!r} is not a template kind ({known})", field=field
        ) from None


def save_template(
    session: Session,
    clock: Clock,
    *,
    scope: TenantScope,
    kind: str,
    body: str,
    tenant_id: str | None = None,
    account_id: str | None = None,
    renderer: DocumentRenderer | None = None,
) -> DocumentTemplate:
    """Set the `kind` template of a tenant (default: the caller's), or of one of its accounts.

    The body is compiled in the sandbox and tried on a sample invoice first: a template that
    does not compile or fails is refused with its line, and nothing is stored.
    """
    checked_kind = template_kind(kind)
    if len(body) > MAX_TEMPLATE_LENGTH:
        raise InvalidInputError(f"at most {MAX_TEMPLATE_LENGTH} characters", field="body")
    if tenant_id is None and account_id is not None:  # the account's tenant
        tenant_id = get_account(session, scope=scope, account_id=account_id).tenant_id
    ctx = load_context(session, scope=scope, tenant_id=tenant_id or scope.home)
    if account_id is not None:  # named with a tenant: the account must be that tenant's
        account_of_tenant(session, ctx=ctx, account_id=account_id, field="account_id")
    tenant = get_tenant(session, scope=scope, tenant_id=ctx.tenant_id)
    settings = ctx.settings
    brand = brand_of(settings.branding, tenant_name=tenant.name, logo_src=None)
    (renderer or current_renderer()).check(checked_kind, body, brand=brand)
    return _upsert(session, clock, tenant.id, account_id, checked_kind, body)


def _upsert(
    session: Session,
    clock: Clock,
    tenant_id: str,
    account_id: str | None,
    kind: TemplateKind,
    body: str,
) -> DocumentTemplate:
    owner = (
        DocumentTemplate.account_id == account_id
        if account_id is not None
        else DocumentTemplate.account_id.is_(None)
    )
    row = session.scalar(
        locked(
            select(DocumentTemplate).where(
                DocumentTemplate.tenant_id == tenant_id, DocumentTemplate.kind == kind, owner
            )
        )
    )
    now = clock.now()
    if row is None:
        row = DocumentTemplate(
            id=new_id("dtp"),
            tenant_id=tenant_id,
            account_id=account_id,
            kind=kind.value,
            body=body,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.body, row.updated_at = body, now
    session.flush()
    return row


def list_templates(
    session: Session,
    *,
    scope: TenantScope,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[DocumentTemplate]:
    """The templates of the tenants in `scope` (theirs and their customers')."""
    stmt = select(DocumentTemplate).where(scope.filter(DocumentTemplate))
    if kind is not None:
        stmt = stmt.where(DocumentTemplate.kind == template_kind(kind))
    return paginate(session, stmt, DocumentTemplate.id, cursor=cursor, limit=limit)


def template_in_force(
    session: Session, *, tenant_id: str, account_id: str, kind: TemplateKind
) -> DocumentTemplate | None:
    """The customer's template, else the nearest tenant's up the tree (inherited
    configuration keyed by kind, `tenants.inheritance`); None: the shipped one."""
    chain = [t.id for t in ancestor_chain(session, tenant_id)]
    rows = list(
        session.scalars(
            select(DocumentTemplate).where(
                DocumentTemplate.kind == kind,
                or_(
                    and_(
                        DocumentTemplate.account_id == account_id,
                        DocumentTemplate.tenant_id == tenant_id,
                    ),
                    and_(
                        DocumentTemplate.account_id.is_(None),
                        DocumentTemplate.tenant_id.in_(chain),
                    ),
                ),
            )
        )
    )
    own = [r for r in rows if r.account_id == account_id]
    if own:
        return own[0]
    shared = [Version(r.tenant_id, r.kind, r) for r in rows if r.account_id is None]
    found = in_force(TenantTree.of_chain(chain), shared, tenant_id).get(kind)
    return found.value if found is not None else None
