"""The publication's pipeline: load → check → charts → pages → release → mkdocs.

Each stage is one module; `python -m scripts.build` is the single entry point.
"""
