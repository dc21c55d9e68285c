"""Who is calling (MLflow's ``users/current``): a UI shows the user and leaves out what the role cannot do."""

from __future__ import annotations

from pack.errors import NotFound
from pack.server.api import Access, Call, endpoints
from pack.server.wire import Json


@endpoints("GET", Access.READ, "users/current")
def current_user(call: Call) -> Json:
    """The authenticated user and role (404 when the server runs without ``--auth``, as MLflow's does)."""
    if call.role is None:
        raise NotFound("access control is off (pack server --auth): there is no current user")
    user = {"username": call.user, "role": call.role, "is_admin": call.role == "admin"}
    return {"user": user, "is_basic_auth": True}
