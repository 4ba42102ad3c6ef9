"""Wiring for the server suite: which target, the embedded mock, the session, the reports.

The target comes from the plugin object `pingback contract` passes to pytest (its `name` is
"pingback-contract"), or
else from PINGBACK_CONTRACT_* variables (`ContractTarget.from_env`); with neither, the
embedded mock is started on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from pingback_ext.contract.cassette import write_har
from pingback_ext.contract.target import ContractTarget

from . import harness, hookspecs
from .transport import ReplayAdapter, contract_session, unreachable_reason

PLUGIN_NAME = "pingback-contract"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def _draws_from_the_seed_alone() -> None:
    """Hypothesis (6.13x and later) mixes literals it reads in the source of every local module
    (ours: pingback_ext, this suite) into what it draws, 5 % of the time. For the suite that
    made a run depend on our source, not only on its seed and the spec: an unrelated change
    (new strings in pingback_ext/tls.py) drew other stateful sequences for the same seed, and
    seed 1 stopped reaching an operation. No public setting turns it off; where Hypothesis
    has no such step (older or newer versions) this does nothing."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover
        return
    if not hasattr(providers, "_get_local_constants"):  # pragma: no cover
        return
    none = providers.Constants()
    providers._get_local_constants = lambda: none
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None and hasattr(cache, "cache"):
        cache.cache.clear()


def pytest_configure(config: pytest.Config) -> None:
    _draws_from_the_seed_alone()
    plugin = next(
        (p for p in config.pluginmanager.get_plugins() if getattr(p, "name", None) == PLUGIN_NAME),
        None,
    )
    target = plugin.target if plugin is not None else ContractTarget.from_env()
    problem = harness.selection_problem(target)
    if problem is not None:
        if plugin is not None:
            plugin.usage_error = problem
        raise pytest.UsageError(problem)
    if target.https and not target.tls.verify:
        # Said once, in the summary's WARNING line: not once per request by urllib3.
        config.addinivalue_line(
            "filterwarnings", "ignore::urllib3.exceptions.InsecureRequestWarning"
        )
    runtime = harness.build_runtime(target)
    harness.install(runtime)
    config.stash[_RUNTIME] = runtime
    if plugin is not None:
        plugin.ledger = runtime.ledger


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A replay runs test_replay.py only; a run against a server runs everything else."""
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    replaying = config.stash[_RUNTIME].target.replay is not None
    return (collection_path.name == "test_replay.py") != replaying


_RUNTIME = pytest.StashKey[harness.Runtime]()


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Iterator[harness.Runtime]:
    """The runtime with a live session; starts the embedded mock when there is no base URL."""
    runtime = pytestconfig.stash[_RUNTIME]
    target = runtime.target
    with ExitStack() as stack:
        if target.replay is not None:
            runtime.session = stack.enter_context(
                contract_session(target, runtime.ledger, ReplayAdapter())
            )
            yield runtime
            return
        if target.embedded:
            from pingback_ext.mock import serve_mock

            mock = stack.enter_context(
                serve_mock(
                    api_keys=(runtime.api_key, *filter(None, [runtime.near_miss_key])),
                    segmentation_lists=target.segmentation_lists,
                    rate_limit=0,
                )
            )
            runtime.base_url = mock.base_url
        else:
            assert target.base_url is not None
            runtime.base_url = target.base_url
        inner = pytestconfig.hook.pytest_pingback_contract_adapter(target=target)
        runtime.session = stack.enter_context(
            contract_session(
                target,
                runtime.ledger,
                inner,
                api_key=runtime.api_key,
                recorder=runtime.recorder,
                other_keys=tuple(filter(None, [runtime.near_miss_key])),
            )
        )
        runtime.schema.config.update(base_url=runtime.base_url)
        yield runtime


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_BEFORE] = item.config.stash[_RUNTIME].ledger.reports


_BEFORE = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A test that failed without recording a contract failure becomes an error in the
    summary (the server kept answering 429, a bug in the suite). A target that cannot be
    reached is said once, and the run stops: every later test would fail the same way."""
    report = yield
    runtime = item.config.stash[_RUNTIME]
    recorded = runtime.ledger.reports > item.stash.get(_BEFORE, 0)
    reason = (
        unreachable_reason(call.excinfo.value, runtime.target.tls)
        if call.excinfo is not None
        else None
    )
    if report.failed and reason is not None:
        runtime.ledger.record_unreachable(reason)
        item.session.shouldstop = "the target is unreachable"
    elif report.failed and not (report.when == "call" and recorded):
        lines = str(report.longreprtext).strip().splitlines()
        runtime.ledger.record_error(
            f"{item.nodeid} ({report.when}): {lines[-1] if lines else 'failed'}"
        )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    runtime = session.config.stash.get(_RUNTIME, None)
    if runtime is None:
        return
    target = runtime.target
    if target.record is not None:
        write_har(
            target.record,
            runtime.recorder.exchanges,
            runtime.base_url,
            runtime.ledger.secrets,
            stateful=target.stateful,
        )
    if target.report_dir is not None:
        runtime.ledger.write_artifacts(target.report_dir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One node id per operation. schemathesis 4.32 names its items `test_operation[POST
    /subscriber]` but, under pytest 9.2's structured node ids, gives all five the id
    `...::test_operation`; pytest-xdist schedules by id, so four of the five never ran there."""
    for item in items:
        parent = item.parent
        if parent is not None and item.name != item.nodeid.rsplit("::", 1)[-1]:
            item._id = parent.id.child(item.name)  # type: ignore[attr-defined]
