"""Response bodies from the derived spec's schemas: valid ones, and ones broken on purpose."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dateutil.parser import isoparse
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from schemathesis.generation.jsonschema.builder import build

#: RFC 3339 timestamps in the shapes servers send: Z or an offset, 0/3/6 fractional digits.
OFFSETS = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-3))]


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.sampled_from(OFFSETS)))
    text = moment.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds", "auto"])))
    return text.replace("+00:00", "Z") if draw(st.booleans()) else text


FORMATS = {"date-time": timestamps()}
#: Any JSON value (no NaN or infinity: they are not JSON).
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def valid(schema: Any) -> st.SearchStrategy[Any]:
    """Documents the schema admits, timestamps in real RFC 3339 form."""
    return build(schema, draft=4, formats=FORMATS)


def breaks_structure(schema: Any, body: Any) -> bool:
    """True when a JSON Schema validator (formats aside) rejects `body`."""
    return not Draft4Validator(schema).is_valid(body)


def has_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, JSON_TYPES[name])


def spots(schema: Any, value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """(path, subschema, value) for every place in `value` the schema describes."""
    yield path, schema, value
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                yield from spots(sub, value[key], (*path, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from spots(schema["items"], item, (*path, index))


def _replace(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    body = copy.deepcopy(body)
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = new
    return body


def _without(body: Any, path: tuple[Any, ...], key: str) -> Any:
    body = copy.deepcopy(body)
    target = body
    for part in path:
        target = target[part]
    del target[key]
    return body


def _unparseable_timestamp(text: str) -> bool:
    try:
        isoparse(text)
    except (ValueError, OverflowError):
        return True
    return False


@st.composite
def broken(draw: st.DrawFn, schema: Any) -> Any:
    """A valid body with one thing broken: a type, a required property, an enum value, a
    pattern, or a timestamp that is not one. Every result breaks the schema or its format."""
    body = draw(valid(schema))
    path, sub, value = draw(st.sampled_from(list(spots(schema, body))))
    ways = ["type"] if "type" in sub else []
    if isinstance(value, dict) and set(sub.get("required", [])) & set(value):
        ways.append("required")
    ways += [way for way in ("enum", "pattern") if way in sub]
    if sub.get("format") == "date-time":
        ways.append("timestamp")
    if not ways:
        return draw(JSON.filter(lambda doc: breaks_structure(schema, doc)))
    way = draw(st.sampled_from(ways))
    if way == "type":
        new = draw(JSON.filter(lambda v: not has_type(v, sub["type"])))
    elif way == "required":
        key = draw(st.sampled_from(sorted(set(sub["required"]) & set(value))))
        return _without(body, path, key)
    elif way == "enum":
        new = draw(st.text(max_size=20).filter(lambda v: v not in sub["enum"]))
    elif way == "pattern":
        pattern = re.compile(sub["pattern"])
        new = draw(st.text(max_size=20).filter(lambda v: not pattern.search(v)))
    else:
        new = draw(st.text(max_size=25).filter(_unparseable_timestamp))
    return _replace(body, path, new)


def normalized(schema: Any, value: Any) -> Any:
    """`value` with its timestamps parsed, to compare bodies with what a model gives back."""
    if schema.get("format") == "date-time" and isinstance(value, str):
        return isoparse(value)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {key: normalized(props.get(key, {}), item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(schema.get("items", {}), item) for item in value]
    return value
