"""``skylane dashboard [--stack NAME]``: the stack's dashboard on http://127.0.0.1:PORT/dashboard.

For ``ApiAuth=IAM`` a local proxy signs the page's requests (skylane_cli/dashboard_proxy.py);
with ``NONE`` they go unsigned, with ``JWT`` the page's own token goes through. The URL alone
goes to stdout; it runs until Ctrl-C.
"""

import argparse
import sys
import webbrowser
from typing import Any

from skylane_cli.common import CommandError, add_target_arguments, api_url_of, target_from
from skylane_cli.stack_api import ApiError, caller_credentials

API_AUTHS = ("NONE", "IAM", "JWT")


def add_dashboard_parser(commands: Any) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        help="the dashboard on 127.0.0.1, its API requests signed when the API takes IAM auth",
        description="Serves the stack's dashboard on 127.0.0.1 and sends every request the "
        "page makes to the stack's API, SigV4-signed with your AWS credentials when the "
        "stack has ApiAuth=IAM.",
    )
    dashboard.add_argument(
        "--port", type=int, default=0, help="the local port (default: a free one, printed)"
    )
    dashboard.add_argument("--open", action="store_true", help="open the page in a browser")
    dashboard.add_argument(
        "--api-auth",
        choices=API_AUTHS,
        default=None,
        help="how the API authenticates; IAM signs every request (default: the stack's ApiAuth "
        "parameter; the local stack's is NONE)",
    )
    add_target_arguments(dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    from skylane_cli.dashboard_proxy import DashboardProxy, Upstream

    target = target_from(args)
    api_auth = args.api_auth or target.api_auth
    upstream = Upstream(
        api_url_of(target), sigv4_region=target.region if api_auth == "IAM" else None
    )
    if upstream.sigv4_region is not None:
        try:
            caller_credentials()  # say so now rather than on the page's first request
        except ApiError as error:
            raise CommandError(str(error)) from error
    try:
        proxy = DashboardProxy(upstream, port=args.port)
    except OSError as error:
        raise CommandError(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}") from error
    try:
        how = {
            "IAM": f"signed with your AWS credentials for execute-api in {target.region}",
            "JWT": "with the bearer token the page asks for",
        }.get(api_auth, "unsigned")
        print(
            f"the dashboard of {target.name}: requests go to {upstream.base_url}, {how}; "
            "listening on 127.0.0.1 only, Ctrl-C stops",
            file=sys.stderr,
        )
        # The page's path on the API, a stage prefix included (ApiUrl .../prod: /prod/dashboard).
        url = f"{proxy.url}{proxy.api_url.raw_path.decode().rstrip('/')}/dashboard"
        print(url, flush=True)
        if args.open:
            webbrowser.open(url)
        proxy.serve_forever()
    except KeyboardInterrupt:
        return 0
    finally:
        proxy.server_close()
    return 0
