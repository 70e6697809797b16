"""`clusterconsole balancer`: the JSON contract, saved pages, the table and failures."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from console import exitcodes
from console.commands import balancer as balancer_command
from tests.unit.contracts import WORKER_KEYS

DATA = Path(__file__).parent / "data" / "balancer"


def run(url: str, *, as_json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = balancer_command.run(url, as_json=as_json, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_json_contract_keys_exactly() -> None:
    code, out, err = run(str(DATA / "real_2471_states.html"), as_json=True)
    assert (code, err) == (exitcodes.OK, "")
    document = json.loads(out)
    assert set(document) == {"schema_version", "url", "balancers", "server_version"}
    assert document["url"] == str(DATA / "real_2471_states.html")
    (balancer,) = document["balancers"]
    assert set(balancer) == {"name", "nonce", "workers", "settings"}  # settings: issue 12
    assert balancer["name"] == "cluster"
    assert [set(worker) for worker in balancer["workers"]] == [WORKER_KEYS] * 3
    node2 = balancer["workers"][1]
    assert node2["flags"] == ["Init", "Drn", "Ok"]
    assert (node2["status"], node2["draining"], node2["usable"]) == ("Init Drn Ok", True, True)
    assert node2["redirect"] is None


def test_json_of_an_httpd_22_page_has_nulls_for_missing_columns() -> None:
    code, out, _ = run(str(DATA / "synthetic_22_page.html"), as_json=True)
    assert code == exitcodes.OK
    worker = json.loads(out)["balancers"][0]["workers"][0]
    assert (worker["busy"], worker["load"], worker["elected"]) == (None, None, 1204)


def test_a_file_url_and_a_saved_xml_view() -> None:
    path = DATA / "real_2471_xml.xml"
    code, out, err = run(path.as_uri(), as_json=True)
    assert (code, err) == (exitcodes.OK, "")
    document = json.loads(out)
    assert document["url"] == path.as_uri()
    assert [w["route"] for w in document["balancers"][0]["workers"]] == ["node1", "node2", "node3"]


def test_table_shows_every_worker_and_neutralises_hostile_text() -> None:
    code, out, err = run(str(DATA / "synthetic_24_hcheck.html"))
    assert (code, err) == (exitcodes.OK, "")
    assert "balancer://app (nonce 7f0e8d2c-61a4-4b9e-8c3d-2a1b0c9d8e7f)" in out
    assert "WORKER" in out and "FROM" in out
    assert "http://10.0.0.20:8080" in out and "Init Drn Ok" in out and "2.0G" in out
    assert "\x1b" not in out
    assert "\\x1b[31mnode13<b>[bold]x[/bold]" in out  # printed literally, no markup
    assert "balancer://empty" in out and "no workers" in out


def test_table_of_the_real_page() -> None:
    code, out, _ = run(str(DATA / "real_2471_page.html"))
    assert code == exitcodes.OK
    lines = out.splitlines()
    assert lines[0].endswith("(Apache/2.4.71 (Debian))")
    rows = [line.split() for line in lines if line.strip().startswith("http://127.0.5.")]
    assert [row[:4] for row in rows] == [
        ["http://127.0.5.11:8080", "node1", "Init", "Ok"],
        ["http://127.0.5.12:8080", "node2", "Init", "Ok"],
        ["http://127.0.5.13:8080", "node3", "Init", "Ok"],
    ]


def test_unreachable_url_is_exit_1_and_one_sentence() -> None:
    code, out, err = run("http://127.0.5.250:9/balancer-manager")
    assert (code, out) == (exitcodes.PROBLEMS, "")
    assert err.startswith("clusterconsole: balancer: ") and err.count("\n") == 1
    assert "http://127.0.5.250:9/balancer-manager" in err and "connection refused" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.html", None, "no such file"),
        ("notes.txt", "just some notes\n", "did not answer with a balancer-manager page"),
        ("empty.html", "", "empty page"),
        ("evil.xml", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>", "DOCTYPE"),
        (
            "bogus.xml",
            "<?xml version='1.0' encoding='x-bogus'?><httpd:manager/>",
            "XML in an encoding that cannot be read (unknown encoding: x-bogus)",
        ),
        (
            "wide.xml",
            "<?xml version='1.0' encoding='utf-32'?><httpd:manager/>",
            "XML in an encoding that cannot be read",
        ),
    ],
)
def test_bad_saved_pages(tmp_path: Path, name: str, content: str | None, words: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    code, out, err = run(str(path))
    assert (code, out) == (exitcodes.PROBLEMS, "")
    assert err.startswith("clusterconsole: balancer: ") and words in err


def test_hostile_error_text_is_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "x\x1b[2Jy.html"
    code, _, err = run(str(path))
    assert code == exitcodes.PROBLEMS
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_not_a_url_nor_a_file() -> None:
    code, _, err = run("gopher://127.0.5.1/balancer-manager")
    assert code == exitcodes.PROBLEMS and "neither an http(s):// URL nor a saved page" in err


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0, "0"), (395, "395"), (1000, "1.0K"), (1536, "1.5K"), (15360, "15K")],
)
def test_human_sizes(value: int | None, text: str) -> None:
    assert balancer_command.human_size(value) == text


def test_a_saved_page_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """A FIFO would block for ever waiting for a writer."""
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    code, out, err = run(str(fifo))
    assert (code, out) == (exitcodes.PROBLEMS, "")
    assert (
        err == f"clusterconsole: balancer: cannot read the saved page {fifo}: not a regular file\n"
    )


def test_the_balancer_s_own_settings_are_shown_and_in_the_json() -> None:
    code, out, _ = run(str(DATA / "real_2471_states.html"), as_json=False)
    assert code == exitcodes.OK
    assert (
        "sticky JSESSIONID|jsessionid · byrequests · timeout 0 · failover attempts 2 · path "
        "/app/ · 3 of 3 members · no room to add a worker (growth)" in out
    )
    _, out, _ = run(str(DATA / "real_2471_states.html"), as_json=True)
    document = json.loads(out)
    assert document["server_version"] == "Apache/2.4.71 (Debian)"
    settings = document["balancers"][0]["settings"]
    assert (settings["max_members"], settings["members_used"], settings["free_slots"]) == (3, 3, 0)
