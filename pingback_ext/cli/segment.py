"""`pingback segment add EMAIL LIST_ID…` and `pingback segment remove LIST_ID EMAIL`."""

from __future__ import annotations

from typing import Annotated

import typer

from pingback_ext.cli.context import options
from pingback_ext.cli.output import emit

segment_app = typer.Typer(help="Add subscribers to segmentation lists.", no_args_is_help=True)


@segment_app.command("add")
def add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's email address.")],
    list_ids: Annotated[
        list[str], typer.Argument(help="Segmentation list ids.", metavar="LIST_ID…")
    ],
) -> None:
    """Add a subscriber to one or more segmentation lists."""
    opts = options(ctx)
    with opts.client() as pb:
        emit(pb.segmentations.add_subscriber(email, list_ids), as_json=opts.as_json)


@segment_app.command("remove")
def remove(
    ctx: typer.Context,
    list_id: Annotated[str, typer.Argument(help="Segmentation list id.")],
    email: Annotated[str, typer.Argument(help="The subscriber's email address.")],
) -> None:
    """Remove a subscriber from a segmentation list."""
    opts = options(ctx)
    with opts.client() as pb:
        emit(pb.segmentations.remove_subscriber(list_id, email), as_json=opts.as_json)
