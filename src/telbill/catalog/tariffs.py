"""Tariff definitions in the catalog YAML (destination sets, rate tables, time bands, tariffs).

Owned by the rating context's design; validated here so that one catalog file is checked as a whole.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RatingCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def tariff_codes(self) -> set[str]:
        """Codes that offers' usage charges may reference."""
        return set()
