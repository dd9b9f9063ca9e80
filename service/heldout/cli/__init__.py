"""The ``heldout`` command line."""
