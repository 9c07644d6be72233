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

# ---- the Debian package (make deb) ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME postamt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Postamt <dev@postamt.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "all-in-one mail server: SMTP, IMAP and POP3")
# The summary is the Description's first line; this is the text under it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Postamt receives, stores, serves and sends mail in one process: SMTP with
submission, IMAP4rev2, POP3, an outbound queue, DKIM signing, SPF/DKIM/DMARC/ARC
checks, spam filtering (rspamd, milters, DNS lists, a built-in classifier) and
abuse defences. The package installs a hardened systemd unit running as the
system user postamt; `postamt quickstart` writes the configuration.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # postamt_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages come from dpkg-shlibdeps; the maintainer scripts need
# adduser and deb-systemd-helper/-invoke (init-system-helpers).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "publicsuffix")  # DMARC's RFC 7489 mode reads its list
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
