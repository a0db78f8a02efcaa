# libscorerecon: one object library, packaged as static and shared.
file(GLOB_RECURSE SR_HOST_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/src/core/*.c
     ${CMAKE_SOURCE_DIR}/src/io/*.c
     ${CMAKE_SOURCE_DIR}/src/backend/*.c
     ${CMAKE_SOURCE_DIR}/src/operators/*.c
     ${CMAKE_SOURCE_DIR}/src/model/*.c
     ${CMAKE_SOURCE_DIR}/src/sampler/*.c
     ${CMAKE_SOURCE_DIR}/src/metrics/*.c)
# The CUDA backend's host files are compiled only when a CUDA backend exists.
list(FILTER SR_HOST_SOURCES EXCLUDE REGEX "/src/backend/cuda/")
file(GLOB SR_CUDA_HOST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/backend/cuda/*.c)
file(GLOB SR_KERNEL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/kernels/*.cu)

configure_file(${CMAKE_SOURCE_DIR}/src/core/build_config.h.in
               ${CMAKE_BINARY_DIR}/generated/build_config.h @ONLY)

add_library(scorerecon_obj OBJECT ${SR_HOST_SOURCES})
target_include_directories(scorerecon_obj PUBLIC ${CMAKE_SOURCE_DIR}/include
                                                 ${CMAKE_SOURCE_DIR}/src
                                                 ${CMAKE_BINARY_DIR}/generated)
target_include_directories(scorerecon_obj PRIVATE ${CMAKE_SOURCE_DIR}/kernels)
target_compile_options(scorerecon_obj PRIVATE $<$<COMPILE_LANGUAGE:C>:${SR_WARNINGS}>)
set(SR_LINK_LIBS PkgConfig::FFTW3F PkgConfig::OPENBLAS PNG::PNG ZLIB::ZLIB
    ${HDF5_C_LIBRARIES} OpenMP::OpenMP_C Threads::Threads m ${CMAKE_DL_LIBS})
target_include_directories(scorerecon_obj SYSTEM PUBLIC ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(scorerecon_obj PUBLIC PkgConfig::FFTW3F PkgConfig::OPENBLAS PNG::PNG
                      ZLIB::ZLIB OpenMP::OpenMP_C)

# The uniform-to-normal transform must round identically on CPU and GPU: no
# FMA contraction in the files that compute it (see src/core/philox.h).
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/backend/cpu/cpu_rng.c
                            PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")

if(SR_HAVE_CUDA)
  target_sources(scorerecon_obj PRIVATE ${SR_CUDA_HOST_SOURCES})
  target_compile_definitions(scorerecon_obj PUBLIC SR_HAVE_CUDA=1)
  if(SR_CUDA_EMU)
    target_compile_definitions(scorerecon_obj PUBLIC SR_CUDA_EMU=1)
    target_include_directories(scorerecon_obj SYSTEM PUBLIC /usr/local/cuda/include)
    sr_emu_compile_kernels(scorerecon_obj ${SR_KERNEL_SOURCES})
    list(APPEND SR_LINK_LIBS sr_cuda_emu)
  else()
    target_sources(scorerecon_obj PRIVATE ${SR_KERNEL_SOURCES})
    target_include_directories(scorerecon_obj SYSTEM PUBLIC ${CUDAToolkit_INCLUDE_DIRS})
    set_source_files_properties(${CMAKE_SOURCE_DIR}/kernels/philox.cu
                                PROPERTIES COMPILE_OPTIONS "--fmad=false")
    target_compile_options(scorerecon_obj PRIVATE
                           $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-warn-spills --Werror=all-warnings>)
    list(APPEND SR_LINK_LIBS CUDA::cudart_static CUDA::cufft CUDA::cublas)
    if(NOT SR_CUDNN STREQUAL "OFF")
      find_library(SR_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
      if(SR_CUDNN_LIBRARY)
        target_compile_definitions(scorerecon_obj PUBLIC SR_HAVE_CUDNN=1)
        list(APPEND SR_LINK_LIBS ${SR_CUDNN_LIBRARY})
      elseif(SR_CUDNN STREQUAL "ON")
        message(FATAL_ERROR "SR_CUDNN=ON but libcudnn was not found")
      endif()
    endif()
  endif()
endif()

add_library(scorerecon_static STATIC $<TARGET_OBJECTS:scorerecon_obj>)
add_library(scorerecon_shared SHARED $<TARGET_OBJECTS:scorerecon_obj>)
foreach(t scorerecon_static scorerecon_shared)
  set_target_properties(${t} PROPERTIES OUTPUT_NAME scorerecon)
  target_include_directories(${t} PUBLIC ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src
                                         ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${t} PUBLIC ${SR_LINK_LIBS})
  get_target_property(_defs scorerecon_obj INTERFACE_COMPILE_DEFINITIONS)
  if(_defs)
    target_compile_definitions(${t} PUBLIC ${_defs})
  endif()
endforeach()
if(SR_HAVE_CUDA AND NOT SR_CUDA_EMU)
  set_target_properties(scorerecon_shared PROPERTIES CUDA_RESOLVE_DEVICE_SYMBOLS ON)
  # Find cuFFT/cuBLAS/cuDNN at run time without LD_LIBRARY_PATH.
  set_target_properties(scorerecon_shared PROPERTIES BUILD_RPATH ${CUDAToolkit_LIBRARY_DIR})
endif()
