"""`python -m crier.sandbox --port 8787`: the platform fakes on one loopback port."""

from __future__ import annotations

import argparse

from crier.sandbox.server import run
from crier.sandbox.state import SandboxConfig


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m crier.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--processing-seconds", type=float, default=SandboxConfig.processing_seconds)
    parser.add_argument("--managed-secret", default=SandboxConfig.managed_secret)
    parser.add_argument("--token-prefix", default=SandboxConfig.token_prefix)
    parser.add_argument(
        "--tiktok-rate-window-seconds",
        type=float,
        default=None,
        help="enforce TikTok's per-token rates over this window (60 on the real platform)",
    )
    args = parser.parse_args()
    base = f"http://{args.host}:{args.port}"
    print(
        f"crier sandbox on {base}\n"
        f"  CRIER_TIKTOK_API_BASE={base}/tiktok\n"
        f"  CRIER_INSTAGRAM_API_BASE={base}/instagram/v25.0\n"
        f"  CRIER_INSTAGRAM_REFRESH_BASE={base}/instagram-refresh\n"
        f"  CRIER_TWILIO_API_BASE={base}/twilio\n"
        f"  CRIER_TIKTOK_AUTHORIZE_URL={base}/tiktok-web/v2/auth/authorize/\n"
        f"  CRIER_INSTAGRAM_AUTHORIZE_URL={base}/instagram-web/oauth/authorize\n"
        f"  CRIER_INSTAGRAM_OAUTH_BASE={base}/instagram-oauth\n"
        f"  managed provider baseUrl={base}/managed (secret {args.managed_secret!r})",
        flush=True,
    )
    config = SandboxConfig(
        processing_seconds=args.processing_seconds,
        managed_secret=args.managed_secret,
        token_prefix=args.token_prefix,
        tiktok_rate_window_seconds=args.tiktok_rate_window_seconds,
    )
    run(args.host, args.port, config=config)


if __name__ == "__main__":
    main()
