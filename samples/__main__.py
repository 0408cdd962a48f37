"""`python -m samples --out DIR ...`: the sample generator without the product's CLI."""

from __future__ import annotations

import argparse
import sys

from intake.errors import IntakeError, exit_code
from samples import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samples", description=cli.__doc__)
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return cli.run(args)
    except IntakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
