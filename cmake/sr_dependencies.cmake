# CPU-backend dependencies, all from Debian (tools/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
# OpenBLAS: Debian's pkg-config name is "openblas"; its cblas.h lives under
# /usr/include/<triplet>/ and is found through the .pc file.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
set(HDF5_PREFER_PARALLEL OFF)
find_package(HDF5 REQUIRED COMPONENTS C)
