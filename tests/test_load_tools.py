"""The load tools' parsing (tests/load/): the form a simulated receptionist submits, wrk's report."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "load"))

from page_forms import form_fields, with_values  # noqa: E402
from search_rate import loopback_only, parse_wrk  # noqa: E402

PAGE = """
<form method="post" action="/logout"><input name="csrf_token" value="other"></form>
<form id="customer-edit" method="post">
  <input type="hidden" name="csrf_token" value="tok">
  <input type="hidden" name="version" value="3">
  <input name="first_name" value="Ana">
  <input type="checkbox" name="tag_ids" value="7" checked>
  <input type="checkbox" name="tag_ids" value="8">
  <input type="checkbox" name="tag_ids" value="9" checked>
  <input type="radio" name="consent_1" value="in">
  <input type="radio" name="consent_1" value="out" checked>
  <textarea name="notes">Likes &amp; tea</textarea>
  <select name="source"><option value="walk_in">Walk-in</option>
    <option value="web" selected>Web</option></select>
  <select name="location_id"><option value="4">Main</option></select>
  <input type="text" name="disabled_one" value="x" disabled>
  <button type="submit">Save</button>
</form>
"""


def test_form_fields_are_what_a_browser_sends():
    fields = form_fields(PAGE, lambda a: a.get("id") == "customer-edit")
    assert fields == [
        ("csrf_token", "tok"),
        ("version", "3"),
        ("first_name", "Ana"),
        ("tag_ids", "7"),
        ("tag_ids", "9"),
        ("consent_1", "out"),
        ("notes", "Likes & tea"),
        ("source", "web"),
        ("location_id", "4"),
    ]
    changed = with_values(fields, notes="New", day="2026-01-01")
    assert ("tag_ids", "9") in changed and ("notes", "New") in changed and ("day", "2026-01-01") in changed
    assert ("notes", "Likes & tea") not in changed


def test_wrk_report_is_read():
    out = """Running 10s test @ http://127.0.0.1:1
  Latency Distribution
     50%   11.80ms
     99%  118.64ms
  756 requests in 10.00s, 9.9MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:     75.60
"""
    assert parse_wrk(out) == {"rps": 75.6, "errors": 7, "p50": "11.80ms", "p99": "118.64ms"}


def test_only_loopback_is_a_target():
    loopback_only("http://127.0.0.1:8000")
    for base in ("http://10.0.0.1:80", "http://localhost.example:80", "http://192.168.1.2"):
        try:
            loopback_only(base)
        except SystemExit:
            continue
        raise AssertionError(base)
