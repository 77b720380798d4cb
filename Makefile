# Front door. `make demo` runs the main job on the embedded defaults; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SANDBOXCTL := $(VENV)/bin/sandboxctl
TOOLCHAIN_FLAGS ?=

.PHONY: venv toolchain toolchain-node cluster cluster-down demo test test-fast lint typecheck clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

toolchain: venv
	$(PY) -m sandboxes.toolchain build $(TOOLCHAIN_FLAGS)

toolchain-node: venv
	$(PY) -m sandboxes.toolchain build --node $(TOOLCHAIN_FLAGS)

# On Linux as root the embedded cluster gets a real node (containerd, kubelet, CNI, kube-proxy,
# CoreDNS, Traefik) that really runs the sandboxes' pods from locally built images; elsewhere
# (or with REAL_NODE=0) kwok's simulated nodes only.
REAL_NODE ?= $(shell [ "$$(id -u)" = 0 ] && [ "$$(uname -s)" = Linux ] && echo 1 || echo 0)
NODE_SOCKET = $$($(PY) -c 'from sandboxes.cluster.realnode import node_dir; print(node_dir() / "containerd" / "containerd.sock")')

cluster: venv
ifeq ($(REAL_NODE),1)
	bash .ci/install-node-tools
	bash .ci/install-image-tools
	$(MAKE) toolchain-node
	$(SANDBOXCTL) cluster up --real-node
	$(PY) -m sandboxes.images build --containerd-socket "$(NODE_SOCKET)" $(IMAGES_FLAGS)
else
	$(MAKE) toolchain
	$(SANDBOXCTL) cluster up
endif

cluster-down: venv
	$(SANDBOXCTL) cluster down

demo: cluster
	$(SANDBOXCTL) demo

test: toolchain-node
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: venv
	$(PY) -m pytest -m "not engine and not realnode and not images" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check src components __main__.py tests seed-jobs bench device-simulator workload
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Local images without a registry (sandboxes.images): Debian base via mmdebstrap, podman build,
# content-hash tags, references in $SANDBOXES_DATA_DIR/images.json. Needs root and
# .ci/install-image-tools. IMAGES_FLAGS e.g. "--containerd-socket /run/x/containerd.sock".
IMAGES_FLAGS ?=
.PHONY: images
images: venv
	$(PY) -m sandboxes.images build $(IMAGES_FLAGS)
