"""Namespace for the generated google.rpc modules."""
