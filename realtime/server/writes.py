"""
Bytes to a client go to its socket at once when nothing is waiting before them.

Twisted buffers every `transport.write` and sends it when the event loop next
finds the socket writable: for each WebSocket frame, a registration of the
socket for writing, one more turn of the loop, the send, and the
registration undone (two `epoll_ctl` calls). Measured under daphne: about a
quarter of the server's CPU in an echo round trip (bench/RESULTS.md, "Where the
time goes"). asyncio's own transports (uvicorn's) try the send first and buffer
only what the socket does not take; here daphne's connections do the same.

Order and flow control are unchanged: the send is tried only when Twisted holds
no bytes for the connection, what the socket does not take is buffered as
before (so a slow reader still fills the buffer that `SEND_BUFFER_LIMIT`
bounds), and a failed send is left to Twisted, which finds the connection
lost on its next write. TLS connections are left as they are. A sequence of
bytes (`writeSequence`: the chunks of a chunked HTTP response, an SSE stream's
events) is one write of the joined bytes.
"""

from __future__ import annotations

from typing import Any

from realtime.server.patching import replace


def sending_first(original: Any) -> Any:
    """Twisted's `Connection.write` (`original`), sending first when its buffers are empty."""

    def write(self: Any, data: bytes) -> None:
        if (
            type(data) is bytes
            and data
            and self.connected
            and not self.TLS
            and not self._writeDisconnected
            and not self._aborting
            and not self._tempDataLen
            and self.offset == len(self.dataBuffer)
        ):
            sent = self.writeSomeData(data)  # a count, or an exception instance when the connection is lost
            if type(sent) is int and sent > 0:
                if sent == len(data):
                    return
                data = data[sent:]
        original(self, data)

    return write


def sequence_sent_first(original: Any) -> Any:
    """
    Twisted's `Connection.writeSequence` (`original`) as one `write` of the joined bytes, so that it
    is sent first too: what a chunked HTTP response (an SSE stream's events) writes, four pieces a
    chunk. Twisted's own does what `write` does for each piece, buffering them all.
    """

    def writeSequence(self: Any, iovec: Any) -> None:
        if type(iovec) in (list, tuple) and all(type(piece) is bytes for piece in iovec):
            self.write(b"".join(iovec))
            return
        original(self, iovec)

    return writeSequence


def install() -> bool:
    """Apply to the TCP connections Twisted accepts (daphne's); False without Twisted."""
    try:
        from twisted.internet import tcp
    except ImportError:
        return False
    replace(tcp.Server, "write", sending_first)
    replace(tcp.Server, "writeSequence", sequence_sent_first)
    return True
