# Runs one planted-bug case of emu_negative and asserts that the emulation build caught it:
# the program must fail, its output must match every regular expression given, and, unless
# NAMES_LINE is OFF (bugs seen only in the results), the output must name the line that the
# source marks with BUG(<case>).
#
# cmake -DPROGRAM=<emu_negative> -DCASE=<case> -DSOURCE=<negative.cu> [-DORDER=<order>]
#       -DEXPECT=<regex>[&&<regex>...] [-DNAMES_LINE=OFF] -P check_negative.cmake
foreach(var PROGRAM CASE SOURCE EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_negative.cmake: ${var} is not set")
  endif()
endforeach()
if(DEFINED ORDER)
  set(ENV{SR_EMU_ORDER} ${ORDER})
endif()

execute_process(COMMAND ${PROGRAM} ${CASE}
                RESULT_VARIABLE rc
                OUTPUT_VARIABLE out
                ERROR_VARIABLE out
                TIMEOUT 60)
set(failures)
if(rc EQUAL 0)
  list(APPEND failures "the program succeeded: the planted bug was not caught")
elseif(rc EQUAL 77)
  list(APPEND failures "the program skipped the case (77)")
elseif(NOT rc MATCHES "^[0-9]+$")
  list(APPEND failures "the program did not finish normally: ${rc}")
endif()

string(REPLACE "&&" ";" patterns "${EXPECT}")
foreach(pattern IN LISTS patterns)
  if(NOT out MATCHES "${pattern}")
    list(APPEND failures "no match for the expected report \"${pattern}\"")
  endif()
endforeach()

file(READ ${SOURCE} source)
string(FIND "${source}" "BUG(${CASE})" at)
if(NOT at EQUAL -1 AND NOT (DEFINED NAMES_LINE AND NOT NAMES_LINE))
  string(SUBSTRING "${source}" 0 ${at} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines number)
  math(EXPR number "${number} + 1")
  get_filename_component(name ${SOURCE} NAME)
  if(NOT out MATCHES "${name}:${number}[^0-9]")
    list(APPEND failures "the report does not name the planted bug's line ${name}:${number}")
  endif()
endif()

if(failures)
  string(REPLACE ";" "\n  " failures "${failures}")
  message(FATAL_ERROR "case ${CASE}: \n  ${failures}\n--- output (exit ${rc}) ---\n${out}")
endif()
message(STATUS "case ${CASE}: caught as expected (exit ${rc})")
