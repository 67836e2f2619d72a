"""MigratoryData's client API, for Setsuna.

Code written against MigratoryData's Python client ports with a change of
import::

    from setsuna.migratorydata import (MigratoryDataClient, MigratoryDataMessage,
                                       MigratoryDataException)

    client = MigratoryDataClient()
    client.setEntitlementToken("some-token")
    client.setServers(["127.0.0.1:9090"])
    status = client.publish(MigratoryDataMessage("/sport/football", "goal"))

It speaks Setsuna's own open publish API on the server's HTTP listener
(``POST /v1/publish``, ``GET /v1/subscribe`` as server-sent events), not
MigratoryData's proprietary protocol. Standard library only, Python >= 3.9.

A subject ``/<cache>/<topic path>`` is a topic of a Setsuna cache, so Momento
subscribers of that topic receive what is published here. The client connects
to one server of its list and fails over to another with MigratoryData's
reconnect policy (a quick phase of ``n * initialDelay - random(0,
initialDelay)``, then truncated exponential backoff), resubscribing each
subject after the last message it received: the listener is told
``NOTIFY_DATA_SYNC`` when nothing was lost and ``NOTIFY_DATA_RESYNC`` when
something was (never a silent gap).
"""

import base64
import http.client
import json
import queue
import random
import socket
import ssl
import threading
import time
import uuid
from urllib.parse import quote

__all__ = [
    "MigratoryDataClient",
    "MigratoryDataMessage",
    "MigratoryDataException",
    "MigratoryDataListener",
]


class MigratoryDataException(Exception):
    """An invalid argument or use of the client. ``getCode()`` is one of the
    ``E_*`` constants."""

    E_INVALID_SUBJECT = "E_INVALID_SUBJECT"
    E_CLUSTER_MEMBERS_NULL = "E_CLUSTER_MEMBERS_NULL"
    E_INVALID_URL = "E_INVALID_URL"
    E_MSG_NULL = "E_MSG_NULL"
    E_MSG_INVALID = "E_MSG_INVALID"
    E_DISCONNECTED = "E_DISCONNECTED"

    def __init__(self, code, detail=""):
        super().__init__("%s: %s" % (code, detail) if detail else code)
        self._code = code
        self._detail = detail

    def getCode(self):
        return self._code

    def getDetail(self):
        return self._detail


class MigratoryDataMessage:
    """A message to publish, or one received.

    ``content`` is ``str`` (sent as UTF-8 text) or ``bytes`` (sent as
    binary); a received message's content has the type it was published
    with. ``closure`` is echoed with the publication's status. ``retained``
    keeps the message as the subject's snapshot (for ``retain_for`` seconds,
    0: until replaced); on a received message ``isRetained()`` says it is the
    snapshot, delivered first after subscribing.
    """

    SNAPSHOT = "SNAPSHOT"
    UPDATE = "UPDATE"

    def __init__(self, subject, content, closure=None, retained=False, retain_for=0, idempotency_key=None):
        self._subject = subject
        self._content = content
        self._closure = closure
        self._retained = bool(retained)
        self._retain_for = retain_for
        self._idempotency_key = idempotency_key
        self._seq = 0
        self._epoch = 0
        self._publisher = ""

    def getSubject(self):
        return self._subject

    def getContent(self):
        return self._content

    def getClosure(self):
        return self._closure

    def isRetained(self):
        return self._retained

    def isSnapshot(self):
        return self._retained

    def getMessageType(self):
        return self.SNAPSHOT if self._retained else self.UPDATE

    def getSeq(self):
        return self._seq

    def getEpoch(self):
        return self._epoch

    def getPublisherId(self):
        return self._publisher

    def getIdempotencyKey(self):
        return self._idempotency_key

    def setIdempotencyKey(self, key):
        self._idempotency_key = key

    def __repr__(self):
        return "MigratoryDataMessage(%r, %r, seq=%d, epoch=%d, retained=%r)" % (
            self._subject, self._content, self._seq, self._epoch, self._retained)


class MigratoryDataListener:
    """What a client tells: override ``onMessage`` and ``onStatus``. Calls
    come one at a time, in order, from one thread of the client."""

    def onMessage(self, message):
        pass

    def onStatus(self, status, info):
        pass


def _check_subject(subject):
    if not isinstance(subject, str) or not subject.startswith("/"):
        raise MigratoryDataException(MigratoryDataException.E_INVALID_SUBJECT, repr(subject))
    cache, sep, topic = subject[1:].partition("/")
    if not cache or not sep or not topic:
        raise MigratoryDataException(MigratoryDataException.E_INVALID_SUBJECT,
                                     "%r: a subject is /<cache>/<topic path>" % subject)


def _parse_server(entry):
    """ "host:port", "http://host:port" or "weight host:port" -> (host, port, weight)."""
    if not isinstance(entry, str):
        raise MigratoryDataException(MigratoryDataException.E_INVALID_URL, repr(entry))
    fields = entry.split()
    weight = 100
    if len(fields) == 2:
        try:
            weight = int(fields[0])
        except ValueError:
            raise MigratoryDataException(MigratoryDataException.E_INVALID_URL, entry)
        if not 0 <= weight <= 1000:
            raise MigratoryDataException(MigratoryDataException.E_INVALID_URL, entry)
        fields = fields[1:]
    if len(fields) != 1:
        raise MigratoryDataException(MigratoryDataException.E_INVALID_URL, entry)
    addr = fields[0]
    for scheme in ("http://", "https://"):
        if addr.startswith(scheme):
            addr = addr[len(scheme):]
    addr = addr.rstrip("/")
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise MigratoryDataException(MigratoryDataException.E_INVALID_URL, entry)
    return host.strip("[]"), int(port), weight


class _Session:
    """One connection to one server; fail() ends it and its streams."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.addr = "%s:%d" % (host, port)
        self.failed = threading.Event()
        self.detached = threading.Event()
        self.lock = threading.Lock()
        self.socks = set()

    def fail(self):
        if self.failed.is_set():
            return
        self.failed.set()
        with self.lock:
            socks = list(self.socks)
        for s in socks:
            _shutdown(s)


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Sub:
    def __init__(self):
        self.epoch = 0
        self.seq = 0
        self.cancelled = threading.Event()
        self.sock = None


class MigratoryDataClient:
    """A client of Setsuna's publish API in the shape of MigratoryData's:
    connect to a server of a list, fail over, publish with a status,
    subscribe with resume. Safe to use from several threads."""

    NOTIFY_PUBLISH_OK = "NOTIFY_PUBLISH_OK"
    NOTIFY_PUBLISH_FAILED = "NOTIFY_PUBLISH_FAILED"
    NOTIFY_PUBLISH_DENIED = "NOTIFY_PUBLISH_DENIED"
    NOTIFY_PUBLISH_NO_SUBSCRIBER = "NOTIFY_PUBLISH_NO_SUBSCRIBER"
    NOTIFY_PUBLISH_TIMEOUT = "NOTIFY_PUBLISH_TIMEOUT"

    NOTIFY_SERVER_UP = "NOTIFY_SERVER_UP"
    NOTIFY_SERVER_DOWN = "NOTIFY_SERVER_DOWN"
    NOTIFY_SUBSCRIBE_ALLOW = "NOTIFY_SUBSCRIBE_ALLOW"
    NOTIFY_SUBSCRIBE_DENY = "NOTIFY_SUBSCRIBE_DENY"
    NOTIFY_DATA_SYNC = "NOTIFY_DATA_SYNC"
    NOTIFY_DATA_RESYNC = "NOTIFY_DATA_RESYNC"

    _STATUSES = {
        "OK": NOTIFY_PUBLISH_OK,
        "FAILED": NOTIFY_PUBLISH_FAILED,
        "DENIED": NOTIFY_PUBLISH_DENIED,
        "NO_SUBSCRIBER": NOTIFY_PUBLISH_NO_SUBSCRIBER,
    }

    def __init__(self):
        """Create a MigratoryDataClient object."""
        self._lock = threading.Condition()
        self._servers = []
        self._token = ""
        self._listener = None
        self._subs = {}
        self._session = None
        self._closed = False
        self._thread = None
        self._kick = threading.Event()
        self._rnd = random.Random()
        self._events = queue.Queue(maxsize=1024)
        self._dispatcher = threading.Thread(target=self._dispatch, name="migratorydata-listener", daemon=True)
        self._dispatcher.start()
        # MigratoryData's reconnect policy and Setsuna's timeouts (seconds).
        self._quick_max_retries = 3
        self._quick_initial_delay = 5.0
        self._backoff_base = 20.0
        self._backoff_max = 360.0
        self._publish_timeout = 10.0
        self._connect_timeout = 5.0
        self._liveness = 15.0
        self._tls = False
        self._ssl_context = None

    # Configuration.

    def setEncryption(self, encryption):
        """Connect with TLS (HTTPS), verifying the servers' certificates
        against the system's CAs, or those of setSSLContext. A server entry
        "https://host:port" turns it on too."""
        with self._lock:
            self._tls = bool(encryption)

    def setSSLContext(self, context):
        """Use this ssl.SSLContext for TLS (e.g. one that trusts a private
        CA: ssl.create_default_context(cafile=...)); implies encryption."""
        with self._lock:
            self._ssl_context = context
            self._tls = True

    def _http(self, host, port, timeout):
        with self._lock:
            tls, ctx = self._tls, self._ssl_context
        if not tls:
            return http.client.HTTPConnection(host, port, timeout=timeout)
        if ctx is None:
            ctx = ssl.create_default_context()
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)

    def setEntitlementToken(self, token):
        """Assign an authorization token to the client: a Setsuna token, or
        the server's --entitlement-allow-token (basic entitlement)."""
        with self._lock:
            self._token = token or ""

    def setServers(self, servers):
        """Connect to a server in the list ("host:port" of the servers' HTTP
        listeners, "http://host:port", or "weight host:port"), chosen at
        random by weight; fail over to the others."""
        if not servers:
            raise MigratoryDataException(MigratoryDataException.E_CLUSTER_MEMBERS_NULL)
        parsed = [_parse_server(s) for s in servers]
        with self._lock:
            if any(s.strip().split()[-1].startswith("https://") for s in servers):
                self._tls = True
            if self._closed:
                raise MigratoryDataException(MigratoryDataException.E_DISCONNECTED)
            self._servers = parsed
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="migratorydata-connection", daemon=True)
                self._thread.start()
                return
            sess = self._session
        if sess is not None and not any("%s:%d" % (h, p) == sess.addr for h, p, _ in parsed):
            sess.fail()
        self._kick.set()

    def setListener(self, listener):
        """Set the object whose onMessage(message) and onStatus(status,
        info) receive messages and notifications."""
        with self._lock:
            self._listener = listener

    def setQuickReconnectMaxRetries(self, retries):
        self._quick_max_retries = max(0, int(retries))

    def setQuickReconnectInitialDelay(self, seconds):
        self._quick_initial_delay = max(0.0, float(seconds))

    def setReconnectTimeInterval(self, seconds):
        """The base of the exponential backoff after the quick phase."""
        self._backoff_base = max(0.001, float(seconds))

    def setReconnectMaxDelay(self, seconds):
        self._backoff_max = max(0.001, float(seconds))

    def setPublishTimeout(self, seconds):
        """How long publish() waits for an answer, retries across a failover
        included, before it returns NOTIFY_PUBLISH_TIMEOUT (default 10)."""
        self._publish_timeout = max(0.001, float(seconds))

    def setConnectTimeout(self, seconds):
        self._connect_timeout = max(0.001, float(seconds))

    def setLivenessTimeout(self, seconds):
        """A subscription silent this long means the server is down
        (servers send heartbeats every 5 seconds; default 15)."""
        self._liveness = max(0.001, float(seconds))

    def reconnectDelay(self, retry, r=None):
        """The wait before reconnection attempt `retry` (1, 2, ...)."""
        if r is None:
            r = self._rnd.random()
        retry = max(1, retry)
        if retry <= self._quick_max_retries:
            d = self._quick_initial_delay
            return d * retry - r * d
        m = retry - self._quick_max_retries
        d = min(self._backoff_max, self._backoff_base * (2 ** min(m - 1, 30)))
        return max(0.0, d - r * self._backoff_base)

    def getServer(self):
        """The server the client is connected to (None when it is not)."""
        with self._lock:
            return self._session.addr if self._session is not None else None

    # Notifications.

    def _notify(self, fn):
        with self._lock:
            listener = self._listener
        if listener is None:
            return
        while not self._closed:
            try:
                self._events.put(lambda: fn(listener), timeout=0.5)
                return
            except queue.Full:
                continue

    def _status(self, status, info):
        self._notify(lambda l: l.onStatus(status, info))

    def _dispatch(self):
        while True:
            f = self._events.get()
            if f is None:
                return
            try:
                f()
            except Exception:  # a listener's failure must not end the client
                pass

    # Connection.

    def _pick(self, failed):
        with self._lock:
            servers = list(self._servers)
        for skip_failed in (True, False):
            cands = [s for s in servers if not (skip_failed and "%s:%d" % (s[0], s[1]) in failed)]
            if not cands:
                continue
            total = sum(w for _, _, w in cands)
            if total == 0:
                return cands[0]
            n = self._rnd.randrange(total)
            for s in cands:
                if n < s[2]:
                    return s
                n -= s[2]
        return None

    def _probe(self, host, port):
        conn = self._http(host, port, self._connect_timeout)
        try:
            conn.request("GET", "/v1/servers")
            resp = conn.getresponse()
            resp.read()
            return resp.status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def _run(self):
        failed = set()
        retry = 0
        while not self._closed:
            if retry > 0:
                self._kick.wait(self.reconnectDelay(retry))
                self._kick.clear()
                if self._closed:
                    return
            server = self._pick(failed)
            if server is None:
                return
            host, port, _ = server
            addr = "%s:%d" % (host, port)
            if not self._probe(host, port):
                if self._closed:
                    return
                failed.add(addr)
                with self._lock:
                    n = len(self._servers)
                if len(failed) >= n:
                    failed = {addr}
                retry += 1
                self._status(self.NOTIFY_SERVER_DOWN, addr)
                continue
            failed = set()
            retry = 0
            sess = _Session(host, port)
            with self._lock:
                if self._closed:
                    return
                self._session = sess
                for subject, sub in self._subs.items():
                    self._start_stream(sess, subject, sub)
                self._lock.notify_all()
            self._status(self.NOTIFY_SERVER_UP, addr)
            while not sess.failed.wait(0.5):
                if self._closed:
                    sess.fail()
            with self._lock:
                if self._session is sess:
                    self._session = None
            sess.detached.set()
            if self._closed:
                return
            self._status(self.NOTIFY_SERVER_DOWN, addr)
            failed.add(addr)
            with self._lock:
                n = len(self._servers)
            if len(failed) >= n:
                failed = {addr}
            retry = 1

    # Subscriptions.

    def subscribe(self, subjects):
        """Subscribe to a list of subjects; the listener is told
        NOTIFY_SUBSCRIBE_ALLOW (or DENY) for each, then gets its snapshot
        and messages. Subscriptions survive failovers."""
        if isinstance(subjects, str):
            subjects = [subjects]
        for s in subjects:
            _check_subject(s)
        with self._lock:
            if self._closed:
                raise MigratoryDataException(MigratoryDataException.E_DISCONNECTED)
            for s in subjects:
                if s in self._subs:
                    continue
                sub = _Sub()
                self._subs[s] = sub
                if self._session is not None and not self._session.failed.is_set():
                    self._start_stream(self._session, s, sub)

    def unsubscribe(self, subjects):
        if isinstance(subjects, str):
            subjects = [subjects]
        with self._lock:
            subs = [self._subs.pop(s) for s in subjects if s in self._subs]
        for sub in subs:
            sub.cancelled.set()
            if sub.sock is not None:
                _shutdown(sub.sock)

    def getSubjects(self):
        with self._lock:
            return list(self._subs)

    def _start_stream(self, sess, subject, sub):
        t = threading.Thread(target=self._stream, args=(sess, subject, sub), name="migratorydata-sub", daemon=True)
        t.start()

    def _stream(self, sess, subject, sub):
        conn = self._http(sess.host, sess.port, self._liveness)
        try:
            headers = {"Accept": "text/event-stream"}
            with self._lock:
                token = self._token
                if sub.epoch:
                    headers["Last-Event-ID"] = "%d-%d" % (sub.epoch, sub.seq)
            if token:
                headers["Authorization"] = "Bearer " + token
            try:
                conn.connect()
            except OSError:
                sess.fail()
                return
            with sess.lock:
                sess.socks.add(conn.sock)
            sub.sock = conn.sock
            if sess.failed.is_set() or sub.cancelled.is_set():
                return
            conn.request("GET", "/v1/subscribe?subject=" + quote(subject, safe="/"), headers=headers)
            resp = conn.getresponse()
            if resp.status != 200:
                body = resp.read()
                if resp.status in (400, 401, 403, 404, 429, 501):
                    with self._lock:
                        if self._subs.get(subject) is sub:
                            del self._subs[subject]
                    self._status(self.NOTIFY_SUBSCRIBE_DENY, subject)
                else:
                    sess.fail()
                del body
                return
            self._read_events(resp, subject, sub)
            # The stream ended: the server went away (or was told to).
            if not sub.cancelled.is_set():
                sess.fail()
        except (OSError, http.client.HTTPException, ValueError):
            if not sub.cancelled.is_set():
                sess.fail()
        finally:
            with sess.lock:
                sess.socks.discard(conn.sock)
            conn.close()

    def _read_events(self, resp, subject, sub):
        name, data = "", []
        absorb_gap = False
        while True:
            line = resp.fp.readline(1 << 20)
            if not line:
                return
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    absorb_gap = self._event(subject, sub, name or "message", "\n".join(data), absorb_gap)
                    if absorb_gap is None:
                        return
                name, data = "", []
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))

    def _event(self, subject, sub, name, data, absorb_gap):
        ev = json.loads(data)
        if name == "subscribed":
            with self._lock:
                sub.epoch, sub.seq = ev["epoch"], ev["seq"]
            if not ev.get("resumed"):
                self._status(self.NOTIFY_SUBSCRIBE_ALLOW, subject)
            elif ev.get("in_sync"):
                self._status(self.NOTIFY_DATA_SYNC, subject)
            else:
                self._status(self.NOTIFY_DATA_RESYNC, subject)
                return True
        elif name == "discontinuity":
            with self._lock:
                sub.epoch, sub.seq = ev["epoch"], ev["new_seq"]
            if not absorb_gap:
                self._status(self.NOTIFY_DATA_RESYNC, subject)
            return False
        elif name == "message":
            epoch, seq, snapshot = ev["epoch"], ev["seq"], ev.get("snapshot", False)
            with self._lock:
                deliver = True
                if epoch == sub.epoch and seq > sub.seq:
                    sub.seq = seq
                elif snapshot:
                    pass  # an older snapshot: delivered, the position stays
                elif epoch == sub.epoch:
                    deliver = False  # delivered before
                else:
                    sub.epoch, sub.seq = epoch, seq
            if deliver:
                if "content_base64" in ev:
                    content = base64.b64decode(ev["content_base64"])
                else:
                    content = ev.get("content", "")
                m = MigratoryDataMessage(subject, content, retained=snapshot)
                m._seq, m._epoch, m._publisher = seq, epoch, ev.get("publisher_id", "")
                self._notify(lambda l: l.onMessage(m))
        elif name == "error":
            return None
        return absorb_gap

    # Publication.

    def publish(self, message):
        """Publish the message; blocks until it is answered and returns its
        status: NOTIFY_PUBLISH_OK, _FAILED, _DENIED, _NO_SUBSCRIBER, or
        _TIMEOUT when no answer came within the publish timeout (the message
        may or may not be published: publish it again, with the same
        idempotency key, to have it land once). The listener is told the
        status too, with the message's closure."""
        if message is None:
            raise MigratoryDataException(MigratoryDataException.E_MSG_NULL)
        _check_subject(message.getSubject())
        content = message.getContent()
        body = {"subject": message.getSubject()}
        if isinstance(content, str):
            body["content"] = content
        elif isinstance(content, (bytes, bytearray)):
            body["content_base64"] = base64.b64encode(bytes(content)).decode("ascii")
        else:
            raise MigratoryDataException(MigratoryDataException.E_MSG_INVALID, "content must be str or bytes")
        if message.getClosure() is not None:
            body["closure"] = message.getClosure()
        if message.isRetained():
            body["retained"] = True
            if message._retain_for:
                body["retain_ms"] = int(message._retain_for * 1000)
        key = message.getIdempotencyKey()
        if not key:
            key = uuid.uuid4().hex
        body["idempotency_key"] = key
        payload = json.dumps(body).encode("utf-8")
        status = self._publish(payload, time.monotonic() + self._publish_timeout)
        self._status(status, message.getClosure())
        return status

    def _wait_session(self, deadline):
        with self._lock:
            while True:
                if self._closed:
                    raise MigratoryDataException(MigratoryDataException.E_DISCONNECTED)
                sess = self._session
                if sess is not None and not sess.failed.is_set():
                    return sess
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                if sess is not None:
                    self._lock.release()
                    try:
                        sess.detached.wait(left)
                    finally:
                        self._lock.acquire()
                else:
                    self._lock.wait(left)

    def _publish(self, payload, deadline):
        while True:
            sess = self._wait_session(deadline)
            if sess is None:
                return self.NOTIFY_PUBLISH_TIMEOUT
            left = deadline - time.monotonic()
            if left <= 0:
                return self.NOTIFY_PUBLISH_TIMEOUT
            with self._lock:
                token = self._token
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = "Bearer " + token
            conn = self._http(sess.host, sess.port, left)
            try:
                conn.request("POST", "/v1/publish", body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                try:
                    answer = json.loads(raw)
                except ValueError:
                    return self.NOTIFY_PUBLISH_FAILED
                return self._STATUSES.get(answer.get("status"), self.NOTIFY_PUBLISH_FAILED)
            except socket.timeout:
                return self.NOTIFY_PUBLISH_TIMEOUT
            except (OSError, http.client.HTTPException):
                # The server is gone: move on and retry there, same key.
                sess.fail()
            finally:
                conn.close()

    def disconnect(self):
        """Close the connection; the client cannot be used again."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            sess = self._session
            subs = list(self._subs.values())
            self._lock.notify_all()
        for sub in subs:
            sub.cancelled.set()
        if sess is not None:
            sess.fail()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(10)
        self._events.put(None)
        self._dispatcher.join(10)
