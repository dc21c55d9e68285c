"""The ``pack`` command line (nothing imports this package)."""
