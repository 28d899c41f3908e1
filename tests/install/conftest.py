"""Keys and source trees shared by the installer's tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.install.imaging import snapshot_source, tiny_source
from tools.image.keys import KeyPair, keygen


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return keygen(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return keygen(tmp_path_factory.mktemp("other-keys"))


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_source(tmp_path_factory.mktemp("src") / "tree")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_source(tmp_path_factory.mktemp("tiny") / "tree")
