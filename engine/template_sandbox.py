"""The sandbox a playbook's templates run in.

A company's templates are code-adjacent input: they may not reach Python internals (jinja2's immutable
sandbox), files outside the playbook directory (PlaybookLoader), or unbounded work, memory or output.
Work is counted, not timed, so a rendering that is refused is refused on every machine: each loop
iteration, call, filter, include and character a template builds draws on one budget per rendering
(work_budget), and no single string or list may grow past MAX_VALUE. Every failure of a template, at load
or at render time, becomes a PlaybookError naming the template file and line (render).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import math
import os
import re
import string
import types
from _string import formatter_field_name_split  # type: ignore[import-not-found]
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.filters import make_attrgetter
from jinja2.loaders import split_template_path
from jinja2.runtime import LoopContext, TemplateReference
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Cycler, Joiner, Namespace
from jinja2.visitor import NodeTransformer
from markupsafe import EscapeFormatter, Markup
from pydantic import BaseModel

from .errors import DealcoachError, PlaybookError
from .code_cache import compiled_templates
from .playbook import MAX_TEMPLATE_BYTES, read_playbook_file

MAX_WORK = 2_000_000  # units per rendering: a loop iteration, a call or a filter is 1, a character built is 1
MAX_VALUE = 1_000_000  # characters of one string, or items (nested items counted) of one list, built by a template
MAX_OUTPUT = 2_000_000  # characters of one rendered document or block
MAX_RANGE = 100_000  # numbers in one range()
MAX_WIDTH = 1_000  # a field width, precision or indent in a format
MAX_BITS = 256  # an integer a template computes (2**256 is far beyond any amount)


class TemplateLimit(Exception):
    """A template went past one of the sandbox's limits."""


# -- the work budget -------------------------------------------------------

_work: ContextVar[list[int] | None] = ContextVar("dealcoach_template_work", default=None)


@contextmanager
def work_budget(extra: int = 0) -> Iterator[None]:
    """One budget of MAX_WORK units, plus `extra` for a document that lists many rows (a roll-up), for
    everything rendered inside; nested uses share the outer one."""
    if _work.get() is not None:
        yield
        return
    token = _work.set([MAX_WORK + extra, extra] if extra else [MAX_WORK])
    try:
        yield
    finally:
        _work.reset(token)


def charge(units: int) -> None:
    """Draw `units` from the current budget; TemplateLimit once it is spent."""
    left = _work.get()
    if left is None:
        return
    left[0] -= units
    if left[0] < 0:
        raise TemplateLimit(
            f"does more than {MAX_WORK:,} steps of work (loop iterations, calls, characters built) in one rendering"
            f"{' beside those its rows allow' if left[1:] else ''}; a template must stay small"
        )


def weight(value: object) -> int:
    """What a value costs to build: characters of a string, items of a collection (nested ones counted)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple | set | frozenset):
        charge(len(value))
        return len(value) + sum(weight(item) for item in value)
    if isinstance(value, dict):
        charge(len(value))
        return len(value) + sum(weight(key) + weight(item) for key, item in value.items())
    return 1  # anything else, a lazy _Counted included (its items are charged as they come)


def scan_cost(value: object) -> int:
    """What reading a value once costs (comparing it, searching it, passing it to a method): its length."""
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset | _Counted):
        return len(value)
    return 0


def weighed(value: object) -> object:
    """`value`, after charging what reading it costs (operands of ==, <, in ...)."""
    charge(scan_cost(value))
    return value


def checked(value: object, what: str = "a value") -> object:
    """`value`, after charging its weight and refusing it when larger than MAX_VALUE."""
    size = weight(value)
    if size > MAX_VALUE:
        raise TemplateLimit(f"builds {what} of {size:,} characters or items; at most {MAX_VALUE:,}")
    charge(size)
    return value


def _at_most(value: int, limit: int, what: str) -> None:
    if not isinstance(value, int) or abs(value) > limit:
        shown = f"{value:,}" if isinstance(value, int) else repr(value)
        raise TemplateLimit(f"{what} of {shown}; at most {limit:,}")


def _small_integer(bits: int) -> None:
    if bits > MAX_BITS:
        raise TemplateLimit(f"computes a number larger than 2**{MAX_BITS}")


# -- counted iteration -----------------------------------------------------


class _Counted:
    """A sized iterable whose every item is charged: range() results and loop iterables."""

    __slots__ = ("_items", "_cost")

    def __init__(self, items: Iterable, cost: int = 1):
        self._items = items
        self._cost = cost

    def __iter__(self) -> Iterator:
        for item in self._items:
            charge(self._cost)
            yield item

    def __len__(self) -> int:
        return len(self._items)  # type: ignore[arg-type]

    def __getitem__(self, index):
        return self._items[index]  # type: ignore[index]

    def __contains__(self, item: object) -> bool:
        return item in self._items  # type: ignore[operator]

    def __repr__(self) -> str:
        return repr(self._items)


def _charged_items(items: Iterable) -> Iterator:
    """The items of a lazy filter result (map, select, ...), each charged with its weight."""
    for item in items:
        charge(1)
        yield checked(item)


def budget_range(*args: int) -> _Counted:
    """range() for templates: at most MAX_RANGE numbers, each charged when iterated."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimit(f"range() of {len(numbers):,} numbers; at most {MAX_RANGE:,}")
    return _Counted(numbers)


# -- guards for what can grow a value past its inputs -------------------------

_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _check_printf(template: str, arguments: object) -> None:
    """`template % arguments` stays within MAX_VALUE: no `*` widths, widths up to MAX_WIDTH."""
    specs = _PRINTF_SPEC.findall(template)
    for width, precision in specs:
        for number in (width, precision):
            if number == "*":
                raise TemplateLimit("a '*' width in a % format is not allowed in a template")
            if number:
                _at_most(int(number), MAX_WIDTH, "a width or precision in a % format")
    values = arguments.values() if isinstance(arguments, dict) else arguments if isinstance(arguments, tuple) else (arguments,)
    largest = max((len(str(value)) for value in values), default=0)
    if len(template) + len(specs) * (largest + MAX_WIDTH) > MAX_VALUE:
        raise TemplateLimit(f"a % format that would build more than {MAX_VALUE:,} characters")


def _check_replace(text: str, old: str, new: str, count: int = -1) -> None:
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    if len(text) + occurrences * max(len(new) - len(old), 0) > MAX_VALUE:
        raise TemplateLimit(f"replace() would build more than {MAX_VALUE:,} characters")


def _check_join(strings: list[str], separator: str) -> None:
    if sum(len(s) for s in strings) + len(separator) * max(len(strings) - 1, 0) > MAX_VALUE:
        raise TemplateLimit(f"join() would build more than {MAX_VALUE:,} characters")


def _check_width(width: int) -> None:
    _at_most(width, MAX_VALUE, "a width")


class _Formatter(string.Formatter):
    """str.format for templates: attribute and item access through the sandbox, bounded widths and size."""

    def __init__(self, env: PlaybookSandbox, **kwargs):
        self._env = env
        self._built = 0
        super().__init__(**kwargs)

    def get_field(self, field_name, args, kwargs):
        first, rest = formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = self._env.getattr(obj, key) if is_attr else self._env.getitem(obj, key)
        return obj, first

    def format_field(self, value, format_spec):
        if "{" in format_spec:
            raise TemplateLimit("a nested replacement field in a format spec is not allowed in a template")
        for number in re.findall(r"\d+", format_spec):
            _at_most(int(number), MAX_WIDTH, "a width or precision in a format spec")
        text = super().format_field(value, format_spec)
        self._built += len(text)
        if self._built > MAX_VALUE:
            raise TemplateLimit(f"a format that builds more than {MAX_VALUE:,} characters")
        return text


class _EscapeFormatter(_Formatter, EscapeFormatter):
    pass


_SAFE_METHODS: tuple[tuple[tuple[type, ...], frozenset[str]], ...] = (
    ((str,), frozenset(
        "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit isidentifier islower "
        "isnumeric isprintable isspace istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex "
        "rpartition rsplit rstrip split splitlines startswith strip swapcase title upper "
        "center ljust rjust zfill replace join striptags unescape".split()
    )),
    ((bool, int, float), frozenset({"is_integer", "bit_length"})),
    ((list, tuple), frozenset({"count", "index", "copy"})),
    ((dict,), frozenset({"get", "items", "keys", "values", "copy"})),
    ((set, frozenset), frozenset({"isdisjoint", "issubset", "issuperset", "union", "intersection", "difference", "copy"})),
    ((dt.date, dt.datetime, dt.time), frozenset({"isoformat", "strftime", "weekday", "isoweekday", "isocalendar", "date", "replace"})),
    ((dt.timedelta,), frozenset({"total_seconds"})),
    ((bytes, bytearray, memoryview, complex), frozenset()),
)


def _check_method(method: object, args: tuple, kwargs: dict) -> None:
    """Only cheap methods of plain values may be called, and those that can grow a value are bounded."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    allowed = next((names for kinds, names in _SAFE_METHODS if isinstance(owner, kinds)), None)
    if allowed is None:
        return  # a function, a macro, jinja2's loop, cycler and joiner helpers
    if name not in allowed:
        raise SecurityError(f"{type(owner).__name__}.{name}() is not allowed in a template")
    if name in ("center", "ljust", "rjust", "zfill") and args:
        _check_width(args[0])
    elif name == "replace" and isinstance(owner, str) and len(args) >= 2:
        _check_replace(owner, str(args[0]), str(args[1]), args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif name == "join" and isinstance(owner, str) and args:
        items = list(args[0])
        checked(items)
        _check_join([str(item) for item in items], owner)
    elif name == "strftime" and args:
        _at_most(len(str(args[0])), MAX_WIDTH, "a strftime format length")


_GROWING_FILTERS = frozenset({"center", "indent", "wordwrap", "format", "replace", "batch", "slice", "tojson", "join"})


def _check_filter(name: str, arguments: dict) -> None:
    """Filters whose result can be much larger than their input are bounded before they run."""
    if name == "center":
        _check_width(arguments.get("width", 80))
    elif name == "indent":
        width = arguments.get("width", 4)
        size = len(width) if isinstance(width, str) else width
        _at_most(size, MAX_WIDTH, "an indent")
        text = str(arguments.get("s", ""))
        if len(text) + (text.count("\n") + 1) * size > MAX_VALUE:
            raise TemplateLimit(f"indent() would build more than {MAX_VALUE:,} characters")
    elif name == "wordwrap":
        text, wrap = str(arguments.get("s", "")), arguments.get("wrapstring") or "\n"
        if len(text) + (len(text) // max(int(arguments.get("width", 79)), 1) + 1) * len(str(wrap)) > MAX_VALUE:
            raise TemplateLimit(f"wordwrap() would build more than {MAX_VALUE:,} characters")
    elif name == "format":
        _check_printf(str(arguments.get("value", "")), (*arguments.get("args", ()), *arguments.get("kwargs", {}).values()))
    elif name == "replace":
        count = arguments.get("count")
        _check_replace(str(arguments.get("s", "")), str(arguments.get("old", "")), str(arguments.get("new", "")),
                       -1 if count is None else count)
    elif name in ("batch", "slice"):
        _at_most(arguments.get("linecount", arguments.get("slices", 0)), MAX_VALUE, f"the size given to {name}()")
    elif name == "tojson":
        indent = arguments.get("indent")
        if indent is not None:
            _at_most(indent, 16, "a JSON indent")


# -- the environment -------------------------------------------------------


class PlaybookLoader(jinja2.FileSystemLoader):
    """Loads templates from template directories, each inside a playbook directory (its parent): a file whose
    real path leads outside that playbook is refused when it is read, so a link made after the playbook was
    loaded is refused too."""

    def __init__(self, template_dirs: Iterable[Path]):
        super().__init__([str(d) for d in template_dirs])
        self.sizes: dict[str, int] = {}  # characters, by template name: what including it costs
        self.files: dict[str, str] = {}  # the file each template name was read from

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for folder in self.searchpath:
            path = Path(folder, *pieces)
            if not path.is_file():
                continue
            data = read_playbook_file(path, Path(folder).parent.resolve(), MAX_TEMPLATE_BYTES)
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PlaybookError(f"{path}: not UTF-8 text (byte {error.start})") from None
            self.sizes[template] = len(source)
            self.files[template] = os.path.normpath(path)
            modified = path.stat().st_mtime

            def uptodate(path: Path = path, modified: float = modified) -> bool:
                try:
                    return path.stat().st_mtime == modified
                except OSError:
                    return False

            return source, os.path.normpath(path), uptodate
        raise jinja2.TemplateNotFound(template)


class PlaybookSandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with the work budget, size limits and method whitelist described above."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, template_dirs: Iterable[Path], *, html: bool = False):
        super().__init__(
            loader=PlaybookLoader(template_dirs),
            undefined=jinja2.StrictUndefined,
            autoescape=html,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            finalize=self._finalize,
            bytecode_cache=compiled_templates(html),
        )
        del self.globals["lipsum"]  # placeholder text has no place in coaching, and costs what its argument asks
        self.globals["range"] = budget_range
        self.filters = {name: self._bounded_filter(name, function) for name, function in self.filters.items()}

    # values a template builds

    @staticmethod
    def _finalize(value: object) -> object:
        if isinstance(value, jinja2.Undefined):
            return value  # printing it raises the sandbox's own error (undefined, or not allowed)
        if callable(value) or isinstance(value, BaseModel | TemplateReference | Namespace | Cycler | Joiner | types.ModuleType):
            raise TemplateLimit(f"prints {type(value).__name__}, not text: print one of its fields")
        return checked(value, "an output")

    def call_binop(self, context, operator_name: str, left, right):
        if operator_name == "*" and isinstance(right, int) and not isinstance(left, int | float):
            left, right = right, left
        if operator_name == "*" and isinstance(left, int) and isinstance(right, str | list | tuple):
            if weight(right) * left > MAX_VALUE:
                raise TemplateLimit(f"repeats a value to more than {MAX_VALUE:,} characters or items")
        elif operator_name == "*" and isinstance(left, int) and isinstance(right, int):
            _small_integer(left.bit_length() + right.bit_length())
        elif operator_name == "**" and isinstance(right, int | float) and isinstance(left, int | float):
            if abs(left) > 1 and right > 0:
                _small_integer(math.ceil(right * math.log2(abs(left))))
        elif operator_name == "%" and isinstance(left, str):
            _check_printf(left, right)
        result = self.binop_table[operator_name](left, right)
        if isinstance(result, int):
            _small_integer(result.bit_length())
        return checked(result)

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        """Besides the sandbox's rules: of a pydantic model, only its fields and properties (no model_dump(indent=...))."""
        if isinstance(obj, BaseModel) and callable(value) and attr not in type(obj).model_fields:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja2's signature
        # a method scans its receiver and arguments (s.count(x), l.index(x) ...): charged by their length
        charge(1 + scan_cost(getattr(__obj, "__self__", None)) + sum(scan_cost(a) for a in (*args, *kwargs.values())))
        _check_method(__obj, args, kwargs)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (__self.counted_iterable(args[0]), *args[1:])
        result = super().call(__context, __obj, *args, **kwargs)
        return checked(result, "a call result")

    def checked_slice(self, value: object) -> object:
        """The result of `x[a:b:c]` (compiled to a plain subscript, not through getitem), charged and bounded."""
        return checked(value, "a slice")

    def weighed(self, value: object) -> object:
        """An operand of a comparison, charged with what comparing it reads."""
        return weighed(value)

    def wrap_str_format(self, value):
        """str.format and format_map through _Formatter (bounded widths and size)."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or value.__name__ not in ("format", "format_map"):
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None

        def format_text(*args, **kwargs):
            if value.__name__ == "format_map":
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            formatter = _EscapeFormatter(self, escape=text.escape) if isinstance(text, Markup) else _Formatter(self)
            return type(text)(formatter.vformat(text, args, kwargs))

        return functools.update_wrapper(format_text, value)

    def _bounded_filter(self, name: str, function: Callable) -> Callable:
        signature = inspect.signature(function)

        guarded = name in _GROWING_FILTERS

        @functools.wraps(function)
        def bounded(*args, **kwargs):
            charge(1)
            if guarded:
                try:
                    arguments = signature.bind(*args, **kwargs).arguments
                except TypeError:
                    arguments = {}
                if name == "join":
                    self._check_join_filter(arguments)
                else:
                    _check_filter(name, arguments)
            result = function(*args, **kwargs)
            if inspect.isgenerator(result) or isinstance(result, Iterator):
                return _charged_items(result)
            return checked(result, f"the result of |{name}")

        return bounded

    def _check_join_filter(self, arguments: dict) -> None:
        value, attribute = arguments.get("value", ()), arguments.get("attribute")
        items = list(value) if isinstance(value, Iterable) else []
        checked(items)
        if attribute is not None:
            items = [make_attrgetter(self, attribute)(item) for item in items]
        _check_join([str(item) for item in items], str(arguments.get("d", "")))

    # loops, concatenation and includes

    def counted_iterable(self, iterable: Iterable, cost: int = 1) -> _Counted:
        """A loop's iterable with each item charged `cost` (1 + the literal text of the loop body)."""
        return _Counted(iterable, cost)

    def checked_concat(self, value: object) -> object:
        """The result of `a ~ b`, charged and bounded."""
        return checked(value, "a concatenation")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The template's syntax tree with every loop's iterable counted and every `~` bounded."""
        return _Bounded().visit(super()._parse(source, name, filename))

    def _load_template(self, name, globals):
        """An include, import or extends: charged with the size of the template it brings in."""
        try:
            template = super()._load_template(name, globals)
        except RecursionError:
            raise PlaybookError(f"{_file(self, name)}: includes or calls itself without end, or is nested too deeply to be read") from None
        charge(1 + self.loader.sizes.get(template.name or "", 0))  # type: ignore[union-attr]
        return template


class _Bounded(NodeTransformer):
    """Rewrites a template's syntax tree: `for x in items` becomes `for x in environment.counted_iterable(items,
    cost)`, `a ~ b` becomes `environment.checked_concat(a ~ b)`, a slice `x[a:b]` is checked like a built value
    and the operands of comparisons (==, <, in ...) are charged with what comparing them reads. A template
    cannot shadow any of these."""

    @staticmethod
    def _environment_call(method: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(method, lineno=lineno), args, [], None, None, lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        literal = sum(len(data.data) for child in node.body for data in (child, *child.find_all(nodes.TemplateData))
                      if isinstance(data, nodes.TemplateData))
        node.iter = self._environment_call("counted_iterable", [node.iter, nodes.Const(1 + literal, lineno=node.lineno)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        return self._environment_call("checked_concat", [self.generic_visit(node)], node.lineno)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Expr:
        node = self.generic_visit(node)
        return self._environment_call("checked_slice", [node], node.lineno) if isinstance(node.arg, nodes.Slice) else node

    def visit_Compare(self, node: nodes.Compare) -> nodes.Compare:
        node = self.generic_visit(node)
        node.expr = self._environment_call("weighed", [node.expr], node.lineno)
        for operand in node.ops:
            operand.expr = self._environment_call("weighed", [operand.expr], node.lineno)
        return node


# -- rendering -------------------------------------------------------------


def load(env: jinja2.Environment, name: str) -> jinja2.Template:
    """A template by name; PlaybookError naming the file and line of whatever is wrong with it."""
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound:
        raise PlaybookError(f"template {name} is missing") from None
    except jinja2.TemplateSyntaxError as error:
        raise PlaybookError(f"{error.filename or name}, line {error.lineno}: {error.message}") from None
    except DealcoachError:
        raise
    except RecursionError:
        raise PlaybookError(f"{_file(env, name)}: nested too deeply to be read") from None
    except Exception as error:  # noqa: BLE001 - every failure of a company's template is a playbook error
        raise PlaybookError(f"{_file(env, name)}: {_describe(error)}") from None


def _file(env: jinja2.Environment, name: str) -> str:
    """The file a template name was read from, for messages about it."""
    return getattr(env.loader, "files", {}).get(name, f"template {name}")


def render(produce: Callable[[], Iterable[str]], name: str, block: str | None = None, *, undefined: str = "") -> str:
    """The text `produce()` yields (a template's render function, or one block's), within the work budget and
    MAX_OUTPUT; PlaybookError naming the template file and line of any failure (`undefined`: what to add when
    the failure is an undefined name)."""
    with work_budget():
        try:
            pieces: list[str] = []
            size = 0
            for piece in produce():
                size += len(piece)
                if size > MAX_OUTPUT:
                    raise TemplateLimit(f"renders more than {MAX_OUTPUT:,} characters")
                pieces.append(piece)
            return "".join(pieces)
        except PlaybookError as error:  # from a helper the template called (a missing term) or the loader (a link)
            raise PlaybookError(_located(error, name, block)) from None
        except jinja2.UndefinedError as error:
            raise PlaybookError(_located(error, name, block) + (f"; {undefined}" if undefined else "")) from None
        except DealcoachError:
            raise
        except jinja2.TemplateSyntaxError as error:  # in an included template
            raise PlaybookError(f"{error.filename or error.name or name}, line {error.lineno}: {error.message}") from None
        except Exception as error:  # noqa: BLE001 - every failure of a company's template is a playbook error
            raise PlaybookError(_located(error, name, block)) from None


def _located(error: BaseException, name: str, block: str | None) -> str:
    """What went wrong and where: the template file, the block, and the line of the innermost template frame
    in the error's traceback (an included template's, when the error is in one)."""
    found = None
    trace = error.__traceback__
    while trace is not None:
        template = trace.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            found = (template, trace.tb_lineno)
        trace = trace.tb_next
    if found is None:
        return f"template {name}{f', block {block}' if block else ''}: {_describe(error)}"
    template, line = found
    file, line = template.filename or template.name, template.get_corresponding_lineno(line)
    if block is None:
        return f"{file}, line {line}: {_describe(error)}"
    where = f"line {line}" if template.name == name else f"{file}, line {line}"
    return f"{file if template.name == name else name}, block {block}: {_describe(error)} ({where})"


def _describe(error: BaseException) -> str:
    if isinstance(error, PlaybookError):
        return str(error)
    if isinstance(error, jinja2.UndefinedError):
        return error.message or str(error)
    if isinstance(error, SecurityError):
        return f"not allowed in a template: {error}"
    if isinstance(error, jinja2.TemplateNotFound):
        return f"includes {error.name!r}, which is not in the playbook"
    if isinstance(error, TemplateLimit):
        return str(error)
    if isinstance(error, RecursionError):
        return "includes or calls itself without end"
    if isinstance(error, MemoryError):
        return "needs more memory than a template may use"
    return f"{type(error).__name__}: {error}"


