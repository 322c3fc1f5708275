"""nbgrader, as a student's server on the course hub sees it (found through JUPYTER_CONFIG_PATH,
which assignments/hub/jupyterhub_config.py sets): one course, and the hub's shared exchange."""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
c.CourseDirectory.course_id = "dlcv"
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
