"""Declaring what a setting allows, next to the code that uses it: a number's range (`Number`)
or the words it takes, in a dataclass field (`setting`) or a function parameter's annotation
(`Annotated[float, POSITIVE]`); and the checks built from such declarations, each failure one
line. Free of torch, so that a command line is checked in a second."""

import math
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Number:
    """What a numeric setting allows: an integer or any real number, finite, within bounds.

    `low`/`high` are inclusive unless `open_low`/`open_high`; None leaves that side open."""

    integer: bool = False
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    nullable: bool = False

    def allows(self, value: object) -> bool:
        if value is None:
            return self.nullable
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or (value < self.high if self.open_high else value <= self.high)

    def describe(self) -> str:
        def num(x: float) -> str:
            return str(int(x)) if float(x).is_integer() else f"{x:g}"

        kind = "an integer" if self.integer else "a number"
        if self.low == 0 and self.open_low and self.high is None:
            text = "a positive integer" if self.integer else "a positive number"
        elif self.low is not None and self.high is not None:
            if self.integer:
                text = f"{kind} from {num(self.low)} to {num(self.high)}"
            else:
                text = (
                    f"a number in {'(' if self.open_low else '['}{num(self.low)}, "
                    f"{num(self.high)}{')' if self.open_high else ']'}"
                )
        elif self.low is not None:
            text = f"{kind} {'>' if self.open_low else '>='} {num(self.low)}"
        elif self.high is not None:
            text = f"{kind} {'<' if self.open_high else '<='} {num(self.high)}"
        else:
            text = f"a finite {kind.removeprefix('a ').removeprefix('an ')}"
        return f"{text} or null" if self.nullable else text

    def refusal(self, key: str, value: object) -> str:
        """The one line for a value of `key` that this does not allow."""
        return f"{key} must be {self.describe()}, got {value!r}"


def not_an_option(key: str, value: object, allowed: tuple[str, ...] | list[str]) -> str:
    """The one line for a word that is not among a setting's (or a config group's) options."""
    return f"{key}={value} is not an option; choose one of: {', '.join(allowed)}"


POSITIVE = Number(low=0, open_low=True)
POSITIVE_INT = Number(integer=True, low=0, open_low=True)
NON_NEGATIVE = Number(low=0)
NON_NEGATIVE_INT = Number(integer=True, low=0)
FRACTION = Number(low=0, high=1, open_high=True)  # [0, 1): a rate, a share, a decay


def setting(default: Any, number: Number | None = None, words: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with what it allows: a number's range, or the words it takes."""
    return field(default=default, metadata={"number": number, "words": words})


def list_setting(default: list | None, each: Number) -> Any:
    """A dataclass field holding a list of numbers (or null), with what each of them allows."""
    factory = (lambda: list(default)) if default is not None else (lambda: None)
    return field(default_factory=factory, metadata={"each": each})


def declared_lists(prefix: str, schema: type) -> dict[str, Number]:
    """What each number of a schema's list settings (list_setting) allows, keyed by `prefix.name`."""
    return {f"{prefix}.{f.name}": f.metadata["each"] for f in fields(schema) if f.metadata.get("each")}


def declared(prefix: str, schema: type) -> tuple[dict[str, tuple[str, ...]], dict[str, Number]]:
    """The words and number ranges a schema declares, keyed by where they live in the config
    (`prefix.name`)."""
    words, numbers = {}, {}
    for f in fields(schema):
        if f.metadata.get("words"):
            words[f"{prefix}.{f.name}"] = f.metadata["words"]
        if f.metadata.get("number"):
            numbers[f"{prefix}.{f.name}"] = f.metadata["number"]
    return words, numbers


def declared_parameters(
    prefix: str, function: Any
) -> tuple[dict[str, tuple[str, ...]], dict[str, Number], dict[str, Number]]:
    """The words, numbers and lists of numbers a function's parameters declare in their
    annotations (`k: Annotated[float, POSITIVE]`, `shape: Annotated[str, ("linear", ...)]`,
    `multipliers: Annotated[list[float], POSITIVE]`), keyed by `prefix.name`."""
    import typing

    words, numbers, lists = {}, {}, {}
    for name, hint in typing.get_type_hints(function, include_extras=True).items():
        if typing.get_origin(hint) is not typing.Annotated:
            continue
        base, *marks = typing.get_args(hint)
        for mark in marks:
            if isinstance(mark, Number):
                (lists if typing.get_origin(base) is list else numbers)[f"{prefix}.{name}"] = mark
            elif isinstance(mark, tuple) and all(isinstance(w, str) for w in mark):
                words[f"{prefix}.{name}"] = mark
    return words, numbers, lists


def check(prefix: str, schema: type, values: dict[str, Any]) -> None:
    """Raise ValueError for the first of `values` that its declaration in `schema` does not allow."""
    words, numbers = declared(prefix, schema)
    each_number = declared_lists(prefix, schema)
    for name, value in values.items():
        key = f"{prefix}.{name}"
        if key in words and value not in words[key]:
            raise ValueError(not_an_option(key, value, words[key]))
        if key in numbers and not numbers[key].allows(value):
            raise ValueError(numbers[key].refusal(key, value))
        for v in value if isinstance(value, list | tuple) else ():
            if key in each_number and not each_number[key].allows(v):
                raise ValueError(f"every value in {key} must be {each_number[key].describe()}, got {v!r}")
