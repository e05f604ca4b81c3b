"""The ``tandem`` command."""
