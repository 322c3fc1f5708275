"""JupyterHub for one course (dlcv) on one machine, with nbgrader's exchange.

Students log in with their Unix account (PAM), each gets their own JupyterLab running as
themselves, with nbgrader's "Assignments" panel (fetch, validate, submit) and nothing of the
instructor's side. Assignments travel through one shared exchange folder:

    instructor:  make release WEEK=N EXCHANGE=$COURSE_EXCHANGE      (or make publish ASSIGNMENT=a1)
    students:    Assignments panel -> Fetch, work, Validate, Submit
    instructor:  make collect ASSIGNMENT=a1 FROM=exchange EXCHANGE=$COURSE_EXCHANGE
                 make autograde ASSIGNMENT=a1, make feedback, make grades (as usual)

Run it as root (it starts each student's server as that student):
    COURSE_HUB_STUDENTS="alice bob" COURSE_HUB_GRADERS="tara" \\
        jupyterhub -f assignments/hub/jupyterhub_config.py

Settings, all from the environment (a systemd unit's Environment= lines):
  COURSE_HUB_STUDENTS, COURSE_HUB_GRADERS  space-separated Unix user names: the hub's `students`
                  and `graders` groups; nobody else may log in. Graders may list the users and
                  open any student's running server (to help them); students reach only their own.
                  Grading itself stays with the instructor's checkout (make autograde, and
                  `nbgrader formgrader` there for written answers), not on the hub.
  COURSE_EXCHANGE the nbgrader exchange folder (default /srv/nbgrader/exchange); it must be the
                  EXCHANGE the instructor publishes to and collects from. Make it with
                  `mkdir -p DIR && chmod 777 DIR` (nbgrader's own rule: everyone writes there;
                  submissions are still checked against their owner when collected).
  COURSE_HUB_STATE  the hub's database and cookie secret (default /srv/jupyterhub)
  COURSE_HUB_URL  where the hub listens (default http://127.0.0.1:8000; put a TLS proxy in front)
  COURSE_HUB_PYTHON  the Python that runs the students' servers and kernels (default: the hub's
                  own). It must be readable and executable by every student: a course venv under
                  /opt, not one under /root or a home folder.
"""

import os
import shutil
import sys
from pathlib import Path

HUB = Path(__file__).resolve().parent
COURSE_ID = "dlcv"  # the same course id the pipeline uses (assignments/pipeline/gradebook.py)

c = get_config()  # noqa: F821  (provided by jupyterhub when it loads this file)


def _users(var):
    return sorted(set(os.environ.get(var, "").split()))


students, graders = _users("COURSE_HUB_STUDENTS"), _users("COURSE_HUB_GRADERS")
if not students and not graders:
    raise SystemExit("error: set COURSE_HUB_STUDENTS (and COURSE_HUB_GRADERS): space-separated Unix user names")
exchange = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
state = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
state.mkdir(parents=True, exist_ok=True)
python = os.environ.get("COURSE_HUB_PYTHON", sys.executable)

# --- the hub: local only, state in one folder
c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
# configurable-http-proxy from npm: on PATH, or where `make hub-test` puts it (beside the venv's python)
c.ConfigurableHTTPProxy.command = [shutil.which("configurable-http-proxy")
                                   or str(Path(sys.executable).parent / "configurable-http-proxy")]

# --- who: Unix accounts (PAM), only the course's, in two groups
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(students) | set(graders)
c.JupyterHub.load_groups = {"students": {"users": students}, "graders": {"users": graders}}
c.JupyterHub.load_roles = [
    {"name": "graders", "groups": ["graders"],
     # access:servers unfiltered: a `!group=students` filter is not honoured by the students'
     # servers (measured: 403), so course staff reach every server on this one-course hub
     "scopes": ["list:users", "read:users", "read:servers", "access:servers"]},
]

# --- each student's server: JupyterLab as themselves, in their home, with the student extensions
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [python, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 60
c.Spawner.environment = {
    # assignments/hub/student/: nbgrader_config.py (exchange, course) and which nbgrader parts are on
    "JUPYTER_CONFIG_PATH": str(HUB / "student"),
    "COURSE_EXCHANGE": exchange,
}
