"""The application layer: the ``sitter`` command.

It sits above both halves and is the only package that may import both: the
argument parser and its dispatch (:mod:`cli.main`), ``sitter doctor``, ``sitter
audit`` and ``sitter generate`` (which checks photos with the engine and screens
typed answers with the studio's own screen). Below it, ``bot`` and ``engine`` share only
the ground floor, ``sitter`` (configuration, the job contract, the queue client).
The import contracts in pyproject.toml ([tool.importlinter]) hold this shape.
"""
