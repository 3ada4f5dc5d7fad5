"""Breaks found from outside after the first hardening round: each reproduced, each held here."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

from click.testing import CliRunner

from dealcoach.cli import cli

from helpers import EXAMPLE_EN, EXAMPLE_ZH, HERE

SALESFORCE = HERE / "crm" / "salesforce-opportunity.json"


def _dealcoach(*args: str, timeout: float = 30, memory: int | None = None) -> subprocess.CompletedProcess:
    def cap() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    command = [sys.executable, "-c", "from dealcoach.entry import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, preexec_fn=cap)


def test_a_deal_file_that_is_a_fifo_nobody_writes_reads_as_empty_instead_of_blocking(tmp_path) -> None:
    fifo = tmp_path / "deal.yaml"
    os.mkfifo(fifo)
    shown = _dealcoach("review", str(fifo), timeout=20)
    assert shown.returncode == 3 and "the file is empty" in shown.stderr


def test_a_mapping_file_is_read_with_a_deal_file_s_limits(tmp_path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    for mapping, reason in (("/dev/zero", "more than 2000000 bytes"), (str(deep), "nested deeper than 32 levels")):
        shown = _dealcoach("review", str(SALESFORCE), "--from", "salesforce", "--as-of", "2026-11-20", "--mapping", mapping,
                           memory=1_500_000_000)
        assert shown.returncode == 3, shown.stderr
        assert "invalid mapping file" in shown.stderr and reason in shown.stderr and "Traceback" not in shown.stderr


def test_a_token_file_is_read_only_as_far_as_a_token_goes() -> None:
    shown = _dealcoach("serve", "--token-file", "/dev/zero", memory=1_500_000_000)
    assert shown.returncode == 2 and "larger than 4096 bytes" in shown.stderr


def test_a_crm_record_without_an_amount_is_refused_not_read_as_zero(tmp_path) -> None:
    record = json.loads(SALESFORCE.read_text(encoding="utf-8"))
    del record["Amount"]
    path = tmp_path / "opportunity.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    shown = CliRunner().invoke(cli, ["review", str(path), "--from", "salesforce", "--as-of", "2026-11-20"])
    assert shown.exit_code == 3 and "invalid CRM record" in shown.output and "Amount: no amount" in shown.output


def test_the_summary_may_not_overwrite_the_previous_run(tmp_path) -> None:
    previous = tmp_path / "previous.jsonl"
    first = CliRunner().invoke(cli, ["pipeline", str(EXAMPLE_ZH), "-o", str(previous), "-q"])
    assert first.exit_code == 0, first.output
    kept = previous.read_bytes()
    shown = CliRunner().invoke(cli, ["pipeline", str(EXAMPLE_ZH), "--summary", str(previous), "--previous", str(previous), "-q",
                                     "-o", str(tmp_path / "now.jsonl")])
    assert shown.exit_code == 2 and "would destroy them" in shown.output
    assert previous.read_bytes() == kept


def test_many_small_values_are_refused_before_they_are_built(tmp_path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("x: [" + ",".join(["{}"] * 330_000) + "]\n", encoding="utf-8")
    shown = _dealcoach("review", str(many), memory=400_000_000)  # building them all took ~500 MB
    assert shown.returncode == 3 and "keys and values" in shown.stderr


def test_a_big_deal_is_reviewed_and_briefed_within_the_template_budget(tmp_path) -> None:
    from dealcoach.engine.loading import parse_text

    deal = parse_text(EXAMPLE_EN.read_text(encoding="utf-8"), "en")
    deal["contacts"] = [{"id": f"c{i}", "name": "N" * 60 + str(i), "supporter": ["sponsor"], "stance": "opposes", "power": "core"}
                        for i in range(500)]
    deal.pop("decision", None)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(deal, ensure_ascii=False), encoding="utf-8")
    review = CliRunner().invoke(cli, ["review", str(path), "--all"])
    assert review.exit_code == 0, review.output[-500:]
    brief = CliRunner().invoke(cli, ["brief", str(path), "-a", "c1,c2", "--date", "2026-11-25", "--purpose", "negotiation"])
    assert brief.exit_code == 0, brief.output[-500:]


def _with_closed(descriptor: int, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from dealcoach.entry import main; main()", *args]
    return subprocess.run(command, capture_output=descriptor != 1, stdout=subprocess.DEVNULL if descriptor == 1 else None,
                          stderr=subprocess.PIPE if descriptor == 1 else None, text=True, timeout=60,
                          preexec_fn=lambda: os.close(descriptor))


def test_closed_standard_streams_are_named_not_internal_errors(tmp_path) -> None:
    closed_in = _with_closed(0, "review", "-")
    assert closed_in.returncode == 3 and "standard input is closed" in closed_in.stderr
    closed_out = _with_closed(1, "review", str(EXAMPLE_ZH))
    assert closed_out.returncode == 7 and "cannot write to standard output: it is closed" in closed_out.stderr
    piped_out = _with_closed(1, "pipeline", str(EXAMPLE_ZH), "-q")
    assert piped_out.returncode == 7 and "Traceback" not in piped_out.stderr


def test_yaml_numbers_are_read_as_written(tmp_path) -> None:
    from dealcoach.engine.loading import parse_text

    read = parse_text("a: 017\nb: 1:20\nc: 0x1F\nid: 0123\ne: 12\nf: 1.5\ng: 1_000\n", "x")
    assert read == {"a": "017", "b": "1:20", "c": "0x1F", "id": "0123", "e": 12, "f": 1.5, "g": 1000}
    deal = EXAMPLE_ZH.read_text(encoding="utf-8").replace("amount: 3200000", "amount: 1:20")
    assert deal.count("amount: 1:20") == 1
    path = tmp_path / "deal.yaml"
    path.write_text(deal, encoding="utf-8")
    shown = CliRunner().invoke(cli, ["review", str(path)])
    assert shown.exit_code == 3 and "amount" in shown.output  # never 80


def test_a_number_is_not_a_date() -> None:
    import dealcoach
    from dealcoach.engine.loading import parse_text

    deal = parse_text(EXAMPLE_ZH.read_text(encoding="utf-8"), "zh")
    for value in (0, 1763596800, "1763596800"):
        try:
            dealcoach.review({**deal, "stage_entered": value})
        except dealcoach.DealInputError as error:
            assert error.problems[0].path == "stage_entered" and "YYYY-MM-DD" in error.problems[0].message
        else:
            raise AssertionError(f"{value!r} was read as a date")


def test_a_what_if_delete_is_true_or_false() -> None:
    import pytest

    import dealcoach

    with pytest.raises(dealcoach.DealInputError, match="true or false"):
        dealcoach.what_if(str(EXAMPLE_ZH), {"contacts": [{"id": "wang", "_delete": "true"}]})


def test_control_characters_from_a_record_never_reach_a_terminal(tmp_path) -> None:
    hostile = "陈\x1b]0;pwned\x07\x1b[31m国华\x9b2J"
    deal = EXAMPLE_ZH.read_text(encoding="utf-8").replace("name: 陈国华", f'name: "{hostile.encode("unicode_escape").decode()}"')
    assert "\\x1b" in deal or "\\x1B" in deal
    path = tmp_path / "deal.yaml"
    path.write_text(deal, encoding="utf-8")
    outputs = [
        CliRunner().invoke(cli, ["review", str(path)]).output,
        CliRunner().invoke(cli, ["review", str(path), "--format", "markdown"]).output,
        CliRunner().invoke(cli, ["brief", str(path), "-a", "chen", "--date", "2026-11-25", "--purpose", "negotiation"]).output,
    ]
    broken = tmp_path / "broken.yaml"
    broken.write_text('id: x\n"bad\\e[31mfield": 1\n', encoding="utf-8")
    outputs.append(CliRunner().invoke(cli, ["review", str(broken)]).output)
    for output in outputs:
        assert not any(ch in output for ch in "\x1b\x07\x9b"), output[:300]
    assert "陈" in outputs[0] and "\ufffd" in outputs[0]
    import dealcoach

    assert any("\x1b" in person.name for person in dealcoach.review(str(path)).people)  # the data itself stays exact


def test_crm_dates_are_dates_or_timestamps_and_contacts_have_ids() -> None:
    import datetime as dt

    import pytest

    import dealcoach
    from dealcoach.engine.api import coach

    record = json.loads(SALESFORCE.read_text(encoding="utf-8"))
    for junk in ("2026-10-01garbage", "2026-10-011", "2026-W40-1"):
        with pytest.raises(dealcoach.DealInputError, match="expected a date"):
            coach(None).from_crm("salesforce", {**record, "CloseDate": junk}, as_of=dt.date(2026, 11, 20))
    assert coach(None).from_crm("salesforce", {**record, "CloseDate": "2027-01-30T08:00:00.000+0000"},
                                as_of=dt.date(2026, 11, 20))["expected_close"] == "2027-01-30"
    bundle = json.loads((HERE / "crm" / "hubspot-deal.json").read_text(encoding="utf-8"))
    del bundle["contacts"][0]["id"]
    with pytest.raises(dealcoach.DealInputError) as refused:
        coach(None).from_crm("hubspot", bundle, as_of=dt.date(2026, 11, 20))
    assert refused.value.problems[0].path == "contacts[0].id"
