"""`grassroots-agent`: run the device agent from a config file."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from grassroots_agent import __version__
from grassroots_agent.config import ConfigError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="grassroots-agent", description=__doc__)
    parser.add_argument("-c", "--config", default="/etc/grassroots-agent.toml", help="TOML config")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--check", action="store_true", help="validate the config and exit")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--enrol", metavar="CODE", help="enrol with a one-time code, write config")
    parser.add_argument("--server", help="server base URL (with --enrol)")
    parser.add_argument("--cache-dir", default="/var/lib/grassroots-agent", help="with --enrol")
    parser.add_argument("--audio", default="ffplay", help="audio backend written by --enrol")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.enrol:
        if not args.server:
            parser.error("--enrol needs --server URL")
        from pathlib import Path
        from urllib.error import URLError

        from grassroots_agent.enrol import enrol

        try:
            answer = enrol(
                server_url=args.server,
                code=args.enrol,
                config_path=Path(args.config),
                cache_dir=args.cache_dir,
                audio=args.audio,
            )
        except (OSError, URLError, ValueError, KeyError) as exc:
            parser.exit(1, f"enrolment failed: {exc}\n")
        print(f"enrolled as device {answer['device_id']}; config written to {args.config}")
        return 0
    try:
        config = load(args.config)
    except (OSError, ConfigError) as exc:
        parser.error(f"cannot read {args.config}: {exc}")
    if args.check:
        print(f"ok: device {config.device_id}, units {', '.join(config.units)}")
        return 0

    from grassroots_agent.agent import Agent

    agent = Agent(config).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())

    # the station's microphone button (a GPIO watcher or the local panel sends these):
    # SIGUSR1 opens the microphone and shares it with the unit's clusters, SIGUSR2 closes it
    def _mic(on: bool) -> None:
        threading.Thread(
            target=(lambda: agent.mic_start(share=True)) if on else agent.mic_stop, daemon=True
        ).start()

    signal.signal(signal.SIGUSR1, lambda *_: _mic(True))
    signal.signal(signal.SIGUSR2, lambda *_: _mic(False))
    done.wait()
    agent.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
