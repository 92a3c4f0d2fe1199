"""What every fuzzer shares: the hypothesis profiles, the tally of outcomes, the error-log watch.

Two ways to run (environment variables):
- `MRBLUE_FUZZ_PROFILE=ci` (the default): a short, derandomized pass that fails on the first
  broken property (hypothesis then shrinks it to a minimal input).
- `MRBLUE_FUZZ_PROFILE=long` with `MRBLUE_FUZZ_INPUTS=N`: at least N examples per surface, and
  with `MRBLUE_FUZZ_RECORD=1` failures are counted instead of raised, so the run goes on and
  `python -m tests.fuzz` can print how many inputs crashed.
"""

import asyncio
import json
import logging
import os
import resource
import time
from dataclasses import asdict, dataclass, field

from hypothesis import HealthCheck, settings

PROFILE_ENV, INPUTS_ENV, RECORD_ENV, REPORT_ENV = (
    "MRBLUE_FUZZ_PROFILE",
    "MRBLUE_FUZZ_INPUTS",
    "MRBLUE_FUZZ_RECORD",
    "MRBLUE_FUZZ_REPORT",
)
# Loggers whose ERROR records mean an exception nobody handled (a 500, a crashed task).
WATCHED_LOGGERS = ("django.request", "daphne", "mrblue", "editor", "asyncio")

_SLOW_IS_FINE = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True, database=None,
    suppress_health_check=_SLOW_IS_FINE, print_blob=False,
)  # fmt: skip
settings.register_profile(
    "long", deadline=None, database=None, suppress_health_check=_SLOW_IS_FINE,
)  # fmt: skip
PROFILE = os.environ.get(PROFILE_ENV, "ci")
settings.load_profile(PROFILE)
RECORD = os.environ.get(RECORD_ENV) == "1"


INPUTS = int(os.environ.get(INPUTS_ENV) or 10_000)


def fuzz_settings(ci_examples: int, inputs_per_example: float = 1) -> settings:
    """The profile's settings, with this surface's own number of examples: `ci_examples` in
    the CI pass, else enough for the wanted number of inputs (see `drive`)."""
    if PROFILE == "ci":
        return settings(max_examples=ci_examples)
    return settings(max_examples=max(1, int(INPUTS / inputs_per_example)))


def drive(record: "Tally", fuzz) -> None:
    """Run a @given function: once in the CI pass; in a long run, again until the surface has
    seen the wanted number of inputs (hypothesis may stop early on a small search space)."""
    fuzz()
    while PROFILE != "ci" and record.inputs < INPUTS:
        before = record.inputs
        fuzz()
        if record.inputs == before:
            break


class ErrorLog(logging.Handler):
    """Collects ERROR records of the watched loggers (tracebacks of unhandled exceptions)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def install(self):
        """Attach to every watched logger."""
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addHandler(self)

    def remove(self):
        """Detach again."""
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def take(self) -> list[str]:
        """The records since the last call, formatted with their tracebacks."""
        records, self.records = self.records, []
        formatter = logging.Formatter("%(name)s: %(message)s")
        return [formatter.format(record) for record in records]


ERROR_LOG = ErrorLog()


class FuzzFailure(AssertionError):
    """A broken property: a crash, an unhandled exception, or a wrong answer."""


@dataclass
class Tally:
    """One surface's outcomes over a run."""

    surface: str
    inputs: int = 0
    errors_answered: int = 0
    crashes: int = 0
    unhandled: int = 0
    wrong_answers: int = 0
    seconds: float = 0.0
    max_rss_mib: float = 0.0
    failures: list = field(default_factory=list)  # the first few, for the report
    _started: float = field(default_factory=time.monotonic, repr=False)

    def answered(self, error: bool) -> None:
        """One input was answered as the protocol says (with an error, or not)."""
        self.inputs += 1
        self.errors_answered += bool(error)

    def crash(self, input_, detail: str) -> None:
        """The connection died, the server answered 500 or HTML, or did not answer."""
        self.inputs += 1
        self._fail("crashes", input_, detail)

    def wrong(self, input_, detail: str) -> None:
        """An answer that breaks the surface's contract (not a crash)."""
        self.inputs += 1
        self._fail("wrong_answers", input_, detail)

    def check_logs(self, input_) -> None:
        """Fail with the tracebacks logged while `input_` was handled, if any."""
        logged = ERROR_LOG.take()
        if logged:
            self._fail("unhandled", input_, "logged: " + "\n".join(logged)[:2000])

    def _fail(self, kind: str, input_, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        shown = repr(input_)
        shown = shown if len(shown) <= 600 else shown[:600] + f"... ({len(shown)} chars)"
        known = {(f["kind"], f["detail"]) for f in self.failures}
        if len(self.failures) < 5 and (kind, detail[:2000]) not in known:
            self.failures.append({"kind": kind, "input": shown, "detail": detail[:2000]})
        if not RECORD:
            raise FuzzFailure(f"{kind}: {detail}\ninput: {shown}")

    def finish(self) -> None:
        """Note the time taken and the process's peak memory."""
        self.seconds = round(time.monotonic() - self._started, 1)
        self.max_rss_mib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


TALLIES: dict[str, Tally] = {}


async def disconnect(socket) -> str | None:
    """Close a `WebsocketCommunicator`, giving the application the time Daphne gives it
    (`application_close_timeout`, 10 s); return what went wrong, if anything (an exception
    the application raised on the way, or its not ending in time)."""
    try:
        await socket.disconnect(timeout=10)
    except Exception as exc:
        return f"the application raised {type(exc).__name__}: {exc}"
    return None


class Died(Exception):
    """The connection closed, the application raised, or nothing came in time."""


async def next_output(socket, timeout: float) -> dict:
    """The next ASGI message a `WebsocketCommunicator`'s application sent; raise Died at once
    when the application has raised (the communicator itself notices only at its timeout)."""
    if socket.output_queue.empty() and not socket.future.done():
        getter = asyncio.ensure_future(socket.output_queue.get())
        await asyncio.wait({getter, socket.future}, timeout=timeout, return_when="FIRST_COMPLETED")
        if getter.done():
            return getter.result()
        getter.cancel()
    if not socket.output_queue.empty():
        return socket.output_queue.get_nowait()
    if socket.future.done():
        exc = socket.future.exception()
        raise Died(f"the application raised {type(exc).__name__}: {exc}" if exc else "it ended")
    raise Died(f"no answer within {timeout} s")


def close_loop(loop: asyncio.AbstractEventLoop) -> list[str]:
    """Cancel what still runs on a test's event loop, let it finish, close the loop; return
    the tasks that were still pending (a closed call or connection should leave none)."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()

    async def finish():
        await asyncio.gather(*pending, return_exceptions=True)

    loop.run_until_complete(finish())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    return [repr(task.get_coro()) for task in pending]


def tally(surface: str) -> Tally:
    """The tally of `surface`, new for each test that fuzzes it (the last one is reported)."""
    TALLIES[surface] = Tally(surface)
    ERROR_LOG.take()  # what came before this surface is not its fault
    return TALLIES[surface]


def write_report() -> None:
    """Write the tallies as JSON where `python -m tests.fuzz` asked for them."""
    path = os.environ.get(REPORT_ENV)
    if path:
        rows = [
            {k: v for k, v in asdict(t).items() if not k.startswith("_")} for t in TALLIES.values()
        ]
        with open(path, "w") as out:
            json.dump(rows, out)
