"""`billstream apikey`: create and revoke API keys for the REST API."""

from __future__ import annotations

from typing import Annotated

import typer

from billstream.cli.common import console, fails_cleanly, target_tenant, unit_of_work

commands = typer.Typer(help="API keys for the REST API.", no_args_is_help=True)


@commands.command("create")
@fails_cleanly
def apikey_create(
    tenant: Annotated[str, typer.Option(help="The key's tenant (slug or id).")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    descendants: Annotated[
        bool, typer.Option("--descendants", help="Also reach the tenant's sub-tenants.")
    ] = False,
) -> None:
    """Create an API key. The token goes alone to stdout, notes to stderr."""
    from billstream.access.service import create_api_key

    with unit_of_work() as (runtime, session):
        target = target_tenant(session, tenant).tenant
        created = create_api_key(
            session,
            clock=runtime.clock,
            pepper=runtime.pepper,
            tenant_id=target.id,
            name=name,
            include_descendants=descendants,
        )
    reach = "and its sub-tenants" if descendants else "only"
    notes = console(stderr=True)
    notes.print(f"API key {created.key.id} for tenant {target.slug} {reach}.", markup=False)
    notes.print(
        "Copy the token now: it is shown once and only its hash is stored.",
        style="yellow",
        markup=False,
    )
    typer.echo(created.token)


@commands.command("revoke")
@fails_cleanly
def apikey_revoke(
    key: Annotated[str, typer.Argument(help="The key's id (key_…), as the API lists it.")],
) -> None:
    """Revoke an API key at once: any key, a tenant's last included (the REST API refuses
    that; `apikey create` makes a new one)."""
    from billstream.access.service import revoke_any_api_key

    with unit_of_work() as (runtime, session):
        revoke_any_api_key(session, clock=runtime.clock, key_id=key)
    console(stderr=True).print(f"API key {key} revoked.", markup=False)
