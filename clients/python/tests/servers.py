"""Setsuna servers as processes for the tests: the binary named by
$SETSUNA_BIN (make builds it), else ../../bin/setsuna."""

import json
import os
import signal
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("SETSUNA_BIN") or os.path.join(HERE, "..", "..", "..", "bin", "setsuna")


class Server:
    def __init__(self, *flags):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
             "--cosmos-listen", "off", "--log-format", "json", *flags],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.grpc = self.http = None
        for raw in self.proc.stderr:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("msg") == "setsuna listening":
                self.grpc, self.http = line["grpc"], line["http"]
                break
        if self.http is None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stderr.close()
            raise RuntimeError("setsuna exited before listening")
        # Keep reading its log so that the server never blocks on it.
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self):
        for _ in self.proc.stderr:
            pass

    def create_cache(self, name, tls_ca=None):
        tls = ["--tls-ca", tls_ca] if tls_ca else []
        subprocess.run([BIN, "cache", "create", "--addr", self.grpc, *tls, name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        """SIGSTOP, returning once the process is stopped."""
        self.proc.send_signal(signal.SIGSTOP)
        os.waitid(os.P_PID, self.proc.pid, os.WSTOPPED | os.WNOWAIT)

    def cont(self):
        self.proc.send_signal(signal.SIGCONT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()
        self._drainer.join(10)
        self.proc.stderr.close()
