import sys

from .. import interrupts

interrupts.install()                 # first: Ctrl-C, SIGTERM, SIGHUP during the imports too
from .cli import main  # noqa: E402

sys.exit(main())
