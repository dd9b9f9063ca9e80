"""What each ``heldout serve`` worker process calls to build its app (kept import-light).

uvicorn pickles the factory into every worker and pings the worker from the first moment;
unpickling must not import the whole web stack (that takes seconds on a busy machine and
uvicorn would kill the worker as unresponsive), so the app module is imported on the call.
The settings travel inside the factory: nothing is passed through ``os.environ``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from heldout.config import Settings


@dataclass(frozen=True)
class AppFactory:
    """A picklable ``create_app(settings, migrate=False)`` (migrations ran before the fork)."""

    settings: Settings

    def __call__(self) -> Any:
        app_module = importlib.import_module("heldout.api.app")
        return app_module.create_app(self.settings, migrate=False)
