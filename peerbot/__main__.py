"""``python -m peerbot`` is the ``peerbot`` command."""

import sys

from peerbot.cli import main

sys.exit(main())
