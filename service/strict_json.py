"""Request bodies read with two of a deal file's JSON rules (engine.loading): a repeated key, or nesting past
the deal limit, is malformed JSON (400) — the same answer on every Python version, where the framework's own
decoder would keep the last of two keys, or accept or refuse deep nesting depending on the version. Values
(NaN, unpaired surrogates, ...) are left to validation, which names the field or the batch item."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from ..engine.loading import MAX_DEPTH, deeper_than, object_without_repeats

BODY_DEPTH = MAX_DEPTH + 2  # a batch wraps its deals in {"deals": [...]}


class StrictJsonRequest(Request):
    """A request whose json() is the deal reader's JSON."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            too_deep = f"the document is nested deeper than {BODY_DEPTH} levels"
            # FastAPI turns a JSONDecodeError into a json_invalid validation error: a 400 problem with its message.
            try:
                data = json.loads(body, object_pairs_hook=object_without_repeats)
            except json.JSONDecodeError:
                raise
            except RecursionError:
                raise json.JSONDecodeError(too_deep, "", 0) from None
            except ValueError as error:  # a repeated key, or bytes that are no JSON encoding
                raise json.JSONDecodeError(str(error), "", 0) from None
            if deeper_than(data, BODY_DEPTH):
                raise json.JSONDecodeError(too_deep, "", 0)
            self._json = data
        return self._json


class StrictJsonRoute(APIRoute):
    """A route that hands its endpoint a StrictJsonRequest."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def strict_handler(request: Request):
            authorise = getattr(request.app.state, "authorise", None)
            if authorise is not None:
                authorise(request)  # 401 before a caller without a token gets its body read, parsed or judged
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
