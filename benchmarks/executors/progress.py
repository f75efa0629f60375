"""One progress view on the driver: per task, jobs done, running (or queued) and failed.

Workers show no progress of their own; the driver prints one line as each job ends, e.g.
``[cv] 4/13 done, 2 failed, 7 running or queued | cloud_debye fold 3 done in 12.1 s``.
"""

from __future__ import annotations

import sys
import time


class TaskProgress:
    def __init__(self, task: str, total: int, stream=None):
        self.task, self.total = task, total
        self.done = self.failed = 0
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    @property
    def in_flight(self) -> int:
        return self.total - self.done - self.failed

    def line(self, record: dict | None = None) -> str:
        text = (f"[{self.task}] {self.done}/{self.total} done, {self.failed} failed, "
                f"{self.in_flight} running or queued")
        if record is not None:
            what = (f"done in {record.get('time_s', 0.0):.1f} s" if record["status"] == "done"
                    else f"FAILED: {record.get('error', '')}")
            text += f" | {record['model']} fold {record['fold']} {what}"
        return text

    def started(self) -> None:
        print(f"[{self.task}] {self.total} jobs submitted", file=self.stream, flush=True)

    def finished(self, record: dict) -> None:
        if record["status"] == "done":
            self.done += 1
        else:
            self.failed += 1
        print(self.line(record), file=self.stream, flush=True)
