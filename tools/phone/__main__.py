import sys

from tools.phone.cli import main

sys.exit(main())
