"""`python -m console` runs the clusterconsole command."""

import sys

from console.cli import main

sys.exit(main())
