# Shared compile settings: every portwarden target links portwarden_settings.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# ccache, when installed (scripts/install-deps.sh installs it): a rebuild with the same
# compiler and flags hits the cache, in this build directory after a clean or in the same
# build directory of another checkout (the next CI run, a worktree): paths are taken relative
# to the checkout, so the build directory must be inside it, as the scripts' are. The CI
# stages (g++, g++ with sanitizers, MinGW, clang for the fuzz targets) compile differently
# and share no entry.
find_program(PORTWARDEN_CCACHE ccache)
if(PORTWARDEN_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
      CCACHE_NOHASHDIR=1 ${PORTWARDEN_CCACHE})
endif()

add_library(portwarden_settings INTERFACE)
target_compile_options(portwarden_settings INTERFACE -Wall -Wextra -Wpedantic)
target_include_directories(portwarden_settings INTERFACE ${PROJECT_SOURCE_DIR})

# Version and git revision for portwarden_build_info.
set(PORTWARDEN_REVISION "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${PROJECT_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE PORTWARDEN_REVISION
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT PORTWARDEN_REVISION)
    set(PORTWARDEN_REVISION "unknown")
  endif()
endif()
