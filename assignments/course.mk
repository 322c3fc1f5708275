# Instructor commands for release and grading; included by the top-level Makefile, which
# defines PY (the venv's python) and the `setup` target. Recipes are thin: each calls one
# module of assignments/pipeline/ (see assignments/GRADING.md for a week of the course).
# Everything generated goes under build/ (or $COURSE_BUILD_DIR).
#
#   make release WEEK=N                   build/student/: the student edition up to week N
#        [EXCHANGE=DIR]                   also publish its assignments to an nbgrader exchange (a hub's)
#   make publish ASSIGNMENT=a1            publish a released assignment to the exchange (or WEEK=N: all)
#        [EXCHANGE=DIR]                   default: $COURSE_EXCHANGE, else build/exchange
#   make collect ASSIGNMENT=a1 FROM=DIR   import DIR/a1-<student>.zip into the gradebook's submitted/
#        [STUDENTS=roster.csv]            LMS bulk downloads (Canvas names, Moodle folders): lms_id -> student
#   make collect ASSIGNMENT=a1 FROM=exchange [EXCHANGE=DIR]   each student's latest nbgrader submit
#   make autograde ASSIGNMENT=a1          grade every collected submission, each sandboxed
#        [JOBS=N]                         N at a time (default: the number of cores)
#        [STUDENT="id1 id2"]              only these students
#   make feedback ASSIGNMENT=a1           per-student HTML feedback (no hidden tests)
#   make grades                           build/grades.csv
#   make bench-grading [ASSIGNMENTS="a1 a2"] [N=4]   submissions per hour at JOBS=1 and JOBS=2
#   make hub-test                         the hub config (assignments/hub/) for real; root: adds 2 users

PY ?= .venv/bin/python
PIPELINE = $(PY) -m assignments.pipeline

.PHONY: release publish collect autograde feedback grades hub-test
EXCHANGE_ARG = $(if $(EXCHANGE),--exchange "$(EXCHANGE)")

release: setup  ## student edition up to WEEK=N in build/student/
	$(PIPELINE).release --week "$(WEEK)"
	$(if $(EXCHANGE),$(PIPELINE).exchange publish --week "$(WEEK)" $(EXCHANGE_ARG))

publish: setup  ## put a released ASSIGNMENT (or WEEK=N: all) into the nbgrader exchange
	$(PIPELINE).exchange publish $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)",--week "$(WEEK)") $(EXCHANGE_ARG)

collect: setup  ## import FROM=DIR/<ASSIGNMENT>-<student>.zip (or an LMS bulk download; STUDENTS=roster.csv; FROM=exchange)
	$(if $(filter exchange,$(FROM)),$(PIPELINE).exchange collect --assignment "$(ASSIGNMENT)" $(EXCHANGE_ARG),\
	$(PIPELINE).collect --assignment "$(ASSIGNMENT)" --from "$(FROM)" $(if $(STUDENTS),--students "$(STUDENTS)"))

autograde: setup  ## grade every submission of ASSIGNMENT, sandboxed
	COURSE_FAST=1 COURSE_OFFLINE=1 OPENBLAS_NUM_THREADS=1 $(PIPELINE).autograde --assignment "$(ASSIGNMENT)" \
		$(if $(JOBS),--jobs $(JOBS)) $(foreach s,$(STUDENT),--student $(s))

feedback: setup  ## per-student HTML feedback for ASSIGNMENT
	$(PIPELINE).feedback --assignment "$(ASSIGNMENT)"

grades: setup  ## build/grades.csv
	$(PIPELINE).grades

# configurable-http-proxy (npm) goes beside the venv's programs; the test needs root (it adds
# and removes two local users) and is kept out of `make test`.
CHP := $(dir $(PY))configurable-http-proxy
hub-test: setup  ## JupyterHub with assignments/hub/ on 127.0.0.1: two students fetch and submit
	@test -x $(CHP) || { npm install --silent --no-fund --no-audit --prefix $(dir $(PY))../node \
		configurable-http-proxy@5.3.0 && ln -sf ../node/node_modules/.bin/configurable-http-proxy $(CHP); }
	COURSE_HUB_TEST=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests/test_hub.py -q -x

bench-grading: setup  ## submissions per hour at JOBS=1 and JOBS=2 (ASSIGNMENTS="a1 a2", N=4 solution copies)
	COURSE_FAST=1 COURSE_OFFLINE=1 OPENBLAS_NUM_THREADS=1 $(PY) assignments/bench/grading_throughput.py \
		$(or $(ASSIGNMENTS),a1 a2) --submissions $(or $(N),4)
