"""The course's JupyterHub (assignments/hub/jupyterhub_config.py) for real: `make hub-test`.

Two local Unix students log in to the hub on 127.0.0.1 (PAM), start their own servers, and
through those servers' nbgrader endpoints fetch the tiny assignment from the exchange, fill it
in (the contents API) and submit it; then the instructor's side collects from the exchange,
autogrades in the sandbox and writes grades.csv. Also: a student's server has no formgrader,
and a submission one student forges in another's name is not collected.

Needs root (useradd; the hub spawns each server as its user), jupyterhub and
configurable-http-proxy, so it runs only with COURSE_HUB_TEST=1 (`make hub-test`), not in
`make test`. The accounts it adds (students dlcv-alice, dlcv-bob; grader dlcv-tara) are removed
afterwards; if one exists already the test stops rather than touch it.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "grading"))
import tiny_assignment as tiny  # noqa: E402

requests = pytest.importorskip("requests")

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "assignments" / "hub" / "jupyterhub_config.py"
BIN = Path(sys.executable).parent
STUDENTS = {"dlcv-alice": "def square(x):\n    return np.asarray(x) ** 2\n",  # 3 of 3
            "dlcv-bob": "def square(x):\n    return x * x if isinstance(x, float) else 0\n"}  # 1 of 3
GRADER = "dlcv-tara"
SHOT = REPO / "build" / "hub-test" / "assignments_panel.png"
WORLD_PYTHON = "/usr/bin/python3.11"  # a Python every account may run (the venv's lives under /root)

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(os.environ.get("COURSE_HUB_TEST") != "1", reason="`make hub-test` (root, adds users)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pipeline(module: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", f"assignments.pipeline.{module}", *args], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"{module} {args}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def world_python(at: Path) -> Path:
    """A venv of the system's python3.11 that sees the course venv's packages and Jupyter data:
    what a hub gets from a course venv under /opt, without a second install."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not Path(WORLD_PYTHON).exists():
        pytest.skip(f"needs root, useradd and {WORLD_PYTHON}")
    subprocess.run([WORLD_PYTHON, "-m", "venv", "--without-pip", str(at)], check=True)
    site = next((REPO / ".venv" / "lib").glob("python3.11/site-packages"))
    (next(at.glob("lib/python3.11/site-packages")) / "course_venv.pth").write_text(f"{site}\n")
    (at / "share").mkdir(exist_ok=True)
    (at / "share" / "jupyter").symlink_to(REPO / ".venv" / "share" / "jupyter")
    return at / "bin" / "python"


class Users:
    """Local accounts made for the test and removed after it (never an existing one)."""

    def __init__(self, names):
        self.names, self.made, self.passwords = names, [], {}

    def __enter__(self):
        for name in self.names:
            try:
                pwd.getpwnam(name)
                pytest.skip(f"user {name} exists already; not touching it")
            except KeyError:
                pass
        for name in self.names:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
            self.made.append(name)
            self.passwords[name] = secrets.token_urlsafe(12)
            subprocess.run(["chpasswd"], input=f"{name}:{self.passwords[name]}\n", text=True, check=True)
        return self

    def __exit__(self, *exc):
        for name in self.made:
            subprocess.run(["userdel", "--remove", name], capture_output=True)


class Hub:
    def __init__(self, work: Path, env: dict):
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = work / "hub.log"
        cmd = [str(BIN / "jupyterhub"), "-f", str(CONFIG),
               f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}"]
        env = {**os.environ, **env, "COURSE_HUB_URL": self.url, "PATH": f"{BIN}:{os.environ['PATH']}"}
        self.proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200, 90, "hub up")

    def wait_for(self, ready, seconds, what):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            assert self.proc.poll() is None, f"hub exited:\n{self.log.read_text()[-4000:]}"
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log.read_text()[-4000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops the servers it spawned and the proxy
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


class Student:
    """A student in a browser-less session: log in, then the hub's and their server's REST APIs."""

    def __init__(self, hub: Hub, name: str, password: str):
        self.hub, self.name, self.http = hub, name, requests.Session()
        self.http.get(f"{hub.url}/hub/login", timeout=10)
        r = self.http.post(f"{hub.url}/hub/login", timeout=30, allow_redirects=False,
                           data={"username": name, "password": password, "_xsrf": self.http.cookies["_xsrf"]})
        assert r.status_code == 302, f"login of {name}: {r.status_code} {r.text[:300]}"
        r = self.http.post(f"{hub.url}/hub/api/users/{name}/tokens", json={"note": "hub-test", "expires_in": 900},
                           headers={"X-XSRFToken": self.http.cookies["_xsrf"]}, timeout=10)
        assert r.status_code in (200, 201), r.text
        self.http = requests.Session()  # from here on only the token, as a script would
        self.http.headers["Authorization"] = f"token {r.json()['token']}"

    def hub_api(self, method, path, **kw):
        return self.http.request(method, f"{self.hub.url}/hub/api/{path}", timeout=30, **kw)

    def server(self, method, path, who=None, **kw):
        """A request to `who`'s single-user server (default: one's own)."""
        return self.http.request(method, f"{self.hub.url}/user/{who or self.name}/{path}", timeout=120,
                                 allow_redirects=False, **kw)

    def start_server(self):
        r = self.hub_api("POST", f"users/{self.name}/server")
        assert r.status_code in (201, 202), r.text
        self.hub.wait_for(lambda: self.hub_api("GET", f"users/{self.name}").json()["servers"][""]["ready"],
                          90, f"{self.name}'s server")

    def assignments(self) -> list[dict]:
        r = self.server("GET", "assignments", params={"course_id": "dlcv"})
        assert r.status_code == 200 and r.json()["success"], r.text
        return r.json()["value"]

    def act(self, action):
        r = self.server("POST", f"assignments/{action}", data={"course_id": "dlcv", "assignment_id": tiny.FOLDER})
        assert r.status_code == 200, r.text
        body = r.json()
        assert not (isinstance(body, dict) and body.get("success") is False), f"{action}: {body}"
        return body

    def fill_in(self, code):
        path = f"api/contents/{tiny.FOLDER}/{tiny.NOTEBOOK}"
        nb = self.server("GET", path).json()["content"]
        r = self.server("PUT", path, json={"type": "notebook", "format": "json",
                                           "content": tiny.with_solution(nb, code)})
        assert r.status_code == 200, r.text


def assignments_panel(hub: Hub, name: str, password: str, shot: Path) -> dict:
    """Log in with chromium as a student would, open Nbgrader > Assignment List, screenshot it."""
    import browser_lab  # the course's chromium finder (tests/browser_lab.py)
    from playwright.sync_api import sync_playwright

    try:
        executable = browser_lab.chromium_executable()
    except RuntimeError as err:
        return {"skipped": str(err)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable,
                                    args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(60_000)
            page.goto(f"{hub.url}/hub/login")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab**")
            page.get_by_role("menuitem", name="Nbgrader").click()
            menu = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
            page.get_by_role("menuitem", name="Assignment List").click()
            panel = page.locator("#nbgrader-assignment-list, .nbgrader-AssignmentList, [id*=assignment]").first
            page.get_by_text(tiny.FOLDER).first.wait_for()
            page.wait_for_timeout(500)
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            return {"menu": menu, "text": panel.inner_text() if panel.count() else page.inner_text("body")}
        finally:
            browser.close()


@pytest.fixture(scope="module")
def hub_run():
    work = Path(tempfile.mkdtemp(prefix="dlcv-hub-", dir="/tmp"))
    work.chmod(0o755)  # the students' servers read the exchange below it
    try:
        python = world_python(work / "python")
        paths = tiny.make_course(work / "course")
        lay = ["--build-dir", str(paths["build"]), "--source-dir", str(paths["source"]),
               "--schedule", str(paths["schedule"]), "--lectures-dir", str(paths["lectures"])]
        exchange = work / "exchange"
        pipeline("release", "--week", "1", *lay)
        pipeline("exchange", "publish", "--assignment", tiny.SHORT, "--exchange", str(exchange), *lay)
        out = {"work": work, "lay": lay, "exchange": exchange, "build": paths["build"], "seen": {}}
        with Users([*STUDENTS, GRADER]) as users:
            started = time.monotonic()
            hub = Hub(work, {"COURSE_HUB_STUDENTS": " ".join(STUDENTS), "COURSE_HUB_GRADERS": GRADER,
                             "COURSE_EXCHANGE": str(exchange), "COURSE_HUB_STATE": str(work / "state"),
                             "COURSE_HUB_PYTHON": str(python)})
            out["hub_start_s"] = time.monotonic() - started
            try:
                for name, code in STUDENTS.items():
                    s = Student(hub, name, users.passwords[name])
                    s.start_server()
                    seen = out["seen"][name] = {"groups": s.hub_api("GET", "user").json()["groups"]}
                    seen["listed"] = s.assignments()
                    seen["formgrader"] = s.server("GET", "formgrader").status_code
                    s.act("fetch")
                    s.fill_in(code)
                    seen["validate"] = s.server("POST", "assignments/validate",
                                                data={"path": f"{tiny.FOLDER}/{tiny.NOTEBOOK}"}).json()
                    seen["after_submit"] = s.act("submit")
                    seen["home_nb"] = Path(pwd.getpwnam(name).pw_dir, tiny.FOLDER, tiny.NOTEBOOK).exists()
                out["hub_round_s"] = time.monotonic() - started
                # who may reach alice's server: her grader yes, bob no
                alice_files = f"api/contents/{tiny.FOLDER}"
                tara = Student(hub, GRADER, users.passwords[GRADER])
                out["access"] = {"grader": tara.server("GET", alice_files, who="dlcv-alice").status_code,
                                 "student": s.server("GET", alice_files, who="dlcv-alice").status_code,
                                 "grader_lists": tara.hub_api("GET", "users").json(),
                                 "grader_groups": tara.hub_api("GET", "user").json()["groups"]}
                out["panel"] = assignments_panel(hub, "dlcv-alice", users.passwords["dlcv-alice"], SHOT)
                # alice forges a submission in bob's name, later than his own: must not be collected
                alice_home = pwd.getpwnam("dlcv-alice").pw_dir
                forged = subprocess.run(
                    ["runuser", "-u", "dlcv-alice", "--", str(python), "-m", "nbgrader", "submit", tiny.FOLDER,
                     "--student=dlcv-bob", "--course=dlcv", f"--Exchange.root={exchange}"],
                    cwd=alice_home, env={"HOME": alice_home, "PATH": os.environ["PATH"]},
                    capture_output=True, text=True)
                assert forged.returncode == 0, forged.stderr
            finally:
                hub.stop()
                out["hub_log"] = hub.log.read_text()
            out["collect"] = pipeline("exchange", "collect", "--assignment", tiny.SHORT,
                                      "--exchange", str(exchange), *lay)
            out["owners"] = {p.name: pwd.getpwuid(p.stat().st_uid).pw_name
                             for p in (exchange / "dlcv" / "inbound").iterdir()}
        pipeline("autograde", "--assignment", tiny.SHORT, "--cell-timeout", "10", "--jobs", "1", *lay)
        pipeline("grades", *lay)
        with open(paths["build"] / "grades.csv") as fh:
            out["grades"] = {row["student"]: row for row in csv.DictReader(fh)}
        yield out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_students_are_in_the_students_group(hub_run):
    for name in STUDENTS:
        assert hub_run["seen"][name]["groups"] == ["students"]


def test_student_server_lists_fetches_and_submits(hub_run):
    for name in STUDENTS:
        seen = hub_run["seen"][name]
        assert [(a["assignment_id"], a["status"]) for a in seen["listed"]] == [(tiny.FOLDER, "released")]
        assert seen["home_nb"], "fetch puts the notebook in the student's home"
        assert seen["after_submit"]["success"], seen["after_submit"]
        statuses = {a["status"] for a in seen["after_submit"]["value"] if a["assignment_id"] == tiny.FOLDER}
        assert "submitted" in statuses, json.dumps(seen["after_submit"])[:500]


def test_validate_button_runs_the_visible_tests(hub_run):
    """nbgrader's Validate, in each student's own server and kernel (the hidden tests are not there)."""
    alice, bob = (hub_run["seen"][n]["validate"] for n in STUDENTS)
    assert alice["success"] and bob["success"], (alice, bob)
    # both left the written answer as it was released; bob's square also fails the visible test
    assert [f["source"] for f in alice["value"]["failed"]] == ["YOUR ANSWER HERE"], alice["value"]
    assert [f["source"][:21] for f in bob["value"]["failed"]] == ["assert square(3) == 9", "YOUR ANSWER HERE"], bob


def test_students_have_no_formgrader(hub_run):
    assert {hub_run["seen"][n]["formgrader"] for n in STUDENTS} == {404}


def test_submissions_belong_to_their_students(hub_run):
    owners = hub_run["owners"]
    assert sorted(owners.values()) == ["dlcv-alice", "dlcv-alice", "dlcv-bob"], owners
    assert "names student 'dlcv-bob' but is owned by 'dlcv-alice'" in hub_run["collect"]


def test_grades_from_the_hub(hub_run):
    grades = hub_run["grades"]
    assert set(grades) == set(STUDENTS)
    assert float(grades["dlcv-alice"]["auto"]) == tiny.MAX_SCORE
    assert float(grades["dlcv-bob"]["auto"]) == 1.0
    assert all(row["status"] == "ok" for row in grades.values()), grades
    print(f"\nhub up in {hub_run['hub_start_s']:.1f} s; two students logged in, spawned, fetched and "
          f"submitted in {hub_run['hub_round_s']:.1f} s (from hub start)")


def test_assignments_panel_in_jupyterlab(hub_run):
    """What a student sees: the Nbgrader menu without the instructor's items, and the panel
    listing the assignment alice fetched and submitted (screenshot: build/hub-test/)."""
    panel = hub_run["panel"]
    if "skipped" in panel:
        pytest.skip(panel["skipped"])
    assert "Assignment List" in panel["menu"] and "Formgrader" not in panel["menu"], panel["menu"]
    assert "Create assignment" not in panel["menu"], panel["menu"]
    assert tiny.FOLDER in panel["text"] and "dlcv" in panel["text"], panel["text"][:500]


def test_graders_reach_students_servers_and_students_do_not(hub_run):
    access = hub_run["access"]
    assert access["grader_groups"] == ["graders"]
    assert access["grader"] == 200, access
    assert access["student"] in (403, 404), access  # the hub refuses bob's token on alice's server
    listed = access["grader_lists"]  # a list, or {"items": [...], ...} when the hub paginates
    listed = listed.get("items", listed) if isinstance(listed, dict) else listed
    assert isinstance(listed, list), access
    assert sorted(u["name"] for u in listed) == sorted([*STUDENTS, GRADER]), access
