"""``python -m tts_core.cli``."""

import sys

from tts_core.cli import main

sys.exit(main())
