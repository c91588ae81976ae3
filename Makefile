# make help: the menu. `make demo` and `make test` are the two set-up commands (see README.md).
.DEFAULT_GOAL := help
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Installed before everything else, so that pip does not pick a multi-GB CUDA build on its own.
TORCH ?= torch==2.13.0
DEMO_DIR ?= demo
# Two workers: the generated projects' suites run side by side.
PYTEST_ARGS ?= -n 2
# Explicit paths: ruff would otherwise read the Jinja pyproject.toml inside the template folder.
LINTED := hooks scripts tests benchmarks
# make bench BENCH_ARGS="--quick": fewer repeats and epochs (benchmarks/run.py --help lists the rest).
BENCH_ARGS ?=

help:  ## Show this menu
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet $(TORCH)
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Hydra 1.4 beside the default 1.3: the packages that differ, without dependencies (those are in .venv).
$(VENV)/hydra14/.installed: requirements-hydra14.txt $(VENV)/.installed
	rm -rf $(VENV)/hydra14
	$(PYTHON) -m pip install --quiet --no-deps --target $(VENV)/hydra14 -r requirements-hydra14.txt
	touch $@

install: $(VENV)/.installed $(VENV)/hydra14/.installed  ## Create .venv with cookiecutter, the test tools, every project dependency; Hydra 1.4 beside it

demo: install  ## Bake the default project into demo/, install it in its own .venv, train it offline
	rm -rf $(DEMO_DIR)
	$(VENV)/bin/cookiecutter --no-input . -o $(DEMO_DIR)
	cd $(DEMO_DIR)/* && WANDB_MODE=offline $(MAKE) --no-print-directory train TORCH="$(TORCH)" ARGS="extras.print_config=false"
	$(PYTHON) scripts/summarise_runs.py $(DEMO_DIR)

test: install  ## The template's whole test suite (what .ci/run runs)
	WANDB_MODE=offline $(PYTHON) -m pytest $(PYTEST_ARGS)

bench: install  ## Bake the default project and time it against a plain PyTorch loop (about 45 min on 2 cores)
	WANDB_MODE=offline $(PYTHON) benchmarks/run.py $(BENCH_ARGS)

bench-gpu: install  ## The GPU workload alone: ResNet-18 on CIFAR-shaped data, bf16, on a CUDA GPU (~3 min)
	WANDB_MODE=offline $(PYTHON) benchmarks/run.py --only overhead --workloads cifar-resnet --repeats 3 $(BENCH_ARGS)

# Debian/Ubuntu packages for the SLURM tests' private cluster; needs root (or sudo), skipped if present.
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

slurm-packages:  ## Install SLURM and munge (apt) so that the SLURM tests run instead of skipping
	@command -v slurmctld >/dev/null && command -v srun >/dev/null && command -v munged >/dev/null \
		|| { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SLURM_PACKAGES) >/dev/null; }

# Headless Chromium for the baked project's tests/test_report_html.py, which renders report.html in it.
browser-packages:  ## Install Chromium (apt) so that the report.html browser test runs instead of skipping
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
		|| { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

lint: install  ## ruff on the template's own code; baked projects are linted by the tests
	$(VENV)/bin/ruff check $(LINTED) && $(VENV)/bin/ruff format --check $(LINTED)

format: install  ## Rewrite the template's own code in its style
	$(VENV)/bin/ruff check --fix $(LINTED) && $(VENV)/bin/ruff format $(LINTED)
	$(PYTHON) scripts/format_template.py

clean:  ## Remove demo/, caches (keeps .venv)
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help install demo test bench bench-gpu slurm-packages browser-packages lint format clean
