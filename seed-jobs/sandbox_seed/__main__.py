"""``python3 -m sandbox_seed`` entry point (the Job's command)."""

import sys

from sandbox_seed.cli import main

if __name__ == "__main__":
    sys.exit(main())
