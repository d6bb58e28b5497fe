# SpecLab: make run | make test | make bench | make fuzz | make deps
# Every target installs what it needs first (apt-get, only when missing).

SWIFT      ?= swift
APT_PKGS   := libgsl-dev libopenblas-dev gnuplot-nox fortunes
# FMA/AVX2 code generation where the CPU has it (10x faster float kernels, see
# MACHINE-NOTES.md); a portable build elsewhere.
CPU_FLAGS  := $(shell grep -q -w avx2 /proc/cpuinfo 2>/dev/null && grep -q -w fma /proc/cpuinfo 2>/dev/null && [ "$$(uname -m)" = x86_64 ] && echo "-Xswiftc -target-cpu -Xswiftc haswell")
RELEASE    := $(SWIFT) build -c release $(CPU_FLAGS)
SPECLAB    := .build/release/speclab

.PHONY: all deps build run test bench fuzz kernels clean

all: run

deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all present ($(APT_PKGS))"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "deps: missing$$missing; run:  sudo apt-get install -y --no-install-recommends$$missing" >&2; exit 1; \
	fi

build: deps
	$(RELEASE)

run: build
	$(SPECLAB) experiment run-suite default

# The validate suite times the reference model against probes it measures itself: it runs on its own,
# after the others, so that their work on the two cores does not land between its probe and its timings.
test: deps
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test $(CPU_FLAGS) --skip ValidateTests
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test $(CPU_FLAGS) --filter ValidateTests

# The full hostile-input suite (make test runs its quick set): every option of every command, the
# reference-model ones included, with fourteen hostile values each.
fuzz: deps
	SPECLAB_FUZZ=full OPENBLAS_NUM_THREADS=1 $(SWIFT) test --filter HostileInput

bench: build
	OPENBLAS_NUM_THREADS=1 $(SPECLAB) bench
	$(SPECLAB) bench-model --preset large

# On demand only (never by run or test): install aiconfigurator-core in a private virtualenv, convert its
# measured GPU kernels into Sources/Analytic/Resources/kernels/ and the test fixture, and rebuild the
# reference grid of experiment 035 from its own estimator. Needs python3-venv and the PyPI registry.
AIC_VENV   ?= .venv-aiconfigurator
kernels:
	python3 -m venv $(AIC_VENV)
	$(AIC_VENV)/bin/pip install -q aiconfigurator-core==0.12.0
	$(AIC_VENV)/bin/python tools/aiconfigurator/convert_kernels.py
	$(AIC_VENV)/bin/python tools/aiconfigurator/reference_grid.py

clean:
	rm -rf .build
