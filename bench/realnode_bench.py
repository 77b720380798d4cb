"""Real node benchmark (not a test): how long the real node takes to come up and run a pod, and what it idles at.

Run as root on Linux: ``.venv/bin/python bench/realnode_bench.py``. Uses a private data
directory (a temporary one unless ``SANDBOXES_DATA_DIR`` is set), brings up the kwok
cluster, then the real node, runs one Job of the static test image
(tests/realnode/tool) and tears everything down. Reported:

- ``kwok_up_s``: the kwok control plane alone (the baseline the real node is added to);
- ``real_node_up_s``: ``realnode.up()`` until the node is Ready and kube-proxy healthy
  (certificates, bridge, containerd, pause image, CoreDNS, kubelet, kube-proxy);
- ``job_complete_s``: apply -> Job Complete for a container that prints and exits;
- ``idle_rss_mb``: resident memory of containerd, kubelet, kube-proxy and CoreDNS after the Job;
- ``down_s``: ``realnode.down()`` (drain, stop, unmount, remove bridge/nft/cgroups).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        print("the real node benchmark needs Linux and root", file=sys.stderr)
        return 2
    os.environ.setdefault("SANDBOXES_DATA_DIR", tempfile.mkdtemp(prefix="sandboxes-realnode-bench-"))
    from sandboxes.cluster import embedded, realnode

    result: dict[str, object] = {"data_dir": os.environ["SANDBOXES_DATA_DIR"]}
    started = time.monotonic()
    embedded.up(nodes=2)
    result["kwok_up_s"] = round(time.monotonic() - started, 2)
    try:
        started = time.monotonic()
        realnode.up()
        result["real_node_up_s"] = round(time.monotonic() - started, 2)
        binary = realnode.build_static_go(ROOT / "tests" / "realnode" / "tool", "realnode-test-tool")
        ref = f"localhost/sandboxes/realnode-test-tool:{hashlib.sha256(binary.read_bytes()).hexdigest()[:12]}"
        realnode.import_image(realnode.image_archive(realnode.node_dir() / "images" / "tool.tar", ref,
                                                     {"tool": (binary.read_bytes(), 0o755)}, ["/tool"]))
        job = {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bench", "namespace": "default"},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "nodeSelector": {realnode.NODE_LABEL_KEY: realnode.NODE_LABEL_VALUE},
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": ref, "imagePullPolicy": "Never", "args": ["say", "hi"]}],
            }}},
        }
        started = time.monotonic()
        subprocess.run([str(embedded.toolchain_bin_dir() / "kubectl"), "--kubeconfig",
                        str(embedded.embedded_kubeconfig()), "apply", "-f", "-"],
                       input=json.dumps(job), text=True, check=True, capture_output=True)
        embedded.kubectl("wait", "job/bench", "--for=condition=Complete", "--timeout=120s", timeout=130)
        result["job_complete_s"] = round(time.monotonic() - started, 2)
        time.sleep(2)
        rss = {}
        for name in realnode.PROCESSES:
            pid = realnode._pid(name)
            if pid:
                rss[name] = round(_rss_mb(pid), 1)
        result["idle_rss_mb"] = rss
        result["idle_rss_mb_total"] = round(sum(rss.values()), 1)
    finally:
        started = time.monotonic()
        realnode.down()
        result["down_s"] = round(time.monotonic() - started, 2)
        embedded.down()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
