# The two commands a new user needs (see README.md):
#   make run    install what is missing, build, and start `promptwall serve` with embedded defaults
#   make test   install what is missing and run every test
.PHONY: setup run test lint

CARGO ?= cargo

setup:
	@scripts/setup.sh

run: setup
	$(CARGO) build --release -p promptwall
	ORT_DYLIB_PATH=$(CURDIR)/.cache/onnxruntime/libonnxruntime.so.1.31.1 ./target/release/promptwall serve $(if $(CONFIG),--config $(CONFIG))

test: setup
	ORT_DYLIB_PATH=$(CURDIR)/.cache/onnxruntime/libonnxruntime.so.1.31.1 $(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
