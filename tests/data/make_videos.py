"""Regenerate the small videos the integration tests send (run from the repository root).

    python -m tests.data.make_videos

They are committed, not generated at test time, because cassettes match a data URL by
the hash of its bytes and encoders (and the muxer's version tag) change those bytes from
one PyAV release to the next. Re-running this script changes the bytes; re-record the
cassettes afterwards (see README.md).
"""

from __future__ import annotations

from pathlib import Path

from tests.videos import make_video

FOLDER = Path(__file__).parent / "videos"

#: name -> arguments for tests.videos.write_video
VIDEOS: dict[str, dict[str, object]] = {
    "kitten.mp4": {
        "width": 160,
        "height": 90,
        "duration": 2.0,
        "fps": 10,
        "audio": True,
        "colors": ["white", "blue"],
    },
    "clip.mov": {"width": 96, "height": 64, "duration": 1.0, "fps": 10, "container": "mov"},
    "clip.avi": {"width": 96, "height": 64, "duration": 1.0, "fps": 10, "container": "avi"},
    "clip.wmv": {
        "width": 96,
        "height": 64,
        "duration": 1.0,
        "fps": 10,
        "container": "wmv",
        "audio": True,
    },
    "portrait.mp4": {"width": 90, "height": 160, "duration": 1.5, "fps": 10, "colors": ["green"]},
    "traffic.mp4": {
        "width": 128,
        "height": 72,
        "duration": 6.0,
        "fps": 5,
        "colors": ["red", "yellow", "green"],
    },
}


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, options in VIDEOS.items():
        path = make_video(FOLDER / name, **options)
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
