"""nbgrader configuration for this course: everything generated lives under build/.

The gradebook (build/nbgrader/gradebook.db) and release/, submitted/, autograded/, feedback/
are under build/nbgrader/; nbgrader's source/ there is a symlink to assignments/source/.
The same settings are used by the Make targets (assignments/pipeline/gradebook.py), so
`nbgrader formgrader` or `nbgrader export` run from the repo root see the same course.
Set COURSE_BUILD_DIR to use another build directory.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assignments.pipeline import gradebook, layout  # noqa: E402

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
_layout = layout.Layout.default()
gradebook.link_source(_layout)
gradebook.configure(c, _layout)
