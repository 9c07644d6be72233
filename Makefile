# Postamt: `make run` and `make test` install what is missing, build, then run.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD := build
BUILD_ASAN := build-asan
BUILD_FUZZ := build-fuzz
PYTEST := /usr/bin/python3 -m pytest
FUZZ_SECONDS ?= 10
PREFIX ?= /usr/local
DESTDIR ?=
# ccache hits across clones in other directories (CI clones afresh each run).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps deps-test build build-asan build-fuzz run install deb test unit integration fuzz bench clean

all: build

# What building and running need; test tools and peers only for the test targets.
deps:
	@bash scripts/install-deps.sh run

deps-test:
	@bash scripts/install-deps.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTAMT_TESTS=OFF

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPOSTAMT_SANITIZE=ON

$(BUILD_FUZZ)/build.ninja:
	CC=clang-19 CXX=clang++-19 cmake -S . -B $(BUILD_FUZZ) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTAMT_FUZZ=ON

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS) postamt

build-asan: deps-test $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN) -j$(JOBS)

build-fuzz: deps-test $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ) -j$(JOBS)

# First run: a working setup in var/ for localhost / example.test on development ports,
# with the demo account's generated password printed once. Later runs reuse var/.
run: build
	@if [ ! -f var/postamt.toml ]; then \
	  $(BUILD)/postamt quickstart --hostname localhost --domain example.test --dir var \
	    --dev-ports --account demo@example.test; \
	fi
	exec $(BUILD)/postamt serve --config var/postamt.toml

# The release build into $(DESTDIR)$(PREFIX): bin/postamt, the man page, the docs and the
# systemd unit (lib/systemd/system/postamt.service, naming $(PREFIX)/bin/postamt).
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# $(BUILD)/postamt_VERSION_amd64.deb (CPack; dpkg-shlibdeps computes the dependencies).
deb: build
	cd $(BUILD) && cpack -G DEB

unit: build-asan
	cd $(BUILD_ASAN) && ctest --output-on-failure -j$(JOBS)

integration: deps-test build build-asan deb
	POSTAMT_BINARY=$(CURDIR)/$(BUILD_ASAN)/postamt POSTAMT_RELEASE_BINARY=$(CURDIR)/$(BUILD)/postamt $(PYTEST) -q -n $(JOBS) tests/integration

fuzz: build-fuzz
	@bash tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# The package test (tests/integration/test_package.py) installs the .deb `deb` made.
test: deps-test build build-asan build-fuzz deb
	cd $(BUILD_ASAN) && ctest --output-on-failure -j$(JOBS)
	@bash tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)
	POSTAMT_BINARY=$(CURDIR)/$(BUILD_ASAN)/postamt POSTAMT_RELEASE_BINARY=$(CURDIR)/$(BUILD)/postamt \
	  $(PYTEST) -q -n $(JOBS) tests/integration

# Side by side with a private Postfix + Dovecot (docs/benchmarks.md). BENCH_ARGS: e.g.
# --reps 5, --only smtp, --big, --idle 10000, --quick.
bench: deps-test build
	/usr/bin/python3 bench/run.py --binary $(CURDIR)/$(BUILD)/postamt $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
