"""CLI: ``musicstream deploy print`` renders the CloudFormation template of the AWS stack.

Importing this module stays cheap (typer only); the template loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from musicstream.errors import UserError

Out = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the template to this file instead of stdout."),
]


def print_template(out: Out = None) -> None:
    """Render the stack (lake bucket, KPI tables, topic, Glue job, IAM roles) as JSON."""
    try:
        from musicstream.deploy.template import render
    except ImportError as exc:  # the KPI table definitions live in the aws extra's store
        raise UserError(f"deploy needs the aws extra ({exc.name} is missing)") from None
    text = render()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add the ``deploy`` group to the main CLI app."""
    deploy = typer.Typer(help="The AWS stack, as CloudFormation.", no_args_is_help=True)
    deploy.command("print")(print_template)
    app.add_typer(deploy, name="deploy")
