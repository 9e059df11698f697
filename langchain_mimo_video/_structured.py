"""Tools and structured output for ChatMiMo: ``tool_choice`` forms and output parsers.

MiMo documents function calling and ``response_format={"type": "json_object"}`` but no
strict JSON-schema mode, so ``method="json_schema"`` also forces a function call.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Literal, Protocol

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.base import OutputParserLike
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel

from langchain_mimo_video.errors import InvalidArgumentError

__all__ = ["StructuredMethod", "structured_output", "tool_choice"]

StructuredMethod = Literal["function_calling", "json_mode", "json_schema"]


class _Binds(Protocol):
    def bind_tools(self, tools: Any, **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]: ...

    def bind(self, **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]: ...


def structured_output(
    llm: _Binds,
    schema: dict[str, Any] | type | None,
    method: str,
    include_raw: bool,
    strict: bool | None,
    unexpected: dict[str, Any],
) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
    """The runnable behind ``ChatMiMo.with_structured_output`` (see its docstring).

    Raises:
        InvalidArgumentError: for an unknown method, a missing schema or extra arguments.

    """
    if unexpected:
        raise InvalidArgumentError(
            f"with_structured_output() takes no argument(s) {sorted(unexpected)}; it accepts "
            "schema, method, include_raw and strict."
        )
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    parser: OutputParserLike[Any]
    bound: Runnable[LanguageModelInput, AIMessage]
    if method in ("function_calling", "json_schema"):
        if schema is None:
            raise InvalidArgumentError(
                f"method={method!r} needs a schema: pass a Pydantic class, a TypedDict or "
                "a JSON schema."
            )
        tool = convert_to_openai_tool(schema, strict=strict)
        name = tool["function"]["name"]
        bound = llm.bind_tools(
            [tool],
            tool_choice=name,
            strict=strict,
            ls_structured_output_format={
                "kwargs": {"method": method, "strict": strict},
                "schema": tool,
            },
        )
        if is_pydantic:
            parser = PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
        else:
            parser = JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
    elif method == "json_mode":
        bound = llm.bind(
            response_format={"type": "json_object"},
            ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
        )
        parser = (
            PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            if is_pydantic
            else JsonOutputParser()
        )
    else:
        raise InvalidArgumentError(
            f"Unknown method {method!r}: use 'function_calling', 'json_schema' or 'json_mode'."
        )
    if not include_raw:
        return bound | parser
    parse = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=bound) | parse.with_fallbacks([fallback], exception_key="parsing_error")


def tool_choice(choice: dict[str, Any] | str | bool, names: list[str]) -> dict[str, Any] | str:
    """MiMo's ``tool_choice`` for LangChain's forms (see ``ChatMiMo.bind_tools``).

    Raises:
        InvalidArgumentError: for a name that is not bound, or ``True`` with several tools.

    """
    if isinstance(choice, dict):
        return choice
    if choice is True:
        if len(names) != 1:
            raise InvalidArgumentError(
                f"tool_choice=True needs exactly one tool, got {len(names)}; name the tool."
            )
        choice = names[0]
    if choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    if isinstance(choice, str):
        if choice not in names:
            raise InvalidArgumentError(
                f"tool_choice={choice!r} is not one of the bound tools {names}; name one of "
                "them, or use 'auto', 'none' or 'required'."
            )
        return {"type": "function", "function": {"name": choice}}
    raise InvalidArgumentError(
        f"Unsupported tool_choice {choice!r}: use 'auto', 'none', 'required' / 'any', a "
        "tool's name, True (the only tool) or an OpenAI tool_choice dict."
    )
