# The two commands a new machine needs: `make demo` and `make test`.
# Each first installs missing Debian packages (scripts/install_deps.sh).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench fuzz corpus install clean

all: build

deps:
	@sh scripts/install_deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# With clang installed, the reader's libFuzzer target is built too and
# ctest runs it for a bounded number of inputs (FormatFuzzSmoke).
test: build
	@if command -v clang++ >/dev/null 2>&1 || command -v clang++-14 >/dev/null 2>&1; then \
	  FUZZ_SECONDS=0 sh tests/formats/fuzz.sh $(BUILD); fi
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	sh tools/demo.sh $(BUILD)

bench: build
	sh bench/run_all.sh $(BUILD)

# Fuzzes the trace reader with libFuzzer (needs clang); FUZZ_SECONDS=120 by default.
fuzz: build
	sh tests/formats/fuzz.sh $(BUILD)

# Re-records the golden traces in tests/corpus (the Corpus tests replay them).
corpus: build
	sh tests/corpus/record.sh $(BUILD)

# PREFIX=/some/dir installs there instead of the configured prefix.
install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

clean:
	rm -rf $(BUILD)
