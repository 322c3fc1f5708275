"""nbgrader, as a student's server on the course hub sees it (found through JUPYTER_CONFIG_PATH,
which assignments/hub/jupyterhub_config.py sets): one course, the hub's shared exchange, and the
grader's per-cell time limit for the Validate button (assignments/pipeline/limits.py)."""

import importlib.util
import os
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "course_limits", Path(__file__).resolve().parents[2] / "pipeline" / "limits.py")
_limits = sys.modules.setdefault("course_limits", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_limits)

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "dlcv"
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.Execute.timeout = int(_limits.Limits.resolve().cell_timeout)
