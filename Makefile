# dmconv: `make run` installs, builds, runs the quickstart experiment (table, slopes, verdicts,
# results/quickstart.h5) and draws its plots (results/quickstart_plots/); `make test` installs,
# builds and runs the test suite. BUILD_DIR, JOBS and CMAKE_FLAGS may be overridden.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build run demo test bench clean

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

test: build
	@cd $(BUILD_DIR) && OMP_WAIT_POLICY=passive ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@$(BUILD_DIR)/bench/dmconv_bench

clean:
	@rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log
