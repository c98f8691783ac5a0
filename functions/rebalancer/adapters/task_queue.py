"""The TaskQueue port on firebase_admin.functions (Cloud Tasks; its emulator locally)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any


class CloudTaskQueue:
    """Enqueues task-queue function calls; a task id is accepted once."""

    def enqueue(
        self, function: str, data: Mapping[str, Any], task_id: str, run_at: datetime
    ) -> bool:
        """Schedule `function(data)` at `run_at`; False when the task id already exists."""
        from firebase_admin import exceptions, functions

        queue = functions.task_queue(function)
        options = functions.TaskOptions(schedule_time=run_at, task_id=task_id)
        try:
            # The Python Admin SDK does not wrap the payload: the body must be {"data": ...}.
            queue.enqueue({"data": dict(data)}, options)
        except (exceptions.AlreadyExistsError, exceptions.ConflictError):
            return False
        except ValueError as error:
            # firebase-admin 7 cannot parse the emulator's task name (no leading '/'), after
            # the task was queued; production names parse.
            if os.environ.get("CLOUD_TASKS_EMULATOR_HOST") and "resource name" in str(error):
                return True
            raise
        return True
