"""Benchmark: a no-op ``sandboxctl reconcile`` of 500 stack files, as a ratio to parsing them.

The reconciler promises that unchanged sandboxes cost no engine call: a no-op plan
should be YAML parsing plus *one* ``pulumi stack ls``. This builds a throw-away file
backend holding N stacks (one real ``pulumi stack init``, its checkpoint copied N-1
times: the listing reads exactly these files), a directory of N stack files and a
ledger that says each was applied, then times:

- ``parse``: ``stackfiles.scan`` alone (the floor: reading and validating every file);
- ``plan``: ``build_plan`` with the real engine driver (one ``pulumi`` process);
- ``cli``: ``sandboxctl reconcile --dir ...`` end to end in-process (plan + Rich output).

Run: ``.venv/bin/python bench/reconcile_bench.py [--count 500]``. Budget: ``cli`` < 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--budget", type=float, default=5.0, help="seconds allowed for the no-op reconcile")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    os.environ["SANDBOXES_DATA_DIR"] = str(work / "data")
    os.environ["PULUMI_BACKEND_URL"] = f"file://{work / 'state'}"
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = "bench-only"
    for var in ("KUBECONFIG", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN"):
        os.environ.pop(var, None)

    from typer.testing import CliRunner

    from sandboxes import reconcile, stackfiles
    from sandboxes.cli import app
    from sandboxes.environment import resolve
    from sandboxes.reconcile import Action, PlanOptions, build_plan
    from sandboxes.spec import parse_spec, spec_hash

    try:
        stacks = work / "stacks"
        slugs = [f"sandbox-{i:06d}" for i in range(args.count)]
        for slug in slugs:
            spec = parse_spec({"slug": slug, "name": f"Bench {slug}", "modules": ["msp", "cpo"],
                               "settings": {"feature_toggles": {"new_dashboard": True}}})
            stackfiles.write(stacks, spec, owner="bench@example.com")

        # A backend holding every stack: one real init, then copies of its checkpoint.
        env = resolve()
        (work / "state").mkdir()
        scratch = work / "scratch"
        scratch.mkdir()
        (scratch / "Pulumi.yaml").write_text("name: sandboxes\nruntime: python\n")
        subprocess.run([str(env.bin_dir / "pulumi"), "stack", "init", slugs[0], "--non-interactive"], cwd=scratch,
                       env=env.process_env(), check=True, capture_output=True)
        folder = work / "state" / ".pulumi" / "stacks" / "sandboxes"
        template = (folder / f"{slugs[0]}.json").read_text()
        for slug in slugs[1:]:
            (folder / f"{slug}.json").write_text(template.replace(slugs[0], slug))

        engine, backend = reconcile.open_engine(stacks)
        ledger = reconcile.open_ledger(stacks, backend)
        owner = reconcile.dir_owner(stacks)
        for sf in stackfiles.scan(stacks)[0]:
            ledger.record(sf.spec.slug, spec_hash(sf.spec), owner, parent=sf.spec.parent)

        parse = _best(lambda: stackfiles.scan(stacks))
        listing = _best(engine.stacks)
        plan_seconds = _best(lambda: build_plan(stacks, engine, ledger, owner, PlanOptions()))
        plan = build_plan(stacks, engine, ledger, owner, PlanOptions())
        assert not plan.problems, plan.problems
        assert all(i.action is Action.UNCHANGED for i in plan.items), plan.counts()

        runner = CliRunner()
        exit_codes: list[int] = []

        def cli() -> None:
            exit_codes.append(runner.invoke(app, ["reconcile", "--dir", str(stacks)]).exit_code)

        cli_seconds = _best(cli)
        assert set(exit_codes) == {0}, exit_codes

        report = {
            "count": args.count,
            "parse_s": round(parse, 3),
            "stack_ls_s": round(listing, 3),
            "plan_s": round(plan_seconds, 3),
            "cli_s": round(cli_seconds, 3),
            "plan_over_parse": round(plan_seconds / parse, 2),
            "cli_over_parse": round(cli_seconds / parse, 2),
            "budget_s": args.budget,
            "within_budget": cli_seconds < args.budget,
        }
        print(json.dumps(report, indent=2))
        return 0 if report["within_budget"] else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
