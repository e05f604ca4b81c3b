"""The progress bar of a run in the terminal (rich): phase, time, ops so far and the faults now active.
``Progress(None)`` shows nothing (tests, scripts)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress as RichProgress, TaskID, TextColumn, TimeElapsedColumn


class Progress:
    def __init__(self, console: Console | None) -> None:
        self.console = console
        self._bar: RichProgress | None = None
        self._task = TaskID(0)  # set with _bar

    def start(self, total_s: float) -> None:
        if self.console is None:
            return
        self._bar = RichProgress(
            TextColumn("[bold]{task.description:<11}"),
            BarColumn(),
            TextColumn("{task.completed:>5.0f}/{task.total:.0f} s"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
        )
        self._bar.start()
        self._task = self._bar.add_task("starting", total=total_s, status="")

    def phase(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=name)
        elif self.console is not None:
            self.console.print(f"[dim]{name}...[/dim]")

    def update(self, at: float, counts: dict[str, int], faults: list[str]) -> None:
        if self._bar is None:
            return
        status = f"[green]{counts['ok']} ok[/] [red]{counts['fail']} fail[/] [yellow]{counts['info']} info[/]"
        if faults:
            status += "  [magenta]" + ", ".join(faults) + "[/]"
        self._bar.update(self._task, completed=at, status=status)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
