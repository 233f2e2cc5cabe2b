import sys

from crier.cli import main

sys.exit(main())
