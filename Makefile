# qa-bot: `make run` serves the UI, `make test` runs every test and the seeds eval gate.
VENV  := .venv
PY    := $(VENV)/bin/python
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install index run test test-fast lint browser eval bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the local CPU wheel first: an unpinned torch would pull GBs of CUDA packages
	$(PY) -m pip install torch==2.13.0
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

index: install
	$(BIN)/qa-bot ingest seeds

run: index
	$(BIN)/qa-bot serve

# Debian's chromium for the real-browser UI test (never `playwright install`).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium missing: the browser test will fail"

lint: install
	$(BIN)/ruff check qa_bot tests
	$(BIN)/mypy qa_bot

test-fast: install
	$(BIN)/pytest -q -m "not slow" -x

test: install browser lint
	$(BIN)/pytest -q -ra --durations=12
	$(BIN)/qa-bot ingest seeds --index index
	$(BIN)/qa-bot eval --suite seeds --suite squad2-pairs --index index --out eval-out --junit eval-out/junit.xml

eval: index
	$(BIN)/qa-bot eval --suite seeds --suite squad2-pairs --out eval-out --junit eval-out/junit.xml

bench: index
	$(BIN)/qa-bot bench --out bench-out

clean:
	rm -rf index eval-out bench-out data
