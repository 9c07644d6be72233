# `make install` (cmake --install, PREFIX and DESTDIR) and `make deb` (CPack's DEB generator):
# the binary, the man page, the docs and the systemd unit. Included by the top-level
# CMakeLists.txt for the product build only.
include(GNUInstallDirs)

install(TARGETS postamt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Debian keeps manual pages compressed (gzip -9n: no name or time stamp, so the same page
# gives the same bytes). Made at install time, so no build target is needed for it.
install(CODE "execute_process(COMMAND gzip -9nc \"${CMAKE_SOURCE_DIR}/docs/postamt.8\"
                              OUTPUT_FILE \"${CMAKE_BINARY_DIR}/packaging/postamt.8.gz\"
                              RESULT_VARIABLE gzip_status)
              if(NOT gzip_status EQUAL 0)
                message(FATAL_ERROR \"gzip of docs/postamt.8 failed\")
              endif()")
install(FILES ${CMAKE_BINARY_DIR}/packaging/postamt.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

file(GLOB POSTAMT_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${POSTAMT_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${CMAKE_SOURCE_DIR}/docs/alerts.yml)  # Prometheus alerting rules (docs/OPERATIONS.md)
  install(FILES ${CMAKE_SOURCE_DIR}/docs/alerts.yml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
endif()

# The unit names the binary where this install puts it: the prefix is known only when the
# install runs (make install: PREFIX; the package: /usr), so it is written then.
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/packaging)
install(CODE "set(POSTAMT_BINARY \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/postamt\")
              set(POSTAMT_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
              configure_file(\"${CMAKE_SOURCE_DIR}/packaging/postamt.service.in\"
                             \"${CMAKE_BINARY_DIR}/packaging/postamt.service\" @ONLY)")
# systemd reads units from /usr/lib/systemd/system and /usr/local/lib/systemd/system alike.
install(FILES ${CMAKE_BINARY_DIR}/packaging/postamt.service DESTINATION lib/systemd/system)
