"""The ASGI application answers uvicorn's lifespan protocol."""

from __future__ import annotations

from channels.testing import ApplicationCommunicator

from project.asgi import application


async def test_lifespan_startup_and_shutdown_are_acknowledged() -> None:
    communicator = ApplicationCommunicator(application, {"type": "lifespan", "asgi": {"version": "3.0"}})
    await communicator.send_input({"type": "lifespan.startup"})
    assert await communicator.receive_output() == {"type": "lifespan.startup.complete"}
    await communicator.send_input({"type": "lifespan.shutdown"})
    assert await communicator.receive_output() == {"type": "lifespan.shutdown.complete"}
    await communicator.wait()
