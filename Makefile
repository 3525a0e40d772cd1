# The README's two commands: `make demo` and `make test`. Both build what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest serve clean system-deps

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "billstream needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python system-deps
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

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

demo: $(STAMP)
	$(BIN)/billstream db upgrade
	$(BIN)/billstream demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

serve: $(STAMP)
	$(BIN)/billstream db upgrade
	$(BIN)/billstream serve

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
