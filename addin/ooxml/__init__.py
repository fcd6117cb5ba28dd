"""The Office Open XML package: reading parts safely, the zip writer, the style merge, the graft.

Knows the package format, not Maillon: imports only the standard library,
defusedxml and :mod:`maillon.engine.cells` (what a cell value means, no pandas).
"""
