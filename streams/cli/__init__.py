"""The ``streamrec`` command line: one Typer app, one module per group of subcommands.

Heavy libraries (feast, mlflow, torch, evidently) are imported only inside the subcommand
that needs them, so ``streamrec --help`` stays fast.
"""
