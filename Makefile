# Two commands for a newcomer: `make demo` and `make test`. Both set everything up first, and
# a second run installs nothing that is already there.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export ANNY_CACHE_DIR ?= $(CURDIR)/.cache/anny
export SEMANTIFY_CACHE_DIR ?= $(CURDIR)/.cache/semantify
APT_PACKAGES := libegl1 libgl1-mesa-dri libegl-mesa0 chromium
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)

.PHONY: demo test setup system cache bench clean

demo: setup
	$(PY) app.py

# One test process per core (pytest-xdist), each test file whole in one of them.
test: setup
	$(PY) -m pytest -q -n auto --dist loadfile

setup: system $(STAMP) $(ANNY_CACHE_DIR)/.ready tools/node_modules/.ready

# System packages for headless OpenGL (Mesa EGL) and the browser test, installed only if missing.
system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# torch and torchvision are pinned first so that nothing pulls the CUDA build.
$(STAMP): pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0 torchvision==0.28.0
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

# Anny builds its model data once (about a minute) into ANNY_CACHE_DIR.
$(ANNY_CACHE_DIR)/.ready: $(STAMP)
	$(PY) -c "from semantify.models import load_model; load_model('anny-body')"
	mkdir -p $(ANNY_CACHE_DIR) && touch $@

# Node tools the export tests run on GLBs (Khronos glTF-Validator, three.js), as locked in
# tools/package-lock.json; without npm they are skipped and so are those tests.
tools/node_modules/.ready: tools/package.json tools/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd tools && npm ci --no-audit --no-fund --silent) && touch $@; \
	else echo "npm not found: the GLB validator and three.js tests will be skipped"; fi

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .cache
