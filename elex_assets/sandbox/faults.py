"""The fault queue the sandbox servers share: faults for the next matching requests.

Each sandbox names its own fault kinds and the path its faults hit by default;
queueing, ``after`` (let some requests through first) and ``times`` work the same.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Fault:
    kind: str
    times: int = 1
    after: int = 0
    path: str = "/"
    reset_in: float | None = 1.0  # 429: seconds to the rate-limit reset (<0: past, None: absent)


@dataclass
class FaultQueue:
    """Faults to inject into the next matching requests (thread-safe)."""

    kinds: ClassVar[tuple[str, ...]] = ()
    default_path: ClassVar[str] = "/"

    pending: list[Fault] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, kind: str, times: int = 1, after: int = 0, path: str | None = None,
        reset_in: float | None = 1.0,
    ) -> None:
        """Fail ``times`` requests under ``path`` after letting ``after`` of them through."""
        if kind not in self.kinds:
            raise ValueError(f"unknown fault {kind!r}; expected one of {self.kinds}")
        with self._lock:
            self.pending.append(Fault(kind, times, after, path or self.default_path, reset_in))

    def clear(self) -> None:
        with self._lock:
            self.pending.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.pending:
                if not path.startswith(fault.path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.pending.remove(fault)
                self.injected.append(fault.kind)
                return fault
        return None
