"""Wiring for the server suite: which target, the embedded mock, the session, the reports.

The target comes from the plugin object `pingback contract` passes to pytest (its `name` is
"pingback-contract"), or
else from PINGBACK_CONTRACT_* variables (`ContractTarget.from_env`); with neither, the
embedded mock is started on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from contract_tests.server import harness, hookspecs
from contract_tests.server.transport import contract_session
from pingback_ext.contract_target import ContractTarget

PLUGIN_NAME = "pingback-contract"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    plugin = next(
        (p for p in config.pluginmanager.get_plugins() if getattr(p, "name", None) == PLUGIN_NAME),
        None,
    )
    target = plugin.target if plugin is not None else ContractTarget.from_env()
    runtime = harness.build_runtime(target)
    harness.install(runtime)
    config.stash[_RUNTIME] = runtime
    if plugin is not None:
        plugin.ledger = runtime.ledger


_RUNTIME = pytest.StashKey[harness.Runtime]()


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Iterator[harness.Runtime]:
    """The runtime with a live session; starts the embedded mock when there is no base URL."""
    runtime = pytestconfig.stash[_RUNTIME]
    target = runtime.target
    with ExitStack() as stack:
        if target.embedded:
            from pingback_ext.mock import serve_mock

            mock = stack.enter_context(
                serve_mock(
                    api_keys=(runtime.api_key,),
                    segmentation_lists=target.segmentation_lists,
                    rate_limit=0,
                )
            )
            runtime.base_url = mock.base_url
        else:
            assert target.base_url is not None
            runtime.base_url = target.base_url
        inner = pytestconfig.hook.pytest_pingback_contract_adapter(target=target)
        runtime.session = stack.enter_context(contract_session(target, runtime.ledger, inner))
        runtime.schema.config.update(base_url=runtime.base_url)
        yield runtime


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_BEFORE] = item.config.stash[_RUNTIME].ledger.reports


_BEFORE = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that failed without recording a contract failure becomes an error in the
    summary (connection refused, the server kept answering 429, a bug in the suite)."""
    report = yield
    runtime = item.config.stash[_RUNTIME]
    recorded = runtime.ledger.reports > item.stash.get(_BEFORE, 0)
    if report.failed and not (report.when == "call" and recorded):
        lines = str(report.longreprtext).strip().splitlines()
        runtime.ledger.record_error(
            f"{item.nodeid} ({report.when}): {lines[-1] if lines else 'failed'}"
        )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    runtime = session.config.stash.get(_RUNTIME, None)
    if runtime is not None and runtime.target.report_dir is not None:
        runtime.ledger.write_artifacts(runtime.target.report_dir)
