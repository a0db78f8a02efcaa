# Front door: `make demo` runs the main job, `make test` the whole test suite
# (what CI runs). Both install missing Debian packages first. The real build is
# CMake; these targets only drive it.
JOBS ?= $(shell nproc)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build test test-main test-emu test-asan check-kernels demo format clean

all: build

deps:
	@bash tools/install-deps.sh

# The product build: CPU backend + CUDA backend when nvcc is present.
build: deps
	cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j $(JOBS)

# 1. product build: CPU tests (GPU tests skip without a GPU)
test-main: build
	ctest --test-dir build --output-on-failure -j $(JOBS)

# 2. CUDA emulation build: every kernel on the CPU, three thread orders
test-emu: deps
	cmake -S . -B build-emu $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSR_CUDA_EMU=ON
	cmake --build build-emu -j $(JOBS)
	ctest --test-dir build-emu --output-on-failure -j $(JOBS)

# 3. the same emulation build under AddressSanitizer + UBSan (CPU tests too)
test-asan: deps
	cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSR_CUDA_EMU=ON -DSR_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# 4. nvcc resource usage (no spills) and the kernel-source rules
check-kernels:
	bash tools/check-kernel-rules.sh
	@if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then \
	  bash tools/check-spills.sh; \
	else echo "check-kernels: no nvcc on this machine, spill check skipped"; fi

test: test-main test-emu test-asan check-kernels
	@echo "make test: all suites passed"

demo: build
	bash tools/demo.sh build

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cu' '*.cuh' '*.cpp')

clean:
	rm -rf build build-emu build-asan
