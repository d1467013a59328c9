"""The request-body limit, whatever the framing: a ``Content-Length`` over the limit is refused up
front, and a chunked body is counted as it arrives and refused once it passes the limit (413), so
no size of body reaches a handler or fills the memory."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(
                scope, receive, send, f"body of {int(length)} bytes is over the limit of {self.max_bytes}"
            )
            return
        received, started, refused = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes and not started:
                    refused = True  # answer 413 now; to the app, the client has gone
                    await self._refuse(scope, receive, send, f"body over the limit of {self.max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is out; whatever the app says about the cut body goes nowhere
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        await JSONResponse({"detail": why}, status_code=413)(scope, receive, send)
