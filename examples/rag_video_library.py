"""Search a folder of videos: index them as time-coded segments, then answer a question.

MiMo describes every segment of every video (VideoDescriptionLoader); the descriptions go
into a vector store with their file and time range; a question retrieves the closest
segments and MiMo answers from them, citing "[file mm:ss-mm:ss]".

Run (from the repository root):
    MIMO_API_KEY=sk-... python examples/rag_video_library.py FOLDER "When does the red car arrive?"

Options:
    --glob "**/*.mp4"          which files of FOLDER to index (default: every MP4, MOV, AVI, WMV)
    --segment-seconds 30       length of the indexed segments (default 30)
    --overlap-seconds 5        overlap of neighbouring segments (default 5)
    --fps 1                    frames MiMo samples per second (default 2)
    --k 3                      segments retrieved per question (default 3)
    --max-concurrency 4        segments described at once (default 4)
    --index FILE               save the index to FILE after describing, or load it from FILE
                               if it exists (describe once, ask many times)
    --embeddings NAME          keyword (default), openai, or package.module:Class
    --progress                 show a progress bar while describing (pip install tqdm)
    --cache FILE               keep MiMo's descriptions in FILE (SQLite): a run stopped part-way
                               resumes, and re-indexing an unchanged library sends nothing

Embeddings: the default, ``keyword``, is ``KeywordEmbeddings`` below, a deterministic
bag-of-words embedding that needs no API, no download and no extra package, so the example
runs with nothing but a MiMo key. It retrieves by shared words only. For retrieval by
meaning, plug in real embeddings: ``--embeddings openai`` uses langchain-openai's
``OpenAIEmbeddings`` (``pip install langchain-openai``, reads ``OPENAI_API_KEY``), and
``--embeddings package.module:Class`` any LangChain ``Embeddings`` class that can be built
without arguments (for example ``langchain_huggingface:HuggingFaceEmbeddings`` for a local
model). In code, pass any ``Embeddings`` object to ``InMemoryVectorStore`` or to any other
LangChain vector store.

``main(argv, **chat_params)`` is importable: ``chat_params`` go to ``ChatMiMo`` (the tests
point it at recorded answers).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import math
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openai
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_mimo_video import ChatMiMo, MiMoError, MissingAPIKeyError, VideoLoader
from langchain_mimo_video.document_loaders import VideoDescriptionLoader

SYSTEM = (
    "You answer questions about a video library from notes on its segments. Each note starts "
    "with its label, [file mm:ss-mm:ss]. Use only the notes, and cite the label of every note "
    "you rely on. If the notes do not answer the question, say so."
)


class KeywordEmbeddings(Embeddings):
    """A deterministic bag-of-words embedding that needs no API (keyword retrieval).

    Every word (lower-cased, common words dropped) adds 1 to one of ``size`` axes, chosen
    by a hash of the word; vectors are scaled to length 1, so cosine similarity counts
    shared words. Stable across runs and machines.
    """

    STOP_WORDS = frozenset(
        " ".join(
            (
                "a an and are at be by did does for from how in is it of on or that the",
                "there this to was what when where which who why with",
            )
        ).split()
    )

    def __init__(self, size: int = 1024) -> None:
        self.size = size

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if word not in self.STOP_WORDS:
                digest = hashlib.sha256(word.encode()).digest()
                vector[int.from_bytes(digest[:4], "big") % self.size] += 1.0
        norm = math.sqrt(sum(value * value for value in vector)) or 1.0
        return [value / norm for value in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def make_embeddings(name: str) -> Embeddings:
    """``keyword``, ``openai``, or ``package.module:Class`` (built without arguments)."""
    if name == "keyword":
        return KeywordEmbeddings()
    if name == "openai":
        module, attribute = "langchain_openai", "OpenAIEmbeddings"
    elif ":" in name:
        module, attribute = name.split(":", 1)
    else:
        raise ValueError(f"--embeddings must be keyword, openai or package.module:Class: {name!r}")
    try:
        embeddings_class = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load embeddings {name!r}: {error}") from None
    try:
        embeddings = embeddings_class()
    except Exception as error:
        raise ValueError(f"cannot build embeddings {name!r} without arguments: {error}") from None
    if not isinstance(embeddings, Embeddings):
        raise ValueError(f"{name!r} is not a LangChain Embeddings class")
    return embeddings


def label(document: Document, folder: Path) -> str:
    """``[file mm:ss-mm:ss]`` with the file relative to the library folder."""
    source = Path(document.metadata["source"])
    try:
        name = source.relative_to(folder).as_posix()
    except ValueError:  # an index made from another folder
        name = source.name
    return f"[{name} {document.metadata['time_range']}]"


def build_index(
    args: argparse.Namespace, llm: ChatMiMo, embeddings: Embeddings
) -> InMemoryVectorStore:
    """Describe every segment of every video and index the descriptions."""
    loader = VideoDescriptionLoader.from_directory(
        args.folder,
        glob=args.glob,
        llm=llm,
        loader=VideoLoader(fps=args.fps),
        segment_seconds=args.segment_seconds,
        overlap_seconds=args.overlap_seconds,
        max_concurrency=args.max_concurrency,
        show_progress=args.progress,
        on_error="skip",  # a bad file is logged and left out; the rest is indexed
        cache=args.cache,  # None: nothing kept
    )
    store = InMemoryVectorStore(embeddings)
    # LangChain's index() writes each description once, skips unchanged ones and, with
    # cleanup="full", removes those of videos gone from the folder. With a persistent
    # record manager (langchain-community's SQLRecordManager) and vector store, a re-run
    # after adding, changing or deleting videos writes only what changed.
    records = InMemoryRecordManager(namespace="mimo-video-library")
    records.create_schema()
    videos: set[str] = set()

    def documents() -> Iterator[Document]:
        for document in loader.lazy_load():  # one at a time: memory stays flat
            videos.add(document.metadata["source"])
            yield document

    result = index(
        documents(),
        records,
        store,
        cleanup="full",
        source_id_key="source",
        key_encoder="sha256",
    )
    count = result["num_added"] + result["num_updated"] + result["num_skipped"]
    print(f"Indexed {count} segments of {len(videos)} of {len(loader.sources)} videos.")
    print(
        f"index(): {result['num_added']} added, {result['num_skipped']} unchanged, "
        f"{result['num_deleted']} removed"
    )
    return store


def answer(question: str, documents: Sequence[Document], folder: Path, llm: ChatMiMo) -> str:
    """Ask MiMo to answer from the retrieved segments, citing their labels."""
    notes = "\n".join(f"{label(d, folder)} {d.page_content}" for d in documents)
    reply = llm.invoke(
        [SystemMessage(SYSTEM), HumanMessage(f"Question: {question}\n\nNotes:\n{notes}")]
    )
    return reply.text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        epilog="Needs MIMO_API_KEY (and MIMO_BASE_URL for Token Plan keys). Exit codes: 0 done, "
        "1 a MiMo or video error or nothing indexed, 2 bad arguments, 3 no API key.",
    )
    parser.add_argument("folder", type=Path, help="the folder of videos")
    parser.add_argument("question", help="what to ask about the videos")
    parser.add_argument(
        "--glob",
        default="**/*",
        help="which files of FOLDER to index (default **/*: every MP4, MOV, AVI, WMV, "
        "subfolders included)",
    )
    parser.add_argument(
        "--segment-seconds",
        type=float,
        default=30.0,
        help="length of the indexed segments, seconds (default 30)",
    )
    parser.add_argument(
        "--overlap-seconds",
        type=float,
        default=5.0,
        help="seconds shared by neighbouring segments (default 5)",
    )
    parser.add_argument(
        "--fps", type=float, default=2.0, help="frames MiMo samples per second, 0.1-10 (default 2)"
    )
    parser.add_argument(
        "--k", type=int, default=3, help="segments retrieved per question (default 3)"
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=4, help="segments described at once (default 4)"
    )
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="save the index to this file after describing, or load it from there if it "
        "exists (describe once, ask many times)",
    )
    parser.add_argument(
        "--embeddings",
        default="keyword",
        help="keyword (default: offline bag of words), openai, or package.module:Class",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar while describing (pip install tqdm)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="keep the descriptions in this SQLite file: a stopped run resumes, and "
        "re-indexing an unchanged library sends nothing",
    )
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def main(argv: Sequence[str] | None = None, **chat_params: Any) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    llm = ChatMiMo(**{"model": "mimo-v2.5", "max_tokens": 1024, **chat_params})
    try:
        embeddings = make_embeddings(args.embeddings)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.index is not None and args.index.exists():
            store = InMemoryVectorStore.load(str(args.index), embeddings)
            print(f"Loaded the index from {args.index}.")
        else:
            store = build_index(args, llm, embeddings)
            if args.index is not None:
                store.dump(str(args.index))
        found = store.as_retriever(search_kwargs={"k": args.k}).invoke(args.question)
        if not found:
            print("Nothing is indexed: no videos were found or described.")
            return 1
        print(answer(args.question, found, args.folder, llm))
    except MissingAPIKeyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (MiMoError, openai.APIError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\nSources:")
    for document in found:
        print(f"  {label(document, args.folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
