"""Function timeouts, in seconds (light: read at import by the decorators).

The execution engine's run budgets (`service.executor`) stay well inside them.
"""

CALLABLE_TIMEOUT_S = 120  # callables that run plans; the client SDK waits 70 s by default
TASK_TIMEOUT_S = 1800  # task-queue functions: Cloud Tasks' longest dispatch deadline
