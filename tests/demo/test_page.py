"""The demo page over HTTP: sign-in required, the page's configuration, the static client it loads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from comments.models import Post
from project.asgi import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="demo-config" type="application/json">(.*?)</script>', html)
    assert match is not None
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def test_an_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = Client().get("/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/")


def test_the_sign_in_page_names_the_demo_user() -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert "<code>demo</code> / <code>demo-password</code>" in response.content.decode()


def test_signing_in_leads_to_the_page(user: Any) -> None:
    user.set_password("s3cret-pass")
    user.save()
    response = Client().post("/login/", {"username": "alice", "password": "s3cret-pass", "next": "/"})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_the_page_watches_the_first_post_and_loads_the_client(signed_in: Client) -> None:
    first, _ = Post.objects.create(title="First"), Post.objects.create(title="Second")
    response = signed_in.get("/")
    html = response.content.decode()
    assert page_config(html) == {"postId": first.pk, "tokenUrl": "/realtime/token/", "username": "alice"}
    assert '<script type="module" src="/static/demo/demo.js"></script>' in html
    assert "csrftoken" in response.cookies  # the client POSTs to the token endpoint with it


def test_the_page_watches_the_post_asked_for(signed_in: Client) -> None:
    Post.objects.create(title="First")
    second = Post.objects.create(title="Second")
    assert page_config(signed_in.get(f"/?post={second.pk}").content.decode())["postId"] == second.pk


@pytest.mark.parametrize("wanted", ["999999", "not-a-number"])
def test_a_post_that_does_not_exist_is_404(signed_in: Client, wanted: str) -> None:
    assert signed_in.get(f"/?post={wanted}").status_code == 404


def test_without_posts_the_page_says_how_to_make_one(signed_in: Client) -> None:
    html = signed_in.get("/").content.decode()
    assert page_config(html)["postId"] is None
    assert "No post yet" in html


def test_post_titles_are_escaped(signed_in: Client) -> None:
    Post.objects.create(title="<script>alert(1)</script>")
    html = signed_in.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("path", "content_type", "opening"),
    [
        ("/static/realtime/client.js", b"text/javascript", b"// A dependency-free client"),
        ("/static/demo/demo.js", b"text/javascript", b"// The demo page"),
        ("/static/demo/demo.css", b"text/css", b":root"),
    ],
)
async def test_the_application_serves_the_static_files(path: str, content_type: bytes, opening: bytes) -> None:
    status, headers, body = await asgi_get(path)
    assert status == 200
    assert headers[b"content-type"].startswith(content_type)
    assert body.startswith(opening)


async def asgi_get(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    """A GET through project.asgi (where /static/ is served), as daphne would make it."""
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "http_version": "1.1"}
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output()
    body = b""
    while True:
        chunk = await communicator.receive_output()
        body += chunk.get("body", b"")
        if not chunk.get("more_body"):
            break
    await communicator.wait()  # the response is closed, and its file with it
    return start["status"], {name.lower(): value for name, value in start["headers"]}, body
