"""Integration-test wiring: cassettes, the one record switch, and what answers when recording.

Replay (default, and always in CI): every test marked ``vcr`` answers from
``cassettes/<module>/<test>.yaml``; a missing or unmatched request fails the test.

Re-record against the local contract server::

    MIMO_RECORD=all pytest tests/integration_tests

Re-record against the live API (same command, with a real key and base URL)::

    MIMO_RECORD=all MIMO_API_KEY=sk-... MIMO_BASE_URL=https://api.xiaomimimo.com/v1 \
        pytest tests/integration_tests
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cassettes import (
    CASSETTE_ROOT,
    ProvenancePersister,
    json_body_matcher,
    live_provenance,
    local_server_provenance,
    recording,
    scrub_request,
    scrub_response,
)
from tests.cassettes import record_mode as current_record_mode

#: What replayed requests are addressed to. Nothing listens there: if a request ever
#: escaped vcrpy it would be refused, never reach a real server.
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"
REPLAY_KEY = "replay-key-not-a-secret"


@dataclass
class Target:
    """Where ChatMiMo sends requests in this run."""

    base_url: str
    api_key: str
    live: bool = False
    server: Any = None  # the MiMoContractServer while recording locally

    def chat_params(self, **overrides: Any) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key, **overrides}


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_persister(ProvenancePersister)
    vcr.register_matcher("json_body", json_body_matcher)


@pytest.fixture
def record_mode() -> str:
    """Override pytest-recording's ``--record-mode``: MIMO_RECORD is the one switch."""
    return current_record_mode()


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "match_on": ["method", "path", "json_body"],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
        # Re-recording replaces a cassette whole: an interaction whose request changed (a
        # re-encoded clip, a new field) must not survive beside its new version.
        "drop_unused_requests": recording(),
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTE_ROOT / Path(request.node.path).stem)


_TARGET: Target | None = None


def current_target() -> Target:
    """Replay target, or the local contract server / live API when recording.

    A plain function (not only a fixture) because langchain-tests' suites read their
    model parameters from class properties. The local server starts on first use and
    stops when the test process exits.
    """
    global _TARGET
    if _TARGET is not None:
        return _TARGET
    if current_record_mode() == "none":
        _TARGET = Target(base_url=REPLAY_BASE_URL, api_key=REPLAY_KEY)
        return _TARGET
    key = os.environ.get("MIMO_API_KEY")
    if key:
        base_url = os.environ.get("MIMO_BASE_URL", "https://api.xiaomimimo.com/v1")
        ProvenancePersister.provenance = live_provenance(base_url, "mimo-v2.5")
        _TARGET = Target(base_url=base_url, api_key=key, live=True)
        return _TARGET
    from tests.mimo_server import MiMoContractServer

    server = MiMoContractServer()
    server.start()
    atexit.register(server.stop)
    ProvenancePersister.provenance = local_server_provenance()
    _TARGET = Target(base_url=server.base_url, api_key=server.api_key, server=server)
    return _TARGET


@pytest.fixture
def target() -> Target:
    """See :func:`current_target`."""
    return current_target()


@pytest.fixture
def contract_server(target: Target) -> Any:
    """The local server while recording locally (for queuing faults), else ``None``."""
    if target.server is not None:
        target.server.reset()
    return target.server
