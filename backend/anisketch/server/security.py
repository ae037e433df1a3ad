"""CURVE keys and the rule that anything beyond loopback needs them.

Key folder made by `anisketch keys --out DIR`:

    DIR/server.key, DIR/server.key_secret        the server's pair (the secret stays on the server)
    DIR/NAME.key, DIR/NAME.key_secret            one pair per client (NAME defaults to "client")
    DIR/authorized_clients/NAME.key              the allow-list: public keys the server accepts

A client needs `server.key` and its own `NAME.key_secret`; revoking a client is deleting its file from
`authorized_clients/` (the server reads the list at start).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

ALLOW_LIST = "authorized_clients"


class SecurityError(RuntimeError):
    """The server cannot start safely as asked; the message says what to do."""


def is_local(endpoint: str) -> bool:
    """True for endpoints only this machine can reach: tcp on a loopback address, ipc, inproc."""
    scheme, _, address = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # "*", an interface name or a host name: reachable from elsewhere
        return False


def require_curve_beyond_loopback(endpoint: str, keys_dir: str | None) -> None:
    if keys_dir is None and not is_local(endpoint):
        raise SecurityError(
            f"refusing to serve on {endpoint} without authentication: anything beyond loopback "
            f"(tcp://127.0.0.1:PORT) needs CURVE keys. Create them with `anisketch keys --out KEYS`, then "
            f"`anisketch serve --endpoint {endpoint} --curve-keys KEYS`, and give each client server.key "
            f"and its own client.key_secret.")


def create_keys(out: str | os.PathLike, client_name: str = "client") -> dict[str, Path]:
    """Create the server pair (kept if it exists) and one client pair, and allow-list the client."""
    out = Path(out)
    allow = out / ALLOW_LIST
    allow.mkdir(parents=True, exist_ok=True)
    if not (out / "server.key_secret").exists():
        zmq.auth.create_certificates(out, "server")
    if (out / f"{client_name}.key_secret").exists():
        raise SecurityError(f"{out / client_name}.key_secret exists already: choose another --client name")
    zmq.auth.create_certificates(out, client_name)
    shutil.copy(out / f"{client_name}.key", allow / f"{client_name}.key")
    for secret in out.glob("*.key_secret"):
        secret.chmod(0o600)
    return {"server_public": out / "server.key", "server_secret": out / "server.key_secret",
            "client_public": out / f"{client_name}.key", "client_secret": out / f"{client_name}.key_secret",
            "allow_list": allow}


@dataclass
class ServerCurve:
    """CURVE on a server socket: its own key pair plus a ZAP authenticator that checks the allow-list."""

    authenticator: ThreadAuthenticator
    public: bytes
    secret: bytes
    allowed: int

    @classmethod
    def start(cls, context: zmq.Context, keys_dir: str | os.PathLike) -> "ServerCurve":
        keys_dir = Path(keys_dir)
        secret_file, allow = keys_dir / "server.key_secret", keys_dir / ALLOW_LIST
        if not secret_file.exists():
            raise SecurityError(f"{secret_file} not found: create keys with `anisketch keys --out {keys_dir}`")
        allowed = len(list(allow.glob("*.key"))) if allow.is_dir() else 0
        if allowed == 0:
            raise SecurityError(f"no client public keys in {allow}: nobody could connect. "
                                f"Add one with `anisketch keys --out {keys_dir} --client NAME`")
        public, secret = zmq.auth.load_certificate(secret_file)
        if secret is None:
            raise SecurityError(f"{secret_file} holds no secret key")
        authenticator = ThreadAuthenticator(context)
        authenticator.start()
        authenticator.configure_curve(domain="*", location=str(allow))
        return cls(authenticator, public, secret, allowed)

    def apply(self, sock: zmq.Socket) -> None:
        sock.curve_secretkey = self.secret
        sock.curve_publickey = self.public
        sock.curve_server = True

    def stop(self) -> None:
        self.authenticator.stop()


def apply_client_curve(sock: zmq.Socket, keys_dir: str | os.PathLike, client_name: str = "client") -> None:
    keys_dir = Path(keys_dir)
    server_public, _ = zmq.auth.load_certificate(keys_dir / "server.key")
    public, secret = zmq.auth.load_certificate(keys_dir / f"{client_name}.key_secret")
    sock.curve_serverkey = server_public
    sock.curve_publickey = public
    sock.curve_secretkey = secret
