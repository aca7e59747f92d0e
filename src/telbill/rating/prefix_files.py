"""Prefix files of destination sets, read into the catalog before it is stored.

A catalog loaded in the database has no folder to read `prefix_file:` from later, so loading a
catalog file resolves each file (relative to the catalog's folder) into the set's inline
prefixes: the stored rating section then holds every prefix, and database rating sees them.
"""

from __future__ import annotations

from pathlib import Path

from telbill.catalog.document import CatalogDocument
from telbill.rating.tariff import _prefixes


def inline_prefix_files(document: CatalogDocument, base_dir: Path) -> CatalogDocument:
    """The document with every destination set's prefix file read into its `prefixes`."""
    section = document.rating
    if section is None or not any(s.prefix_file for s in section.destination_sets):
        return document
    sets = tuple(
        s
        if s.prefix_file is None
        else s.model_copy(
            update={
                "prefixes": tuple(dict.fromkeys(_prefixes(s.code, s.prefixes, s.prefix_file, base_dir, i))),
                "prefix_file": None,
            }
        )
        for i, s in enumerate(section.destination_sets)
    )
    return document.model_copy(update={"rating": section.model_copy(update={"destination_sets": sets})})
