"""Shared fixtures. Tests build tiny data in code (soat.testing)."""

from __future__ import annotations

import os

import pytest

from soat import store

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real dependency is missing; in CI (CI=true) fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"missing dependency in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def con():
    c = store.connect(":memory:")
    yield c
    c.close()
