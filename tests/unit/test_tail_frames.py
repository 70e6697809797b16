"""The remote follower's framed stream: parsed the same whatever the packet boundaries."""

from __future__ import annotations

import shlex

import pytest

from probes.ssh.connection import NodeSession, SshTarget
from probes.tail.follow import (
    FOLLOW_SCRIPT,
    SCRIPT_NAME,
    LogFollower,
    TailData,
    TailPosition,
    TailReset,
    follow_command,
)
from probes.tail.frames import (
    Chunk,
    Fingerprint,
    Frame,
    FrameError,
    FrameParser,
    Heartbeat,
    Missing,
    Opened,
    Rotated,
    Truncated,
)
from probes.tail.journal import JournalDecoder, JournalEntry, JournalError, journal_command

MAX = 64

STREAM = (
    b"O 12 100 start\n"
    b"D 12 100 5\nhello"
    b"K 5\n"
    b"H\n"
    b"D 12 105 6\nab\n\x00\x00\x00K 3\n"  # the file shrank mid-read: padded, 3 real bytes
    b"T 12 2\n"
    b"D 12 0 4\n\x00\x00\x00\x00K 0\n"  # nothing real at all
    b"D 12 0 3\nK\nDK 3\n"  # body bytes that look like protocol lines are just data
    b"R 12 13\n"
    b"M no such file\n"
    b"M\n"
    b"O 13 0 appeared\n"
    b"D 13 0 64\n" + bytes(range(64)) + b"K 64\n"
    b"O 14 0 lost\n"
)
EXPECTED: list[Frame] = [
    Opened(12, 100, "start"),
    Chunk(12, 100, b"hello"),
    Heartbeat(),
    Chunk(12, 105, b"ab\n"),
    Truncated(12, 2),
    Chunk(12, 0, b""),
    Chunk(12, 0, b"K\nD"),
    Rotated(12, 13),
    Missing("no such file"),
    Missing("cannot open"),
    Opened(13, 0, "appeared"),
    Chunk(13, 0, bytes(range(64))),
    Opened(14, 0, "lost"),
]


def feed_all(pieces: list[bytes], max_chunk: int = MAX) -> list[Frame]:
    parser = FrameParser(max_chunk)
    frames: list[Frame] = []
    for piece in pieces:
        frames += parser.feed(piece)
    assert parser.pending == 0
    return frames


def test_whole_stream_at_once() -> None:
    assert feed_all([STREAM]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_split_in_two_at_every_byte(cut: int) -> None:
    assert feed_all([STREAM[:cut], STREAM[cut:]]) == EXPECTED


def test_split_into_single_bytes() -> None:
    assert feed_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_split_in_three_at_many_points() -> None:
    for first in range(0, len(STREAM), 7):
        for second in range(first, len(STREAM), 11):
            pieces = [STREAM[:first], STREAM[first:second], STREAM[second:]]
            assert feed_all(pieces) == EXPECTED, (first, second)


def test_empty_feed_yields_nothing() -> None:
    parser = FrameParser(MAX)
    assert parser.feed(b"") == []
    assert parser.feed(b"D 1 0 3\nab") == []
    assert parser.pending == 2
    assert parser.feed(b"") == []
    assert parser.feed(b"cK 3\n") == [Chunk(1, 0, b"abc")]


def test_pending_is_bounded_by_one_chunk() -> None:
    parser = FrameParser(MAX)
    parser.feed(b"D 1 0 64\n" + b"x" * 63)
    assert parser.pending == 63
    assert parser.feed(b"x" + b"K 64\n" + b"D 1 64 2\n") == [Chunk(1, 0, b"x" * 64)]
    assert parser.pending == 0


@pytest.mark.parametrize(
    ("garbage", "words"),
    [
        (b"hello world\n", "unexpected line"),
        (b"\n", "unexpected line"),
        (b"sh: 1: dd: not found\n", "unexpected line"),
        (b"D 1 0 999\n", "limit is 64"),
        (b"D 1 0 0\n", "0 bytes"),
        (b"D 1 x 3\n", "bad number"),
        (b"D 1 -5 3\n", "bad number"),
        (b"D 1 0\n", "4 fields"),
        (b"D 1 0 3\nabcX 3\n", "expected `K <got>`"),
        (b"D 1 0 3\nabcK 4\n", "only 3 were announced"),
        (b"D 1 0 3\nabcK x\n", "bad number"),
        (b"D 1 0 3\nabcK 1\n", "not zeros"),
        (b"O 1 0 sideways\n", "unknown open reason"),
        (b"T 1\n", "3 fields"),
        (b"R 1 2 3\n", "3 fields"),
        (b"H 1\n", "unexpected line"),
        (b"Missing\n", "unexpected line"),
        (b"x" * 600, "too long"),
        (b"x" * 300 + b"y" * 300 + b"\n", "too long"),
    ],
)
def test_garbage_is_a_clear_error(garbage: bytes, words: str) -> None:
    with pytest.raises(FrameError, match=words.replace("`", ".").replace("(", ".")):
        FrameParser(MAX).feed(garbage)


def test_garbage_without_newline_fails_once_too_long_even_in_pieces() -> None:
    parser = FrameParser(MAX)
    with pytest.raises(FrameError, match="too long"):
        for _ in range(100):
            parser.feed(b"z" * 10)  # never ends a line: must not be buffered forever


def test_follow_command_quotes_every_argument() -> None:
    path = "/var/log/it's here/catalina.out"
    command = follow_command(
        path, TailPosition(77, 1234), from_start=False, max_chunk=4096, poll_interval=0.1
    )
    words = shlex.split(command)
    assert words[:3] == ["exec", "sh", "-c"]
    assert words[3] == FOLLOW_SCRIPT
    assert words[4:] == [SCRIPT_NAME, path, "77", "1234", "4096", "0.1", "20", "10", "1024", "-"]


@pytest.mark.parametrize(
    ("start", "from_start", "expected"),
    [
        (None, False, ["-", "-1"]),
        (None, True, ["-", "0"]),
        (TailPosition(None, 5), False, ["-", "5"]),
    ],
)
def test_follow_command_start(
    start: TailPosition | None, from_start: bool, expected: list[str]
) -> None:
    words = shlex.split(
        follow_command("f", start, from_start=from_start, max_chunk=1, poll_interval=1)
    )
    assert words[6:8] == expected


def test_journal_command_resumes_after_the_cursor() -> None:
    assert shlex.split(journal_command("tomcat10", cursor="s=a;i=1", from_start=False))[-2:] == [
        "--after-cursor=s=a;i=1",
        "--no-tail",
    ]
    assert shlex.split(journal_command("t", cursor=None, from_start=False))[-2:] == ["-n", "0"]
    assert shlex.split(journal_command("t", cursor=None, from_start=True))[-1] == "--no-tail"


def test_journal_decoder_in_pieces() -> None:
    stream = (
        b'{"__CURSOR":"c1","MESSAGE":"first"}\n'
        b'{"__CURSOR":"c2","MESSAGE":[104,105,255]}\n'
        b'{"__CURSOR":"c3","MESSAGE":null}\n'
    )
    expected = [
        JournalEntry("c1", b"first"),
        JournalEntry("c2", b"hi\xff"),
        JournalEntry("c3", b""),
    ]
    for cut in range(1, len(stream)):
        decoder = JournalDecoder(1000)
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == expected


@pytest.mark.parametrize("garbage", [b"not json\n", b'{"MESSAGE":"no cursor"}\n', b"[1]\n"])
def test_journal_garbage_is_an_error(garbage: bytes) -> None:
    with pytest.raises(JournalError):
        JournalDecoder(1000).feed(garbage)


def test_journal_line_length_is_bounded() -> None:
    decoder = JournalDecoder(100)
    with pytest.raises(JournalError):
        for _ in range(20):
            decoder.feed(b"x" * 10)


def _follower() -> tuple[LogFollower, list[TailData | TailReset]]:
    seen: list[TailData | TailReset] = []
    session = NodeSession(SshTarget("node1", "127.0.0.1"))
    return LogFollower(session, "/l/c.out", on_chunk=seen.append, max_chunk=MAX), seen


def test_follower_turns_frames_into_data_and_resets() -> None:
    follower, seen = _follower()
    _, feed = follower._file()
    feed(STREAM)
    resets = [(i.reason, i.position) for i in seen if isinstance(i, TailReset)]
    assert resets == [
        ("started", TailPosition(12, 100)),
        ("truncated", TailPosition(12, 0)),
        ("rotated", TailPosition(13, 0)),
        ("missing", TailPosition(13, 0)),
        ("missing", TailPosition(13, 0)),
        ("reopened", TailPosition(13, 0)),
        ("rotated", TailPosition(14, 0)),
    ]
    data = [(i.data, i.start, i.position) for i in seen if isinstance(i, TailData)]
    assert data == [
        (b"hello", 100, TailPosition(12, 105)),
        (b"ab\n", 105, TailPosition(12, 108)),
        (b"K\nD", 0, TailPosition(12, 3)),
        (bytes(range(64)), 0, TailPosition(13, 64)),
    ]
    assert follower.position == TailPosition(14, 0)


def test_follower_resume_is_reopened_and_keeps_position_of_partial_frames() -> None:
    follower, seen = _follower()
    _, feed = follower._file()
    feed(b"O 5 0 start\nD 5 0 4\nabcdK 4\nD 5 4 4\nef")  # the connection drops mid-frame
    assert follower.position == TailPosition(5, 4)
    command, feed = follower._file()
    assert shlex.split(command)[-8:-6] == ["5", "4"]  # resumes at the last complete byte
    feed(b"O 5 4 resume\nD 5 4 4\nefghK 4\n")
    assert [i.reason for i in seen if isinstance(i, TailReset)] == ["started", "reopened"]
    assert b"".join(i.data for i in seen if isinstance(i, TailData)) == b"abcdefgh"


def test_a_truncation_that_did_not_shrink_the_file_is_a_reset_that_says_bytes_were_missed() -> None:
    assert feed_all([b"T 12 5000 rewritten\nT 12 3\n"]) == [
        Truncated(12, 5000, rewritten=True),
        Truncated(12, 3),
    ]
    follower, seen = _follower()
    _, feed = follower._file()
    feed(b"O 12 100 start\nT 12 5000 rewritten\nD 12 0 3\nabcK 3\nT 12 1\n")
    resets = [i for i in seen if isinstance(i, TailReset)]
    assert [(r.reason, r.position, r.missed) for r in resets] == [
        ("started", TailPosition(12, 100), False),
        ("truncated", TailPosition(12, 0), True),
        ("truncated", TailPosition(12, 0), False),
    ]
    assert resets[1].detail is not None and "rewritten" in resets[1].detail
    with pytest.raises(FrameError):
        FrameParser(MAX).feed(b"T 12 5000 rewrote\n")


def test_a_resume_sends_back_the_head_fingerprint_of_the_same_file_only() -> None:
    assert feed_all([b"F 12 1024 3141592653\nO 12 0 rewritten\n"]) == [
        Fingerprint(12, 1024, 3141592653),
        Opened(12, 0, "rewritten"),
    ]
    follower, seen = _follower()
    _, feed = follower._file()
    feed(b"F 5 3 777\nO 5 0 start\nD 5 0 4\nabcdK 4\n")
    command, feed = follower._file()
    assert shlex.split(command)[-1] == "5:3:777"
    feed(b"F 5 4 888\nO 5 0 rewritten\nD 5 0 2\nxyK 2\n")
    resets = [i for i in seen if isinstance(i, TailReset)]
    assert [(r.reason, r.missed) for r in resets] == [("started", False), ("truncated", True)]
    feed(b"F 6 9 999\nR 5 6\n")  # announced for the new file before the switch
    assert shlex.split(follower._file()[0])[-1] == "6:9:999"
    follower, _ = _follower()
    _, feed = follower._file()
    feed(b"O 5 0 start\nF 6 9 999\n")  # another inode's head: not sent for inode 5
    assert shlex.split(follower._file()[0])[-1] == "-"
    _, feed = follower._file()
    feed(b"F 5 9 999\nT 5 0\n")  # truncated: the head is announced again once there is one
    assert shlex.split(follower._file()[0])[-1] == "-"
