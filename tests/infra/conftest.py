"""Fixtures of the infrastructure tests.

The emulator (sgguard_world: moto behind its proxy) runs on free 127.0.0.1 ports for the whole
session; every boto3 client of the tests talks to its moto (or, where the proxy's behaviour is
what is tested, to its proxy) with dummy credentials, so nothing leaves the loopback (importing
sgguard_world clears any real AWS credentials and profile).
"""

from __future__ import annotations

import pytest

from sgguard_world.control import EmulatorProcess


@pytest.fixture(scope="session")
def emulator():
    emulator = EmulatorProcess()
    try:
        yield emulator
    finally:
        assert emulator.stop() == 0


@pytest.fixture(scope="session")
def moto_endpoint(emulator):
    """moto (all services, multi-account), straight: these tests count no requests."""
    return emulator.moto


@pytest.fixture(scope="session")
def proxy_endpoint(emulator):
    """The emulator's proxy in front of that moto (what sgguard itself talks to)."""
    return emulator.proxy


@pytest.fixture(scope="module")
def own_moto():
    """A moto of the test module's own, for a module that builds its own Organization (moto
    keeps one organization per management account, and the session's has one)."""
    emulator = EmulatorProcess()
    try:
        yield emulator.moto
    finally:
        assert emulator.stop() == 0
