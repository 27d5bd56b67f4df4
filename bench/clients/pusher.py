"""
Notification pushes: publish notification events to users' groups through Redis,
as `notify_user` does once its notification is committed (the database insert is
left out: it is the same for every server, and this measures the servers).

    python -m bench.clients.pusher CONFIG.json

Config: "redis_url", "user_ids", "rounds" (notifications per user), "result".
Notification ids are unique; each user's `seq` runs 1, 2, 3...
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer

from bench.clients.common import load_config, write_result

CREATED_AT = "2026-01-01T00:00:00+00:00"


async def run(config: dict[str, Any]) -> dict[str, Any]:
    layer = RedisPubSubChannelLayer(hosts=[config["redis_url"]])
    user_ids: list[int] = config["user_ids"]
    # channels-redis returns from SUBSCRIBE before Redis has it: let the servers' subscriptions land.
    await asyncio.sleep(config.get("settle", 2.0))
    started = time.monotonic()
    for seq in range(1, config["rounds"] + 1):
        for user_id in user_ids:
            frame = {
                "type": "notification",
                "id": seq * 10_000_000 + user_id,
                "created_at": CREATED_AT,
                "payload": {"text": f"notification {seq}"},
            }
            event = {"type": "notification.created", "seq": seq, "notification": frame}
            await layer.group_send(f"notifications.user.{user_id}", event)
    published = time.monotonic()
    await layer.flush()
    return {"pushes": len(user_ids) * config["rounds"], "started": started, "published": published}


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(run(config)))


if __name__ == "__main__":
    main()
