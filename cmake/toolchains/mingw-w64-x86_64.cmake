# Cross-build for 64-bit Windows with Debian's MinGW-w64 (g++-mingw-w64-x86-64-posix).
#
#   prefix=$(scripts/windows-deps.sh)
#   cmake -S . -B build-win \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
#     -DPORTWARDEN_WIN_PREFIX="$prefix"
#
# The posix thread model is required: std::thread, std::mutex and std::condition_variable
# in GCC 12's libstdc++ exist only on top of winpthreads, and spdlog/prometheus-cpp use them.
# Everything is linked statically so portwarden.exe is one file with no MinGW DLL beside it.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_pw_triple x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_pw_triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_pw_triple}-g++-posix)
# CMake guesses binutils from the compiler name, but the "-posix" suffix defeats that guess.
set(CMAKE_RC_COMPILER ${_pw_triple}-windres)
set(CMAKE_AR ${_pw_triple}-ar CACHE FILEPATH "MinGW archiver")
set(CMAKE_RANLIB ${_pw_triple}-ranlib CACHE FILEPATH "MinGW ranlib")

# The dependency prefix built by scripts/windows-deps.sh (static prometheus-cpp, civetweb,
# yaml-cpp, googletest; spdlog, fmt and nlohmann-json headers; zlib is in the sysroot). The
# environment variable is read again here because try_compile() re-runs this file without
# the cache.
if(NOT DEFINED PORTWARDEN_WIN_PREFIX AND DEFINED ENV{PORTWARDEN_WIN_PREFIX})
  set(PORTWARDEN_WIN_PREFIX "$ENV{PORTWARDEN_WIN_PREFIX}")
endif()
set(PORTWARDEN_WIN_PREFIX "${PORTWARDEN_WIN_PREFIX}" CACHE PATH
    "Prefix with the MinGW builds of portwarden's dependencies (scripts/windows-deps.sh)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PORTWARDEN_WIN_PREFIX)

# Only the MinGW sysroot and our prefix are searched for headers, libraries and packages:
# a hit in the host's /usr (glibc headers, Linux .so files) would break the build.
set(CMAKE_FIND_ROOT_PATH /usr/${_pw_triple})
if(PORTWARDEN_WIN_PREFIX)
  list(PREPEND CMAKE_FIND_ROOT_PATH "${PORTWARDEN_WIN_PREFIX}")
  list(PREPEND CMAKE_PREFIX_PATH "${PORTWARDEN_WIN_PREFIX}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# civetweb's package runs its FindWinSock module, in its own build and in every consumer's
# find_package(civetweb). That module looks in ${WINSOCK_ROOT}/lib, then in one string made of
# all of gcc's colon-separated search directories, which never matches; without this hint
# civetweb::civetweb would lack ws2_32 and the link would fail on the socket calls.
if(NOT DEFINED WINSOCK_ROOT)
  set(WINSOCK_ROOT /usr/${_pw_triple})
endif()

# zlib comes from Debian's libz-mingw-w64-dev in the MinGW sysroot, which has both libz.a and
# the import library libz.dll.a of zlib1.dll; FindZLIB would take the latter by default.
set(ZLIB_USE_STATIC_LIBS ON)

# Static C/C++ runtime and winpthreads: no libgcc_s_seh-1.dll, libstdc++-6.dll or
# libwinpthread-1.dll to ship or to find on a server's PATH.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# Test executables (ctest, gtest_discover_tests) run under Wine, headless, in our own prefix.
get_filename_component(_pw_source_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(CMAKE_CROSSCOMPILING_EMULATOR "${_pw_source_root}/scripts/wine-run.sh")

unset(_pw_triple)
unset(_pw_source_root)
