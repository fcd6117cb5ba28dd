"""The Excel add-in ``maillon.xlam``: built from xlwings' ribbon template, and installed.

Imports xlwings' own files and the standard library only; nothing of the
engine or the renderer.
"""
