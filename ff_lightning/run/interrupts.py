"""SIGTERM and SIGINT end a run as a recorded failure: results.json says `interrupted`, with the
epochs done, and the process exits 128 + the signal's number (143, 130), as a shell reports a
process the signal killed, so that a scheduler or an `&&` chain sees it failed.

Lightning handles both itself: on SIGTERM it stops at the next batch with SIGTERMException, a
SystemExit whose code is 0 (a success to the shell); on Ctrl+C it shuts down and calls
sys.exit(1). Neither says which signal came. This records the signal, lets Lightning stop as it
does, and turns what it raises into Interrupted. Where Lightning's handler is not installed
(while the data loads, between fit and test) the handler raises at once.
"""

import signal
from types import FrameType

HANDLED = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """The run stopped on a signal. A BaseException, so that a Hydra sweep stops too (Hydra
    records an Exception of a job and goes on with the next)."""

    def __init__(self, signum: int, epochs: int | None = None) -> None:
        self.signum = signum
        self.epochs = epochs
        super().__init__(f"{signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class SignalRecord:
    """Records SIGTERM and SIGINT from install() to restore(), which puts back the handlers that
    were there before."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> "SignalRecord":
        try:
            for sig in HANDLED:
                self._previous[sig] = signal.signal(sig, self.handler)
        except ValueError:  # not the main thread: signals are the main thread's to handle
            pass
        return self

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.received = self.received or signum
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        # called by the OS directly (Lightning's own handler is not installed): stop now; under
        # Lightning's handler, Lightning stops at the next batch
        if signal.getsignal(signum) == self.handler:
            raise Interrupted(signum)
