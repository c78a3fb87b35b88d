"""Runs localstack-core on the host, bound to loopback only (castform emulator launcher).

localstack-core 2026.3.0's default gateway server (twisted) ignores the host part of
GATEWAY_LISTEN for IPv4 (localstack/runtime/server/twisted.py: `endpoints.TCP4ServerEndpoint(reactor,
port)` with the comment "TODO: interface = host?"), so GATEWAY_LISTEN=127.0.0.1:4566 still listens on
0.0.0.0:4566. This wrapper makes every TCP4ServerEndpoint created without an interface bind to the
host from GATEWAY_LISTEN (default 127.0.0.1) and then calls the normal entry point
(`python -m localstack.runtime.main`).
"""
import os
import runpy

from twisted.internet import endpoints

_HOST = (os.environ.get("GATEWAY_LISTEN") or "127.0.0.1:4566").split(",")[0].rsplit(":", 1)[0] or "127.0.0.1"
_Orig = endpoints.TCP4ServerEndpoint


class _LoopbackTCP4ServerEndpoint(_Orig):
    def __init__(self, reactor, port, backlog=50, interface=""):
        super().__init__(reactor, port, backlog, interface or _HOST)


endpoints.TCP4ServerEndpoint = _LoopbackTCP4ServerEndpoint

if __name__ == "__main__":
    from castform_emulator import patches

    patches.apply()
    runpy.run_module("localstack.runtime.main", run_name="__main__", alter_sys=True)
