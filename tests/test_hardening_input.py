"""Hostile deal input: deep nesting, tags, surrogates, booleans as numbers, duplicate keys, endless streams.

Whatever the bytes, reading and validating a deal ends in a Deal or a DealInputError (exit 3) that says what was
wrong and where; never a crash, a traceback or an unbounded read. The properties generate the hostile inputs.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import dealcoach
from dealcoach.cli import cli
from dealcoach.engine import loading, yaml_limits
from dealcoach.engine.errors import DealInputError
from dealcoach.engine.model import Deal

from helpers import EXAMPLE_EN, HERE, read_yaml

PLAYBOOK = dealcoach.load_playbook()
DEPTH_ERROR = f"nested deeper than {loading.MAX_DEPTH} levels"
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def rich_deal() -> dict:
    """The English example with every numeric field filled in, valid as it stands."""
    deal = read_yaml(EXAMPLE_EN)
    deal["customer"]["share_of_our_sales"] = 12.5
    deal["negotiation"] = {"our_quote": 850000, "walk_away": 700000, "concessions": [{"amount": 20000, "gained": "faster sign-off"}]}
    deal["payment_terms"] = {"agreed": True, "deposit_percent": 30}
    deal["receivables"] = [{"amount": 100000, "due": "2026-12-31", "paid": 40000}]
    deal["price_pressure"] = {"ultimatums": 1}
    deal["decision"] = {"mode": "collective", "committee_size": 5}
    return deal


RICH = rich_deal()
NUMERIC_FIELDS = [
    ("amount",), ("budget", "amount"), ("objective", "how_much"), ("customer", "share_of_our_sales"),
    ("negotiation", "our_quote"), ("negotiation", "walk_away"), ("negotiation", "concessions", 0, "amount"),
    ("payment_terms", "deposit_percent"), ("receivables", 0, "amount"), ("receivables", 0, "paid"),
    ("price_pressure", "ultimatums"), ("decision", "committee_size"),
]


def path_text(path: tuple) -> str:
    """A path as error messages write it: customer.name, contacts[1].roles[0]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def get_at(document, path: tuple):
    for part in path:
        document = document[part]
    return document


def set_at(document, path: tuple, value) -> None:
    get_at(document, path[:-1])[path[-1]] = value


def text_leaves(document, path: tuple = ()) -> list[tuple]:
    """Paths of every text value, and of every mapping key as (..., KEY, name)."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((*path, KEY, key))
            found.extend(text_leaves(value, (*path, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(text_leaves(value, (*path, index)))
    elif isinstance(document, str):
        found.append(path)
    return found


KEY = object()  # marks a path that ends at a mapping key rather than at a value


def outcome(read) -> Deal | DealInputError:
    """What reading gives: a Deal, or the DealInputError (anything else escapes and fails the test)."""
    try:
        return read()
    except DealInputError as error:
        assert error.problems and all(p.message for p in error.problems)
        str(error).encode("utf-8")  # printable and encodable, whatever the input held
        return error


def from_text(text: str):
    return outcome(lambda: loading.validate_deal(loading.parse_text(text, "deal"), PLAYBOOK, "deal"))


def from_data(data):
    return outcome(lambda: loading.validate_deal(data, PLAYBOOK, "deal"))


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """`dealcoach ARGS` in its own process (a crash shows as a signal, not as a failed test run), memory capped at
    2 GB so that an unbounded read fails fast; 20 s is a guard against hanging, not a timing assertion."""
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    command = [sys.executable, "-c", "from dealcoach.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, timeout=20, preexec_fn=cap_memory, **kwargs)


def deal_yaml() -> str:
    return EXAMPLE_EN.read_text(encoding="utf-8")


# -- nesting -------------------------------------------------------------------------------------------------


def test_deeply_nested_yaml_is_a_bad_input_on_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(deal_yaml() + "x: " + "[" * 30000 + "]" * 30000 + "\n", encoding="utf-8")
    result = run_cli("review", str(path))
    assert result.returncode == 3, result
    assert DEPTH_ERROR.encode() in result.stderr and b"Traceback" not in result.stderr


def test_deeply_nested_yaml_is_a_bad_input_in_the_python_api(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(deal_yaml() + "x:\n" + "".join(" " * i + "- \n" for i in range(0, 2000, 2)), encoding="utf-8")
    with pytest.raises(DealInputError, match=DEPTH_ERROR):
        dealcoach.review(path)
    with pytest.raises(DealInputError, match=rf"{DEPTH_ERROR} \(line 1\)"):
        loading.parse_text("x: " + "{a: " * 5000 + "}" * 5000, "deal")


def test_deeply_nested_json_is_a_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"id": ' + "[" * 100000 + "]" * 100000 + "}", encoding="utf-8")
    result = run_cli("review", str(path))
    assert result.returncode == 3 and DEPTH_ERROR.encode() in result.stderr, result


def test_nesting_in_python_data_is_bounded_without_recursion() -> None:
    deal = copy.deepcopy(RICH)
    deal["customer"]["loop"] = deal  # a cycle is nesting without end
    assert DEPTH_ERROR in str(from_data(deal))
    shared: list = ["x"] * 10
    for _ in range(8):
        shared = [shared] * 10  # 10^9 values by reference: the node count stops the walk
    assert "more than 100000 values" in str(from_data(dict(RICH, milestones=shared)))


class PureBoundedLoader(yaml_limits.BoundedComposer, yaml.SafeLoader):
    """The bounded composer over PyYAML's pure-Python parser (what BoundedSafeLoader is without libyaml)."""


def test_check_nesting_names_the_line_and_the_limit() -> None:
    yaml_limits.check_nesting("a:\n  b:\n    - c\n", 3)
    with pytest.raises(yaml_limits.TooDeep) as caught:
        yaml_limits.check_nesting("a:\n  b:\n    - [c]\n", 3)
    assert (caught.value.line, caught.value.limit, str(caught.value)) == (3, 3, "nested deeper than 3 levels at line 3")
    with pytest.raises(yaml_limits.TooDeep, match="at line 1"):
        yaml_limits.check_nesting("x: " + "[" * 30000 + "]" * 30000, 32)
    with pytest.raises(yaml.YAMLError):
        yaml_limits.check_nesting("x: [", 32)


@pytest.mark.parametrize("loader", [yaml_limits.BoundedSafeLoader, PureBoundedLoader])
def test_the_bounded_loaders_stop_at_the_limit_and_may_refuse_aliases(loader) -> None:
    with pytest.raises(yaml_limits.TooDeep, match="nested deeper than 32 levels at line 2"):
        yaml.load("a: 1\nx: " + "[" * 30000 + "]" * 30000, Loader=loader)  # noqa: S506 - safe loaders
    assert yaml.load("a: &x [1]\nb: *x\n", Loader=loader) == {"a": [1], "b": [1]}  # noqa: S506

    class NoAliases(loader):
        allow_aliases = False

    with pytest.raises(yaml_limits.AliasUsed, match="line 2, column 4"):
        yaml.load("a: &x [1]\nb: *x\n", Loader=NoAliases)  # noqa: S506


PLAIN_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@settings(PROPERTY, max_examples=500)
@given(PLAIN_DATA, st.sampled_from([None, True, False]), st.booleans())
def test_the_bounded_loaders_read_what_pyyaml_reads(data, flow: bool | None, shared: bool) -> None:
    document = [data, data] if shared else data  # a shared value is written with an anchor and an alias
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    expected = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506
    for loader in (yaml_limits.BoundedSafeLoader, PureBoundedLoader):
        try:
            assert yaml.load(text, Loader=loader) == expected  # noqa: S506
        except yaml_limits.TooDeep:
            assert text.count("[") + text.count("{") + text.count("-") + text.count(":") > 32


# -- tags and values the YAML constructor refuses -----------------------------------------------------------


@pytest.mark.parametrize(
    "line,expected",
    [
        ("amount: !!int abc", "line {n}, column 9: 'abc' cannot be read as !!int"),
        ("amount: !!float x", "line {n}, column 9: 'x' cannot be read as !!float"),
        ("amount: !!bool maybe", "line {n}, column 9: 'maybe' cannot be read as !!bool"),
        ("amount: !!timestamp nope", "line {n}, column 9: 'nope' cannot be read as !!timestamp"),
        ("amount: !!timestamp 2026-02-30", "line {n}, column 9: '2026-02-30' cannot be read as !!timestamp"),
        ("amount: " + "9" * 5000, "line {n}, column 9: a number of 5000 digits; numbers have at most 4300"),
        ("amount: !!binary '%%%'", "line {n}, column 9: !!binary values are not deal data"),
        ("amount: !!set {a, b}", "line {n}, column 9: !!set values are not deal data"),
        ("? [a, b]\n: 1\namount: 1", "line {n}, column 3: a list cannot be a key; keys are field names"),
        ("{a: 1}: 1\namount: 1", "line {n}, column 1: a dict cannot be a key"),
        ("amount: !!python/object/apply:os.system [ls]", "line {n}, column 9: could not determine a constructor"),
    ],
)
def test_values_a_tag_cannot_construct_are_bad_input_with_their_position(line: str, expected: str) -> None:
    lines = deal_yaml().splitlines()
    index = next(i for i, text in enumerate(lines) if text.startswith("amount:"))
    lines[index] = line
    result = CliRunner().invoke(cli, ["review", "-"], input="\n".join(lines) + "\n")
    assert result.exit_code == 3, result.output
    assert expected.format(n=index + 1) in result.output and "Traceback" not in result.output


def test_huge_integers_in_json_are_bad_input() -> None:
    error = from_text('{"amount": ' + "9" * 5000 + "}")
    assert isinstance(error, DealInputError) and "a number of 5000 digits; numbers have at most 4300" in str(error)
    error = from_data(dict(RICH, amount=10**5000))
    assert isinstance(error, DealInputError) and error.problems[0].path == "amount"


# -- text no file can hold -----------------------------------------------------------------------------------


def test_unpaired_surrogates_are_refused_with_the_field_path() -> None:
    deal = copy.deepcopy(RICH)
    deal["contacts"][1]["title"] = "Head \ud800 of"
    [problem] = from_data(deal).problems
    assert problem.path == "contacts[1].title"
    assert problem.message.startswith("text contains an unpaired surrogate \\ud800")
    deal = copy.deepcopy(RICH)
    deal["customer"]["n\udfffame"] = "x"
    [problem] = from_data(deal).problems
    assert (problem.path, problem.message[:36]) == ("customer.n\\udfffame", "field name contains an unpaired surr")


def test_unpaired_surrogates_from_json_escapes_are_one_deal_error_in_the_pipeline(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(dict(RICH, id="EU-\ud800")), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(dict(RICH, id="EU-2")), encoding="utf-8")
    result = run_cli("pipeline", "-q", "-j", "1", str(tmp_path))
    assert result.returncode == 6, result  # README: some deals could not be reviewed
    first, second = (json.loads(line) for line in result.stdout.decode().splitlines())
    [problem] = first["error"]["problems"]
    assert problem["path"] == "id" and "unpaired surrogate \\ud800" in problem["message"]
    assert second["ok"] is True


# -- reading is bounded ------------------------------------------------------------------------------------


def test_an_endless_file_is_refused_after_the_limit() -> None:
    result = run_cli("review", "/dev/zero")
    assert result.returncode == 3, result
    assert f"more than {loading.MAX_BYTES} bytes (reading stopped there); the limit is {loading.MAX_BYTES}".encode() in result.stderr


@pytest.mark.skipif(shutil.which("yes") is None, reason="needs the `yes` command")
def test_an_endless_pipe_is_refused_after_the_limit() -> None:
    endless = subprocess.Popen(["yes", "id: x"], stdout=subprocess.PIPE)
    try:
        result = run_cli("review", "-", stdin=endless.stdout)
    finally:
        endless.kill()
        endless.wait()
        endless.stdout.close()
    assert result.returncode == 3, result
    assert f"the limit is {loading.MAX_BYTES}".encode() in result.stderr


# -- numbers, keys, shared values -------------------------------------------------------------------------


def test_json_refuses_duplicate_keys_like_yaml() -> None:
    error = from_text('{"id": "a", "customer": {"name": "x", "name": "y"}}')
    assert isinstance(error, DealInputError) and "key 'name' appears twice in one object" in str(error)


@pytest.mark.parametrize("field", NUMERIC_FIELDS, ids=path_text)
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_number(field: tuple, value: bool) -> None:
    deal = copy.deepcopy(RICH)
    set_at(deal, field, value)
    [problem] = from_data(deal).problems
    assert (problem.path, problem.message) == (path_text(field), f"expected a number, got the boolean {str(value).lower()}")


def test_yaml_yes_is_not_an_amount() -> None:
    error = from_text(deal_yaml().replace("amount: 840000", "amount: yes"))
    assert [(p.path, p.message) for p in error.problems] == [("amount", "expected a number, got the boolean true")]


def test_negative_zero_is_zero() -> None:
    deal = from_text(deal_yaml().replace("amount: 840000", "amount: -0.0"))
    assert deal.amount == 0 and math.copysign(1, deal.amount) == 1
    result = CliRunner().invoke(cli, ["review", "-", "--lang", "en"], input=deal_yaml().replace("amount: 840000", "amount: -0.0"))
    assert result.exit_code == 0 and "EUR 0" in result.output and "EUR -0" not in result.output


def test_python_data_may_share_a_list_between_contacts() -> None:
    deal = copy.deepcopy(RICH)
    roles = ["user"]
    deal["contacts"][2]["roles"] = roles
    deal["contacts"][3]["roles"] = roles
    report = dealcoach.review(deal)
    assert report.deal_id == "EU-2026-112"


def test_yaml_aliases_are_refused_at_the_first_alias() -> None:
    """The billion-laughs file stops at its first `*a`, before anything is expanded."""
    with pytest.raises(DealInputError, match=r"YAML aliases \(&anchor / \*alias\) are not allowed in a deal file \(line 2, column 8\)"):
        loading.read_document(HERE / "bad_inputs" / "alias-bomb.yaml")


# -- generated hostile input ---------------------------------------------------------------------------------

BLOCK = st.sampled_from(["map", "seq", "map+indentless-seq"])
FLOW = {  # each flow collection around an inner value, and the levels it adds ("[k: v]" is a pair mapping in a list)
    "seq": ("[{}]", 1), "seq-after": ("[x, {}]", 1), "map": ("{{k: {}}}", 1), "map-before": ("{{k: {}, x: 1}}", 1),
    "pair": ("[k: {}]", 2),
}


def block_levels(style: str) -> int:
    return 2 if style == "map+indentless-seq" else 1


def flow_text(styles: list[str], leaf: str) -> str:
    """Flow collections, outermost first, around a leaf."""
    text = leaf
    for style in reversed(styles):
        text = FLOW[style][0].format(text)
    return text


def block_text(styles: list[str], inner: str) -> str:
    """Block collections, outermost first, under the key `x` of the deal, ending with `inner` (flow or scalar)."""
    lines, indent = ["x:"], 2
    for number, style in enumerate(styles):
        if style == "map":
            lines.append(" " * indent + f"k{number}:")
        elif style == "seq":
            lines.append(" " * indent + "-")
        else:
            lines += [" " * indent + f"k{number}:", " " * indent + "-"]
        indent += 2
    lines[-1] += " " + inner
    return "\n".join(lines) + "\n"


@settings(PROPERTY, max_examples=1000)
@given(st.integers(0, 70), st.integers(0, 24), st.data(), st.sampled_from(["1", "a", "''", "[]", "{}"]))
def test_yaml_nesting_is_refused_exactly_past_the_limit(levels: int, most_blocks: int, data, leaf: str) -> None:
    """Block collections (maps, lists, lists at their key's indentation) inside the deal, flow ones inside them."""
    blocks = data.draw(st.lists(BLOCK, min_size=min(levels, most_blocks), max_size=min(levels, most_blocks)))
    flows = data.draw(st.lists(st.sampled_from(sorted(FLOW)), min_size=levels - len(blocks), max_size=levels - len(blocks)))
    text = deal_yaml() + block_text(blocks, flow_text(flows, leaf))
    depth = 1 + sum(map(block_levels, blocks)) + sum(FLOW[style][1] for style in flows) + (leaf in ("[]", "{}"))
    event("past the limit" if depth > loading.MAX_DEPTH else "within the limit")
    result = from_text(text)
    assert isinstance(result, DealInputError)  # x is no field of a deal
    assert (DEPTH_ERROR in str(result)) == (depth > loading.MAX_DEPTH), (depth, str(result)[:200])
    too_deep = None
    try:
        yaml_limits.check_nesting(text, loading.MAX_DEPTH)
    except yaml_limits.TooDeep as error:
        too_deep = error
    assert (too_deep is not None) == (depth > loading.MAX_DEPTH)
    if too_deep is not None:
        assert too_deep.limit == loading.MAX_DEPTH and too_deep.line > deal_yaml().count("\n")


@settings(PROPERTY, max_examples=600)
@given(st.integers(0, 80).flatmap(lambda n: st.lists(st.sampled_from(["[", "{"]), min_size=n, max_size=n)), st.sampled_from(["1", '"a"', "[]", "{}"]))
def test_json_nesting_is_refused_exactly_past_the_limit(opens: list[str], leaf: str) -> None:
    inner = leaf
    for kind in reversed(opens):
        inner = f"[{inner}]" if kind == "[" else f'{{"k": {inner}}}'
    depth = 1 + len(opens) + (leaf in ("[]", "{}"))
    event("past the limit" if depth > loading.MAX_DEPTH else "within the limit")
    result = from_text(json.dumps(RICH)[:-1] + f', "x": {inner}}}')
    assert isinstance(result, DealInputError)
    assert (DEPTH_ERROR in str(result)) == (depth > loading.MAX_DEPTH), (depth, str(result)[:200])


TAGS = st.sampled_from([
    "!!int", "!!float", "!!bool", "!!str", "!!null", "!!timestamp", "!!binary", "!!set", "!!map", "!!seq", "!!omap",
    "!!pairs", "!!merge", "!!value", "!!python/object:os.system", "!!python/name:os.system", "!custom", "!",
    "!<tag:yaml.org,2002:int>", "",
])
TAGGED_VALUES = st.one_of(
    st.sampled_from([
        "abc", "1", "-0", "-0.0", "0x1F", "0o17", "0b101", "1_000", "0b", "0x", "''", '""', "[a, b]", "{a: 1}", "2026-02-30",
        "2026-01-01", "2026-01-01T25:00:00", "yes", "maybe", ".nan", "-.inf", "9" * 5000, "-" + "9" * 4400, "aGk=", "%%%",
        "~", "null", "1e400", "[[a]]", "{? [a]: 1}", "'\\ud800'", '"\\ud800"', '"\\x00"',
    ]),
    st.text(alphabet=st.sampled_from("ab01-.:_ []{}'\"!&*?#,xe+"), max_size=12),
)


VALUE_PATHS = [path for path in text_leaves(RICH) if KEY not in path] + NUMERIC_FIELDS
SLOT = "SLOT-0b1f"


@functools.cache
def yaml_with_slot(path: tuple, as_key: bool) -> str:
    """The rich deal as YAML text with SLOT as the value at `path`, or as a further key of the mapping holding it."""
    deal = copy.deepcopy(RICH)
    parent = get_at(deal, path[:-1])
    if as_key and isinstance(parent, dict):
        parent[SLOT] = 1
    else:
        set_at(deal, path, SLOT)
    return yaml.safe_dump(deal, allow_unicode=True, sort_keys=False, width=1000)


@functools.cache
def json_with_slot(path: tuple) -> str:
    """The rich deal as JSON text with a bare SLOT as the value at `path`."""
    deal = copy.deepcopy(RICH)
    set_at(deal, path, SLOT)
    return json.dumps(deal).replace(f'"{SLOT}"', SLOT)


@settings(PROPERTY, max_examples=1200)
@given(st.sampled_from(VALUE_PATHS), st.booleans(), TAGS, TAGGED_VALUES)
def test_any_tag_on_any_value_is_a_deal_or_a_deal_input_error(path: tuple, as_key: bool, tag: str, value: str) -> None:
    result = from_text(yaml_with_slot(path, as_key).replace(SLOT, f"{tag} {value}".strip(), 1))
    event(type(result).__name__)
    if isinstance(result, Deal):
        result.model_dump_json().encode("utf-8")


UNPRINTABLE = st.one_of(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(max_codepoint=0x1F), st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.sampled_from(["\ufeff", "\u2028", "\u2029", "\ufffe", "\uffff", "\U0010ffff", "\u200b"]),
)


def is_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


@settings(PROPERTY, max_examples=1200)
@given(st.sampled_from(text_leaves(RICH)), UNPRINTABLE, st.integers(0, 40), st.booleans())
def test_unprintable_characters_anywhere_are_a_deal_or_a_deal_input_error(path: tuple, char: str, at: int, as_json: bool) -> None:
    deal = copy.deepcopy(RICH)
    if path[-2:-1] == (KEY,):
        parent, key = get_at(deal, path[:-2]), path[-1]
        new_key = key[:at] + char + key[at:]
        get_at(deal, path[:-2]).update({new_key: parent.pop(key)})
        where = path_text((*path[:-2], new_key))
    else:
        value = get_at(deal, path)
        set_at(deal, path, value[:at] + char + value[at:])
        where = path_text(path)
    result = from_text(json.dumps(deal)) if as_json else from_data(deal)
    event(type(result).__name__)
    if is_surrogate(char):
        assert isinstance(result, DealInputError)
        [problem] = result.problems
        assert "unpaired surrogate" in problem.message
        assert problem.path == where.encode("utf-8", "backslashreplace").decode()
    elif isinstance(result, Deal):
        result.model_dump_json().encode("utf-8")


YAML_BOOLEANS = {True: ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"],
                 False: ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"]}
YAML_FLOATS = {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}
NUMBERS = st.one_of(  # (the value in Python data, as JSON, as YAML)
    st.booleans().flatmap(lambda b: st.sampled_from(YAML_BOOLEANS[b]).map(lambda spelled: (b, json.dumps(b), spelled))),
    st.sampled_from([-0.0, 0.0]).map(lambda f: (f, json.dumps(f), repr(f))),
    st.integers(-(10**20), 10**20).map(lambda i: (i, str(i), str(i))),
    st.integers(17, 6000).map(lambda digits: (10**digits, "1" + "0" * digits, "1" + "0" * digits)),
    st.floats().map(lambda f: (f, json.dumps(f), YAML_FLOATS.get(repr(f), repr(f)))),
    st.sampled_from(["1e5", "-0", "-0.0", "12", "yes", " 7 ", "0x10", "1_000"]).map(lambda t: (t, json.dumps(t), json.dumps(t))),
)


@settings(PROPERTY, max_examples=1200)
@given(st.sampled_from(NUMERIC_FIELDS), NUMBERS, st.sampled_from(["data", "json", "yaml"]))
def test_numeric_fields_refuse_booleans_and_never_keep_negative_zero(field: tuple, number: tuple, route: str) -> None:
    value, as_json, as_yaml = number
    if route == "data":
        deal = copy.deepcopy(RICH)
        set_at(deal, field, value)
        result = from_data(deal)
    elif route == "json":
        result = from_text(json_with_slot(field).replace(SLOT, as_json, 1))
    else:
        result = from_text(yaml_with_slot(field, False).replace(SLOT, as_yaml, 1))
    event(type(result).__name__)
    if isinstance(value, bool):
        assert isinstance(result, DealInputError)
        assert [(p.path, p.message) for p in result.problems] == [
            (path_text(field), f"expected a number, got the boolean {str(value).lower()}")
        ]
    if isinstance(result, Deal):
        numbers = [v for v in _values(result.model_dump()) if isinstance(v, float)]
        assert all(math.copysign(1, v) == 1 for v in numbers if v == 0), numbers


def _values(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _values(value)
    elif isinstance(data, list):
        for value in data:
            yield from _values(value)
    else:
        yield data


def mappings(document, path: tuple = ()) -> list[tuple]:
    found = [path] if isinstance(document, dict) else []
    children = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    for key, value in children:
        found.extend(mappings(value, (*path, key)))
    return found


def json_with_repeat(document, target: tuple, key: str, first: bool, path: tuple = ()) -> str:
    """JSON text of `document` in which the mapping at `target` holds `key` once more than it did, at least twice,
    the repeats first or last."""
    if isinstance(document, dict):
        items = [f"{json.dumps(k, ensure_ascii=False)}: {json_with_repeat(v, target, key, first, (*path, k))}" for k, v in document.items()]
        if path == target:
            repeats = [f"{json.dumps(key, ensure_ascii=False)}: 1"] * (1 if key in document else 2)
            items = repeats + items if first else items + repeats
        return "{" + ", ".join(items) + "}"
    if isinstance(document, list):
        return "[" + ", ".join(json_with_repeat(v, target, key, first, (*path, i)) for i, v in enumerate(document)) + "]"
    return json.dumps(document, ensure_ascii=False)


@settings(PROPERTY, max_examples=600)
@given(st.sampled_from(mappings(RICH)), st.data(), st.booleans(), st.booleans())
def test_a_repeated_key_at_any_depth_is_refused_in_json_and_yaml(target: tuple, data, first: bool, as_yaml: bool) -> None:
    printable = st.characters(categories=["L", "N", "P", "S", "Zs"])  # YAML refuses control characters in any form
    key = data.draw(st.sampled_from(sorted(get_at(RICH, target))) | st.text(printable, max_size=6), label="key")
    text = json_with_repeat(RICH, target, key, first)
    result = from_text("# a deal written as YAML flow\n" + text if as_yaml else text)
    assert isinstance(result, DealInputError)
    assert f"key {key!r} appears twice in one" in str(result)
