import sys

from semantify.cli import main

sys.exit(main())
