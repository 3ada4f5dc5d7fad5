"""What-if: re-evaluate a deal with a proposed change and report which findings clear and which appear.

A change is a patch over the deal document, JSON Merge Patch (RFC 7396)
semantics with one addition for contacts:

- a mapping merges key by key; `null` removes a key (back to its default);
- `contacts` merges by `id`: a listed contact updates the contact with that id
  or is added if the id is new; `{id: x, _delete: true}` removes contact x;
- any other list (milestones, competitors, receivables, committee) replaces
  the whole list.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import DealInputError, InputProblem

DELETE = "_delete"


def _merge_contacts(current: Any, patch: list, path: str) -> list:
    if not isinstance(current, list):
        current = []
    merged = [copy.deepcopy(c) for c in current]
    for index, change in enumerate(patch):
        where = f"{path}[{index}]"
        if not isinstance(change, dict) or not isinstance(change.get("id"), str):
            raise DealInputError("what-if", [InputProblem(where, "a contact change needs the contact's id")])
        position = next((i for i, c in enumerate(merged) if isinstance(c, dict) and c.get("id") == change["id"]), None)
        if DELETE in change and not isinstance(change[DELETE], bool):
            raise DealInputError("what-if", [InputProblem(f"{where}.{DELETE}", f"true or false, not {change[DELETE]!r}")])
        if change.get(DELETE) is True:
            if position is None:
                raise DealInputError("what-if", [InputProblem(where, f"no contact with id {change['id']!r} to delete")])
            del merged[position]
        elif position is None:
            merged.append({k: v for k, v in change.items() if k != DELETE})
        else:
            merged[position] = merge_patch(merged[position], {k: v for k, v in change.items() if k != DELETE})
    return merged


def merge_patch(document: Any, patch: Any, path: str = "") -> Any:
    """`document` with `patch` applied (see module docstring); neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(document) if isinstance(document, dict) else {}
    for key, value in patch.items():
        where = f"{path}.{key}" if path else str(key)
        if value is None:
            result.pop(key, None)
        elif key == "contacts" and not path and isinstance(value, list):
            result[key] = _merge_contacts(result.get(key), value, where)
        else:
            result[key] = merge_patch(result.get(key), value, where)
    return result
