"""spec-diff and the derivation over upstream's real history (tests/codegen/history/).

What each pair must say was written from reading the pairs' diffs, not from the tool's output.
Where upstream's commit message or the issue's examples say otherwise, the docstring says why.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from codegen import spec_io, steps
from codegen.derive import DerivationError, apply, derive
from codegen.regenerate import main as regenerate
from codegen.specdiff import Severity, diff, render

from tests.codegen.conftest import layout_args, tree_digest

HISTORY = Path(__file__).with_name("history")
REVISIONS = sorted(HISTORY.glob("*.yaml"))
SPEC_DIFF = spec_io.REPO_ROOT / "scripts" / "spec-diff"

B, T, C = Severity.BREAKING, Severity.TOLERATED, Severity.COMPATIBLE
CREATE = "createSubscriber (POST /subscriber)"
GET = "getSubscriber (GET /subscriber/{email})"
UPDATE = "updateSubscriber (PUT /subscriber/{email})"
ADD = "addSubscriberToSegment (POST /segmentation/add-subscriber/{email})"
REMOVE = "removeSubscriberFromSegment (DELETE /segmentation/{id}/remove-subscriber/{email})"

Expected = set[tuple[str, Severity, str, str]]  # (operation, severity, kind, text)


def _revision(number: str) -> Path:
    (found,) = HISTORY.glob(f"{number}-*.yaml")
    return found


def _changes(old: str, new: str) -> Expected:
    before = spec_io.load(_revision(old))
    after = spec_io.load(_revision(new))
    return {
        (c.operation, c.severity, c.kind, c.text)
        for c in diff(before, after)
        if c.severity is not Severity.NOTE
    }


def test_history_files_are_upstreams_byte_for_byte() -> None:
    readme = (HISTORY / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| (\d\d) \| .* \| `([0-9a-f]{64})` \|$", readme, re.M))
    assert sorted(recorded) == [p.name[:2] for p in REVISIONS]
    for path in REVISIONS:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[path.name[:2]], path
    # The newest one is the revision vendored in openapi/ today.
    assert recorded["11"] == "3616e7777c6d4b7a9ad54cc2e8417efd15a7c68d567cb9817d3b4302d0af406b"


def test_02_to_03_adds_get_and_put() -> None:
    assert _changes("02", "03") == {
        (GET, C, "operation-added", "new operation"),
        (UPDATE, C, "operation-added", "new operation"),
    }


def test_03_to_04_is_descriptions_only() -> None:
    before, after = spec_io.load(_revision("03")), spec_io.load(_revision("04"))
    changes = diff(before, after)
    assert changes == []
    assert render(changes).startswith("No API change (what differs is documentation")


def test_04_to_05_changes_nothing_callers_see() -> None:
    """Upstream's message says "remove required fields and keep only email", and the issue reads
    it as relaxing what a create requires. The documents disagree: 04 marks fields with
    `required: false` (JSON Schema draft 3, not OpenAPI 3, and false anyway), 05 drops those
    markers, and neither has a `required` list. Nothing was required before or after; the tool
    says so, and notes the dropped markers. (Email becomes required one commit later, 05 -> 06.)
    """
    assert _changes("04", "05") == set()
    changes = diff(spec_io.load(_revision("04")), spec_io.load(_revision("05")))
    notes = {(c.operation, c.text.split(":")[0]) for c in changes}
    assert {c.kind for c in changes} == {"boolean-required-changed"}
    for op in (CREATE, UPDATE):
        for name in ("name", "phone", "status"):
            assert (op, f"body field {name}") in notes
    for op, status in ((CREATE, "201"), (GET, "200"), (UPDATE, "200")):
        for name in ("name", "phone", "status"):
            assert (op, f"{status} body field data.{name}") in notes
    text = render(changes)
    assert text.startswith("No API change")
    assert (
        "  note: request body field phone, body field name, body field status: "
        "`required: false` -> (absent) on the field itself (ignored: OpenAPI 3 reads only the "
        "parent's list of required names)"
    ) in text.splitlines()
    assert sum(line.startswith("  note: ") for line in text.splitlines()) == 5


def test_05_to_06_create_starts_requiring_email() -> None:
    """Message: "add + in phone example". The same commit adds `required: [email]` to
    Subscriber (and drops three unreferenced schemas, which are no API). The create body is
    that schema: breaking for a caller that omits email. In responses email is now promised."""
    assert _changes("05", "06") == {
        (CREATE, B, "property-now-required", "body field email: now required"),
        (CREATE, C, "property-now-required", "201 body field data.email: now always present"),
        (GET, C, "property-now-required", "200 body field data.email: now always present"),
        (UPDATE, C, "property-now-required", "200 body field data.email: now always present"),
    }


def test_06_to_07_adds_the_optional_developer_mode_header() -> None:
    text = "new optional header parameter x-developer-mode"
    assert _changes("06", "07") == {
        (op, C, "parameter-added", text) for op in (CREATE, GET, UPDATE)
    }


def test_07_to_08_error_bodies_trade_message_for_error_and_error_code() -> None:
    """Every error body renames `message` to `error` and gains `errorCode`: a caller reading
    `message` breaks; the new fields are named as not breaking for our default client."""
    statuses = {CREATE: ("400", "404", "409", "422", "500"), GET: ("404", "500")}
    statuses[UPDATE] = ("404", "500")
    expected: Expected = set()
    for op, codes in statuses.items():
        for code in codes:
            expected |= {
                (op, B, "property-removed", f"{code} body: field message removed"),
                (op, T, "property-added", f"{code} body: new field error (string)"),
                (op, T, "property-added", f"{code} body: new field errorCode (string)"),
            }
    assert _changes("07", "08") == expected


def test_08_to_09_adds_add_subscriber_to_segment() -> None:
    assert _changes("08", "09") == {(ADD, C, "operation-added", "new operation")}


def test_09_to_10_adds_remove_subscriber_from_segment() -> None:
    """The add operation's summary and description change too: documentation, not API."""
    assert _changes("09", "10") == {(REMOVE, C, "operation-added", "new operation")}


def test_10_to_11_renames_response_fields() -> None:
    """Message: "change subscriberEmail to email for /segmentations". The issue also expects a
    renamed path parameter; there is none: both paths read {email} in 10 and in 11. What
    changes is the two success bodies: add's `segmentationLists` becomes `data` (its items
    change too, so it shows as removed + new), remove's `data.subscriberEmail` becomes
    `data.email` (same schema, so one rename)."""
    assert _changes("10", "11") == {
        (ADD, B, "property-removed", "200 body: field segmentationLists removed"),
        (ADD, T, "property-added", "200 body: new field data (array of object)"),
        (
            REMOVE,
            B,
            "property-renamed",
            "200 body: field data.subscriberEmail removed, data.email added with the same "
            "schema (renamed)",
        ),
    }


PAIRS = list(itertools.pairwise(REVISIONS))
BREAKING_PAIRS = {("05", "06"), ("07", "08"), ("10", "11")}


@pytest.mark.parametrize("old,new", PAIRS, ids=lambda p: p.name[:2])
def test_spec_diff_command_exits_by_what_it_found(old: Path, new: Path) -> None:
    result = subprocess.run(
        [str(SPEC_DIFF), str(old), str(new)], capture_output=True, text=True, check=False
    )
    breaking = (old.name[:2], new.name[:2]) in BREAKING_PAIRS
    assert result.returncode == (1 if breaking else 0), result.stderr
    assert result.stderr == ""
    assert ("BREAKING" in result.stdout) == breaking
    assert "Traceback" not in result.stdout


# The first step each revision trips over, and what it looked for.
DERIVATION = {
    "02": ("update-validation-errors", "operation updateSubscriber (PUT) not found"),
    "03": ("bodies-required", "operation addSubscriberToSegment not found"),
    "04": ("bodies-required", "operation addSubscriberToSegment not found"),
    "05": ("bodies-required", "operation addSubscriberToSegment not found"),
    "06": ("bodies-required", "operation addSubscriberToSegment not found"),
    "07": ("bodies-required", "operation addSubscriberToSegment not found"),
    "08": ("bodies-required", "operation addSubscriberToSegment not found"),
    "09": ("stateful-links", "operation removeSubscriberFromSegment not found"),
    "10": (
        "stateful-links",
        "operation addSubscriberToSegment 200 body has no field at /data/0/segmentationListId",
    ),
}


@pytest.mark.parametrize("path", REVISIONS, ids=lambda p: p.name[:2])
def test_derivation_applies_or_names_the_step(path: Path) -> None:
    number = path.name[:2]
    if number not in DERIVATION:
        derive(spec_io.load(path), path)
        return
    step, looked_for = DERIVATION[number]
    with pytest.raises(DerivationError) as caught:
        derive(spec_io.load(path), path)
    message = str(caught.value)
    assert message == f"derivation step {step!r} does not apply to this revision: {looked_for}"
    assert "\n" not in message


def test_shared_error_model_says_what_it_looked_for() -> None:
    """The issue's example: 57d4cbe's error bodies carry `message`, not error + errorCode."""
    doc = spec_io.load(_revision("03"))
    with pytest.raises(DerivationError, match=r"shared-error-model.*createSubscriber 400"):
        apply(doc, [s for s in steps.REFACTORINGS if s.name == "shared-error-model"])


@pytest.mark.parametrize("old,new", PAIRS[:-1], ids=lambda p: p.name[:2])
def test_regenerate_on_old_revisions_summarizes_then_names_the_step(
    layout: Path, old: Path, new: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Revisions the derivation cannot apply to: the summary still prints, then one line
    naming the step; nothing in the layout changes."""
    before = tree_digest(layout)
    shutil.copy(new, layout / "openapi" / "pingback.yaml")
    code = regenerate([*layout_args(layout), "--baseline", str(old)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith(f"Comparing {layout / 'openapi' / 'pingback.yaml'} with {old}:\n")
    step, looked_for = DERIVATION[new.name[:2]]
    assert err == (
        f"regenerate: derivation step {step!r} does not apply to this revision: {looked_for}; "
        "nothing regenerated\n"
    )
    after = tree_digest(layout)
    del before["openapi/pingback.yaml"], after["openapi/pingback.yaml"]
    assert after == before
