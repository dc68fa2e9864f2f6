"""The ``elex`` command line and the offline demo."""
