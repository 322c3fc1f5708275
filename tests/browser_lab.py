"""Drive a real JupyterLab in headless chromium: the helpers of tests/test_browser.py.

Playwright (pinned in the dev extras) drives the system chromium (`apt-get install chromium`,
which `make setup` does as root); Playwright's own browser download is never used. JupyterLab
runs from .venv on 127.0.0.1 with a random port and token, on a scratch folder, in FAST mode.

Also a script, to look at one notebook by hand or to show that the checks fail:

    .venv/bin/python tests/browser_lab.py lectures/02_image_classification.ipynb
    .venv/bin/python tests/browser_lab.py NOTEBOOK --disable-extension @jupyter-widgets/jupyterlab-manager
    .venv/bin/python tests/browser_lab.py NOTEBOOK --plant-error 3   # code cell 3 raises

It copies the notebook's folder to a scratch folder, runs the same checks as the tests, prints
the problems and exits 1 if there are any. Screenshots go to build/browser/. And for `make site`:

    unshare -n .venv/bin/python tests/browser_lab.py --site build/site/02_image_classification.html

opens pages from disk with the network cut and checks math, images, control notes, navigation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "build" / "browser"
TIMEOUT_MS = 60_000  # Playwright's 30 s default is tight on a busy 2-core box
KERNEL_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = int(os.environ.get("BROWSER_RUN_TIMEOUT", "600")) * 1000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")

INSTALL_HINT = (
    "chromium is not installed, so the browser tests cannot run. They drive the system chromium "
    "through Playwright: install it with `sudo apt-get install chromium` (Debian/Ubuntu; "
    "`make setup` does this when run as root), or point COURSE_CHROMIUM at a chromium binary. "
    "Do not run `playwright install`: it downloads a browser build, which is neither needed nor "
    "reachable here."
)


def chromium_executable() -> str:
    """The chromium to drive: COURSE_CHROMIUM if set, else Debian's; a clear error if none."""
    wanted = os.environ.get("COURSE_CHROMIUM")
    # the real binary first: it skips the Debian wrapper's flags and noise
    candidates = [wanted] if wanted else ["/usr/lib/chromium/chromium", shutil.which("chromium"),
                                          shutil.which("chromium-browser")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise RuntimeError(INSTALL_HINT + (f" (COURSE_CHROMIUM={wanted} is not an executable)" if wanted else ""))


# ---------------------------------------------------------------- the JupyterLab server


@dataclass
class Lab:
    root: Path  # what the lab serves
    url: str  # http://127.0.0.1:PORT/
    token: str
    process: subprocess.Popen
    log: Path

    def link(self, relpath: str) -> str:
        """The notebook in a workspace of its own: the default one would reopen earlier notebooks,
        whose widgets show 'Error displaying widget' once their kernel is shut down."""
        workspace = f"w{secrets.token_hex(4)}"
        return f"{self.url}lab/workspaces/{workspace}/tree/{relpath}?token={self.token}"


def _write_settings(config_dir: Path, disabled_extensions: tuple[str, ...]) -> None:
    """User settings in a scratch config dir: no news toast, every cell kept in the DOM."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    if disabled_extensions:  # what `jupyter labextension disable X` writes
        (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
        (config_dir / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {name: True for name in disabled_extensions}}))


@contextmanager
def running_lab(root: Path, scratch: Path, disabled_extensions: tuple[str, ...] = ()):
    """JupyterLab from .venv serving `root`, FAST mode; stopped (kernels too) on exit."""
    config, runtime = scratch / "jupyter-config", scratch / "jupyter-runtime"
    _write_settings(config, disabled_extensions)
    runtime.mkdir(parents=True, exist_ok=True)
    # an inherited MPLBACKEND=Agg would draw nothing; the widget end-checks belong to test_notebooks
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "COURSE_CHECK_WIDGETS")}
    env.update(COURSE_FAST="1", COURSE_OFFLINE="1", OPENBLAS_NUM_THREADS="1",
               JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(runtime),
               IPYTHONDIR=str(scratch / "ipython"), TMPDIR=str(scratch),
               PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    token = secrets.token_hex(16)
    command = [str(REPO / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
               "--port=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.getuid() == 0:
        command.append("--allow-root")
    log = scratch / "lab.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        yield Lab(root, _wait_for_url(process, runtime, log), token, process, log)
    finally:
        process.send_signal(signal.SIGTERM)  # the server shuts its kernels down (they run in their own session)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for_url(process: subprocess.Popen, runtime: Path, log: Path, timeout_s: float = 90) -> str:
    """The server's URL, from jpserver-PID.json (the -open.html file is written after it)."""
    deadline = time.monotonic() + timeout_s
    info = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if (runtime / f"jpserver-{process.pid}-open.html").exists():
            data = json.loads(info.read_text())
            return f"http://127.0.0.1:{data['port']}/"
        time.sleep(0.2)
    raise RuntimeError(f"jupyter lab did not start in {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


# ---------------------------------------------------------------- the browser


@dataclass
class Browser:
    context: object
    blocked: list = field(default_factory=list)  # requests that tried to leave the machine


@contextmanager
def browser_for(lab: Lab):
    """A headless chromium context that may only talk to the lab; anything else is aborted and listed."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright already passes --headless --no-sandbox --disable-dev-shm-usage. No host name
        # resolves, so nothing leaves the machine; requests are watched, not routed (with any
        # route set, the PUT that saves a large notebook never finished).
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(TIMEOUT_MS)
        guard = Browser(context)
        context.on("request", lambda request: None if request.url.startswith(lab.url)
                   else guard.blocked.append(request.url))
        try:
            yield guard
        finally:
            browser.close()


def open_notebook(context, lab: Lab, relpath: str):
    """A page with the notebook open and its kernel idle."""
    page = context.new_page()
    page.goto(lab.link(relpath))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
    page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    return page


def run_all(page) -> None:
    """Run → Run All Cells, then wait until no cell is queued or running and the kernel is idle.

    Run All stops at the first error and later cells go back to `[ ]:`, so this does not wait
    for every prompt to be numbered: the saved file tells which cells did not run.
    """
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator('[data-command="runmenu:run-all"]').click()
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                .map(e => e.textContent);
            return prompts.some(t => /\\d/.test(t)) && !prompts.some(t => t.includes('*'))
                && document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]');
        }""", timeout=RUN_ALL_TIMEOUT_MS, polling=500)


def save(page, path: Path) -> dict:
    """File → Save, wait until the file on disk changed, return it parsed."""
    before = path.stat().st_mtime_ns
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator('.lm-Menu [data-command="docmanager:save"]').click()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while path.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved within {TIMEOUT_MS // 1000} s of File → Save")
        time.sleep(0.2)
    time.sleep(0.5)  # let the write finish
    return json.loads(path.read_text())


# ---------------------------------------------------------------- the checks


def saved_problems(nb: dict) -> list[str]:
    """Error outputs and code cells that did not run, read from the saved notebook."""
    problems, not_run = [], []
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"code cell {i}: {out.get('ename')}: {out.get('evalue')}")
        if cell.get("execution_count") is None and "".join(cell["source"]).strip():
            not_run.append(i)
    if not_run:
        problems.append(f"code cells that did not run: {not_run}")
    return problems


def count_outputs(nb: dict, mime_types: tuple[str, ...]) -> int:
    return sum(1 for c in nb["cells"] if c["cell_type"] == "code" for out in c.get("outputs", [])
               if any(t in out.get("data", {}) for t in mime_types))


def figure_problems(page, nb: dict) -> list[str]:
    """Every image output of the saved file is an <img> the browser decoded."""
    expected = count_outputs(nb, IMAGE_TYPES)
    shown = page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output.jp-RenderedImage img')]
        .filter(img => img.complete && img.naturalWidth > 0).length""")
    if expected == 0:
        return ["the notebook has no figure outputs"]
    return [] if shown >= expected else [f"{expected} figure(s) in the saved file but {shown} rendered as images"]


def widget_problems(page, nb: dict) -> list[str]:
    """Every widget output renders as a live control (not its text fallback, not a loading/error note)."""
    expected = count_outputs(nb, (WIDGET_VIEW,))
    if expected == 0:
        return ["the notebook has no widget outputs"]
    # an output holding a control (an Output widget inside it holds only figures)
    script = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => o.querySelector('.widget-slider, .widget-dropdown')).length"""
    try:
        page.wait_for_function(f"() => ({script})() >= {expected}", timeout=TIMEOUT_MS, polling=500)
    except Exception:
        pass  # reported below, with what is on the page
    problems = []
    live = page.evaluate(script)
    if live < expected:
        problems.append(f"{expected} widget output(s) in the saved file but {live} rendered as live controls")
    for note in ("Loading widget", "Error displaying widget"):
        cells = page.evaluate("""note => [...document.querySelectorAll('.jp-CodeCell')]
            .map((c, i) => [i, c.querySelector('.jp-OutputArea')?.innerText || ''])
            .filter(([, text]) => text.includes(note))
            .map(([i, text]) => `code cell ${i}: ${text.slice(text.indexOf(note), text.indexOf(note) + 300)}`)""", note)
        problems += [f"the page shows {note!r} in {where}" for where in cells]
    return problems


def drag_first_slider(page, shots: Path, name: str) -> list[str]:
    """Drag the first slider along its track: its readout must change and a new figure appear in its cell."""
    controls = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")).first
    slider = controls.locator(".widget-slider").first
    cell = page.locator(".jp-CodeCell").filter(has=slider).first
    handle, track = slider.locator(".noUi-handle").first, slider.locator(".noUi-target").first
    readout = slider.locator(".widget-readout").first
    before_value = readout.inner_text()
    before = set(cell.locator(".jp-OutputArea-output img").evaluate_all("imgs => imgs.map(i => i.src)"))
    slider.scroll_into_view_if_needed()
    controls.screenshot(path=str(shots / f"{name}-slider-before.png"))
    h, t = handle.bounding_box(), track.bounding_box()
    target_x = t["x"] + t["width"] * (0.8 if h["x"] < t["x"] + t["width"] / 2 else 0.2)
    page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
    page.mouse.down()
    page.mouse.move(target_x, h["y"] + h["height"] / 2, steps=8)
    page.mouse.up()
    problems = []
    try:
        page.wait_for_function(
            """([cell, before]) => [...cell.querySelectorAll('.jp-OutputArea-output img')]
                .some(i => !before.includes(i.src) && i.complete && i.naturalWidth > 0)""",
            arg=[cell.element_handle(), sorted(before)], timeout=TIMEOUT_MS, polling=250)
    except Exception:
        problems.append("dragging the first slider did not redraw its figure")
    after_value = readout.inner_text()
    if after_value == before_value:
        problems.append(f"dragging the first slider left its value at {before_value!r}")
    controls.screenshot(path=str(shots / f"{name}-slider-after.png"))
    print(f"{name}: slider {before_value} -> {after_value}", flush=True)
    return problems


def check_lecture(context, lab: Lab, relpath: str, shots: Path = SHOTS) -> list[str]:
    """Open, Run All, save; then the saved file, the figures, the widgets and one slider drag."""
    shots.mkdir(parents=True, exist_ok=True)
    name = Path(relpath).stem
    page = open_notebook(context, lab, relpath)
    try:
        run_all(page)
        nb = save(page, lab.root / relpath)
        page.screenshot(path=str(shots / f"{name}-after-run-all.png"))
        problems = saved_problems(nb) + figure_problems(page, nb) + widget_problems(page, nb)
        if not problems:
            problems += drag_first_slider(page, shots, name)
        page.screenshot(path=str(shots / f"{name}-final.png"), full_page=False)
        return problems
    finally:
        shut_down_kernels(page, lab)
        page.close()


def check_validate(context, lab: Lab, relpath: str, shots: Path = SHOTS) -> tuple[str, list[str]]:
    """Click nbgrader's Validate button; return the result dialog's class and the problems."""
    shots.mkdir(parents=True, exist_ok=True)
    page = open_notebook(context, lab, relpath)
    try:
        page.locator(".validate-button").first.click()
        dialog = page.locator(".jp-Dialog", has_text="Validation Results")
        dialog.wait_for(timeout=RUN_ALL_TIMEOUT_MS)
        page.screenshot(path=str(shots / f"validate-{Path(relpath).stem}.png"))
        body = dialog.first.inner_text()
        for outcome in ("validation-failed", "validation-success", "validation-changed", "validation-passed"):
            if dialog.locator(f".{outcome}").count():
                return outcome, []
        return "error", [f"nbgrader's Validate did not run the notebook: {body[:800]}"]
    finally:
        shut_down_kernels(page, lab)
        page.close()


def shut_down_kernels(page, lab: Lab) -> None:
    """Stop the kernels the page started, so the next notebook has the CPU."""
    headers = {"Authorization": f"token {lab.token}"}
    for kernel in page.request.get(f"{lab.url}api/kernels", headers=headers).json():
        page.request.delete(f"{lab.url}api/kernels/{kernel['id']}", headers=headers)


# ---------------------------------------------------------------- the offline site (make site)


RAW_TEX = r"\$[^$\s][^$]*\$|\\\(|\\\["  # $x$, \( or \[ left in the text: a formula MathJax did not typeset


def check_site_page(context, page_path: Path, shots: Path = SHOTS) -> list[str]:
    """A page of build/site/ opened from disk: math typeset, every image decoded, controls listed.

    Screenshots the first display equation and the first control note with its figure.
    """
    shots.mkdir(parents=True, exist_ok=True)
    name = f"site-{page_path.stem}"
    page = context.new_page()
    failed = []
    page.on("requestfailed", lambda request: None if request.url.startswith("about:") else failed.append(request.url))
    page.goto(page_path.resolve().as_uri())
    problems = []
    try:  # MathJax 2 runs its queue after load; a callback at the end of it marks the page typeset
        page.wait_for_function("() => window.MathJax && MathJax.Hub", timeout=TIMEOUT_MS / 2)
        page.evaluate("() => MathJax.Hub.Queue(() => { window.siteTypeset = true; })")
        page.wait_for_function("() => window.siteTypeset === true", timeout=TIMEOUT_MS)
    except Exception:
        problems.append("MathJax did not load or did not finish typesetting")
    stats = page.evaluate("""rawTex => ({
        math: document.querySelectorAll('script[type^="math/tex"]').length,
        typeset: document.querySelectorAll('.MathJax, .MathJax_Display').length,
        errors: document.querySelectorAll('.MathJax_Error, merror').length,
        images: document.querySelectorAll('img').length,
        broken: [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0).length,
        controls: document.querySelectorAll('.site-controls').length,
        raw: [...document.querySelectorAll('.jp-RenderedMarkdown')]
            .filter(m => new RegExp(rawTex).test(m.innerText)).length,
        nav: document.querySelectorAll('nav.site a').length})""", RAW_TEX)
    lecture = page_path.stem != "index"  # the index is a table of links, without math or figures
    if stats["typeset"] < stats["math"] or stats["raw"]:
        problems.append(f"{stats['math']} formula(s), {stats['typeset']} typeset, "
                        f"{stats['raw']} markdown cell(s) still showing raw LaTeX")
    if stats["errors"]:
        problems.append(f"{stats['errors']} formula(s) failed to typeset")
    if (lecture and stats["images"] == 0) or stats["broken"]:
        problems.append(f"{stats['images']} image(s), {stats['broken']} not shown")
    if stats["nav"] < 2:
        problems.append("no navigation bar")
    missing = page.evaluate("""() => [...document.querySelectorAll('a[href$=".html"]')]
        .map(a => a.getAttribute('href')).filter(h => !h.includes('//'))""")
    missing = sorted({h for h in missing if not (page_path.parent / h).exists()})
    if missing:
        problems.append(f"links to pages that do not exist: {missing[:5]}")
    if failed:
        problems.append(f"requests failed (network or missing file): {failed[:5]}")
    page.screenshot(path=str(shots / f"{name}-top.png"))
    display = page.locator(".MathJax_Display").first
    if display.count():
        display.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}-math.png"))
    note = page.locator(".site-controls").first
    if note.count():  # the static figure sits in the output right above the note
        note.scroll_into_view_if_needed()
        page.mouse.wheel(0, -350)
        page.screenshot(path=str(shots / f"{name}-slider-figure.png"))
    print(f"{page_path.name}: {stats}", flush=True)
    page.close()
    return problems


@contextmanager
def offline_browser():
    """Chromium for local files: offline, and no host name resolves."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--host-resolver-rules=MAP * ~NOTFOUND"])
        context = browser.new_context(viewport={"width": 1300, "height": 1000}, offline=True)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            browser.close()


# ---------------------------------------------------------------- by hand


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("--disable-extension", action="append", default=[],
                        help="a JupyterLab extension to disable, e.g. @jupyter-widgets/jupyterlab-manager")
    parser.add_argument("--plant-error", type=int, metavar="N",
                        help="make code cell N raise (to see the check fail)")
    parser.add_argument("--site", type=Path, nargs="+", metavar="PAGE",
                        help="check pages of build/site/ offline instead (run under `unshare -n` to cut the network)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.site:
        with offline_browser() as context:
            problems = [f"{p.name}: {problem}" for p in args.site for problem in check_site_page(context, p)]
    elif args.notebook:
        problems = check_by_hand(args.notebook, args.disable_extension, args.plant_error)
    else:
        parser.error("give a NOTEBOOK or --site PAGE...")
    print(f"{time.perf_counter() - start:.0f} s; screenshots in {SHOTS}")
    print("\n".join(["FAIL:", *problems]) if problems else "PASS")
    return 1 if problems else 0


def check_by_hand(notebook: Path, disabled: list[str], plant_error: int | None) -> list[str]:
    scratch = Path(tempfile.mkdtemp(prefix="browser-lab-"))
    shutil.copytree(notebook.resolve().parent, scratch / "nb", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    target = scratch / "nb" / notebook.name
    if plant_error is not None:
        nb = json.loads(target.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        code[plant_error]["source"] = "raise ValueError('planted failure')\n"
        target.write_text(json.dumps(nb))
    print(f"scratch {scratch} (lab.log there)")
    with running_lab(scratch, scratch, tuple(disabled)) as lab, browser_for(lab) as guard:
        problems = check_lecture(guard.context, lab, f"nb/{notebook.name}")
        if guard.blocked:
            problems.append(f"requests left the machine: {guard.blocked[:5]}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
