"""Run a script under cProfile that counts this process's CPU time, not wall time.

    python benchmarks/cpu_profile.py OUT.prof train.py [args...]

On a machine shared with other work, wall time includes the waits for a core; CPU time does not,
so the profile shows what the script itself costs.
"""

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    sys.path.insert(0, ".")
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.runcall(runpy.run_path, script, run_name="__main__")
    except SystemExit as exit:
        if exit.code not in (None, 0):
            raise
    finally:
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
