# ruff: noqa: E501  (a transcript of engine output, kept verbatim)
"""How an engine failure becomes a message: the cause survives the language host's tracebacks."""

from __future__ import annotations

from pulumi import automation as auto

from sandboxes.engine import EngineFailed, _translate, _without_tracebacks
from sandboxes.reconcile.model import explain

# What `pulumi up` printed when a Deployment hit a field conflict (shape of a real run, shortened):
# the engine cancels the program, and the language host prints a chained KeyboardInterrupt.
CONFLICT_THEN_CANCEL = """\
Updating (sandbox-rca001):
 ~  kubernetes:apps/v1:Deployment sandbox-rca001-workload-deployment updating (0s) [diff: ~spec]; error: 1 error occurred:
 ~  kubernetes:apps/v1:Deployment sandbox-rca001-workload-deployment **updating failed** [diff: ~spec]; error: 1 error occurred:
    pulumi:pulumi:Stack sandboxes-sandbox-rca001 running error: update failed
Diagnostics:
  kubernetes:apps/v1:Deployment (sandbox-rca001-workload-deployment):
    error: 1 error occurred:
    \t* the Kubernetes API server reported that "sandbox-rca001/sandbox-rca001-web" failed to fully initialize or become live: Server-Side Apply field conflict detected.

  pulumi:pulumi:Stack (sandboxes-sandbox-rca001):
    Traceback (most recent call last):
      File "/usr/lib/python3.11/asyncio/base_events.py", line 1884, in _run_once
        event_list = self._selector.select(timeout)
                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
      File "/usr/lib/python3.11/selectors.py", line 468, in select
        fd_event_list = self._selector.poll(timeout, max_ev)
    KeyboardInterrupt
    During handling of the above exception, another exception occurred:
    Traceback (most recent call last):
      File "/cache/pulumi-language-python-exec", line 244, in <module>
        executor.shutdown(wait=True)
      File "/usr/lib/python3.11/concurrent/futures/thread.py", line 235, in shutdown
        t.join()
      File "/usr/lib/python3.11/threading.py", line 1119, in join
        self._wait_for_tstate_lock()
      File "/usr/lib/python3.11/threading.py", line 1139, in _wait_for_tstate_lock
        if lock.acquire(block, timeout):
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    KeyboardInterrupt

Resources:
    1 errored
    23 unchanged

Duration: 4s
"""

PROGRAM_ERROR = """\
Diagnostics:
  pulumi:pulumi:Stack (sandboxes-sandbox-x):
    error: Program failed with an unhandled exception:
    Traceback (most recent call last):
      File "/repo/__main__.py", line 10, in <module>
        main()
    ValueError: sandbox:spec is not valid
"""


def test_cancellation_tracebacks_are_dropped_and_the_cause_kept() -> None:
    lines = _without_tracebacks(CONFLICT_THEN_CANCEL)
    assert not [line for line in lines if "KeyboardInterrupt" in line or "File " in line or "Traceback" in line]
    assert any("field conflict" in line for line in lines[-25:])
    assert lines[-1].strip() == "Duration: 4s"


def test_a_programs_own_exception_line_is_kept() -> None:
    lines = [line.strip() for line in _without_tracebacks(PROGRAM_ERROR)]
    assert lines[-1] == "ValueError: sandbox:spec is not valid"
    assert not [line for line in lines if line.startswith("File ")]


def test_the_explained_message_names_the_conflict() -> None:
    err = _translate(auto.CommandError(auto.CommandResult(stdout=CONFLICT_THEN_CANCEL, stderr="", code=255)),
                     "sandbox-rca001")
    assert isinstance(err, EngineFailed)
    assert "conflict" in explain(err).lower()


# The same failure when another step in flight (the database chart) was cut off by it first.
CONFLICT_AFTER_A_CUT_OFF_STEP = """\
Updating (sandbox-rca001):
 ~  kubernetes:apps/v1:Deployment sandbox-rca001-workload-deployment updating (0s) [diff: ~spec]; error: 1 error occurred:
 ~  kubernetes:helm.sh/v4:Chart sandbox-rca001-database-chart refreshing error: kubernetes:helm.sh/v4:Chart resource 'sandbox-rca001-database-chart' has a problem: grpc: the client connection is closing
 ~  kubernetes:apps/v1:Deployment sandbox-rca001-workload-deployment **updating failed** [diff: ~spec]; error: 1 error occurred:
    pulumi:pulumi:Stack sandboxes-sandbox-rca001 running error: update failed
 @ updating.... the Kubernetes API server reported that "sandbox-rca001/sandbox-rca001-web" failed to fully initialize or become live: Server-Side Apply field conflict detected.
Diagnostics:
  kubernetes:helm.sh/v4:Chart (sandbox-rca001-database-chart):
    error: kubernetes:helm.sh/v4:Chart resource 'sandbox-rca001-database-chart' has a problem: grpc: the client connection is closing
    \t* context canceled

Resources:
    1 errored
"""


def test_errors_of_steps_cut_off_by_the_failure_do_not_hide_its_cause() -> None:
    err = _translate(auto.CommandError(auto.CommandResult(stdout=CONFLICT_AFTER_A_CUT_OFF_STEP, stderr="",
                                                          code=255)), "sandbox-rca001")
    message = explain(err)
    assert "field conflict" in message
    assert "client connection is closing" not in message and "context canceled" not in message
