"""Tomcat cluster and lifecycle records: Tribes membership, DeltaManager state transfer, start/stop.

Records are identified by logger class and method, because Tomcat ships its messages in several
languages (`Membre de réplication ajouté`, `メンバー消失を受信しました`). English text is only
used where no logger is printed (journal exports, header-less copies).

One crash is logged up to three times by each peer: `SimpleTcpCluster.memberDisappeared` (reported,
detail "crash"), `TcpFailureDetector` "Received memberDisappeared[...] message. Will verify." (not
reported: a question, not an answer) and "Verification complete. Member already disappeared"
(reported, detail "verified"). A heartbeat-detected death is "Suspect member, confirmed dead"
(detail "suspect"). All are `member-left` for the same member: the scanner keeps the first of
them, one event per departure (`probes.logs.departures`).
"""

from __future__ import annotations

import re

from probes.logs.draft import Draft
from probes.logs.members import is_graceful, tomcat_member
from probes.logs.records import Record

_SUSPECT_DEAD = re.compile(r"confirmed dead|confirmé mort|死亡|다운된 것으로 확인")
_VERIFIED_GONE = re.compile(
    r"Member (?:already )?disappeared|membre (?:avait déjà disparu|a disparu)"
    r"|Miembro desaparecido|すでに離脱|メンバーが消えました|사라졌습니다"
)
_NO_STATE = re.compile(r"[Nn]o session state (?:sent|send) at|timing out after")
_RECEIVED = re.compile(r"session state (?:sent|send) at .*received in")
_STOPPING_SERVICE = re.compile(r"^Stopping service \[?[\w.-]+\]?\s*$")

STATE_TRANSFER_METHODS = frozenset({"getAllClusterSessions", "waitForSendAllSessions"})


def _member_event(method: str, message: str) -> Draft | None:
    """SimpleTcpCluster's memberAdded / memberDisappeared."""
    if method == "memberAdded":
        return Draft("member-joined", "tomcat", member=tomcat_member(message))
    if method == "memberDisappeared":
        detail = "graceful" if is_graceful(message) else "crash"
        return Draft("member-left", "tomcat", member=tomcat_member(message), detail=detail)
    return None


def _failure_detector(message: str) -> Draft | None:
    """TcpFailureDetector conclusions; its questions and 'still alive' answers are not events."""
    if "even though we" in message:  # "Member added, even though we weren't notified:[...]"
        return Draft("member-joined", "tomcat", member=tomcat_member(message), detail="unnotified")
    if _SUSPECT_DEAD.search(message):
        return Draft("member-left", "tomcat", member=tomcat_member(message), detail="suspect")
    if _VERIFIED_GONE.search(message):
        return Draft("member-left", "tomcat", member=tomcat_member(message), detail="verified")
    return None


def _state_transfer(method: str, record: Record) -> Draft | None:
    """DeltaManager's session state transfer, told apart by method and level, not by language."""
    member = tomcat_member(record.message)
    if method == "getAllClusterSessions":
        if member:
            return Draft("session-sync", "tomcat", member=member, detail="requested")
        if record.is_error or record.level == "WARNING":
            # e.g. "Drop message [SESSION-DELTA] inside GET_ALL_SESSIONS sync phase": a message
            # dropped during a transfer that did happen, not a node alone in its group.
            return None
        return Draft("session-sync", "tomcat", detail="skipped")
    if record.is_error or _NO_STATE.search(record.message):
        return Draft("session-sync", "tomcat", detail="timed-out")
    if record.level == "WARNING":
        return None  # "no matching context manager": the peer lacks the context, nothing came
    return Draft("session-sync", "tomcat", detail="received")


def by_logger(record: Record) -> Draft | None:
    """The event a record with a Tomcat logger and method stands for, if any."""
    logger = record.logger or ""
    method = record.method or ""
    cls = logger.rpartition(".")[2]
    if cls == "SimpleTcpCluster" and not record.is_error:
        return _member_event(method, record.message)
    if cls == "TcpFailureDetector" and method in ("performBasicCheck", "memberDisappeared"):
        return _failure_detector(record.message)
    delta = cls == "DeltaManager" or logger.endswith("ha.session")
    if delta and method in STATE_TRANSFER_METHODS:
        return _state_transfer(method, record)
    if record.is_error or record.level == "WARNING":
        return None
    if cls == "Catalina" and method == "start":
        return Draft("server-started", "tomcat")
    if (cls, method) in (("StandardServer", "await"), ("StandardService", "stopInternal")):
        return Draft("server-stopping", "tomcat")
    return None


def by_text(message: str, *, is_error: bool = False) -> Draft | None:
    """The event an English Tomcat message stands for when no logger is printed (journal lines)."""
    if "Replication member added" in message:
        return Draft("member-joined", "tomcat", member=tomcat_member(message))
    if "Received member disappeared" in message:
        return _member_event("memberDisappeared", message)
    if (
        "Suspect member, confirmed dead" in message
        or "Verification complete. Member" in message
        or "Member added, even though we" in message
    ):
        return _failure_detector(message)
    if "requesting session state from" in message:
        return Draft("session-sync", "tomcat", member=tomcat_member(message), detail="requested")
    if "skipping state transfer" in message:
        return Draft("session-sync", "tomcat", detail="skipped")
    if _NO_STATE.search(message) and "session state" in message:
        return Draft("session-sync", "tomcat", detail="timed-out")
    if _RECEIVED.search(message):
        return Draft("session-sync", "tomcat", detail="received")
    if is_error:
        return None
    if message.startswith("Server startup in "):
        return Draft("server-started", "tomcat")
    if message.startswith("A valid shutdown command was received") or _STOPPING_SERVICE.match(
        message
    ):
        return Draft("server-stopping", "tomcat")
    return None
