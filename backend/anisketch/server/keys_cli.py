"""`anisketch keys --out DIR`: CURVE key pairs for serving beyond loopback.

    anisketch keys --out keys/                  # server pair + a "client" pair, allow-listed
    anisketch keys --out keys/ --client alice   # one more client pair (the server pair is kept)
    anisketch serve --endpoint tcp://0.0.0.0:5557 --curve-keys keys/
    anisketch client --endpoint tcp://HOST:5557 --curve-keys keys/ --curve-client alice info
"""

from __future__ import annotations

import argparse
import sys

from anisketch.server.security import SecurityError, create_keys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="key folder (created; an existing server pair is kept)")
    parser.add_argument("--client", default="client", help="name of the client pair to create (default client)")


def run(args: argparse.Namespace) -> int:
    try:
        files = create_keys(args.out, args.client)
    except SecurityError as error:
        print(f"anisketch keys: {error}", file=sys.stderr)
        return 1
    print(f"server key pair: {files['server_public']} (public), {files['server_secret']} (keep on the server)")
    print(f"client key pair: {files['client_public']}, {files['client_secret']} (give to that client only)")
    print(f"allow-list:      {files['allow_list']}/ (delete a client's .key there to revoke it)")
    print(f"the client needs {files['server_public'].name} and {files['client_secret'].name}")
    return 0
