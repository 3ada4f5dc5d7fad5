"""The `dealcoach` console script: loads the command line, so that a Ctrl-C while the rule engine is still being
imported ends the same way as one during a command (interrupted, exit 130), not with a traceback."""

import sys

INTERRUPTED = 130


def main() -> None:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(INTERRUPTED) from None
    run()
