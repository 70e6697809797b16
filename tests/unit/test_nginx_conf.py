"""`nginx -T` output parsed (probes/balancer/nginx_conf.py): real dumps from Debian's nginx 1.22,
includes
put in place, and garbage refused with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.balancer.nginx_conf import NginxConfError, parse_dump, server_line, split_dump, tokenize

DATA = Path(__file__).parent / "data" / "nginx"


def test_a_wso2_front_reads_every_upstream_with_its_method_and_file() -> None:
    conf = parse_dump((DATA / "wso2_front.txt").read_text())
    assert [u.name for u in conf.upstreams] == ["wso2ei", "mgt_console", "api_gw"]
    wso2ei = conf.upstream("wso2ei")
    assert wso2ei is not None
    assert wso2ei.method == "hash $cookie_JSESSIONID consistent"
    assert [(s.address, s.params, s.file, s.line) for s in wso2ei.servers] == [
        ("10.0.0.11:8280", (), "/etc/nginx/upstream-wso2ei.conf", 2),
        ("10.0.0.12:8280", ("max_fails=3",), "/etc/nginx/upstream-wso2ei.conf", 3),
    ]
    console = conf.upstream("mgt_console")
    assert console is not None and console.method == "least_conn"
    down = console.server("10.0.0.22:9443")
    assert down is not None and down.down and down.weight == 100
    backup = console.server("https://10.0.0.23:9443/")  # a URL's scheme is ignored
    assert backup is not None and backup.backup and not backup.down
    api = conf.upstream("api_gw")  # from the conf.d/*.conf glob, relative to nginx.conf
    assert api is not None and [s.address for s in api.servers] == [
        "10.0.0.31:8243",
        "unix:/run/gw.sock",
    ]
    assert conf.stub_status == ("/etc/nginx/nginx.conf:23",)


def test_debians_default_configuration_has_no_upstream() -> None:
    conf = parse_dump((DATA / "debian_default.txt").read_text())
    assert "/etc/nginx/sites-enabled/default" in conf.files
    assert conf.upstreams == () and conf.stub_status == ()


def test_quotes_comments_and_escapes_are_nginx_words() -> None:
    tokens = tokenize('log_format main \'$a "b" {c};\'; # not { a block\nx "y\\"z";', "f")
    assert [(t.text, t.line, t.quoted) for t in tokens] == [
        ("log_format", 1, False),
        ("main", 1, False),
        ('$a "b" {c};', 1, True),
        (";", 1, False),
        ("x", 2, False),
        ('y"z', 2, True),
        (";", 2, False),
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no '# configuration file' line (it is empty)"),
        ("<html>502 Bad Gateway</html>", "not `nginx -T` output"),
        (
            "# configuration file /e/n.conf:\nhttp {\n upstream a { server x:1; }\n",
            "/e/n.conf:1: a '{' is never closed",
        ),
        ("# configuration file /e/n.conf:\nhttp { }\n}\n", "/e/n.conf:2: unexpected '}'"),
        ("# configuration file /e/n.conf:\nhttp { server x:1 }\n", "a ';' is missing"),
        ("# configuration file /e/n.conf:\nlog 'open\n", "/e/n.conf:1: a ' quote is never closed"),
        (
            "# configuration file /e/n.conf:\nworker_processes 2\n",
            "'worker_processes' is not ended",
        ),
        ("# configuration file /e/n.conf:\n;\n", "/e/n.conf:1: unexpected ';'"),
    ],
)
def test_garbage_is_refused_with_file_and_line(text: str, reason: str) -> None:
    with pytest.raises(NginxConfError) as caught:
        parse_dump(text)
    assert reason in str(caught.value)


def test_an_include_of_itself_stops_with_a_reason() -> None:
    text = "# configuration file /e/n.conf:\ninclude /e/n.conf;\n"
    with pytest.raises(NginxConfError, match="nested more than"):
        parse_dump(text)


def test_the_files_are_kept_as_printed() -> None:
    files = split_dump((DATA / "wso2_front.txt").read_text())
    assert files["/etc/nginx/upstream-wso2ei.conf"] == (
        "# owned by clusterconsole\nserver 10.0.0.11:8280;\nserver 10.0.0.12:8280 max_fails=3;\n"
    )


def test_server_lines_the_console_writes_refuse_what_would_be_read_otherwise() -> None:
    assert (
        server_line("10.0.0.1:8080", ("weight=2", "down")) == "server 10.0.0.1:8080 weight=2 down;"
    )
    for bad in ("10.0.0.1:8080; include /x", "a b", "x#y", "$host", ""):
        with pytest.raises(NginxConfError):
            server_line(bad, ())
