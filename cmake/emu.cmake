# The CUDA emulation build (docs/emulator.md): kernels/*.cu compiled by the host C++
# compiler against the CPU emulator in src/backend/cuda/emu/, which also stands in for
# cudart, cuFFT (on FFTW) and cuBLAS (on OpenBLAS).
#
# include(emu) defines
#   sr_cuda_emu      static library: the emulator and the cuFFT/cuBLAS shims; link it in
#                    place of cudart, cufft and cublas
#   sr_emu_rewrite   the build tool that rewrites __shared__ declarations
#   sr_emu_compile_kernels(<target> <file.cu>...)
#                    adds the .cu files to <target>, rewritten and compiled as C++17 with
#                    -DSR_CUDA_EMU against the toolkit's headers and the emulator
# Sanitizers come from the including project (SR_SANITIZE adds them to every target).
include_guard(GLOBAL)

get_filename_component(SR_EMU_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(SR_EMU_DIR ${SR_EMU_ROOT}/src/backend/cuda/emu)
set(SR_EMU_KERNEL_DIR ${SR_EMU_ROOT}/kernels)
set(SR_EMU_CUDA_INCLUDE /usr/local/cuda/include
    CACHE PATH "CUDA toolkit headers used by the emulation build (only headers are needed)")
if(NOT EXISTS ${SR_EMU_CUDA_INCLUDE}/cuda_runtime.h)
  message(FATAL_ERROR "SR_CUDA_EMU needs the CUDA toolkit's headers: set SR_EMU_CUDA_INCLUDE "
                      "to the directory holding cuda_runtime.h")
endif()

find_package(Threads REQUIRED)
if(NOT TARGET PkgConfig::FFTW3F OR NOT TARGET PkgConfig::OPENBLAS)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
  pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
endif()

add_executable(sr_emu_rewrite ${SR_EMU_DIR}/rewrite_shared.cpp)
target_compile_features(sr_emu_rewrite PRIVATE cxx_std_17)
target_compile_options(sr_emu_rewrite PRIVATE -Wall -Wextra -Werror)

add_library(sr_cuda_emu STATIC
            ${SR_EMU_DIR}/fiber.cpp
            ${SR_EMU_DIR}/scheduler.cpp
            ${SR_EMU_DIR}/warp.cpp
            ${SR_EMU_DIR}/shared_memory.cpp
            ${SR_EMU_DIR}/memory.cpp
            ${SR_EMU_DIR}/runtime.cpp
            ${SR_EMU_DIR}/device_math.cpp
            ${SR_EMU_DIR}/cufft_shim.cpp
            ${SR_EMU_DIR}/cublas_shim.cpp)
target_compile_features(sr_cuda_emu PUBLIC cxx_std_17)
target_compile_definitions(sr_cuda_emu PRIVATE SR_CUDA_EMU=1)
target_compile_options(sr_cuda_emu PRIVATE -Wall -Wextra -Werror)
target_include_directories(sr_cuda_emu PUBLIC ${SR_EMU_DIR})
target_include_directories(sr_cuda_emu SYSTEM PUBLIC ${SR_EMU_CUDA_INCLUDE})
set_target_properties(sr_cuda_emu PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(sr_cuda_emu PUBLIC PkgConfig::FFTW3F PkgConfig::OPENBLAS Threads::Threads
                                         ${CMAKE_DL_LIBS})

# Kernel sources are C++ here. Contraction stays off so that results compare closely with
# the C twins (C11 mode does not contract either); aliasing rules are relaxed as nvcc's
# are, since kernels reinterpret float* as float4*. nvcc does not warn about signed/unsigned
# comparisons (threadIdx.x < n), so neither do we.
set(SR_EMU_KERNEL_OPTIONS -ffp-contract=off -fno-strict-aliasing -Wall -Wextra -Werror
                          -Wno-unused-parameter -Wno-sign-compare)

# Where the rewritten copies of the files in source directory `dir` go, for target `target`.
function(_sr_emu_output_dir target dir out_var)
  file(RELATIVE_PATH rel ${SR_EMU_ROOT} ${dir})
  if(rel MATCHES "^\\.\\." OR IS_ABSOLUTE "${rel}")
    string(MD5 rel ${dir})
  endif()
  set(${out_var} ${CMAKE_CURRENT_BINARY_DIR}/${target}.emu/${rel} PARENT_SCOPE)
endfunction()

function(_sr_emu_rewrite input output)
  add_custom_command(OUTPUT ${output}
                     COMMAND sr_emu_rewrite ${input} ${output}
                     DEPENDS ${input} sr_emu_rewrite
                     COMMENT "Rewriting ${input} for the CUDA emulator"
                     VERBATIM)
endfunction()

function(sr_emu_compile_kernels target)
  # Every directory holding a source, and kernels/, gets a rewritten copy of its .cuh
  # headers: a quoted include then finds the copy next to the rewritten source.
  set(src_dirs ${SR_EMU_KERNEL_DIR})
  set(cu_files)
  foreach(cu IN LISTS ARGN)
    get_filename_component(cu ${cu} ABSOLUTE)
    get_filename_component(dir ${cu} DIRECTORY)
    list(APPEND cu_files ${cu})
    list(APPEND src_dirs ${dir})
  endforeach()
  list(REMOVE_DUPLICATES src_dirs)

  get_property(done TARGET ${target} PROPERTY SR_EMU_REWRITTEN_DIRS)
  set(gen_dirs)
  set(headers)
  foreach(dir IN LISTS src_dirs)
    _sr_emu_output_dir(${target} ${dir} out_dir)
    list(APPEND gen_dirs ${out_dir})
    if(dir IN_LIST done)
      continue()
    endif()
    set_property(TARGET ${target} APPEND PROPERTY SR_EMU_REWRITTEN_DIRS ${dir})
    file(GLOB cuhs CONFIGURE_DEPENDS ${dir}/*.cuh)
    foreach(h IN LISTS cuhs)
      get_filename_component(name ${h} NAME)
      _sr_emu_rewrite(${h} ${out_dir}/${name})
      list(APPEND headers ${out_dir}/${name})
    endforeach()
  endforeach()

  set(sources)
  foreach(cu IN LISTS cu_files)
    get_filename_component(dir ${cu} DIRECTORY)
    get_filename_component(name ${cu} NAME)
    _sr_emu_output_dir(${target} ${dir} out_dir)
    _sr_emu_rewrite(${cu} ${out_dir}/${name}.cpp)
    list(APPEND sources ${out_dir}/${name}.cpp)
  endforeach()

  target_sources(${target} PRIVATE ${sources} ${headers})
  target_compile_features(${target} PRIVATE cxx_std_17)
  if(headers)
    set_source_files_properties(${headers} PROPERTIES HEADER_FILE_ONLY ON)
  endif()
  set_source_files_properties(
    ${sources} PROPERTIES
    COMPILE_DEFINITIONS SR_CUDA_EMU=1
    COMPILE_OPTIONS "${SR_EMU_KERNEL_OPTIONS};-isystem;${SR_EMU_CUDA_INCLUDE}"
    INCLUDE_DIRECTORIES "${gen_dirs};${src_dirs};${SR_EMU_DIR}")
endfunction()
