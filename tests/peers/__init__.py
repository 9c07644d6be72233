"""The peer lab: private instances of the real programs Postamt is tested and measured
against, shared by tests/ and bench/. One module per peer:

- base.py: PrivatePeer, the common shape of a peer that is a private process (its own
  directory, start() with a bounded wait until it serves, stop() that leaves no process
  behind, checked by pid; a context manager), and the helpers every peer uses (wait_for,
  free_port, listening, greets, process_tree, unavailable, PeerError).
- postfix.py: PostfixReceiver (receives for a domain into Maildirs, optional STARTTLS) and
  PostfixRelay (accepts from loopback, relays everything to one host:port), each
  `postfix -c DIR start|stop`; postfix_unavailable().
- dovecot.py: DovecotPeer (`dovecot -F -c FILE`: IMAP and/or POP3, passwd-file users,
  Maildirs, possibly a PostfixReceiver's); dovecot_unavailable().
- dns_zone.py: ZoneServer, a dnslib DNS server serving a zone given as data (on port 53 of a
  loopback address of its own for programs that read /etc/resolv.conf:
  loopback_address_with_free_port53()).
- milters.py: OpenDkimPeer and OpenDmarcPeer (`opendkim -f`, `opendmarc -f` on inet or unix
  sockets, resolving against a ZoneServer from a private mount namespace), for
  PostfixReceiver(milters=[...]); milters_unavailable(), non_loopback_address().
- tls.py: make_self_signed() for peers that offer TLS.

Every peer runs on loopback with its own configuration and directories, never as a system
service and never touching /etc/postfix, /etc/dovecot, /var/spool/postfix or /run/dovecot
(the Debian packages are installed with service start-up disabled by
scripts/install-deps.sh). Postfix and Dovecot need root: their masters drop privileges.

Imports: tests/integration/conftest.py puts tests/ on sys.path, bench/lab.py does the same;
then `from peers.postfix import PostfixReceiver`. A new peer (rspamd, pebble)
gets its own module with a PrivatePeer subclass (_start, _processes, _stop, log_files) and
a <name>_unavailable() for skips.

    with PostfixReceiver("remote.test", ["bob"], starttls=True) as mx:
        ...                                   # deliver to mx.smtp
        mx.wait_for_messages("bob")
"""
