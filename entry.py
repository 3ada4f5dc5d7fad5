"""The `dealcoach` console script: loads the command line, so that a Ctrl-C while the rule engine is still being
imported ends the same way as one during a command (interrupted, exit 130), not with a traceback.

Being the whole process, it also starts and ends it faster than a library may (`dealcoach gate` from a CRM hook
runs in a fresh process every time): no garbage collection while the modules load (what they create lives until
exit anyway; gc.freeze then leaves it out of later collections), and a gate or review ends the process as soon as
its output is flushed (cli._exit_at_once).
"""

import gc
import sys

INTERRUPTED = 130


def main() -> None:
    gc.disable()
    try:
        from .cli import allow_quick_exit
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(INTERRUPTED) from None
    finally:
        gc.freeze()
        gc.enable()
    allow_quick_exit()
    run()
