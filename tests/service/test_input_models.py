"""Every string a write endpoint reads refuses control characters (hypothesis).

The models are found from the routes themselves (each handler's `data` parameter), so
an endpoint or a field added later is covered without being listed here: a string
field without a pattern that refuses them fails this test.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Controller
from litestar.handlers import HTTPRouteHandler

from service.app import route_handlers

pytestmark = pytest.mark.stores_independent  # pure: run once, in the embedded pass

CONTROL = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x1F),
                    st.characters(min_codepoint=0x7F, max_codepoint=0x9F))


def write_handlers() -> Iterator[HTTPRouteHandler]:
    for handler in route_handlers():
        if isinstance(handler, type) and issubclass(handler, Controller):
            yield from (v for v in vars(handler).values() if isinstance(v, HTTPRouteHandler))
        elif isinstance(handler, HTTPRouteHandler):
            yield handler


def input_models() -> dict[str, Any]:
    models = {}
    for handler in write_handlers():
        hints = typing.get_type_hints(handler.fn, include_extras=True)
        if "data" in hints:
            models[f"{sorted(handler.http_methods)[0]} {handler.fn.__qualname__}"] = hints["data"]
    return models


def string_fields(info: mi.Type, path: str) -> Iterator[tuple[str, mi.StrType]]:
    """Every string (values and dict keys) reachable in a model, with its path."""
    if isinstance(info, mi.Metadata):
        yield from string_fields(info.type, path)
    elif isinstance(info, mi.StructType):
        for f in info.fields:
            yield from string_fields(f.type, f"{path}.{f.name}")
    elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        yield from string_fields(info.item_type, f"{path}[]")
    elif isinstance(info, mi.DictType):
        yield from string_fields(info.key_type, f"{path}{{key}}")
        yield from string_fields(info.value_type, f"{path}{{value}}")
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            yield from string_fields(member, path)
    elif isinstance(info, mi.StrType):
        yield path, info


FIELDS = [(f"{name}{path}", field) for name, model in input_models().items()
          for path, field in string_fields(mi.type_info(model), "")]


def test_the_write_endpoints_and_their_string_fields_are_found() -> None:
    names = {name.split(".")[0] for name, _ in FIELDS}
    assert len(FIELDS) >= 20, names
    assert any(".votes[].voter" in name for name, _ in FIELDS)
    assert any("country_weights{key}" in name for name, _ in FIELDS)


@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[name for name, _ in FIELDS])
@settings(max_examples=30, deadline=None)
@given(before=st.text(max_size=8), control=CONTROL, after=st.text(max_size=8))
def test_a_string_field_refuses_a_control_character_anywhere(
        name: str, field: mi.StrType, before: str, control: str, after: str) -> None:
    assert field.pattern is not None, f"{name} takes any string"
    constrained = Annotated[str, msgspec.Meta(pattern=field.pattern)]
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(before + control + after), type=constrained)
