"""The ext layer exposes every operation and request field the generated client has.

When the spec grows an operation or a request field, `scripts/regenerate` adds it to
pingback_ext._generated; these tests then fail until pingback_ext exposes it too.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import attrs

import pingback_ext._generated.api
from pingback_ext import bodies, calls, resources
from pingback_ext._generated.models import (
    SegmentationListsInput,
    SubscriberCreate,
    SubscriberUpdate,
)


def _generated_operation_modules() -> dict[str, object]:
    found = {}
    for info in pkgutil.walk_packages(
        pingback_ext._generated.api.__path__, "pingback_ext._generated.api."
    ):
        module = importlib.import_module(info.name)
        if hasattr(module, "_get_kwargs"):
            found[info.name] = module
    return found


def test_every_generated_operation_has_an_ext_call() -> None:
    wrapped = {op.module.__name__ for op in calls.OPERATIONS.values()}
    assert wrapped == set(_generated_operation_modules())


def _wire_names(model: type) -> set[str]:
    return {field.name for field in attrs.fields(model) if field.name != "additional_properties"}


def test_every_create_field_is_accepted() -> None:
    accepted = set(bodies.CreateFields.__annotations__) | {"email"}
    assert _wire_names(SubscriberCreate) <= accepted, _wire_names(SubscriberCreate) - accepted


def test_every_update_field_is_accepted() -> None:
    accepted = set(bodies.UpdateFields.__annotations__)
    assert _wire_names(SubscriberUpdate) <= accepted, _wire_names(SubscriberUpdate) - accepted


def test_segmentation_lists_input_is_covered() -> None:
    assert _wire_names(SegmentationListsInput) == {"segmentation_lists"}
    signature = inspect.signature(resources.Segmentations.add_subscriber)
    assert "list_ids" in signature.parameters


def test_every_path_parameter_is_an_argument() -> None:
    for op in calls.OPERATIONS.values():
        generated = inspect.signature(op.module.sync_detailed).parameters  # type: ignore[attr-defined]
        path_params = {
            name for name, p in generated.items()
            if p.kind is p.POSITIONAL_OR_KEYWORD and name != "client"
        }  # fmt: skip
        method = {
            "createSubscriber": resources.Subscribers.create,
            "getSubscriber": resources.Subscribers.get,
            "updateSubscriber": resources.Subscribers.update,
            "addSubscriberToSegment": resources.Segmentations.add_subscriber,
            "removeSubscriberFromSegment": resources.Segmentations.remove_subscriber,
        }[op.operation_id]
        ours = set(inspect.signature(method).parameters)
        renamed = {"id": "list_id"}
        assert {renamed.get(p, p) for p in path_params} <= ours, op.operation_id


def test_sync_and_async_twins_match() -> None:
    pairs = [
        (resources.Subscribers, resources.AsyncSubscribers),
        (resources.Segmentations, resources.AsyncSegmentations),
    ]
    for sync_class, async_class in pairs:
        sync_methods = {n for n in vars(sync_class) if not n.startswith("_")}
        async_methods = {n for n in vars(async_class) if not n.startswith("_")}
        assert sync_methods == async_methods
        for name in sync_methods:
            sync_sig = inspect.signature(getattr(sync_class, name))
            async_sig = inspect.signature(getattr(async_class, name))
            assert list(sync_sig.parameters) == list(async_sig.parameters), name
            assert inspect.iscoroutinefunction(getattr(async_class, name)), name
