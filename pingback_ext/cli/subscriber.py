"""`pingback subscriber get|create|update|upsert|unsubscribe EMAIL`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_ext.cli.context import options
from pingback_ext.cli.output import emit, stdout

subscriber_app = typer.Typer(help="Look up, create and change subscribers.", no_args_is_help=True)

Email = Annotated[str, typer.Argument(help="The subscriber's email address.", metavar="EMAIL")]
Name = Annotated[str | None, typer.Option("--name", help="Subscriber name.")]
Phone = Annotated[str | None, typer.Option("--phone", help="E.164 phone, e.g. +5511999999999.")]
Status = Annotated[
    str | None,
    typer.Option("--status", help="free_subscriber, paid_subscriber or unsubscribed_subscriber."),
]
Fields = Annotated[
    list[str] | None,
    typer.Option("--field", help="Custom field LABEL=VALUE (repeatable).", metavar="LABEL=VALUE"),
]
Lists = Annotated[
    list[str] | None,
    typer.Option("--segmentation-list", help="Segmentation list id (repeatable)."),
]


def parse_fields(pairs: list[str] | None) -> dict[str, str] | None:
    """`["age=25", "city=Rio"]` -> `{"age": "25", "city": "Rio"}`; bad pairs are usage errors."""
    if not pairs:
        return None
    fields: dict[str, str] = {}
    for pair in pairs:
        label, sep, value = pair.partition("=")
        if not sep or not label.strip():
            raise typer.BadParameter(f"{pair!r} is not LABEL=VALUE", param_hint="--field")
        fields[label.strip()] = value
    return fields


def _create_fields(
    name: str | None,
    phone: str | None,
    status: str | None,
    field: list[str] | None = None,
    segmentation_list: list[str] | None = None,
) -> dict[str, Any]:
    """The options given, as keyword arguments for create, update and upsert."""
    given = {
        "name": name,
        "phone": phone,
        "status": status,
        "custom_fields": parse_fields(field),
        "segmentation_lists": segmentation_list or None,
    }
    return {key: value for key, value in given.items() if value is not None}


@subscriber_app.command("get")
def get(ctx: typer.Context, email: Email) -> None:
    """Show a subscriber."""
    opts = options(ctx)
    with opts.client() as pb:
        emit(pb.subscribers.get(email), as_json=opts.as_json)


@subscriber_app.command("create")
def create(
    ctx: typer.Context,
    email: Email,
    name: Name = None,
    phone: Phone = None,
    status: Status = None,
    field: Fields = None,
    segmentation_list: Lists = None,
) -> None:
    """Create a subscriber."""
    opts = options(ctx)
    fields = _create_fields(name, phone, status, field, segmentation_list)
    with opts.client() as pb:
        emit(pb.subscribers.create(email, **fields), as_json=opts.as_json)


@subscriber_app.command("update")
def update(
    ctx: typer.Context, email: Email, name: Name = None, phone: Phone = None, status: Status = None
) -> None:
    """Change a subscriber's name, phone or status."""
    opts = options(ctx)
    with opts.client() as pb:
        emit(
            pb.subscribers.update(email, **_create_fields(name, phone, status)),
            as_json=opts.as_json,
        )


@subscriber_app.command("upsert")
def upsert(
    ctx: typer.Context,
    email: Email,
    name: Name = None,
    phone: Phone = None,
    status: Status = None,
    field: Fields = None,
    segmentation_list: Lists = None,
) -> None:
    """Create a subscriber, or change what differs (lists are added, never removed)."""
    opts = options(ctx)
    fields = _create_fields(name, phone, status, field, segmentation_list)
    with opts.client() as pb:
        # Custom fields the API could not change are said once, by the client's warning (shown
        # through cli.output's log handler), and in the JSON document's `notApplied`.
        result = pb.subscribers.upsert(email, **fields)
    if not opts.as_json:
        stdout.print(result.action)
    outcome = {"action": result.action, "notApplied": list(result.not_applied)}
    emit(result.subscriber, as_json=opts.as_json, outcome=outcome)


@subscriber_app.command("unsubscribe")
def unsubscribe(ctx: typer.Context, email: Email) -> None:
    """Opt a subscriber out of email (status unsubscribed_subscriber)."""
    opts = options(ctx)
    with opts.client() as pb:
        emit(pb.subscribers.unsubscribe(email), as_json=opts.as_json)
