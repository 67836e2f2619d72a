"""The MigratoryData API against real Setsuna servers (separate processes)."""

import os
import threading
import unittest

from setsuna.migratorydata import (MigratoryDataClient, MigratoryDataException,
                                   MigratoryDataListener, MigratoryDataMessage)

from .servers import Server

C = MigratoryDataClient


class Recorder(MigratoryDataListener):
    def __init__(self):
        self.cond = threading.Condition()
        self.messages = []
        self.statuses = []

    def onMessage(self, message):
        with self.cond:
            self.messages.append(message)
            self.cond.notify_all()

    def onStatus(self, status, info):
        with self.cond:
            self.statuses.append((status, info))
            self.cond.notify_all()

    def wait(self, what, cond, timeout=20):
        with self.cond:
            if not self.cond.wait_for(cond, timeout):
                raise AssertionError("timed out waiting for %s; statuses %r" % (what, self.statuses))

    def contents(self):
        return [m.getContent() for m in self.messages]

    def count(self, content):
        return sum(1 for m in self.messages if m.getContent() == content)


class Base(unittest.TestCase):
    def server(self, *flags):
        s = Server(*flags)
        self.addCleanup(s.kill)
        return s

    def client(self, servers, token=None, **settings):
        c = MigratoryDataClient()
        rec = Recorder()
        c.setListener(rec)
        if token is not None:
            c.setEntitlementToken(token)
        c.setQuickReconnectInitialDelay(settings.get("quick", 0.05))
        if "publish_timeout" in settings:
            c.setPublishTimeout(settings["publish_timeout"])
        c.setServers(servers)
        self.addCleanup(c.disconnect)
        return c, rec

    def subscribed(self, c, rec, subject):
        c.subscribe([subject])
        rec.wait("subscribe " + subject, lambda: (C.NOTIFY_SUBSCRIBE_ALLOW, subject) in rec.statuses)


class TestAPIShape(unittest.TestCase):
    def test_constants_are_the_seeds(self):
        for name in ("OK", "FAILED", "DENIED", "NO_SUBSCRIBER", "TIMEOUT"):
            self.assertEqual(getattr(C, "NOTIFY_PUBLISH_" + name), "NOTIFY_PUBLISH_" + name)
        for method in ("setEntitlementToken", "setServers", "publish", "subscribe", "setListener", "disconnect"):
            self.assertTrue(callable(getattr(C(), method)))

    def test_invalid_arguments(self):
        c = MigratoryDataClient()
        self.addCleanup(c.disconnect)
        with self.assertRaises(MigratoryDataException) as e:
            c.setServers([])
        self.assertEqual(e.exception.getCode(), MigratoryDataException.E_CLUSTER_MEMBERS_NULL)
        with self.assertRaises(MigratoryDataException) as e:
            c.setServers(["no-port"])
        self.assertEqual(e.exception.getCode(), MigratoryDataException.E_INVALID_URL)
        for bad in ("/sport", "sport/football", "/sport/", ""):
            with self.assertRaises(MigratoryDataException) as e:
                c.publish(MigratoryDataMessage(bad, "x"))
            self.assertEqual(e.exception.getCode(), MigratoryDataException.E_INVALID_SUBJECT)

    def test_reconnect_policy(self):
        c = MigratoryDataClient()
        self.addCleanup(c.disconnect)
        self.assertEqual(c.reconnectDelay(1, 0), 5)
        self.assertEqual(c.reconnectDelay(2, 0.5), 7.5)
        self.assertEqual(c.reconnectDelay(4, 0), 20)
        self.assertEqual(c.reconnectDelay(5, 0), 40)
        self.assertEqual(c.reconnectDelay(50, 0), 360)


class TestStatuses(Base):
    def test_ok_no_subscriber_failed(self):
        s = self.server("--topic-max-payload", "16")
        s.create_cache("sport")
        c, rec = self.client([s.http])
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", "goal", "c1")), C.NOTIFY_PUBLISH_NO_SUBSCRIBER)
        self.subscribed(c, rec, "/sport/football")
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", "goal", "c2")), C.NOTIFY_PUBLISH_OK)
        rec.wait("the message", lambda: rec.contents() == ["goal"])
        m = rec.messages[0]
        self.assertEqual((m.getSubject(), m.getMessageType()), ("/sport/football", MigratoryDataMessage.UPDATE))
        self.assertGreater(m.getEpoch(), 0)
        self.assertEqual(m.getSeq(), 1)
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", b"\xff\x00")), C.NOTIFY_PUBLISH_OK)
        rec.wait("binary", lambda: rec.contents() == ["goal", b"\xff\x00"])
        self.assertEqual(c.publish(MigratoryDataMessage("/nosuchcache/football", "x")), C.NOTIFY_PUBLISH_FAILED)
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", "x" * 17)), C.NOTIFY_PUBLISH_FAILED)
        # Every status reaches the listener too, with its closure.
        rec.wait("notifications", lambda: (C.NOTIFY_PUBLISH_NO_SUBSCRIBER, "c1") in rec.statuses
                 and (C.NOTIFY_PUBLISH_OK, "c2") in rec.statuses)

    def test_denied_basic_entitlement(self):
        s = self.server("--entitlement-allow-token", "let-me-publish")
        s.create_cache("sport")
        sub, rec = self.client([s.http])  # no token: may subscribe
        self.subscribed(sub, rec, "/sport/football")
        self.assertEqual(sub.publish(MigratoryDataMessage("/sport/football", "x")), C.NOTIFY_PUBLISH_DENIED)
        pub, _ = self.client([s.http], token="let-me-publish")
        self.assertEqual(pub.publish(MigratoryDataMessage("/sport/football", "y")), C.NOTIFY_PUBLISH_OK)
        rec.wait("the message", lambda: rec.contents() == ["y"])

    def test_denied_without_a_valid_token(self):
        import tempfile
        data = tempfile.mkdtemp()
        s = self.server("--auth", "--data-dir", data)
        c, _ = self.client([s.http], token="forged")
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", "x")), C.NOTIFY_PUBLISH_DENIED)

    def test_timeout_then_idempotent_retry_lands_once(self):
        s = self.server()
        s.create_cache("sport")
        c, rec = self.client([s.http], publish_timeout=0.3)
        self.subscribed(c, rec, "/sport/football")
        s.stop()
        m = MigratoryDataMessage("/sport/football", "goal", "c-17", idempotency_key="goal-17")
        self.assertEqual(c.publish(m), C.NOTIFY_PUBLISH_TIMEOUT)
        s.cont()
        status = C.NOTIFY_PUBLISH_TIMEOUT
        while status == C.NOTIFY_PUBLISH_TIMEOUT:  # until the server answers again
            status = c.publish(m)
        self.assertEqual(status, C.NOTIFY_PUBLISH_OK)
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/football", "end")), C.NOTIFY_PUBLISH_OK)
        rec.wait("end", lambda: rec.count("end") == 1)
        self.assertEqual(rec.count("goal"), 1)
        self.assertIn((C.NOTIFY_PUBLISH_TIMEOUT, "c-17"), rec.statuses)


class TestRetained(Base):
    def test_snapshot_first(self):
        s = self.server()
        s.create_cache("sport")
        pub, _ = self.client([s.http])
        for score in ("1-0", "2-1"):
            self.assertEqual(pub.publish(MigratoryDataMessage("/sport/score", score, retained=True)), C.NOTIFY_PUBLISH_OK)
        late, rec = self.client([s.http])
        self.subscribed(late, rec, "/sport/score")
        self.assertEqual(pub.publish(MigratoryDataMessage("/sport/score", "3-1")), C.NOTIFY_PUBLISH_OK)
        rec.wait("snapshot and live", lambda: len(rec.messages) == 2)
        first, second = rec.messages
        self.assertEqual((first.getContent(), first.isRetained(), first.getMessageType()), ("2-1", True, "SNAPSHOT"))
        self.assertEqual((second.getContent(), second.isRetained()), ("3-1", False))


class TestFailover(Base):
    def test_sigkill_of_the_connected_server(self):
        servers = [self.server() for _ in range(3)]
        for s in servers:
            s.create_cache("sport")
        by_addr = {s.http: s for s in servers}
        c, rec = self.client([s.http for s in servers], quick=0.2)
        self.subscribed(c, rec, "/sport/live")
        first = c.getServer()
        before = ["b%d" % i for i in range(5)]
        for v in before:
            self.assertEqual(c.publish(MigratoryDataMessage("/sport/live", v)), C.NOTIFY_PUBLISH_OK)
        rec.wait("before", lambda: rec.count(before[-1]) == 1)

        publishing = threading.Event()
        outcomes = []

        def publisher():
            i = 0
            while not publishing.is_set():
                v = "a%d" % i
                outcomes.append((v, c.publish(MigratoryDataMessage("/sport/live", v))))
                i += 1

        t = threading.Thread(target=publisher)
        t.start()
        by_addr[first].kill()  # mid-stream: the publisher is publishing
        # Messages accepted once the client is on another server.
        rec.wait("the other server", lambda: any(st == C.NOTIFY_SERVER_UP and info != first for st, info in rec.statuses))
        # The publication under way now may have started before the kill:
        # count from the one after it.
        mark = len(outcomes) + 1

        def accepted():
            return [v for v, st in outcomes[mark:] if st == C.NOTIFY_PUBLISH_OK]
        # Each publication notifies the listener, so rec.cond wakes up.
        rec.wait("ten accepted after the failover", lambda: len(accepted()) >= 10)
        publishing.set()
        t.join()
        after = accepted()
        rec.wait("every message after the failover", lambda: all(rec.count(v) == 1 for v in after))

        statuses = rec.statuses
        down = statuses.index((C.NOTIFY_SERVER_DOWN, first))
        moves = [(st, info) for st, info in statuses[down + 1:] if st in (C.NOTIFY_SERVER_UP, C.NOTIFY_SERVER_DOWN)]
        # The first attempt reached another server: within the first delay.
        self.assertEqual(moves[0][0], C.NOTIFY_SERVER_UP, statuses)
        self.assertNotEqual(moves[0][1], first)
        self.assertIn((C.NOTIFY_DATA_RESYNC, "/sport/live"), statuses[down:], statuses)
        for v in before:
            self.assertEqual(rec.count(v), 1)
        for v, st in outcomes:
            if st != C.NOTIFY_PUBLISH_OK:
                self.assertEqual(rec.count(v), 0, (v, st))
            self.assertLessEqual(rec.count(v), 2, v)  # twice only if under way at the kill (resync)


if __name__ == "__main__":
    unittest.main()


class TestTLS(Base):
    def test_publish_and_subscribe_over_https(self):
        import shutil
        import ssl
        import subprocess
        import tempfile
        from .servers import BIN
        data = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, data)
        subprocess.run([BIN, "cert", "dev", "--data-dir", data], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tls = os.path.join(data, "tls")
        s = self.server("--tls-cert", os.path.join(tls, "server.pem"), "--tls-key", os.path.join(tls, "server-key.pem"))
        s.create_cache("sport", tls_ca=os.path.join(tls, "ca.pem"))
        ctx = ssl.create_default_context(cafile=os.path.join(tls, "ca.pem"))
        c = MigratoryDataClient()
        rec = Recorder()
        c.setListener(rec)
        c.setQuickReconnectInitialDelay(0.05)
        c.setSSLContext(ctx)
        c.setServers(["https://" + s.http])
        self.addCleanup(c.disconnect)
        self.subscribed(c, rec, "/sport/tls")
        self.assertEqual(c.publish(MigratoryDataMessage("/sport/tls", "secret")), C.NOTIFY_PUBLISH_OK)
        rec.wait("the message", lambda: rec.contents() == ["secret"])

    def test_an_untrusted_certificate_is_refused(self):
        import shutil
        import subprocess
        import tempfile
        from .servers import BIN
        data = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, data)
        subprocess.run([BIN, "cert", "dev", "--data-dir", data], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tls = os.path.join(data, "tls")
        s = self.server("--tls-cert", os.path.join(tls, "server.pem"), "--tls-key", os.path.join(tls, "server-key.pem"))
        c = MigratoryDataClient()
        rec = Recorder()
        c.setListener(rec)
        c.setEncryption(True)  # the system's CAs do not know the dev CA
        c.setServers([s.http])
        self.addCleanup(c.disconnect)
        rec.wait("server down", lambda: any(st == C.NOTIFY_SERVER_DOWN for st, _ in rec.statuses))
        self.assertFalse(any(st == C.NOTIFY_SERVER_UP for st, _ in rec.statuses))
