"""``python -m semantify.app.viewport [--entry anny-body|metric|face] [--port P]``: the viewer's
test page."""

import argparse

from semantify.app.viewport.demo import ENTRIES, build_demo

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--entry", default="anny-body", choices=sorted(ENTRIES))
parser.add_argument("--port", type=int, default=7861)
parser.add_argument("--host", default="127.0.0.1")
args = parser.parse_args()
build_demo(args.entry).launch(server_name=args.host, server_port=args.port)
