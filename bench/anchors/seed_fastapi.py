"""
Anchor C: the seed's FastAPI endpoints, exactly as the seed writes them
(shared/seeds/004: "Basic WebSocket Endpoint"), served by uvicorn.
"""

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()


@app.websocket("/ws/echo")
async def echo_endpoint(websocket: WebSocket):
    """Echo any received message back to the sender."""
    await websocket.accept()   # complete the HTTP → WebSocket upgrade

    try:
        while True:
            # receive_text blocks until a message arrives (or disconnect)
            message = await websocket.receive_text()
            await websocket.send_text(f"Echo: {message}")

    except WebSocketDisconnect as e:
        print(f"Client disconnected with code {e.code}")


# ── JSON messages ─────────────────────────────────────────────────────────────
@app.websocket("/ws/json")
async def json_endpoint(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            # receive_json: parses the message as JSON
            data = await websocket.receive_json()
            # send_json: serialises and sends a Python dict/list as JSON
            await websocket.send_json({"received": data, "status": "ok"})
    except WebSocketDisconnect:
        pass
