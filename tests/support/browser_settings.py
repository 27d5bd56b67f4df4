"""
The project's settings, with passwords hashed in one round, for the daphne of
the browser tests: their users are made by the test process with the same
hasher (tests/conftest.py, `fast_password_hashing`) and sign in through the
page, which checks (and would otherwise re-hash) the password with it. The
tests are about the realtime pages, not PBKDF2, which costs a second or so of
each test on a loaded machine.
"""

from project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
