"""The form's script keeps its token through the back button, run by Node on a stand-in page.

A browser that fetches the form again on going back renders a new token; sent again, the same
report became a second one with a second code. The script keeps the tab's first token in
session storage and puts it back in every form the tab renders after.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources

import pytest

SCRIPT = resources.files("connectors.lapor").joinpath("templates", "form.js").read_text()

#: A page with one hidden field and a session storage: what the script touches of a browser.
STAND_IN = """
const store = new Map(JSON.parse(process.argv[1]));
const field = {value: process.argv[2]};
globalThis.document = {querySelector: () => field};
globalThis.window = {sessionStorage: process.argv[3] === "refused"
  ? {getItem() { throw new Error("refused"); }, setItem() { throw new Error("refused"); }}
  : {getItem: (k) => (store.has(k) ? store.get(k) : null), setItem: (k, v) => store.set(k, v)}};
"""


def rendered(token: str, stored: dict[str, str], storage: str = "ok") -> tuple[str, dict[str, str]]:
    """The field's value after the script ran on a form rendered with ``token``, and the store."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node 20+ is needed (apt-get install nodejs)")
    program = STAND_IN + SCRIPT + "\nconsole.log(JSON.stringify([field.value, [...store]]));"
    result = subprocess.run(
        [node, "-e", program, json.dumps(list(stored.items())), token, storage],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    value, store = json.loads(result.stdout)
    return value, dict(store)


FIRST, AGAIN = "A" * 24, "B" * 24
KEY = "kawal.lapor.form_token"


def test_the_first_form_of_a_tab_keeps_its_own_token() -> None:
    assert rendered(FIRST, {}) == (FIRST, {KEY: FIRST})


def test_a_form_rendered_again_after_going_back_takes_the_tabs_token() -> None:
    assert rendered(AGAIN, {KEY: FIRST}) == (FIRST, {KEY: FIRST})


def test_a_stored_value_that_is_no_token_is_replaced() -> None:
    assert rendered(AGAIN, {KEY: "<script>"}) == (AGAIN, {KEY: AGAIN})


def test_refused_storage_leaves_the_servers_token() -> None:
    assert rendered(AGAIN, {}, storage="refused")[0] == AGAIN
