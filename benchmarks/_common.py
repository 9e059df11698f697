"""Helpers shared by the benchmark scripts: dependency checks, machine facts, tables."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
#: Generated media lives here (git-ignored), so reruns can reuse it.
WORK_DIR = BENCH_DIR / ".work"

_INSTALL = "pip install -r benchmarks/requirements.txt"


def require(
    module: str, package: str | None = None, *, why: str = "", install: str = _INSTALL
) -> ModuleType:
    """Import ``module`` or exit with a message saying which package to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        reason = f" ({why})" if why else ""
        sys.exit(
            f"This benchmark needs the '{package or module}' package{reason}, which is not "
            f"installed.\nInstall it with: {install}"
        )


def check_repo_root() -> None:
    """Exit with a hint unless the repository root is importable (``tests.`` helpers)."""
    require(
        "av",
        "av",
        why="PyAV, to generate and probe videos",
        install='pip install -e ".[test]" (or ".[media]") from the repository root',
    )
    try:
        importlib.import_module("tests.videos")
        importlib.import_module("langchain_mimo_video")
    except ImportError as error:
        sys.exit(
            f"Cannot import the repository's modules ({error}). Run the benchmarks from the "
            "repository root as 'python -m benchmarks.<name>', in the project's virtualenv "
            '(pip install -e ".[test]").'
        )


def work_dir(name: str) -> Path:
    """A folder under ``benchmarks/.work`` for generated media (created if needed)."""
    path = WORK_DIR / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def median(values: Iterable[float]) -> float:
    """The median of ``values`` (which must not be empty)."""
    return float(statistics.median(list(values)))


def memory_total_bytes() -> int:
    """Physical memory of the machine, in bytes."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def machine_summary() -> str:
    """One line naming the machine, the date and the versions the figures depend on."""
    parts = [
        datetime.date.today().isoformat(),
        f"{os.cpu_count()} cores",
        f"{memory_total_bytes() / 2**30:.1f} GiB RAM",
        f"{platform.system()} {platform.machine()}",
        f"Python {platform.python_version()}",
    ]
    with contextlib.suppress(OSError, AttributeError):
        parts.append("load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    try:
        av = importlib.import_module("av")
        ffmpeg = getattr(av, "ffmpeg_version_info", None)
        parts.append(f"PyAV {av.__version__}" + (f" (FFmpeg {ffmpeg})" if ffmpeg else ""))
    except ImportError:
        parts.append("PyAV not installed")
    return ", ".join(parts)


def print_header(title: str, note: str = "") -> None:
    """Print a benchmark's title, the machine line and an optional note."""
    print(f"== {title} ==")
    print(f"machine: {machine_summary()}")
    if note:
        print(note)
    print()


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Format rows as a Markdown table (so figures paste straight into the README)."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    divider = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), divider, *(line(row) for row in cells)])


def verdict(ok: bool) -> str:
    """``"yes"`` / ``"NO"`` for a target line."""
    return "yes" if ok else "NO"


def megabytes(size: float) -> str:
    """``size`` bytes as decimal megabytes, like MiMo's limits."""
    return f"{size / 1e6:.2f} MB"
