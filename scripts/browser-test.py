#!/usr/bin/env python3
"""Browser test of the FaceFind web page, run by the Swift test `BrowserTests` against a live `facefind serve`.

Drives Debian's headless Chromium through the DevTools protocol over --remote-debugging-pipe (file
descriptors 3 and 4, NUL-separated JSON), so it needs nothing beyond the Python standard library. It really
uploads (DOM.setFileInputFiles fires the page's change event), really clicks (Input.dispatchMouseEvent at the
element's centre) and types (Input.insertText / dispatchKeyEvent), then checks the DOM and saves screenshots.

Exit status 0 when every check passed; each check prints one line.
"""
import argparse
import base64
import fcntl
import json
import re
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time


class Failure(Exception):
    pass


class Browser:
    """One headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, chromium, deadline):
        self.deadline = deadline
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="facefind-chromium-")

        def give_pipes():
            # Chromium reads commands from fd 3 and writes replies to fd 4. Move both ends above 10 first so
            # that neither dup2 can overwrite the other.
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-sync", "--mute-audio", "--hide-scrollbars", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=give_pipes)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "DOM"):
            self.call(f"{domain}.enable")

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, timeout):
        end = min(time.monotonic() + timeout, self.deadline)
        while b"\0" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for Chromium")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if ready:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise Failure("Chromium closed the DevTools pipe (did it crash?)")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Failure(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def drain_events(self):
        events, self.events = self.events, []
        return events

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise Failure(f"script error in {expression!r}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end and time.monotonic() < self.deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.1)
        raise Failure(f"timed out after {timeout} s waiting for {what}")

    def navigate(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete' && !!document.getElementById('results')", "the page to load")

    def viewport(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def set_files(self, selector, paths):
        root = self.call("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.call("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            raise Failure(f"no element {selector}")
        self.call("DOM.setFileInputFiles", {"nodeId": node, "files": [os.path.abspath(p) for p in paths]})

    def click(self, selector):
        """A real mouse click at the centre of the element (scrolled into view first)."""
        rect = self.evaluate(f"""(() => {{
            const e = document.querySelector({json.dumps(selector)});
            if (!e) return null;
            e.scrollIntoView({{block: 'center'}});
            const r = e.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
        }})()""")
        if not rect:
            raise Failure(f"no element {selector} to click")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": rect["x"], "y": rect["y"], "button": "left",
                                                   "clickCount": 1})

    def type_into(self, selector, text):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.evaluate(f"document.querySelector({json.dumps(selector)}).select && document.querySelector({json.dumps(selector)}).select()")
        self.call("Input.insertText", {"text": text})

    def press(self, key, code, key_code):
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": key, "code": code,
                                             "windowsVirtualKeyCode": key_code, "text": "\r" if key == "Enter" else ""})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code,
                                             "windowsVirtualKeyCode": key_code})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def check(condition, message):
    if not condition:
        raise Failure(message)
    print(f"ok - {message}", flush=True)


def results_rendered_after(browser, marker):
    """Waits until the results list was rendered again (its first item is a new element)."""
    browser.wait_for(f"(() => {{ const f = document.querySelector('#results li.result');"
                     f" return !!f && f.dataset.render !== {json.dumps(marker)}; }})()", "new results")


def video_flow(browser, args):
    """A query whose person is in a video: the first card is the video, its picture the matched frame (loaded),
    the matched face boxed, and the times under it ("at 0:05.0; on screen 0:03.0-0:06.0")."""
    browser.set_files("#query-file", [args.query])
    browser.wait_for("document.querySelectorAll('#results li.result').length > 0", "the results grid", timeout=60)
    browser.wait_for("(() => { const i = document.querySelector('#results li.result img');"
                     " return i && i.complete && i.naturalWidth > 0; })()", "the first result's frame", timeout=60)
    first = browser.evaluate("""(() => { const f = document.querySelector('#results li.result');
        const time = f.querySelector('.time');
        return {file: f.querySelector('.file').textContent, time: time ? time.textContent : '',
                box: !!f.querySelector('.box')}; })()""")
    check(first["file"] == args.expect_video, f"first result is {args.expect_video} (got {first['file']!r})")
    check(first["box"], "the matched face is boxed on the frame")
    check(re.fullmatch(r"at \d+:\d\d\.\d; on screen \d+:\d\d\.\d-\d+:\d\d\.\d(, .*)?", first["time"]) is not None,
          f"the card says when: {first['time']!r}")
    browser.screenshot(os.path.join(args.out, "video.png"))
    errors = [e for e in browser.drain_events() if e.get("method") == "Runtime.exceptionThrown"]
    check(not errors, f"no script errors ({len(errors)})")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="base URL of a running facefind serve (loopback)")
    parser.add_argument("--query", required=True, help="photo to search with")
    parser.add_argument("--expect-label", help="label the first result must have")
    parser.add_argument("--add-photo", help="photo to add from the gallery view")
    parser.add_argument("--expect-video", help="instead of the photo flows: the file name of the video the query must "
                        "find first, shown at its matched frame with the times written under it")
    parser.add_argument("--add-name", default="Browser Added", help="name to give the added photo")
    parser.add_argument("--expect-joined", type=int, default=0,
                        help="faces of the added photo that the page must say joined a person (a clustered gallery)")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--out", required=True, help="folder for screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--timeout", type=float, default=180, help="overall time limit, seconds")
    parser.add_argument("--people", type=int, default=0,
                        help="also test the People view: at least this many persons (the gallery must be clustered)")
    args = parser.parse_args()
    if not args.expect_video and not (args.expect_label and args.add_photo):
        parser.error("--expect-label and --add-photo are required (or --expect-video)")
    os.makedirs(args.out, exist_ok=True)

    browser = Browser(args.chromium, deadline=time.monotonic() + args.timeout)
    try:
        browser.viewport(1280, 900)
        # ?pageSize=4 so that a small test gallery has several pages to step through.
        browser.navigate(args.url.rstrip("/") + "/?pageSize=4")
        check(browser.evaluate("document.title") == "FaceFind", "page loads with title FaceFind")

        if args.expect_video:
            return video_flow(browser, args)
        # Search: upload the query photo through the file input.
        browser.set_files("#query-file", [args.query])
        browser.wait_for("document.querySelectorAll('#results li.result').length > 0", "the results grid", timeout=60)
        first = browser.evaluate("""(() => { const f = document.querySelector('#results li.result');
            f.dataset.render = 'first';
            return {rank: f.dataset.rank, label: f.dataset.label, count: document.querySelectorAll('#results li.result').length,
                    box: !!f.querySelector('.box'), verdict: document.getElementById('verdict').textContent}; })()""")
        check(first["rank"] == "1", "results grid shows rank 1 first")
        check(first["label"] == args.expect_label, f"first result is {args.expect_label} (got {first['label']})")
        check(first["box"], "first result has its matched face boxed")
        check(first["verdict"].startswith("Looks like"), f"verdict names the person: {first['verdict']!r}")
        browser.wait_for("[...document.querySelectorAll('#results li.result img')].every(i => i.complete && i.naturalWidth > 0)",
                         "every result thumbnail to load")
        check(True, "every result thumbnail loaded")
        faces = browser.evaluate("document.querySelectorAll('#query-faces button').length")
        check(faces >= 1, f"query photo shows {faces} boxed face(s) as buttons")
        browser.screenshot(os.path.join(args.out, "search.png"))
        check(True, "screenshot search.png saved")

        # Click a face: a real mouse click searches again with that face.
        browser.click("#query-faces button")
        results_rendered_after(browser, "first")
        pressed = browser.evaluate("document.querySelector('#query-faces button').getAttribute('aria-pressed')")
        check(pressed == "true", "clicking a face searches for it (results re-rendered, face marked searched)")

        # Keyboard: focus the face button and press Enter.
        browser.evaluate("document.querySelector('#results li.result').dataset.render = 'clicked'")
        browser.evaluate("document.querySelector('#query-faces button').focus()")
        browser.press("Enter", "Enter", 13)
        results_rendered_after(browser, "clicked")
        check(True, "Enter on a focused face searches again")

        # Unknown person: a threshold no match can pass.
        browser.evaluate("document.querySelector('#results li.result').dataset.render = 'keyboard'")
        browser.type_into("#threshold", "0.99")
        browser.evaluate("document.getElementById('threshold').dispatchEvent(new Event('change'))")
        results_rendered_after(browser, "keyboard")
        verdict = browser.evaluate("document.getElementById('verdict').textContent")
        check(verdict.startswith("Unknown person"), f"threshold 0.99 shows 'Unknown person': {verdict!r}")
        check(browser.evaluate("document.querySelector('#results li.result').classList.contains('unknown')"),
              "results below the threshold are marked")
        browser.evaluate("(() => { const t = document.getElementById('threshold'); t.value = '';"
                         " t.dispatchEvent(new Event('change')); return true; })()")

        # Narrow screen: nothing wider than the viewport.
        browser.viewport(375, 740, mobile=True)
        time.sleep(0.3)
        overflow = browser.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"narrow screen (375 px): no horizontal scrolling (overflow {overflow} px)")
        browser.screenshot(os.path.join(args.out, "search-narrow.png"))
        browser.viewport(1280, 900)

        # Gallery view with paging.
        browser.click("#tab-gallery")
        browser.wait_for("document.querySelectorAll('#gallery li.card').length > 0", "the gallery grid")
        info = browser.evaluate("document.getElementById('page-info').textContent")
        check(info.startswith("Page 1 of"), f"gallery view shows {info!r}")
        if not browser.evaluate("document.getElementById('next-page').disabled"):
            browser.click("#next-page")
            browser.wait_for("document.getElementById('page-info').textContent.startsWith('Page 2 of')", "page 2")
            check(True, "Next shows page 2")
            browser.click("#prev-page")
            browser.wait_for("document.getElementById('page-info').textContent.startsWith('Page 1 of')", "page 1")
            check(True, "Previous goes back to page 1")

        # Add a photo from the page: key, name, file, then a click on the button.
        browser.click("#settings summary")
        browser.type_into("#api-key", args.api_key)
        browser.evaluate("document.getElementById('api-key').dispatchEvent(new Event('input'))")
        browser.type_into("#add-name", args.add_name)
        browser.set_files("#add-files", [args.add_photo])
        browser.click("#add-button")
        browser.wait_for("document.getElementById('gallery-status').textContent.startsWith('Added 1 photo')",
                         "the add to finish", timeout=60)
        browser.wait_for(f"[...document.querySelectorAll('#gallery li.card .label')].some(e => e.textContent === {json.dumps(args.add_name)})",
                         "the added photo in the gallery")
        check(True, f"adding a photo named {args.add_name!r} from the page works and shows it")
        if args.expect_joined:
            status = browser.evaluate("document.getElementById('gallery-status').textContent")
            joined = f"{args.expect_joined} face{'' if args.expect_joined == 1 else 's'} joined people already known"
            check(joined in status, f"the page says the added photo's face joined its person (got {status!r})")
        browser.wait_for("[...document.querySelectorAll('#gallery li.card img')].every(i => i.complete && i.naturalWidth > 0)",
                         "every gallery thumbnail to load")
        browser.screenshot(os.path.join(args.out, "gallery.png"))

        if args.people:
            # People view: the persons of the clustered gallery, one opened, renamed, another merged into it.
            browser.click("#tab-people")
            browser.wait_for(f"document.querySelectorAll('#people li.card').length >= {args.people}", "the people grid")
            browser.wait_for("[...document.querySelectorAll('#people li.card img')].every(i => i.complete && i.naturalWidth > 0)",
                             "every person's face to load")
            check(browser.evaluate("document.querySelectorAll('#people li.card .box').length") >= args.people,
                  f"people view shows at least {args.people} persons, each with its face boxed")
            browser.screenshot(os.path.join(args.out, "people.png"))
            browser.click("#people li.card button")
            browser.wait_for("!document.getElementById('person').hidden && document.querySelectorAll('#person-faces li.card').length > 0",
                             "the person's photos")
            check(browser.evaluate("getComputedStyle(document.getElementById('people')).display") == "none",
                  "an opened person replaces the grid of persons")
            before = browser.evaluate("document.querySelectorAll('#person-faces li.card').length")
            check(before >= 2, f"opening a person shows their {before} photos")
            browser.type_into("#person-name", "Jane Doe")
            browser.click("#rename-button")
            browser.wait_for("document.getElementById('person-title').textContent.startsWith('Jane Doe')", "the new name")
            check(True, "renaming from the page shows the new name")
            browser.click("#merge-button")
            browser.wait_for(f"document.querySelectorAll('#person-faces li.card').length > {before}", "the merged photos")
            after = browser.evaluate("document.querySelectorAll('#person-faces li.card').length")
            check(after > before, f"merging another person adds their photos ({before} to {after})")
            browser.screenshot(os.path.join(args.out, "person.png"))

        errors = [e for e in browser.drain_events() if e.get("method") == "Runtime.exceptionThrown"]
        check(not errors, f"no script errors ({len(errors)})")
        print(f"screenshots in {args.out}", flush=True)
        return 0
    except Failure as failure:
        try:
            browser.screenshot(os.path.join(args.out, "failure.png"))
        except Exception:
            pass
        print(f"not ok - {failure}", flush=True)
        return 1
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
