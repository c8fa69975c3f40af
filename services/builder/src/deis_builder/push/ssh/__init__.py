"""The SSH front door (the only place asyncssh is used)."""

from deis_builder.push.ssh.server import SshServer, md5_fingerprint

__all__ = ["SshServer", "md5_fingerprint"]
