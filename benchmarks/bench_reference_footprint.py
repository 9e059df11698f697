"""Where a 30 MB video goes: checkpoints, callbacks and caches, inline vs by reference.

The same conversation runs twice against the MiMo contract server (in this process, on
127.0.0.1; it decodes every video it receives, so its answers depend on what was sent):
once with the video inline (``VideoLoader().load(path)``, a base64 data URL) and once by
reference (``VideoLoader(store=store)`` and ``ChatMiMo(media_store=store)``). Measured:

* **checkpoints**: ``create_agent`` with a SQLite checkpointer (``SqliteSaver``), 5 turns,
  the first message holding the video: the database file's size; the replies must match;
* **callbacks**: the JSON of the serialized messages ``on_chat_model_start`` receives (what
  LangSmith records for a run);
* **cache**: ``ChatMiMo(cache=...)`` asked the same question about the same video twice
  (the second must be a hit: no request reaches the server), then about another video (a
  miss); the size of the SQLite cache file. The cache here stores what LangChain's
  ``SQLiteCache`` stores (the prompt string, the model string and the answer), in one
  table, so this needs no langchain-community.

Needs ``langgraph-checkpoint-sqlite`` (``pip install -r benchmarks/requirements.txt``).
Run from the repository root: ``python -m benchmarks.bench_reference_footprint [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from benchmarks._common import check_repo_root, print_header, require, table, verdict, work_dir
from benchmarks.bench_large_file import make_large_video

QUESTION = "What happens in this clip?"
FOLLOW_UPS = ("And then?", "What colours stand out?", "Is there sound?", "Sum it up.")
TARGET_BYTES = 30_000_000


class _SQLiteCache:
    """The storage of LangChain's ``SQLiteCache``: (prompt, llm, idx) -> response JSON."""

    def __init__(self, path: Path) -> None:
        from langchain_core.caches import BaseCache

        class Cache(BaseCache):
            def __init__(self) -> None:
                self.db = sqlite3.connect(path, check_same_thread=False)
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS full_llm_cache (prompt TEXT, llm TEXT, "
                    "idx INTEGER, response TEXT, PRIMARY KEY (prompt, llm, idx))"
                )

            def lookup(self, prompt: str, llm_string: str) -> Any:
                from langchain_core.load import loads

                rows = self.db.execute(
                    "SELECT response FROM full_llm_cache WHERE prompt = ? AND llm = ? ORDER BY idx",
                    (prompt, llm_string),
                ).fetchall()
                return [loads(row[0], allowed_objects="all") for row in rows] or None

            def update(self, prompt: str, llm_string: str, return_val: Sequence[Any]) -> None:
                from langchain_core.load import dumps

                for index, generation in enumerate(return_val):
                    self.db.execute(
                        "INSERT OR REPLACE INTO full_llm_cache VALUES (?, ?, ?, ?)",
                        (prompt, llm_string, index, dumps(generation)),
                    )
                self.db.commit()

            def clear(self, **kwargs: Any) -> None:
                self.db.execute("DELETE FROM full_llm_cache")

        self.cache = Cache()


def _callback_size(llm: Any, message: Any) -> int:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.load import dumpd

    sizes: list[int] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(
            self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID, **kw: Any
        ) -> None:
            sizes.append(len(json.dumps([[dumpd(m) for m in batch] for batch in messages])))

    llm.invoke([message], config={"callbacks": [Recorder()]})
    return sizes[0]


def measure(variant: str, video: Path, other: Path, base_url: str, server: Any) -> dict[str, Any]:
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.sqlite import SqliteSaver

    from langchain_mimo_video import ChatMiMo, VideoLoader
    from langchain_mimo_video.store import MediaStore

    folder = work_dir("reference_footprint") / variant
    shutil.rmtree(folder, ignore_errors=True)  # a fresh store, database and cache each run
    folder.mkdir(parents=True)
    store = MediaStore(folder / "store")
    by_reference = variant == "reference"
    loader = VideoLoader(store=store) if by_reference else VideoLoader()  # type: ignore[call-arg]
    extra = {"media_store": store} if by_reference else {}
    llm = ChatMiMo(model="mimo-v2.5", base_url=base_url, api_key="bench-key", **extra)
    part = loader.load(video)
    first = HumanMessage(content=[part, {"type": "text", "text": QUESTION}])
    result: dict[str, Any] = {"part_json": len(json.dumps(part))}

    database = folder / "checkpoints.sqlite"
    connection = sqlite3.connect(database, check_same_thread=False)
    agent = create_agent(llm, tools=[], checkpointer=SqliteSaver(connection))
    config: Any = {"configurable": {"thread_id": "bench"}}
    replies = []
    for turn in (first, *(HumanMessage(content=text) for text in FOLLOW_UPS)):
        state = agent.invoke({"messages": [turn]}, config)
        replies.append(state["messages"][-1].content)
    connection.close()  # SqliteSaver writes ahead to a -wal file; closing merges it
    result["checkpoint_bytes"] = sum(
        path.stat().st_size for path in folder.glob("checkpoints.sqlite*")
    )
    result["replies"] = replies

    result["callback_bytes"] = _callback_size(llm, first)

    cache_file = folder / "cache.sqlite"
    cached = ChatMiMo(
        model="mimo-v2.5",
        base_url=base_url,
        api_key="bench-key",
        cache=_SQLiteCache(cache_file).cache,
        **extra,
    )
    before = len(server.chat_requests)
    cached.invoke([first])
    cached.invoke([first])
    result["requests_for_two"] = len(server.chat_requests) - before
    second_video = loader.load(other)
    cached.invoke([HumanMessage(content=[second_video, {"type": "text", "text": QUESTION}])])
    result["requests_for_other"] = len(server.chat_requests) - before - result["requests_for_two"]
    result["cache_bytes"] = cache_file.stat().st_size
    shutil.rmtree(folder, ignore_errors=True)  # the inline run leaves about 700 MB
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 3 MB video: smoke run")
    args = parser.parse_args(argv)
    check_repo_root()
    require("langgraph.checkpoint.sqlite", "langgraph-checkpoint-sqlite", why="SqliteSaver")
    from langchain_mimo_video import ChatMiMo

    if "media_store" not in ChatMiMo.model_fields:
        print("ChatMiMo does not take media_store= yet: nothing to compare.")
        return 1
    from tests.mimo_server import MiMoContractServer

    target = 3_000_000 if args.quick else TARGET_BYTES
    folder = work_dir("reference_footprint")
    video = folder / f"noise-{target}.mp4"
    other = folder / "other-1000000.mp4"
    if not video.exists():
        print(f"generating {video.name} ...", flush=True)
        make_large_video(video, target)
    if not other.exists():
        make_large_video(other, 1_000_000)
    size = video.stat().st_size
    print_header(
        "bench_reference_footprint: a video inline vs by reference, in checkpoints, "
        "callbacks and caches",
        f"video {size:,} bytes; contract server on 127.0.0.1 in this process",
    )
    results = {}
    with MiMoContractServer(api_key="bench-key") as server:
        for variant in ("inline", "reference"):
            results[variant] = measure(variant, video, other, server.base_url, server)
            print(f"{variant} done", flush=True)
    inline, reference = results["inline"], results["reference"]
    rows = [
        (
            what,
            f"{inline[key]:,}",
            f"{reference[key]:,}",
            f"{reference[key] / inline[key]:.4f}x",
        )
        for what, key in (
            ("the video part, as JSON", "part_json"),
            ("checkpoint database, 5 turns", "checkpoint_bytes"),
            ("on_chat_model_start messages, serialized", "callback_bytes"),
            ("cache file after 3 calls", "cache_bytes"),
        )
    ]
    print(table(["bytes", "inline (baseline)", "reference", "ratio"], rows))
    print()
    same = inline["replies"] == reference["replies"]
    ratio = reference["checkpoint_bytes"] / inline["checkpoint_bytes"]
    print(
        f"target: checkpoint database <= 1% of inline's: {ratio:.2%} -> "
        f"{verdict(ratio <= 0.01)}; replies identical: {verdict(same)}"
    )
    print(
        f"target: callbacks receive < 2 KB: {reference['callback_bytes']:,} bytes -> "
        f"{verdict(reference['callback_bytes'] < 2048)}"
    )
    hit = reference["requests_for_two"] == 1
    miss = reference["requests_for_other"] == 1
    small = reference["cache_bytes"] < 1_000_000
    print(
        f"target: same video twice is a cache hit ({reference['requests_for_two']} request for "
        f"2 calls) -> {verdict(hit)}; another video is a miss -> {verdict(miss)}; cache file "
        f"{reference['cache_bytes']:,} bytes < 1 MB -> {verdict(small)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
