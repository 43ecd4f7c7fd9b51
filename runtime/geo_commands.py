"""`python app.py geo …`: import, validate, repair, generate, export city geography (issue 3)."""

from __future__ import annotations

import argparse

from settings import Settings

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `geo` command and its subcommands."""
    sub.add_parser("geo", help="import, validate, repair, generate and export city geography")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `geo` subcommand; return the exit status."""
    raise SystemExit("geo commands are not implemented yet")
