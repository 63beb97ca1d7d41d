"""`python -m benchmarks [--quick] [--only NAME ...] [--update-baseline] [--tolerance 0.25]`."""
import sys

from benchmarks.run import main

sys.exit(main())
