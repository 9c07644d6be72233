"""The peer lab: private instances of the real programs Postamt is tested and measured
against (a DNS zone server; more join as they are needed), shared by tests/ and bench/.
Every peer runs on loopback with its own configuration and directories, never as a system
service."""
