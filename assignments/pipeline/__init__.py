"""The course's grading and release pipeline, around nbgrader.

One module per step, each runnable as `python -m assignments.pipeline.<step>` (the Makefile
calls them): schedule (course.toml), layout (where everything lives under build/),
gradebook (nbgrader configuration), release (student edition), collect (zips -> submitted/),
restore (put locked and test cells back), sandbox (bubblewrap command for an untrusted kernel),
execute (run one notebook with a sandboxed kernel), autograde, feedback, grades.
submit.py and validate.py are the student-side tools; they are copied verbatim into the
student edition and use only the standard library plus nbformat/nbclient.
"""
