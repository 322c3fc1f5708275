"""Run one (restored) notebook with a sandboxed kernel; trusted side of the sandbox.

This process is the grader's: it holds the notebook, sends cells to a kernel started by
sandbox.kernel_command, and records what came back — outputs (capped in size), whether each
cell's execute reply said "ok", which cells never ran and why (timeout, crash). The kernel only
ever sees the cells it is asked to run. Usage (autograde.py calls it as a subprocess, under an
outer `timeout`):

    python -m assignments.pipeline.execute JOBS.json --cell-timeout 120 ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import integrity, sandbox
from .limits import Limits

KERNEL_NAME = "course-sandbox"
TRUNCATED = "\n[output truncated by the grader: this cell printed more than {limit} bytes]\n"


class GuardedClient(NotebookClient):
    """nbclient that remembers each cell's reply status and caps the size of outputs."""

    def __init__(self, *args, max_cell_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_cell_bytes = max_cell_bytes
        self.replies: dict[int, str] = {}
        self.cell_bytes: dict[int, int] = {}
        self.truncated: set[int] = set()

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        if exec_reply is not None:
            self.replies[cell_index] = exec_reply["content"].get("status", "error")
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        used = self.cell_bytes.get(cell_index, 0) + size
        self.cell_bytes[cell_index] = used
        if used > self.max_cell_bytes:
            if cell_index not in self.truncated:
                self.truncated.add(cell_index)
                note = TRUNCATED.format(limit=self.max_cell_bytes)
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
            return None
        return super().output(outs, msg, display_id, cell_index)


def kernel_manager(spec_dir: Path, ipc_dir: Path, argv: list[str]) -> AsyncKernelManager:
    (spec_dir / KERNEL_NAME).mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": "sandboxed", "language": "python", "interrupt_mode": "message"}
    (spec_dir / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    ksm = KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False)
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm, transport="ipc")
    km.ip = str(ipc_dir / "k")
    km.connection_file = str(ipc_dir / "kernel.json")
    return km


def kernel_env(scratch: Path) -> dict[str, str]:
    env = {
        "PATH": f"{Path(os.sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/mpl",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "IPYTHONDIR": "/tmp/ipython",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
        "COURSE_FAST": os.environ.get("COURSE_FAST", "1"),
        "COURSE_OFFLINE": "1",
    }
    for key in ("COURSE_DATA_DIR", "TRITON_INTERPRET"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    # BLAS settings pass through: some hosts need OPENBLAS_CORETYPE for correct results,
    # and the thread counts chosen by the instructor should hold inside the sandbox too.
    env.update({k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "MKL_"))})
    return env


def side_cell(client, nb, code: str) -> tuple[str | None, list]:
    """Run code that is not part of the notebook (a canary, a probe); return (reply, outputs).

    nbclient executes cells of `client.nb` by index, so the cell is appended for the call and
    removed again: the stored notebook never shows it.
    """
    cell = nbformat.v4.new_code_cell(code)
    nb.cells.append(cell)
    index = len(nb.cells) - 1
    try:
        client.execute_cell(cell, index, store_history=False)
    finally:
        nb.cells.pop()
    return client.replies.pop(index, None), cell.outputs


def run(nb, *, scratch: Path, read_only: list[Path], limits: Limits, tests: tuple[int, ...] = (),
        canary: str | None = None, probe: str | None = None) -> dict:
    """Execute `nb` in place; return {"status", "detail", "replies", "executed", "truncated",
    "canaries", "probed", "seconds"}.

    After each test cell (indices in `tests`) the canary code is sent, and its verdict recorded
    (integrity.canary_honest); after the last cell, the probe code. Neither enters the notebook.
    """
    work = Path(tempfile.mkdtemp(prefix="ag-"))  # short path: Unix socket names are limited to 107 bytes
    ipc_dir, spec_dir = work / "ipc", work / "spec"
    ipc_dir.mkdir()
    argv = sandbox.kernel_command(
        scratch=scratch, ipc_dir=ipc_dir, read_only=read_only, env=kernel_env(scratch),
        memory_bytes=limits.memory_mb * 2**20,
    )
    km = kernel_manager(spec_dir, ipc_dir, argv)
    client = GuardedClient(
        nb, km=km, timeout=limits.cell_timeout, allow_errors=True, interrupt_on_timeout=False,
        startup_timeout=180, kernel_name=KERNEL_NAME, record_timing=False,
        resources={"metadata": {"path": str(scratch)}}, max_cell_bytes=limits.max_cell_bytes,
    )
    status, detail, executed, canaries, probed = "ok", "", [], {}, False
    cell_timeout, notebook_timeout = limits.cell_timeout, limits.notebook_timeout
    start = time.monotonic()
    deadline = start + notebook_timeout
    cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    try:
        with client.setup_kernel(env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index, cell in cells + [(None, None)]:
                left = deadline - time.monotonic() if index is not None else cell_timeout  # probes: own budget
                if left <= 0:
                    status, detail = "timeout", f"notebook ran longer than {notebook_timeout:.0f} s"
                    break
                client.timeout = max(1, int(min(cell_timeout, left)))
                where = f"cell {index}"
                try:
                    if index is None:  # the notebook is done: the grader's own checks
                        if probe:
                            side_cell(client, nb, probe)
                            probed = True
                        break
                    client.execute_cell(cell, index)
                    executed.append(index)
                    if canary and index in tests:
                        canaries[str(index)] = integrity.canary_honest(*side_cell(client, nb, canary))
                except CellTimeoutError:
                    if index is None:
                        break  # the probes' verdicts will say they did not finish
                    whole = client.timeout < cell_timeout
                    status = "timeout"
                    detail = (f"notebook ran longer than {notebook_timeout:.0f} s" if whole
                              else f"{where} ran longer than {cell_timeout:.0f} s")
                    break
                except DeadKernelError:
                    if index is None:
                        break
                    status, detail = "crashed", f"the kernel died in {where}"
                    break
    except DeadKernelError:
        status, detail = "crashed", "the kernel died"
    except RuntimeError as err:  # kernel failed to start
        status, detail = "crashed", f"the kernel did not start ({err})"
    finally:
        try:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - a dead kernel may refuse a clean shutdown
            pass
        shutil.rmtree(work, ignore_errors=True)
    return {
        "status": status,
        "detail": detail,
        "replies": {str(k): v for k, v in client.replies.items()},
        "executed": executed,
        "truncated": sorted(client.truncated),
        "canaries": canaries,
        "probed": probed,
        "seconds": round(time.monotonic() - start, 2),
        "sandbox": sandbox.mode(),
    }


def main(argv=None) -> None:
    """Run the notebooks listed in JOBS in turn (JSON: [{"notebook", "out", "result", "scratch",
    "tests", "canary", "probe"}, ...]; see autograde.Prepared.job).

    One process per student (imports are slow on a busy machine); each notebook gets its own
    kernel and sandbox, and a failure in one never stops the next.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", type=Path)
    parser.add_argument("--read-only", type=Path, action="append", default=[])
    Limits.add_arguments(parser)
    args = parser.parse_args(argv)
    limits = Limits.resolve(args)
    for job in json.loads(args.jobs.read_text()):
        try:
            nb = nbformat.read(job["notebook"], as_version=4)
            result = run(
                nb, scratch=Path(job["scratch"]).resolve(), read_only=args.read_only, limits=limits,
                tests=tuple(job.get("tests", ())), canary=job.get("canary"), probe=job.get("probe"),
            )
            nbformat.write(nb, job["out"])
        except Exception as err:  # noqa: BLE001 - report it for this notebook, go on with the next
            result = {"status": "crashed", "detail": f"grader error: {type(err).__name__}: {err}",
                      "executed": [], "replies": {}, "seconds": 0.0}
        Path(job["result"]).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
