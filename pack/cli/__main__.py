"""``python -m pack.cli``."""

from pack.cli.main import main

main()
