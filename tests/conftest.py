"""Socket policy for the whole suite.

Unit tests get no sockets at all. Integration tests may reach loopback only: the local
contract server when recording, nothing at all when replaying cassettes (vcrpy answers
before a socket is opened).
"""

from __future__ import annotations

import pytest

LOOPBACK = ["127.0.0.1", "::1", "localhost"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("allow_hosts") or item.get_closest_marker("enable_socket"):
            continue
        if "unit_tests" in item.path.parts:
            item.add_marker(pytest.mark.disable_socket)
        else:
            item.add_marker(pytest.mark.allow_hosts(LOOPBACK))
