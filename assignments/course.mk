# Instructor commands for release and grading; included by the top-level Makefile, which
# defines PY (the venv's python) and the `setup` target. Recipes are thin: each calls one
# module of assignments/pipeline/ (see assignments/GRADING.md for a week of the course).
# Everything generated goes under build/ (or $COURSE_BUILD_DIR).
#
#   make release WEEK=N                   build/student/: the student edition up to week N
#   make collect ASSIGNMENT=a1 FROM=DIR   import DIR/a1-<student>.zip into the gradebook's submitted/
#        [STUDENTS=roster.csv]            LMS bulk downloads (Canvas names, Moodle folders): lms_id -> student
#   make autograde ASSIGNMENT=a1          grade every collected submission, each sandboxed
#        [JOBS=N]                         N at a time (default: the number of cores)
#        [STUDENT="id1 id2"]              only these students
#   make feedback ASSIGNMENT=a1           per-student HTML feedback (no hidden tests)
#   make grades                           build/grades.csv

PY ?= .venv/bin/python
PIPELINE = $(PY) -m assignments.pipeline

.PHONY: release collect autograde feedback grades

release: setup  ## student edition up to WEEK=N in build/student/
	$(PIPELINE).release --week "$(WEEK)"

collect: setup  ## import FROM=DIR/<ASSIGNMENT>-<student>.zip (or an LMS bulk download; STUDENTS=roster.csv)
	$(PIPELINE).collect --assignment "$(ASSIGNMENT)" --from "$(FROM)" $(if $(STUDENTS),--students "$(STUDENTS)")

autograde: setup  ## grade every submission of ASSIGNMENT, sandboxed
	COURSE_FAST=1 COURSE_OFFLINE=1 OPENBLAS_NUM_THREADS=1 $(PIPELINE).autograde --assignment "$(ASSIGNMENT)" \
		$(if $(JOBS),--jobs $(JOBS)) $(foreach s,$(STUDENT),--student $(s))

feedback: setup  ## per-student HTML feedback for ASSIGNMENT
	$(PIPELINE).feedback --assignment "$(ASSIGNMENT)"

grades: setup  ## build/grades.csv
	$(PIPELINE).grades
