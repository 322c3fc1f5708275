"""The command that starts an untrusted Jupyter kernel in a sandbox.

With bubblewrap (`bwrap`) the kernel sees a private filesystem: read-only /usr, the Python
installation, the virtual environment, helpers/ and datasets/ (if present), a private /tmp,
and one writable folder holding only this student's scratch copy of the notebook. It shares
no namespace with the host (--unshare-all: no network, its own PIDs and IPC) and dies with its
parent. The kernel talks to the grader over Unix sockets in a private folder (ZeroMQ `ipc`),
which works without a network. `prlimit --as` caps its memory (address space).

Without bwrap we fall back to `unshare --net` (no network only) or to nothing, and say so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ISOLATED, NETWORK_ONLY, NONE = "bwrap", "unshare-net", "none"
WARNINGS = {
    NETWORK_ONLY: (
        "WARNING: bubblewrap (bwrap) is not available: submissions run WITHOUT filesystem "
        "isolation (network cut with unshare only). Install it: apt-get install -y bubblewrap"
    ),
    NONE: (
        "WARNING: neither bubblewrap nor unshare works here: submissions run NOT ISOLATED "
        "(they can read and write your files and use the network). Install: apt-get install -y bubblewrap"
    ),
}


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.cache
def mode() -> str:
    """Best isolation this host offers; COURSE_SANDBOX=none|unshare-net forces a weaker one (tests)."""
    forced = os.environ.get("COURSE_SANDBOX", "")
    if forced in (NETWORK_ONLY, NONE):
        return forced
    if shutil.which("bwrap") and _works(
        ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    ):
        return ISOLATED
    if shutil.which("unshare") and _works(["unshare", "--user", "--map-root-user", "--net", "true"]):
        return NETWORK_ONLY
    return NONE


def memory_limit(limit_bytes: int) -> list[str]:
    if shutil.which("prlimit"):
        return ["prlimit", f"--as={limit_bytes}", "--"]
    # same effect without util-linux: set RLIMIT_AS, then exec the real command
    code = (
        "import os,resource,sys;"
        f"resource.setrlimit(resource.RLIMIT_AS,({limit_bytes},{limit_bytes}));"
        "os.execvp(sys.argv[1],sys.argv[1:])"
    )
    return [sys.executable, "-c", code]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    # /etc/fonts: without it fontconfig (loaded by matplotlib's dependencies) prints "Fontconfig
    # error: Cannot load default config file" as the first output of every graded notebook.
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
              "/etc/fonts"):
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    return args


def kernel_command(
    *,
    scratch: Path,
    ipc_dir: Path,
    read_only: list[Path],
    env: dict[str, str],
    memory_bytes: int,
) -> list[str]:
    """argv that runs `python -m ipykernel_launcher -f {connection_file}` sandboxed.

    `{connection_file}` is left for jupyter_client to fill in (it lives in ipc_dir).
    """
    python = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    prefix = memory_limit(memory_bytes)
    how = mode()
    if how == NONE:
        return prefix + python
    if how == NETWORK_ONLY:
        return prefix + ["unshare", "--user", "--map-root-user", "--net", "--"] + python
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    # The private /tmp comes first: binds made after it stay visible even when they live
    # under /tmp themselves (a checkout in /tmp, pytest's tmp_path).
    args += ["--tmpfs", "/tmp"]
    args += _system_binds()
    prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for path in sorted(prefixes | {Path(p).resolve() for p in read_only}):
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--bind", str(scratch), str(scratch), "--bind", str(ipc_dir), str(ipc_dir)]
    args += ["--chdir", str(scratch)]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return prefix + args + ["--"] + python
