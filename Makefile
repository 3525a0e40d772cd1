# The README's two commands: `make demo` and `make test`. Both build what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest serve clean system-deps lock

UV_VERSION := 0.13.10
# The lock files (`make lock` writes them with uv from pyproject.toml's ranges): every package
# pinned with its hashes, so an upstream release never changes a fresh clone. The runtime lock
# is what `make demo` installs; the test lock adds the test toolchain at the same versions.
RUNTIME_LOCK := requirements/runtime.txt
TEST_LOCK := requirements/test.txt
RUNTIME_STAMP := $(VENV)/.installed-runtime
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "billstream needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml $(RUNTIME_LOCK) | $(BIN)/python system-deps
	$(PIP_INSTALL) --require-hashes --no-deps -r $(RUNTIME_LOCK)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

$(STAMP): pyproject.toml $(TEST_LOCK) | $(BIN)/python system-deps
	$(PIP_INSTALL) --require-hashes --no-deps -r $(TEST_LOCK)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@ $(RUNTIME_STAMP)

# Re-resolve both locks to the newest releases pyproject.toml allows, and say what changed.
# `make lock LOCK_UPGRADE=` keeps every existing pin and only adds what pyproject.toml gained.
LOCK_UPGRADE ?= --upgrade
COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_UPGRADE) pyproject.toml requirements/build.in
lock: | $(BIN)/python
	$(PIP_INSTALL) uv==$(UV_VERSION)
	@cat $(RUNTIME_LOCK) $(TEST_LOCK) 2>/dev/null | grep -o '^[A-Za-z0-9._-]*==[^ ;]*' | sort -u > $(VENV)/lock.before
	$(COMPILE) -o $(RUNTIME_LOCK)
	$(COMPILE) --extra test -c $(RUNTIME_LOCK) -o $(TEST_LOCK)
	@cat $(RUNTIME_LOCK) $(TEST_LOCK) | grep -o '^[A-Za-z0-9._-]*==[^ ;]*' | sort -u > $(VENV)/lock.after
	@if cmp -s $(VENV)/lock.before $(VENV)/lock.after; then echo "lock: nothing changed"; else \
		echo "lock: changed (- before, + after):"; \
		diff $(VENV)/lock.before $(VENV)/lock.after | sed -n 's/^< /  - /p; s/^> /  + /p'; fi

# WeasyPrint (invoice PDFs) needs Pango, HarfBuzz's subsetter and fonts from the system. A
# quick check each run; apt-get only where one is missing (sudo unless already root).
LDCONFIG := $(shell command -v ldconfig || echo /sbin/ldconfig)
WEASYPRINT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core
system-deps:
	@libs="$$($(LDCONFIG) -p 2>/dev/null)"; \
	if echo "$$libs" | grep -q 'libpango-1.0.so' && echo "$$libs" | grep -q 'libpangoft2-1.0.so' \
		&& echo "$$libs" | grep -q 'libharfbuzz-subset.so' \
		&& fc-list 2>/dev/null | grep -qi 'dejavu\|liberation\|noto'; then :; else \
		echo "installing the system packages WeasyPrint needs: $(WEASYPRINT_DEBS)"; \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y \
			-qq --no-install-recommends $(WEASYPRINT_DEBS); \
	fi

demo: $(RUNTIME_STAMP)
	$(BIN)/billstream db upgrade
	$(BIN)/billstream demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

serve: $(RUNTIME_STAMP)
	$(BIN)/billstream db upgrade
	$(BIN)/billstream serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
