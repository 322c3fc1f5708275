"""Tamper evidence: checks of a submission that do not take the student's process at its word.

Student code runs in the same kernel as the tests, so it can patch numpy, rewrite later cells
or swallow every error, and the kernel will still reply "ok". Three checks, from strongest:

1. **Probes** (assignments/probes/<folder>.py). After the notebook ran, the grader calls the student's
   graded functions on fresh random inputs it wrote to the scratch folder; the kernel saves
   what they return, and the grader compares those values *in its own process* with
   references computed there (torch autograd, scipy, plain numpy). A test that passed in the
   kernel while its probe disagrees is marked failed, and the submission is flagged.
2. **Canaries**. After every test cell the grader sends a cell that must fail in an honest
   kernel (an assertion that numpy's comparisons reject, with a random nonce). If it comes
   back "ok", errors are being swallowed or comparisons patched: every test from there on is
   marked failed and the submission is flagged.
3. **Scan**. The student's cells are read (never run) for tools that change how tests judge:
   IPython hooks and transformers, tracers, frame walking, `builtins`, assignments to
   attributes of imported modules, redefining a name that a locked cell provides; and uses of
   library code that computes a graded answer (each probes file's `FORBIDDEN`, e.g.
   `torchvision.ops.nms` in the detection assignment).

Any finding makes the submission `suspicious` in grades.csv, with the reasons in its notes.
"""

from __future__ import annotations

import ast
import functools
import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import restore

SUSPICIOUS = "suspicious"

# ---------------------------------------------------------------------------- 3. static scan

HOOK_WORDS = {  # name or attribute -> why it is suspicious in graded work
    "get_ipython": "reaches into the IPython kernel",
    "ast_transformers": "rewrites later cells (IPython AST transformers)",
    "input_transformers_post": "rewrites later cells (IPython input transformers)",
    "input_transformers_cleanup": "rewrites later cells (IPython input transformers)",
    "settrace": "installs or removes a tracer",
    "setprofile": "installs or removes a profiler",
    "_getframe": "walks the call stack",
    "currentframe": "walks the call stack",
    "f_back": "walks the call stack",
    "f_globals": "reads or edits a caller's globals",
    "f_locals": "reads or edits a caller's locals",
    "builtins": "edits Python's builtins",
    "__builtins__": "edits Python's builtins",
    "meta_path": "installs an import hook",
    "path_hooks": "installs an import hook",
    "addaudithook": "installs an audit hook",
    "_ih": "reads the cell history (hidden tests)",
    "_oh": "reads the output history",
    "In": "reads the cell history (hidden tests)",
    "showtraceback": "changes how errors are reported",
    "set_custom_exc": "changes how errors are reported",
    "excepthook": "changes how errors are reported",
}
DYNAMIC = {"exec", "eval", "compile", "__import__"}


def _module_aliases(trees: list[ast.AST]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from numpy import linalg`: a module too (functions are caught as plain names)
                names |= {a.asname or a.name for a in node.names}
    return names


def _bound_by_locked(given: list[ast.AST | None]) -> set[str]:
    """Functions and modules that locked (given) cells provide and the tests rely on."""
    names = set()
    for tree in given:
        for node in ast.iter_child_nodes(tree) if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


# CPython 3.11's ast.parse is not thread-safe (gh-106905: "AST constructor recursion depth
# mismatch" when two threads build trees at once), and autograde prepares JOBS submissions in threads.
_AST_LOCK = threading.Lock()


def _parse(source: str) -> ast.AST | None:
    # IPython magics are not Python; blank them out so the rest of the cell can be read
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    for attempt in range(3):
        try:
            with _AST_LOCK:
                return ast.parse("\n".join(lines))
        except (SyntaxError, ValueError):  # ValueError: a NUL byte in the source
            return None
        except SystemError:  # the race above, with a parse outside this module (e.g. traceback's)
            if attempt == 2:
                raise
    return None


def student_cells(nb) -> list[tuple[str, str]]:
    """(label, source) of every code cell whose text the student wrote."""
    out, extra = [], 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = restore.nbgrader_meta(cell)
        if meta.get("solution"):
            out.append((meta.get("grade_id", "?"), cell.source))
        elif not meta:
            extra += 1
            out.append((f"added cell {extra}", cell.source))
    return out


HISTORY = {"In", "_ih", "_oh"}


def _findings_in(tree: ast.AST, modules: set[str], provided: set[str]) -> list[tuple[int, str]]:
    found = []
    # a history name the cell binds itself (a variable called `In`) is the student's own
    own = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    own |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
            for a in n.args + n.kwonlyargs + n.posonlyargs}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        word = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in HOOK_WORDS:
            word = node.value  # getattr(sys, "settrace")
        if word in HOOK_WORDS and not (word in HISTORY and (word in own or isinstance(node, ast.Attribute))):
            found.append((line, f"`{word}`: {HOOK_WORDS[word]}"))
        if isinstance(node, ast.Name) and node.id in DYNAMIC and isinstance(node.ctx, ast.Load):
            found.append((line, f"`{node.id}`: runs code built at run time"))
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            root = target
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(target, (ast.Attribute, ast.Subscript)) and isinstance(root, ast.Name) \
                    and root.id in modules:
                found.append((line, f"assigns to `{ast.unparse(target)}`, part of an imported module"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in modules:
            found.append((line, f"`{node.func.id}` on the module `{node.args[0].id}`"))
    # top level only: a local variable of the same name is harmless
    for node in ast.iter_child_nodes(tree):
        names = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        for name in names:
            if name in provided:
                found.append((node.lineno, f"redefines `{name}`, which a given cell provides to the tests"))
    return found


def _import_paths(trees: list[ast.AST]) -> dict[str, str]:
    """Local name -> the dotted path it was imported as (`import helpers as H`: H -> helpers)."""
    paths = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    paths[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    paths[a.asname or a.name] = f"{node.module}.{a.name}"
    return paths


def _dotted(node: ast.AST, paths: dict[str, str]) -> str | None:
    """`H.vlm.info_nce` -> "helpers.vlm.info_nce" when H was imported; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in paths:
        return None
    return ".".join([paths[node.id], *reversed(parts)])


def _borrowed(tree: ast.AST, paths: dict[str, str], forbidden: dict[str, str]) -> list[tuple[int, str]]:
    """Uses of library code that computes a graded answer (`forbidden`: dotted name -> why)."""
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(node.ctx, ast.Load):
            names = [_dotted(node, paths)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in filter(None, names):
            hit = next((f for f in forbidden if name == f or name.startswith(f + ".")), None)
            if hit:
                found.append((node.lineno, f"uses `{hit}`, which {forbidden[hit]}"))
    return found


def load_forbidden(probes_dir: Path, folder_name: str) -> dict[str, str]:
    """FORBIDDEN of probes_dir/<folder>.py: dotted names a graded cell may not use -> why."""
    module = _probes_module(probes_dir, folder_name)
    return dict(getattr(module, "FORBIDDEN", {})) if module else {}


def scan(nb, forbidden: dict[str, str] | None = None) -> list[str]:
    """Reasons this notebook's student cells look like they tamper with grading (empty: none).

    `forbidden` names library functions that compute a graded answer (torchvision's NMS in the
    detection assignment, the course's own InfoNCE in helpers): a student cell that uses one is
    reported too, so an instructor sees work that was borrowed rather than written.
    """
    given = [_parse(c.source) for c in nb.cells if c.cell_type == "code" and restore.is_protected(c)]
    mine = [(label, _parse(source)) for label, source in student_cells(nb)]
    trees = [t for t in given + [t for _, t in mine] if t is not None]
    modules, provided = _module_aliases(trees), _bound_by_locked(given)
    paths = _import_paths(trees)
    reasons = []
    for label, tree in mine:
        if tree is None:
            continue
        findings = _findings_in(tree, modules, provided) + _borrowed(tree, paths, forbidden or {})
        for line, why in sorted(findings):
            reason = f"cell {label}, line {line}: {why}"
            if reason not in reasons:
                reasons.append(reason)
    return reasons


# ---------------------------------------------------------------------------- 2. canaries


def canary_code(nonce: str) -> str:
    """A cell that raises AssertionError(nonce) in an honest kernel: every comparison is false."""
    return (
        f"import numpy as _np_{nonce}\n"
        f"_z, _o = _np_{nonce}.zeros(3), _np_{nonce}.ones(3)\n"
        f"_seen = [_np_{nonce}.allclose(_z, _o), bool(_np_{nonce}.isclose(_z, _o).all()),\n"
        f"         _np_{nonce}.array_equal(_z, _o), bool((_z == _o).all()),\n"
        f"         callable(globals().get('rel_error')) and globals()['rel_error'](_z, _o) < 1e-3]\n"
        f"del _z, _o\n"
        f"assert any(_seen), {nonce!r}\n"
    )


def canary_honest(reply: str | None, outputs: list) -> bool:
    """The canary failed the way an honest kernel fails it."""
    if reply != "error":
        return False
    return any(o.get("output_type") == "error" and o.get("ename") == "AssertionError" for o in outputs)


# ---------------------------------------------------------------------------- 1. probes


@dataclass(frozen=True)
class Probe:
    """Call a student's function in the kernel; compare the result with a trusted reference here.

    `call` runs in the kernel's namespace with the inputs in the dict `I` and must set `O`
    (an array or a tuple of arrays). `reference(I)` returns what O should be.
    """

    name: str
    notebook: str
    tests: tuple[str, ...]  # grade_ids of the test cells this probe confirms
    inputs: Callable[[np.random.Generator], dict]
    call: str
    reference: Callable[[dict], object]
    tol: float = 1e-6  # max |out - ref| relative to max |ref| (per output)


def probe_cell(probes: list[Probe], folder: Path) -> str:
    """The code the grader sends after the notebook: run each probe, save outputs next to the inputs."""
    calls = [(p.name, p.call) for p in probes]
    return f"""def _grader_probe(calls, folder):
    import json
    import numpy

    def arr(o):
        if hasattr(o, "detach"):
            o = o.detach().cpu().double().numpy()
        return numpy.asarray(o, dtype=numpy.float64)

    done = {{}}
    for name, code in calls:
        try:
            with numpy.load(f"{{folder}}/{{name}}.in.npz") as z:
                I = {{k: z[k] for k in z.files}}
            scope = dict(globals(), I=I)
            exec(code, scope)
            O = scope["O"] if isinstance(scope["O"], tuple) else (scope["O"],)
            numpy.savez(f"{{folder}}/{{name}}.out.npz", *[arr(o) for o in O])
            done[name] = "ok"
        except BaseException as err:
            done[name] = f"{{type(err).__name__}}: {{err}}"[:300]
    with open(f"{{folder}}/done.json", "w") as fh:
        json.dump(done, fh)


_grader_probe({calls!r}, {str(folder)!r})
del _grader_probe
"""


@dataclass
class ProbeSet:
    """Probes of one notebook: inputs written where the kernel can read them, references kept here."""

    probes: list[Probe]
    folder: Path  # inside the scratch folder (the kernel writes its outputs here)
    references: dict = field(default_factory=dict)

    @classmethod
    def prepare(cls, probes: list[Probe], folder: Path) -> ProbeSet:
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(secrets.randbits(64))  # fresh inputs for every grading
        made = cls(probes, folder)
        for p in probes:
            inputs = {k: np.asarray(v) for k, v in p.inputs(rng).items()}
            np.savez(folder / f"{p.name}.in.npz", **inputs)
            ref = p.reference(inputs)
            made.references[p.name] = tuple(np.asarray(r, dtype=np.float64) for r in
                                            (ref if isinstance(ref, tuple) else (ref,)))
        return made

    def verdicts(self) -> dict[str, str]:
        """{probe name: "ok" or why its values are not right}; read after the kernel is gone."""
        try:
            done = json.loads((self.folder / "done.json").read_text())
        except (OSError, ValueError):
            done = {}
        out = {}
        for p in self.probes:
            status = done.get(p.name, "the grader's check did not run") if isinstance(done, dict) else "unreadable"
            out[p.name] = status if status != "ok" else compare(self.folder / f"{p.name}.out.npz",
                                                                 self.references[p.name], p.tol)
        return out


def compare(path: Path, expected: tuple, tol: float) -> str:
    try:
        with np.load(path, allow_pickle=False) as z:
            got = [z[f"arr_{i}"] for i in range(len(z.files))]
    except (OSError, ValueError, KeyError) as err:
        return f"outputs unreadable ({type(err).__name__})"
    if len(got) != len(expected):
        return f"returned {len(got)} value(s), expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        if g.shape != e.shape:
            return f"output {i}: shape {g.shape}, expected {e.shape}"
        if not np.all(np.isfinite(g)):
            return f"output {i}: not finite"
        err = float(np.max(np.abs(g - e), initial=0.0)) / max(float(np.max(np.abs(e), initial=0.0)), 1e-12)
        if err > tol:
            return f"output {i}: relative error {err:.2g} (allowed {tol:g})"
    return "ok"


def load_probes(probes_dir: Path, folder_name: str, notebook: str) -> list[Probe]:
    """The probes of one notebook, from probes_dir/<folder>.py (none if there is no such file)."""
    module = _probes_module(probes_dir, folder_name)
    return [p for p in module.PROBES if p.notebook == notebook] if module else []


@functools.lru_cache(maxsize=None)
def _probes_module(probes_dir: Path, folder_name: str):
    """probes_dir/<folder>.py, executed once per process (every student and notebook reads it)."""
    import importlib.util

    path = probes_dir / f"{folder_name}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_probes_{folder_name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nonce() -> str:
    return "g" + secrets.token_hex(6)
