from tests.hostile.fixtures import hostile_server, redirect_pair  # noqa: F401
