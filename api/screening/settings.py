"""Configuration of bulk screening (``HUIQI_SCREENING_*``), beside the API's ``Settings``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from intake import DEFAULT_LIMITS, Limits

from ..config import REPO_ROOT


class ScreeningSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUIQI_SCREENING_", extra="ignore")

    max_upload_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest file accepted (413 above)"
    )
    max_rows: int = Field(
        default=200_000, ge=1, description="most data rows in one file (the import fails above)"
    )
    max_columns: int = Field(
        default=DEFAULT_LIMITS.max_columns, ge=16, le=16384, description="columns in a file"
    )
    max_cells: int = Field(default=DEFAULT_LIMITS.max_cells, ge=1, description="cells of an XLSX worksheet")
    max_shared_strings: int = Field(
        default=DEFAULT_LIMITS.max_shared_strings, ge=1, description="distinct texts of an XLSX"
    )
    max_shared_strings_bytes: int = Field(
        default=DEFAULT_LIMITS.max_shared_strings_bytes,
        ge=1024,
        description="an XLSX's shared strings, expanded",
    )
    import_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="an import whose importer has not stored a chunk for this long is taken over",
    )
    chunk_rows: int = Field(
        default=5_000,
        ge=1,
        le=50_000,
        description="rows a worker claims at a time (evaluated together as one table: a call costs ~0.1 s whatever its size)",
    )
    workers: int = Field(
        default=0, ge=-1, description="worker processes per instance: 0 = one per core, -1 = none"
    )
    lease_seconds: float = Field(
        default=300.0, gt=0, description="a claimed chunk not finished by then is given to another worker"
    )
    poll_seconds: float = Field(default=1.0, gt=0, description="how often an idle worker looks for work")
    upload_dir: Path = Field(
        default=REPO_ROOT / "var" / "uploads", description="uploaded files, kept until imported"
    )
    rule_packs_dir: Path | None = Field(
        default=None,
        description="folder of other rule packs (one sub-folder each) for impact runs under another version",
    )
    autostart: bool = Field(default=True, description="start the background workers with the service")

    def limits(self) -> Limits:
        """What one uploaded file may hold (``engine.tabular.Limits``)."""
        return dataclasses.replace(
            DEFAULT_LIMITS,
            max_rows=self.max_rows,
            max_columns=self.max_columns,
            max_cells=self.max_cells,
            max_shared_strings=self.max_shared_strings,
            max_shared_strings_bytes=self.max_shared_strings_bytes,
        )

    @property
    def import_lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.import_lease_seconds)
