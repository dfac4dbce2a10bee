"""``python -m tdgl_stt.sweep sweep | instability-map | analyze``: the sweep commands on their own."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
