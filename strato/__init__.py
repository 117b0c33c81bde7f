"""Strato: the umbrella package (command line, configuration, all-in-one launcher, shared helpers)."""
__version__ = "0.1.0"
