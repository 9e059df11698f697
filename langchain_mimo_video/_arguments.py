"""Constructor arguments of ``ChatMiMo``: refuse unknown ones, naming the one probably meant.

Pydantic would drop an unknown argument silently (LangChain's models ignore extras), so
``ChatMiMo(fps=1)`` would send fps 2. Every argument is checked against the fields and
their aliases; MiMo-only request fields go through ``model_kwargs`` / ``extra_body``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import AliasChoices, BaseModel

from langchain_mimo_video.errors import UnknownArgumentError

__all__ = ["accepted_arguments", "check_arguments"]

#: Names that difflib would not link to the field meant (MiMo's per-part names, other
#: integrations' spellings).
_MEANT: Final[Mapping[str, str]] = {
    "fps": "video_fps",
    "frame_rate": "video_fps",
    "resolution": "video_media_resolution",
    "media_resolution": "video_media_resolution",
    "key": "api_key",
    "apikey": "api_key",
    "openai_api_key": "api_key",
    "mimo_base_url": "base_url",
    "endpoint": "base_url",
    "openai_api_base": "base_url",
    "max_output_tokens": "max_tokens",
    "reasoning": "thinking",
    "enable_thinking": "thinking",
    "retries": "max_retries",
}


def accepted_arguments(model: type[BaseModel]) -> frozenset[str]:
    """Every name ``model``'s constructor takes: field names and all their aliases."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        if field.alias:
            names.add(field.alias)
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(choice for choice in alias.choices if isinstance(choice, str))
    return frozenset(names)


def _meant(argument: str, fields: Iterable[str]) -> str | None:
    lowered = argument.lower()
    if lowered in _MEANT:
        return _MEANT[lowered]
    candidates = sorted(fields)
    for guess in (lowered, f"video_{lowered}"):
        close = difflib.get_close_matches(guess, candidates, n=1, cutoff=0.75)
        if close:
            return close[0]
    return None


def check_arguments(model: type[BaseModel], data: Mapping[str, Any]) -> None:
    """Raise for the first argument in ``data`` that ``model`` has no field for.

    Raises:
        UnknownArgumentError: naming the argument, the field probably meant, and where
            MiMo-only request fields go instead.

    """
    accepted = accepted_arguments(model)
    for argument in data:
        if argument in accepted:
            continue
        meant = _meant(argument, model.model_fields)
        where = f"model_kwargs={{{argument!r}: ...}} (or extra_body=...), which are sent as given"
        text = f"{model.__name__} has no argument {argument!r}"
        if meant:
            text += f"; did you mean {meant}=...? (A request field with no argument of its "
            text += f"own goes in {where}.)"
        else:
            text += f". Request fields with no argument of their own go in {where}."
        raise UnknownArgumentError(
            text,
            argument=argument,
            suggestion=meant,
        )
