"""Update middlewares, outermost first: tracing and timing, database session, user."""

from bot.middlewares.db import DbSessionMiddleware
from bot.middlewares.tracing import UpdateLogMiddleware
from bot.middlewares.user import UserMiddleware

__all__ = ["DbSessionMiddleware", "UpdateLogMiddleware", "UserMiddleware"]
