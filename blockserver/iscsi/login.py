"""The login phase of one connection (RFC 7143 6.3, 11.12-11.13), sans-I/O.

LoginMachine takes Login Request PDUs and returns Login Response bytes. It runs the security
stage (AuthMethod None or CHAP, one-way or mutual), the operational stage (params.Negotiator),
and on the transit to full feature phase creates or joins the session. States and their allowed
transitions are in TRANSITIONS; any failure is a LoginError whose status the response carries.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from .chap import ChapTarget
from .constants import (CMD_WINDOW, LOGIN_CONTINUE, LOGIN_MAX_TEXT, LOGIN_TRANSIT, LoginStatus,
                        Opcode, Stage)
from .errors import LoginError
from .params import LOGIN_KEYS, NOT_UNDERSTOOD, Negotiator, SessionParams
from .pdu import Framer, Pdu, build
from .session import MASK, Session, SessionTable
from .text import TextError, encode_text, parse_text

log = logging.getLogger(__name__)


class LoginState(enum.Enum):
    START = "start"                    # no PDU yet
    SECURITY = "security"              # security stage, method not settled
    CHAP_WAIT_A = "chap-wait-a"        # AuthMethod=CHAP agreed, expecting CHAP_A
    CHAP_WAIT_R = "chap-wait-r"        # challenge sent, expecting CHAP_N/CHAP_R
    AUTHENTICATED = "authenticated"    # security done, may leave the stage
    OPERATIONAL = "operational"
    FULL_FEATURE = "full-feature"
    FAILED = "failed"


S = LoginState
TRANSITIONS: dict[LoginState, frozenset] = {
    S.START: frozenset({S.SECURITY, S.CHAP_WAIT_A, S.AUTHENTICATED, S.OPERATIONAL,
                        S.FULL_FEATURE, S.FAILED}),
    S.SECURITY: frozenset({S.SECURITY, S.CHAP_WAIT_A, S.AUTHENTICATED, S.FAILED}),
    S.CHAP_WAIT_A: frozenset({S.CHAP_WAIT_R, S.FAILED}),
    S.CHAP_WAIT_R: frozenset({S.AUTHENTICATED, S.OPERATIONAL, S.FULL_FEATURE, S.FAILED}),
    S.AUTHENTICATED: frozenset({S.AUTHENTICATED, S.OPERATIONAL, S.FULL_FEATURE, S.FAILED}),
    S.OPERATIONAL: frozenset({S.OPERATIONAL, S.FULL_FEATURE, S.FAILED}),
    S.FULL_FEATURE: frozenset(),
    S.FAILED: frozenset(),
}


@dataclass(frozen=True)
class LoginDone:
    """The outcome handed to the connection when the login reaches full feature phase."""
    session: Session
    cid: int
    params: SessionParams
    stat_sn: int                      # the next StatSN of this connection
    replaced: tuple = ()              # sessions reinstated (to end), or a connection reinstated


class LoginMachine:
    def __init__(self, registry, sessions: SessionTable, framer: Framer, tpgt: int = 1,
                 random_bytes=None):
        self.registry = registry
        self.sessions = sessions
        self.framer = framer
        self.tpgt = tpgt
        self.state = LoginState.START
        self.stage = Stage.SECURITY
        self.negotiator = Negotiator()
        self._random = random_bytes
        self._first: tuple | None = None      # (isid, tsih, cid, itt) of the first PDU
        self._partial = bytearray()           # text of C-bit PDUs not yet complete
        self.initiator_name = ""
        self.target = None
        self.discovery = False
        self.existing: Session | None = None  # for TSIH != 0 (adding a connection)
        self.chap: ChapTarget | None = None
        self.stat_sn = 0
        self.cmdsn = 0
        self._tpgt_sent = False
        self._declared = False
        self.done: LoginDone | None = None

    # -- state table ------------------------------------------------------------------------
    def _goto(self, new: LoginState) -> None:
        if new not in TRANSITIONS[self.state]:
            raise LoginError(LoginStatus.INITIATOR_ERROR,
                             f"login state {self.state.value} cannot go to {new.value}")
        self.state = new

    # -- entry point ------------------------------------------------------------------------
    def handle(self, pdu: Pdu) -> list:
        """Wire parts of the Login Response to `pdu`. After a failure response, state is FAILED
        and the connection must close; after success with NSG=3, self.done is set."""
        bhs = pdu.bhs
        if self.state in (S.FULL_FEATURE, S.FAILED):
            raise LoginError(LoginStatus.INVALID_DURING_LOGIN, "login after login ended")
        isid, tsih = bhs.lun >> 16, bhs.lun & 0xFFFF
        cid = bhs.w20 >> 16
        if self._first is None:
            self._first = (isid, tsih, cid, bhs.itt)
            self.stat_sn = bhs.w28        # start the connection's StatSN where it expects it
            self.cmdsn = bhs.w24
        try:
            return self._handle(pdu, isid, tsih, cid)
        except LoginError as exc:
            log.info("login refused: %s (%s)", exc, exc.status.name)
            self.state = S.FAILED
            return self._response(bhs, 0, b"", status=exc.status)
        except TextError as exc:
            log.info("login refused: bad text: %s", exc)
            self.state = S.FAILED
            return self._response(bhs, 0, b"", status=LoginStatus.INITIATOR_ERROR)

    def _handle(self, pdu: Pdu, isid: int, tsih: int, cid: int) -> list:
        bhs = pdu.bhs
        if bhs.opcode != Opcode.LOGIN_REQUEST:
            raise LoginError(LoginStatus.INITIATOR_ERROR, "only Login Requests during login")
        if bhs.byte3 > 0 or bhs.byte2 < 0:        # Version-min > 0: we speak version 0 only
            raise LoginError(LoginStatus.UNSUPPORTED_VERSION, "unsupported version")
        if (isid, tsih, cid, bhs.itt)[:3] != self._first[:3]:
            raise LoginError(LoginStatus.INITIATOR_ERROR, "ISID/TSIH/CID changed during login")
        transit = bool(bhs.flags & LOGIN_TRANSIT)
        more = bool(bhs.flags & LOGIN_CONTINUE)
        csg = (bhs.flags >> 2) & 3
        nsg = bhs.flags & 3
        if transit and more:
            raise LoginError(LoginStatus.INITIATOR_ERROR, "T and C both set")
        if csg not in (Stage.SECURITY, Stage.OPERATIONAL):
            raise LoginError(LoginStatus.INITIATOR_ERROR, f"bad CSG {csg}")
        if transit and (nsg == 2 or nsg <= csg):
            raise LoginError(LoginStatus.INITIATOR_ERROR, f"bad NSG {nsg} from CSG {csg}")
        if self.state is not S.START and csg != self.stage:
            raise LoginError(LoginStatus.INITIATOR_ERROR, f"CSG {csg} but stage {self.stage}")
        self._partial += pdu.data
        if len(self._partial) > LOGIN_MAX_TEXT:
            raise LoginError(LoginStatus.OUT_OF_RESOURCES, "login text too long")
        if more:                                  # ask for the rest of the text
            return self._response(bhs, csg << 2, b"")
        keys = parse_text(self._partial)
        self._partial.clear()
        answer: list[tuple[str, str]] = []
        if self.state is S.START:
            self._first_pdu(dict(keys), tsih, answer)
        else:
            self._check_names(dict(keys))
        if csg == Stage.SECURITY:
            self._security(keys, answer)
        else:
            if self.state in (S.START, S.SECURITY) and self._needs_auth():
                raise LoginError(LoginStatus.AUTH_FAILURE, "authentication required")
            if self.state in (S.CHAP_WAIT_A, S.CHAP_WAIT_R):
                raise LoginError(LoginStatus.INITIATOR_ERROR, "CHAP not finished")
            self._goto(S.OPERATIONAL)
            self.stage = Stage.OPERATIONAL
            self._operational(keys, answer)
        if not self._tpgt_sent and not self.discovery:
            answer.append(("TargetPortalGroupTag", str(self.tpgt)))
            self._tpgt_sent = True
        flags = csg << 2
        if transit and self.state in (S.AUTHENTICATED, S.OPERATIONAL):
            flags |= LOGIN_TRANSIT | nsg
            if nsg == Stage.FULL_FEATURE:
                return self._finish(bhs, flags, answer, isid, cid)
            self.stage = Stage(nsg)
        return self._response(bhs, flags, encode_text(answer))

    # -- stages ------------------------------------------------------------------------------
    def _first_pdu(self, keys: dict, tsih: int, answer: list) -> None:
        name = keys.get("InitiatorName")
        if not name:
            raise LoginError(LoginStatus.MISSING_PARAMETER, "InitiatorName is required")
        self.initiator_name = name
        session_type = keys.get("SessionType", "Normal")
        if session_type not in ("Normal", "Discovery"):
            raise LoginError(LoginStatus.SESSION_TYPE_NOT_SUPPORTED, session_type)
        self.discovery = session_type == "Discovery"
        if not self.discovery:
            target_name = keys.get("TargetName")
            if not target_name:
                raise LoginError(LoginStatus.MISSING_PARAMETER, "TargetName is required")
            self.target = self.registry.get(target_name)
            if self.target is None:
                raise LoginError(LoginStatus.NOT_FOUND, f"no target {target_name}")
        if tsih:
            session = self.sessions.by_tsih.get(tsih)
            isid = self._first[0].to_bytes(6, "big")
            if (session is None or session.discovery != self.discovery
                    or session.isid != isid or session.initiator_name != name
                    or session.target is not self.target):
                raise LoginError(LoginStatus.SESSION_DOES_NOT_EXIST, f"no session {tsih}")
            self.existing = session
        if self.target is not None and self.target.alias:
            answer.append(("TargetAlias", self.target.alias))

    def _check_names(self, keys: dict) -> None:
        if "InitiatorName" in keys and keys["InitiatorName"] != self.initiator_name:
            raise LoginError(LoginStatus.INITIATOR_ERROR, "InitiatorName changed")

    def _needs_auth(self) -> bool:
        return self.target is not None and self.target.needs_chap

    def _security(self, keys: list, answer: list) -> None:
        if self.state is S.START:
            self._goto(S.SECURITY)
        values = dict(keys)
        if "AuthMethod" in values:
            if self.state is not S.SECURITY:
                raise LoginError(LoginStatus.INITIATOR_ERROR, "AuthMethod sent twice")
            offered = [m.strip() for m in values["AuthMethod"].split(",")]
            if self._needs_auth():
                if "CHAP" not in offered:
                    raise LoginError(LoginStatus.AUTH_FAILURE, "this target requires CHAP")
                answer.append(("AuthMethod", "CHAP"))
                t = self.target
                kwargs = {"random_bytes": self._random} if self._random else {}
                self.chap = ChapTarget(t.chap_user, t.chap_secret, t.mutual_user,
                                       t.mutual_secret, **kwargs)
                self._goto(S.CHAP_WAIT_A)
            elif "None" in offered:
                answer.append(("AuthMethod", "None"))
                self._goto(S.AUTHENTICATED)
            else:
                raise LoginError(LoginStatus.AUTH_FAILURE, "no common authentication method")
        if "CHAP_A" in values:
            if self.state is not S.CHAP_WAIT_A:
                raise LoginError(LoginStatus.INITIATOR_ERROR, "CHAP_A out of turn")
            answer.extend(self.chap.challenge_for(values["CHAP_A"]))
            self._goto(S.CHAP_WAIT_R)
        elif "CHAP_R" in values or "CHAP_N" in values:
            if self.state is not S.CHAP_WAIT_R:
                raise LoginError(LoginStatus.AUTH_FAILURE, "CHAP response out of turn")
            answer.extend(self.chap.verify(values))
            self._goto(S.AUTHENTICATED)
        for key, value in keys:
            if key in LOGIN_KEYS:
                continue
            reply = self.negotiator.respond(key, value)
            if reply is not None:
                answer.append((key, reply))
        if self.state is S.SECURITY and not self._needs_auth() and "AuthMethod" not in values:
            self._goto(S.AUTHENTICATED)     # AuthMethod defaults to None (13.? key defaults)

    def _operational(self, keys: list, answer: list) -> None:
        for key, value in keys:
            if key in LOGIN_KEYS:
                if key in ("AuthMethod",) or key.startswith("CHAP_"):
                    raise LoginError(LoginStatus.INITIATOR_ERROR,
                                     f"{key} in the operational stage")
                if key in ("TargetAlias", "TargetAddress", "TargetPortalGroupTag",
                           "SendTargets"):
                    answer.append((key, NOT_UNDERSTOOD if key == "SendTargets" else
                                   "Irrelevant"))
                continue
            reply = self.negotiator.respond(key, value)
            if reply is not None:
                answer.append((key, reply))
        if not self._declared:
            answer.extend(self.negotiator.declarations())
            self._declared = True

    def _finish(self, bhs, flags: int, answer: list, isid: int, cid: int) -> list:
        if self.target is not None and self.registry.get(self.target.iqn) is not self.target:
            raise LoginError(LoginStatus.TARGET_REMOVED, "target removed during login")
        params = self.negotiator.params()
        isid_bytes = isid.to_bytes(6, "big")
        replaced: tuple = ()
        if self.existing is not None:
            session = self.existing
            if session.ended:
                raise LoginError(LoginStatus.SESSION_DOES_NOT_EXIST, "session ended")
            old = session.connections.get(cid)
            if old is None and len(session.connections) >= session.params.max_connections:
                raise LoginError(LoginStatus.TOO_MANY_CONNECTIONS, "MaxConnections reached")
            if old is not None:
                replaced = (old,)                 # connection reinstatement
            params = _connection_params(session.params, params)
        else:
            if not self.discovery:
                old_session = self.sessions.find((self.initiator_name, isid_bytes,
                                                  self.target.iqn))
                if old_session is not None:
                    self.sessions.remove(old_session)   # session reinstatement (4.3.4)
                    replaced = (old_session,)
            session = self.sessions.create(isid_bytes, self.initiator_name, self.target,
                                           self.discovery, params, self.cmdsn, self.tpgt)
        self._goto(S.FULL_FEATURE)
        self.stage = Stage.FULL_FEATURE
        parts = self._response(bhs, flags, encode_text(answer), session=session)
        self.done = LoginDone(session, cid, params, self.stat_sn, replaced)
        return parts

    # -- response ----------------------------------------------------------------------------
    def _response(self, bhs, flags: int, text: bytes, *, session: Session | None = None,
                  status: LoginStatus = LoginStatus.SUCCESS) -> list:
        session = session or self.existing
        if session is not None:
            exp, high = session.window()
        else:
            exp, high = self.cmdsn, (self.cmdsn + CMD_WINDOW - 1) & MASK
        isid = self._first[0] if self._first else 0
        tsih = session.tsih if session is not None and status == LoginStatus.SUCCESS else 0
        stat_sn = self.stat_sn
        self.stat_sn = (stat_sn + 1) & MASK
        header = build(Opcode.LOGIN_RESPONSE, flags, 0, 0, len(text), (isid << 16) | tsih,
                       bhs.itt, 0, stat_sn, exp, high, int(status) << 16)
        return self.framer.frame(header, text)


def _connection_params(session: SessionParams, conn: SessionParams) -> SessionParams:
    """A secondary connection keeps the session-wide values and its own per-connection ones."""
    values = dict(vars(session))
    for name in ("header_digest", "data_digest", "max_send_data_segment"):
        values[name] = getattr(conn, name)
    return SessionParams(**values)
