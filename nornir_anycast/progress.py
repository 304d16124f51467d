"""A Nornir processor that shows progress on the terminal while a task runs over many hosts."""

from __future__ import annotations

import threading
import time

from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Task
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class ProgressProcessor:
    """Counts hosts done (and failed) for the top-level task; remembers per-host seconds.

    On a terminal it shows a progress bar (removed when the task ends). With `per_host` it also
    prints one line per host as it finishes (`  edge: ok`, terminal or not): deploy's hosts take
    long and their order matters; verify prints its own per-host table instead, and an attempt
    that is retried is no news (`per_host=False`).
    """

    def __init__(self, console: Console | None = None, label: str = "running",
                 per_host: bool = True) -> None:
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.label = label
        self.per_host = per_host
        self.seconds: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._task_id: TaskID | None = None
        self._depth: dict[str, int] = {}

    def task_started(self, task: Task) -> None:
        total = len(task.nornir.inventory.hosts)
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=self.console, transient=True,
            disable=not self.console.is_terminal,
        )
        self._progress.start()
        self._task_id = self._progress.add_task(f"{self.label} {task.name}", total=total)

    def task_completed(self, task: Task, result: AggregatedResult) -> None:
        if self._progress is not None:
            self._progress.stop()

    def task_instance_started(self, task: Task, host: Host) -> None:
        with self._lock:
            self._started[host.name] = time.monotonic()

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        with self._lock:
            self.seconds[host.name] = time.monotonic() - self._started.get(host.name,
                                                                          time.monotonic())
            if self._progress is not None and self._task_id is not None:
                self._progress.advance(self._task_id)
            if self.per_host and self._progress is not None:
                state = "[red]failed[/red]" if result.failed else "[green]ok[/green]"
                self._progress.console.print(f"  {host.name}: {state}", highlight=False)

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        pass

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        pass
