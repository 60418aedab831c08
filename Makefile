# dmconv: `make run` installs, builds, runs the quickstart experiment (table, slopes, verdicts,
# results/quickstart.h5) and draws its plots (results/quickstart_plots/); `make test` installs,
# builds and runs the test suite; `make report` runs every experiment and writes the HTML page of
# their verdicts (results/report/index.html). BUILD_DIR, JOBS and CMAKE_FLAGS may be overridden.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

# `make sanitize` and `make fuzz` (README "Sanitizers and fuzzing") are separate, slow jobs, not
# part of `make test`: they configure their own build directories with clang++.
SANITIZE_DIR ?= build-sanitize
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 600
# clang >= 16: clang 14 (Debian's default clang) cannot capture structured bindings in lambdas
# (C++20), which src/estimators uses. Debian 12: apt-get install clang-16 libclang-rt-16-dev libomp-16-dev
SANITIZE_CXX ?= clang++-16
SANITIZE_CC ?= clang-16
CCACHE := $(shell command -v ccache 2>/dev/null)
LAUNCHER := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

.PHONY: all deps build run demo test report bench bench-peers clean sanitize fuzz fuzz-build fuzz-merge

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD_DIR).configure.log 2>&1 \
	  || (cat $(BUILD_DIR).configure.log; exit 1)
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@OMP_WAIT_POLICY=passive $(BUILD_DIR)/dmconv run experiments/quickstart.toml --out results/quickstart.h5
	@/usr/bin/python3 plots/plot_results.py results/quickstart.h5 --out-dir results/quickstart_plots

demo: build
	@$(BUILD_DIR)/dmconv demo

# `make report` (a user target, not part of `make test`: about 6 min on 2 cores): runs every
# experiments/*.toml (scripts/run_all_experiments.sh, REPORT_JOBS = 2 at a time; REPORT_EXPERIMENTS="NAME ..." for a subset) into
# $(REPORT_RESULTS)/NAME.h5 and writes the static HTML page of all their claims, tightness and plots
# to $(REPORT_DIR)/index.html (`dmconv report`, plots/README.md). LSI profile configs ([lsi]) write
# no claim fits of the run kind and are left out of the page. Exit status: that of the experiments
# (1 when one failed; the page still shows every file written), or of `dmconv report`.
REPORT_RESULTS ?= results
REPORT_DIR ?= $(REPORT_RESULTS)/report
REPORT_EXPERIMENTS ?=
REPORT_JOBS ?= 2
report: build
	@status=0; scripts/run_all_experiments.sh --dmconv $(BUILD_DIR)/dmconv --out $(REPORT_RESULTS) --jobs $(REPORT_JOBS) \
	  $(REPORT_EXPERIMENTS) || status=$$?; \
	names="$(REPORT_EXPERIMENTS)"; [ -n "$$names" ] || names=$$(ls experiments/*.toml | xargs -n1 basename | sed 's/[.]toml$$//'); \
	files=""; for n in $$names; do \
	  if ! grep -q '^\[lsi\]' experiments/$$n.toml && [ -f $(REPORT_RESULTS)/$$n.h5 ]; then files="$$files $(REPORT_RESULTS)/$$n.h5"; fi; \
	done; \
	[ -n "$$files" ] || { echo "report: no results file to report" >&2; exit 1; }; \
	$(BUILD_DIR)/dmconv report $$files --out $(REPORT_DIR) || exit $$?; exit $$status

test: build
	@cd $(BUILD_DIR) && OMP_WAIT_POLICY=passive ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@$(BUILD_DIR)/bench/dmconv_bench

# dmconv against plain PyTorch and NumPy code on one DDIM and one DDPM problem (bench/peers/README.md):
# throughput table and moment check, exit 1 if the outputs disagree. python3-torch is installed
# here only, and only when /usr/bin/python3 cannot import torch (never by `make deps` or `make test`).
PEERS_THREADS ?= 2
PEERS_FLAGS ?=
bench-peers: deps
	@/usr/bin/python3 -c 'import torch' 2>/dev/null || bash scripts/install-deps.sh --peers
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD_DIR).configure.log 2>&1 \
	  || (cat $(BUILD_DIR).configure.log; exit 1)
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target dmconv_bench dmconv_peer_moments
	@/usr/bin/python3 bench/peers/run_peers.py --build-dir $(BUILD_DIR) --threads $(PEERS_THREADS) $(PEERS_FLAGS)

# ASan + UBSan build (-O1, line tables for the stack traces, assertions on) of dmconv and
# dmconv_tests; then the gtest binary once, and the other tests of the ctest label "unit" (the
# scripts, which drive the sanitized dmconv and dmconv_tests); never the label "rates". Leaks are
# reported (detect_leaks=1); any UB aborts.
SANITIZE_ASAN_OPTIONS ?= detect_leaks=1
SANITIZE_UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
SANITIZE_SCRIPT_TESTS ?= ^(plots|results_file|architecture|cli|docs)[.]
# Wall-clock budgets (e.g. "propagation < 1 s") do not hold under ASan; they are not memory or UB checks.
SANITIZE_GTEST_FILTER ?= -GaussianLaw.PropagationIsFastAtLargeTAndD
SYMBOLIZER ?= $(shell command -v llvm-symbolizer-16 || command -v llvm-symbolizer)
SANITIZE_ENV = ASAN_OPTIONS=$(SANITIZE_ASAN_OPTIONS) UBSAN_OPTIONS=$(SANITIZE_UBSAN_OPTIONS) OMP_WAIT_POLICY=passive \
  ASAN_SYMBOLIZER_PATH=$(SYMBOLIZER)
sanitize:
	@bash scripts/install-deps.sh --sanitize
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_CXX_COMPILER=$(SANITIZE_CXX) -DCMAKE_C_COMPILER=$(SANITIZE_CC) \
	  -DDMCONV_SANITIZE=ON -DDMCONV_BUILD_BENCH=OFF $(LAUNCHER) $(CMAKE_FLAGS) > $(SANITIZE_DIR).configure.log 2>&1 \
	  || (cat $(SANITIZE_DIR).configure.log; exit 1)
	@cmake --build $(SANITIZE_DIR) -j $(JOBS) --target dmconv dmconv_tests
	@cd $(SANITIZE_DIR) && $(SANITIZE_ENV) ./tests/dmconv_tests --gtest_filter='$(SANITIZE_GTEST_FILTER)'
	@cd $(SANITIZE_DIR) && $(SANITIZE_ENV) ctest -L unit -R '$(SANITIZE_SCRIPT_TESTS)' --output-on-failure \
	  -j $(JOBS) --timeout 1800

# libFuzzer on the config reader (fuzz/config_fuzzer.cpp): new inputs go to $(FUZZ_DIR)/corpus,
# crashes/timeouts/OOMs to $(FUZZ_DIR)/artifacts/; fuzz/corpus/ (committed seeds) is read only.
# `make fuzz-merge` minimises fuzz/corpus/ together with what the run found (-merge=1).
FUZZ_FLAGS ?= -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=4096 -dict=fuzz/config.dict
fuzz-build:
	@bash scripts/install-deps.sh --sanitize
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_CXX_COMPILER=$(SANITIZE_CXX) -DCMAKE_C_COMPILER=$(SANITIZE_CC) \
	  -DDMCONV_FUZZ=ON -DDMCONV_BUILD_TESTS=OFF -DDMCONV_BUILD_BENCH=OFF $(LAUNCHER) $(CMAKE_FLAGS) \
	  > $(FUZZ_DIR).configure.log 2>&1 || (cat $(FUZZ_DIR).configure.log; exit 1)
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target config_fuzzer

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@$(SANITIZE_ENV) $(FUZZ_DIR)/fuzz/config_fuzzer $(FUZZ_DIR)/corpus fuzz/corpus $(FUZZ_FLAGS) \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/

fuzz-merge: fuzz-build
	@rm -rf $(FUZZ_DIR)/merged && mkdir -p $(FUZZ_DIR)/merged $(FUZZ_DIR)/corpus
	@$(FUZZ_DIR)/fuzz/config_fuzzer -merge=1 -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
	  $(FUZZ_DIR)/merged fuzz/corpus $(FUZZ_DIR)/corpus
	@rm -rf fuzz/corpus && cp -r $(FUZZ_DIR)/merged fuzz/corpus

clean:
	@rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log
