"""Headless Chromium driven over the DevTools protocol, for tests that click, type and upload.

Chromium's command line can only load a page and dump or photograph it; filling a form with a
file and watching a page change needs the DevTools protocol, spoken here over aiohttp's
WebSocket client. Every wait polls the page against a deadline: nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import IO, Any

import aiohttp

WAIT_SECONDS = 60.0


class Page:
    """One tab of a headless Chromium."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call ``method`` and return its result (events arriving meanwhile are kept)."""
        self._next_id += 1
        await self._socket.send_json({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self._socket.receive(), WAIT_SECONDS)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"DevTools closed the connection ({message.type})")
            data = json.loads(message.data)
            if data.get("id") == self._next_id:
                if "error" in data:
                    raise AssertionError(f"{method} failed: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self._events.append(data)

    async def open(self, url: str) -> None:
        """Load ``url`` and wait until the document is complete."""
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, condition: str, timeout: float = WAIT_SECONDS) -> None:
        """Poll until the JavaScript ``condition`` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with suppress(AssertionError):  # between two documents the page has none
                if await self.evaluate(condition):
                    return
            if loop.time() > deadline:
                text = await self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"{condition!r} not true after {timeout} s; page:\n{text}")
            await asyncio.sleep(0.2)

    async def text(self, selector: str) -> str:
        """The visible text of the first element matching ``selector``."""
        value = await self.evaluate(f"document.querySelector({json.dumps(selector)}).innerText")
        return str(value)

    async def fill(self, values: dict[str, str]) -> None:
        """Set form fields by id, as typing or choosing would."""
        for field, value in values.items():
            await self.evaluate(
                f"(() => {{ const e = document.getElementById({json.dumps(field)}); "
                f"e.value = {json.dumps(value)}; e.dispatchEvent(new Event('change')); }})()"
            )

    async def upload(self, selector: str, files: list[Path]) -> None:
        """Choose ``files`` in the file input matching ``selector``."""
        root = await self.send("DOM.getDocument")
        node = await self.send(
            "DOM.querySelector", nodeId=root["root"]["nodeId"], selector=selector
        )
        await self.send(
            "DOM.setFileInputFiles", files=[str(path) for path in files], nodeId=node["nodeId"]
        )

    async def screenshot(self, path: Path) -> None:
        """Write a PNG of the whole page to ``path``."""
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))


@asynccontextmanager
async def chromium_page(profile: Path) -> AsyncIterator[Page]:
    """A tab of a fresh headless Chromium with its own profile under ``profile``."""
    binary = shutil.which("chromium")
    assert binary is not None, "chromium is not installed: run `make system-deps` as root"
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-port=0",
            "--window-size=1100,900",
            "--accept-lang=id-ID,id",  # a reporter in Indonesia
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    drain: threading.Thread | None = None
    try:
        endpoint, drain = await asyncio.to_thread(_devtools_endpoint, process)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{endpoint}/json/list") as response:
                targets = await response.json()
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(url, max_msg_size=64 * 1024 * 1024) as socket:
                page = Page(socket)
                await page.send("Page.enable")
                await page.send("Runtime.enable")
                yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain is not None:
            drain.join(timeout=15)
        elif process.stderr is not None:
            process.stderr.close()


def _devtools_endpoint(process: subprocess.Popen[bytes]) -> tuple[str, threading.Thread]:
    """``host:port`` of the DevTools server, from Chromium's first lines on stderr.

    Also the thread that reads the rest of Chromium's output from then on.
    """
    assert process.stderr is not None
    stream = process.stderr
    for raw in stream:
        found = re.search(rb"DevTools listening on ws://([^/]+)/", raw)
        if found:
            # Keep reading what Chromium writes, or a full pipe would stop it.
            drain = threading.Thread(target=_drain, args=(stream,), daemon=True)
            drain.start()
            return found.group(1).decode(), drain
    raise AssertionError(f"chromium exited ({process.wait()}) without a DevTools endpoint")


def _drain(stream: IO[bytes]) -> None:
    with stream:  # closed at the end of the output, when Chromium exits
        for _ in stream:
            pass
