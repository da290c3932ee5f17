"""Running a client command: parse, resolve, run, and turn every failure into one line.

A command is "module:function" under sigillo.cli.commands; the function takes a Context
and returns the exit code (or None for 0).
"""

from __future__ import annotations

import importlib
import os
import sys
from argparse import Namespace

from sigillo.cli.context import Context
from sigillo.cli.errors import CliError
from sigillo.cli.parser import SHARED_DEFAULTS

__all__ = ["run"]


def run(args: Namespace) -> int:
    for name, default in SHARED_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    # behaviour.md 11.7: every --env in order, then every -c; duplicates dropped later.
    args.environments = [*(args.env_flags or []), *(args.config_flags or [])]
    module, function = args.run.split(":")
    command = getattr(importlib.import_module(f"sigillo.cli.commands.{module}"), function)
    context = Context(args)
    try:
        code = command(context)
    except CliError as failure:
        context.out.error(failure.message, failure.hint)
        return failure.exit_code
    except KeyboardInterrupt:
        context.out.stderr.write("\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`sigillo secrets | head -1`): not an error of ours. Point
        # stdout at /dev/null so that the interpreter's final flush does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if "client" in vars(context):
            context.client.close()
    return int(code or 0)
