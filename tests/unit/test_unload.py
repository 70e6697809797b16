"""unloadDelay: which context file sets it, and its value as Tomcat would take it."""

from __future__ import annotations

from console.operations.wizards.unload import (
    MARKER,
    TOMCAT_DEFAULT_MS,
    candidate_files,
    context_name,
    context_path,
    effective,
    parse_unload_delay,
    read_command,
    split_output,
)

BASE = "/opt/frevvo/tomcat"


def test_context_names_and_paths() -> None:
    assert context_name("/") == "ROOT"
    assert context_name("/jw") == "jw"
    assert context_name("/a/b") == "a#b"
    assert context_path("http://10.0.0.1:8080/jw/web/console") == "/jw"
    assert context_path("http://10.0.0.1:8080/") == "/"
    assert context_path(None) == "/"


def test_parse_unload_delay() -> None:
    assert parse_unload_delay('<Context unloadDelay="40000" reloadable="false"/>') == 40000
    assert parse_unload_delay("<Context\n  unloadDelay = '5000'\n>") == 5000
    assert parse_unload_delay("<Context/>") is None
    assert parse_unload_delay('<!-- <Context unloadDelay="9"/> --><Context/>') is None
    assert parse_unload_delay('<Context unloadDelay="${delay}"/>') == "${delay}"


def test_no_file_means_tomcats_default() -> None:
    files = candidate_files(BASE, "/app")
    found = effective(files, {})
    assert found.ms == TOMCAT_DEFAULT_MS and found.source is None
    assert "default" in found.describe


def test_app_file_beats_global_and_host_file_replaces_meta_inf() -> None:
    files = candidate_files(BASE, "/app")
    global_xml, _, meta_inf, host_xml = files
    contents = {
        global_xml: '<Context unloadDelay="2000"/>',
        meta_inf: '<Context unloadDelay="40000"/>',
    }
    assert effective(files, contents).ms == 40000
    assert effective(files, contents).source == meta_inf
    contents[host_xml] = "<Context docBase='/srv/app'/>"
    found = effective(files, contents)
    assert found.ms == 2000 and found.source == global_xml


def test_a_value_not_understood_is_reported_not_guessed() -> None:
    files = candidate_files(BASE, "/app")
    found = effective(files, {files[0]: '<Context unloadDelay="${x}"/>'})
    assert found.ms == TOMCAT_DEFAULT_MS
    assert found.problem is not None and "${x}" in found.problem


def test_command_output_round_trip() -> None:
    files = candidate_files(BASE, "/app")
    command = read_command(files)
    assert "head -c" in command and all(path in command for path in files)
    output = f'{MARKER}{files[2]}\n<Context unloadDelay="3000"/>\n\n'.encode()
    assert split_output(output) == {files[2]: '<Context unloadDelay="3000"/>\n'}
    assert effective(files, split_output(output)).ms == 3000


def test_a_path_with_quotes_is_quoted_for_the_shell() -> None:
    command = read_command(candidate_files("/opt/it's here", "/app"))
    assert "'\"'\"'" in command
