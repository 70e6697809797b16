"""OpenSSH's client config as operators write it: aliases, ports, known_hosts files, accept-new,
unknown versus changed host keys, keyboard-interactive logins, and aliases in the topology."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import asyncssh
import pytest

from console.cluster.topology import member_node, specs_for
from console.config import load_inventory
from console.config.model import Inventory
from probes.ssh.config import host_config
from probes.ssh.connection import SshTarget
from probes.ssh.handshake import HandshakeClient, classify, set_kbdint_prompt


def ssh_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ssh_config"
    path.write_text(text)
    return str(path)


def test_alias_resolves_like_openssh_and_the_inventory_wins_only_where_set(
    tmp_path: Path,
) -> None:
    config = ssh_config(
        tmp_path,
        f"Host app_node1\n  HostName 10.1.2.3\n  Port 2222\n  User deploy\n"
        f"  UserKnownHostsFile {tmp_path}/team_known_hosts\n"
        "  GlobalKnownHostsFile /etc/ssh/fleet_known_hosts\n"
        "  StrictHostKeyChecking accept-new\n  ProxyJump ops@bastion:2200\n",
    )
    found = host_config("app_node1", paths=(config,))
    assert (found.hostname, found.port, found.user) == ("10.1.2.3", 2222, "deploy")
    assert found.known_hosts == (f"{tmp_path}/team_known_hosts", "/etc/ssh/fleet_known_hosts")
    assert found.accept_new and found.proxy_jump == "ops@bastion:2200"
    # The inventory's port and user, when it sets them, beat the config's.
    forced = host_config("app_node1", port=22, user="root", paths=(config,))
    assert (forced.port, forced.user) == (22, "root")
    # The target built from an inventory without a port uses the config's (not 22).
    assert SshTarget("n", "app_node1", ssh_config=(config,)).config().port == 2222


def test_without_a_config_the_defaults_are_openssh_s(tmp_path: Path) -> None:
    found = host_config("node9", paths=())
    assert (found.hostname, found.port, found.proxy_jump) == ("node9", 22, None)
    assert "/etc/ssh/ssh_known_hosts" in found.known_hosts
    assert found.known_hosts[0].endswith("/.ssh/known_hosts")
    none = host_config("n", paths=(ssh_config(tmp_path, "UserKnownHostsFile none\n"),))
    assert none.user_known_hosts == ()


def _key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


def _client(tmp_path: Path, known: str, *, accept_new: bool = False) -> HandshakeClient:
    path = tmp_path / "known_hosts"
    path.write_text(known)
    config = host_config(
        "n1",
        paths=(ssh_config(tmp_path, "Host n1\n HostName 10.0.0.5\n Port 2222\n"),),
    )
    return HandshakeClient(
        config, node="n1", files=(str(path),), accept_new=accept_new, record_to=str(path)
    )


def test_an_unknown_key_is_not_a_mismatch_and_says_how_to_accept_it(tmp_path: Path) -> None:
    client = _client(tmp_path, "")
    key = _key()
    assert client.validate_host_public_key("10.0.0.5", "10.0.0.5", 2222, key) is False
    state, reason = classify(asyncssh.HostKeyNotVerifiable("x"), SshTarget("n1", "n1"), client)
    assert state == "host-key-unknown"
    assert "unknown host key for [10.0.0.5]:2222" in reason
    assert key.get_fingerprint() in reason  # the operator compares it with the node's
    public = key.export_public_key("openssh").decode().split()[1]
    assert f"echo '[10.0.0.5]:2222 ssh-ed25519 {public}' >> {tmp_path}/known_hosts" in reason
    assert "--accept-new-host-keys" in reason


def test_a_changed_key_stays_a_loud_mismatch_even_with_accept_new(tmp_path: Path) -> None:
    old = _key().export_public_key("openssh").decode().split()[:2]
    text = f"[10.0.0.5]:2222 {' '.join(old)}\n"
    client = _client(tmp_path, text, accept_new=True)
    assert client.validate_host_public_key("10.0.0.5", "10.0.0.5", 2222, _key()) is False
    assert (tmp_path / "known_hosts").read_text() == text  # nothing recorded
    state, reason = classify(asyncssh.HostKeyNotVerifiable("x"), SshTarget("n1", "n1"), client)
    assert state == "host-key-mismatch" and "does not match" in reason


def test_accept_new_records_a_new_host_once(tmp_path: Path) -> None:
    client = _client(tmp_path, "", accept_new=True)
    key = _key()
    assert client.validate_host_public_key("10.0.0.5", "10.0.0.5", 2222, key) is True
    line = (tmp_path / "known_hosts").read_text()
    assert line.startswith("[10.0.0.5]:2222 ssh-ed25519 ")
    known = asyncssh.import_known_hosts(line).match("10.0.0.5", "10.0.0.5", 2222)[0]
    assert {k.public_data for k in known} == {key.public_data}


def test_accept_new_hashes_the_line_under_hash_known_hosts_and_openssh_finds_it(
    tmp_path: Path,
) -> None:
    """`HashKnownHosts yes`: the recorded line is `|1|salt|hash` (no host name in the file), and
    OpenSSH's own `ssh-keygen -F` finds the host in it, as does the next connect."""
    path = tmp_path / "known_hosts"
    config = host_config(
        "n1",
        paths=(
            ssh_config(tmp_path, "Host n1\n HostName 10.0.0.5\n Port 2222\n HashKnownHosts yes\n"),
        ),
    )
    assert config.hash_known_hosts
    client = HandshakeClient(
        config, node="n1", files=(str(path),), accept_new=True, record_to=str(path)
    )
    key = _key()
    assert client.validate_host_public_key("10.0.0.5", "10.0.0.5", 2222, key) is True
    line = path.read_text()
    assert line.startswith("|1|") and "10.0.0.5" not in line
    public = key.export_public_key("openssh").decode().split()[1]
    found = subprocess.run(
        ["ssh-keygen", "-F", "[10.0.0.5]:2222", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0 and public in found.stdout, found.stdout + found.stderr
    missing = subprocess.run(
        ["ssh-keygen", "-F", "10.0.0.5", "-f", str(path)], capture_output=True, check=False
    )
    assert missing.returncode == 1  # port 22 is another host for OpenSSH
    known = asyncssh.import_known_hosts(line).match("10.0.0.5", "10.0.0.5", 2222)[0]
    assert {k.public_data for k in known} == {key.public_data}
    # Without the option the line stays plain (what `ssh` writes then too).
    assert not host_config("n1", paths=(ssh_config(tmp_path, "Host n1\n"),)).hash_known_hosts


async def test_keyboard_interactive_is_refused_when_scripted_and_asked_when_interactive(
    tmp_path: Path,
) -> None:
    scripted = HandshakeClient(node="n1")
    assert scripted.kbdint_auth_requested() is None
    state, reason = classify(asyncssh.PermissionDenied("x"), SshTarget("n1", "n1"), scripted)
    assert state == "auth-failed" and "keyboard-interactive" in reason
    assert "only the interactive console or a command run on a terminal" in reason

    asked: list[tuple[str, str]] = []

    async def prompt(
        node: str, name: str, instructions: str, prompts: Sequence[tuple[str, bool]]
    ) -> list[str]:
        asked.extend((node, text) for text, _ in prompts)
        return ["123456"]

    set_kbdint_prompt(prompt)
    try:
        interactive = HandshakeClient(node="n1")
        assert interactive.kbdint_auth_requested() == ""
        answers = await interactive.kbdint_challenge_received(
            "", "", "", [("Verification code: ", False)]
        )
    finally:
        set_kbdint_prompt(None)
    assert answers == ["123456"] and asked == [("n1", "Verification code: ")]


def test_an_alias_matches_log_members_by_its_hostname(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`host = "app_node1"` with `HostName 127.0.5.77`: a member 127.0.5.77:4000 is that node
    (a DNS lookup of the alias found nothing, and the node looked missing from the cluster)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host app_node1\n  HostName 127.0.5.77\n")
    toml = tmp_path / "cluster.toml"
    toml.write_text(
        '[cluster]\nname = "c"\n'
        '[[nodes]]\nname = "n1"\nhost = "app_node1"\ncatalina_base = "/t"\n'
        '[[nodes]]\nname = "n2"\nhost = "127.0.5.78"\ncatalina_base = "/t"\n'
    )
    inventory: Inventory = load_inventory(toml)
    specs = specs_for(inventory)
    assert member_node("127.0.5.77:4000", specs) == "n1"
    assert member_node("127.0.5.78:4000", specs) == "n2"


def test_an_edited_config_is_read_again(tmp_path: Path) -> None:
    config = ssh_config(tmp_path, "Host n1\n  Port 2222\n")
    assert host_config("n1", paths=(config,)).port == 2222
    Path(config).write_text("Host n1\n  Port 22022\n")  # another size: another version
    assert host_config("n1", paths=(config,)).port == 22022


def test_the_fast_hostname_lookup_agrees_with_asyncssh_s_parser(tmp_path: Path) -> None:
    from probes.ssh.config import hostname

    text = (
        "# operators' usual shapes\n"
        "Host bastion\n  HostName 10.9.0.1\n"
        "Host app_* !app_9\n  HostName %h.prod.lan\n  Port 2222\n"
        "Host app_1\n  HostName 10.0.0.1\n"  # too late: app_* already set HostName
        "Host db?\n  HostName 10.0.1.5\n"
        "Host *\n  User ops\n"
    )
    config = ssh_config(tmp_path, text)
    for alias in ("bastion", "app_1", "app_9", "db1", "db12", "other", "APP_2"):
        slow = host_config(alias, paths=(config,)).hostname
        assert hostname(alias, (config,)) == slow, alias
    assert hostname("app_1", (config,)) == "app_1.prod.lan"
    # Match or Include: only asyncssh's parser gets those right, and it is used.
    matching = ssh_config(tmp_path, "Match originalhost x1\n  HostName 10.7.0.1\n")
    assert hostname("x1", (matching,)) == "10.7.0.1"


def test_the_connected_peer_address_names_the_node_in_logs(tmp_path: Path) -> None:
    """An alias no lookup resolves (a jump-host-only name, a HostName DNS gives otherwise): once
    SSH is up, the address it reached is the node's, and a member seen at it is that node."""
    from console.cluster.observations import SshObserved
    from console.cluster.state import ClusterState

    toml = tmp_path / "cluster.toml"
    toml.write_text(
        '[cluster]\nname = "c"\n'
        '[[nodes]]\nname = "n1"\nhost = "app_a"\ncatalina_base = "/t"\n'
        '[[nodes]]\nname = "n2"\nhost = "app_b"\ncatalina_base = "/t"\n'
    )
    inventory = load_inventory(toml)
    state = ClusterState.initial(inventory, specs_for(inventory, resolve_names=False))
    assert member_node("10.4.0.2:4000", state.specs) is None
    state = state.apply(SshObserved("n2", "up", None, 1.0, peer="10.4.0.2"))
    assert member_node("10.4.0.2:4000", state.specs) == "n2"
    assert state.node("n2").spec.addresses >= {"app_b", "10.4.0.2"}
    same = state.apply(SshObserved("n2", "up", None, 2.0, peer="10.4.0.2"))
    assert same.specs is state.specs  # learnt once
