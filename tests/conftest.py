"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.content.mkdir(parents=True)
    p.write_config()
    return p
