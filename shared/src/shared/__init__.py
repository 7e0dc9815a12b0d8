"""Safeguarding 2.0 shared library: what two or more services use, and nothing that imports a service."""
