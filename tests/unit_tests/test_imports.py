"""The package's public names, pinned (as httpx's test_exported_members and groq's test_imports).

A name added to or dropped from a public ``__all__`` is an API change: it has to be made
here too, on purpose.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import langchain_mimo_video

PACKAGE = "langchain_mimo_video"

ROOT = [
    "AmbiguousURLError",
    "ChatMiMo",
    "EmptyDescriptionError",
    "InvalidArgumentError",
    "MediaError",
    "MediaStore",
    "MiMoAPIError",
    "MiMoAuthenticationError",
    "MiMoBadRequestError",
    "MiMoConnectionError",
    "MiMoContentFilteredError",
    "MiMoContextOverflowError",
    "MiMoError",
    "MiMoInsufficientBalanceError",
    "MiMoNotFoundError",
    "MiMoPermissionDeniedError",
    "MiMoRateLimitError",
    "MiMoResponseError",
    "MiMoServerError",
    "MiMoStatusError",
    "MiMoTimeoutError",
    "MiMoUnknownStatusError",
    "MissingAPIKeyError",
    "ProbeLimitError",
    "RequestEstimate",
    "RetiredModelWarning",
    "StreamInterruptedError",
    "TokenLimitError",
    "UnknownArgumentError",
    "UnknownPriceError",
    "UnsafeSourceError",
    "UnsupportedContentError",
    "VideoDescriptionLoader",
    "VideoEstimate",
    "VideoLoader",
    "VideoPart",
    "VideoSegmentPart",
    "VideoSourceError",
    "VideoTooLargeError",
    "VideoValidationError",
    "WatchVideoTool",
    "__version__",
    "estimate_video_tokens",
    "make_video_part",
    "probe",
]

#: Names imported on first use, so the base install needs no PyAV.
LAZY = {
    "probe": "langchain_mimo_video.media",
    "estimate_video_tokens": "langchain_mimo_video.tokens",
}

SUBMODULES = {
    "media": [
        "FitResult",
        "VideoInfo",
        "VideoSegment",
        "VideoSource",
        "check_decodable",
        "check_public_url",
        "clip_video",
        "convert_video",
        "data_url_size",
        "fit_video",
        "needs_conversion",
        "plan_segments",
        "probe",
        "probe_audio_duration",
        "split_video",
    ],
    "tokens": [
        "DEFAULT_PRICES",
        "MAX_SAMPLED_FRAMES",
        "ModelPrice",
        "VideoTokenEstimate",
        "estimate_audio_tokens",
        "estimate_cost",
        "estimate_video_tokens",
        "explain_video_tokens",
        "frame_size",
        "sampled_frame_count",
    ],
    "limits": [
        "AUDIO_SAMPLE_RATE",
        "DEFAULT_FPS",
        "DEFAULT_MEDIA_RESOLUTION",
        "DOCUMENTED_VIDEO_TYPES",
        "MAX_BASE64_BYTES",
        "MAX_FPS",
        "MAX_URL_VIDEO_BYTES",
        "MEDIA_RESOLUTIONS",
        "MIN_FPS",
        "MediaResolution",
        "REASONING_EFFORTS",
        "ReasoningEffort",
        "VIDEO_MODELS",
    ],
    "video": [
        "FitMode",
        "VideoDefaults",
        "VideoLoader",
        "VideoPart",
        "VideoSegmentPart",
        "VideoSource",
        "VideoUrl",
        "base64_length",
        "data_url_length",
        "encode_bytes_data_url",
        "encode_data_url",
        "make_video_part",
        "sniff_video_mime",
        "validate_fps",
        "validate_media_resolution",
        "validate_video_url",
        "video_part_from_block",
    ],
    "errors": [
        "AmbiguousURLError",
        "EmptyDescriptionError",
        "InvalidArgumentError",
        "MediaError",
        "MiMoAPIError",
        "MiMoAuthenticationError",
        "MiMoBadRequestError",
        "MiMoConnectionError",
        "MiMoContentFilteredError",
        "MiMoContextOverflowError",
        "MiMoError",
        "MiMoInsufficientBalanceError",
        "MiMoNotFoundError",
        "MiMoPermissionDeniedError",
        "MiMoRateLimitError",
        "MiMoResponseError",
        "MiMoServerError",
        "MiMoStatusError",
        "MiMoTimeoutError",
        "MiMoUnknownStatusError",
        "MissingAPIKeyError",
        "ProbeLimitError",
        "RetiredModelWarning",
        "StreamInterruptedError",
        "TokenLimitError",
        "UnknownArgumentError",
        "UnknownPriceError",
        "UnsafeSourceError",
        "UnsupportedContentError",
        "VideoSourceError",
        "VideoTooLargeError",
        "VideoValidationError",
    ],
    "store": [
        "REFERENCE_PREFIX",
        "MediaInfo",
        "MediaStore",
        "StoreSource",
        "default_store_root",
        "is_reference",
        "make_reference_part",
        "no_store_error",
        "reference_id",
        "resolve_reference",
        "validate_media_id",
    ],
    "tools": ["DEFAULT_PROMPT", "WatchVideoInput", "WatchVideoTool"],
    "document_loaders": [
        "DEFAULT_PROMPT",
        "VIDEO_SUFFIXES",
        "BudgetExceededError",
        "CorpusEstimate",
        "EmptyDescriptionError",
        "Segment",
        "SegmentDescriber",
        "VideoDescriptionLoader",
        "events_from_metadata",
        "format_time_range",
        "format_timestamp",
    ],
    "chat_models": ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "ChatMiMo"],
    "doctor": ["Finding", "Report", "add_arguments", "run", "run_doctor"],
}

RAY = [
    "OUTPUT_COLUMNS",
    "CacheSpec",
    "describe_videos",
    "estimate_videos",
    "rows_to_documents",
]


def all_modules() -> list[str]:
    """Every module of the package (ray's too: importing it does not import Ray)."""
    found = pkgutil.walk_packages(langchain_mimo_video.__path__, "langchain_mimo_video.")
    return ["langchain_mimo_video", *sorted(module.name for module in found)]


def test_root_exports() -> None:
    assert sorted(langchain_mimo_video.__all__) == sorted(ROOT)
    assert len(set(langchain_mimo_video.__all__)) == len(langchain_mimo_video.__all__)


@pytest.mark.parametrize("name", sorted(SUBMODULES))
def test_public_submodule_exports(name: str) -> None:
    module = importlib.import_module(f"langchain_mimo_video.{name}")
    assert sorted(module.__all__) == sorted(SUBMODULES[name])


def test_ray_exports_without_importing_ray() -> None:
    code = (
        "import sys, langchain_mimo_video.ray as r; "
        "print('ray' in sys.modules); print(','.join(sorted(r.__all__)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    imported_ray, names = done.stdout.split()
    assert imported_ray == "False"
    assert names.split(",") == sorted(RAY)


@pytest.mark.parametrize("name", all_modules())
def test_every_module_declares_all_and_every_name_in_it_exists(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
    missing = [item for item in module.__all__ if not hasattr(module, item)]
    assert missing == []


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_root_names_resolve_to_the_submodule_objects(name: str) -> None:
    value = getattr(langchain_mimo_video, name)
    assert value is getattr(importlib.import_module(LAZY[name]), name)
    assert name in dir(langchain_mimo_video)


def test_an_unknown_root_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = langchain_mimo_video.nope  # type: ignore[attr-defined]


def test_root_names_are_the_submodules_objects() -> None:
    assert (
        langchain_mimo_video.ChatMiMo
        is importlib.import_module("langchain_mimo_video.chat_models").ChatMiMo
    )
    errors = importlib.import_module("langchain_mimo_video.errors")
    for name in SUBMODULES["errors"]:
        assert getattr(langchain_mimo_video, name) is getattr(errors, name)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def _is_self(node: ast.expr) -> bool:
    if isinstance(node, ast.Name) and node.id in ("self", "cls"):
        return True
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "super"


def _private_uses(path: Path) -> list[str]:
    """Imports of another module's underscore names, and ``obj._name`` or
    ``getattr(obj, "_name")`` (``hasattr``, ``setattr``, ``delattr`` alike) on anything but
    ``self``/``cls`` (importing an underscore *module* of the package is fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.startswith("_")
            and not node.args[1].value.startswith("__")
            and not _is_self(node.args[0])
        ):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            for alias in node.names:
                name = alias.name
                if not name.startswith("_") or name.startswith("__"):
                    continue
                if not _is_module(f"{node.module}.{name}"):
                    found.append(f"{path.name}:{node.lineno}: from {node.module} import {name}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if node.attr.startswith("__"):
                continue
            if _is_self(node.value):
                continue
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_private_name_check_sees_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from langchain_mimo_video.video import _hidden\n"
        "client._secret\n"
        "getattr(client, '_secret', None)\n"
        "setattr(client, '_secret', 1)\n"
        "hasattr(client, '_secret')\n"
        "self._mine\n"
        "getattr(self, '_mine')\n"
        "super()._parent\n"
        "getattr(client, '__dict__')\n"
        "getattr(client, name)\n",
        encoding="utf-8",
    )
    assert [use.split(": ", 1)[1] for use in _private_uses(sample)] == [
        "from langchain_mimo_video.video import _hidden",
        "client._secret",
        "getattr(client, '_secret', None)",
        "setattr(client, '_secret', 1)",
        "hasattr(client, '_secret')",
    ]


def test_no_module_uses_another_modules_private_names() -> None:
    root = Path(langchain_mimo_video.__file__).parent
    found = [use for path in sorted(root.rglob("*.py")) for use in _private_uses(path)]
    assert found == []
