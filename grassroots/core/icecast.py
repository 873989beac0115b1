"""The private Icecast 2 of the embedded default (live audio): its config, written by the platform.

Like the private Mosquitto (`core.broker`), `grassroots run` starts Icecast on a free loopback
port with a configuration written under `$GRASSROOTS_HOME/icecast/`. Settings chosen for speech
delivered live to loudspeakers:

- no burst on connect and a small queue: a listener joins at the live edge (a 64 KB burst is
  ~20 s of 24 kb/s Opus behind the speaker);
- every mount asks the platform whether a listener may listen (`url` authentication,
  `listener_add` → `POST /api/v1/live/icecast/listener`, answered by `live.actions`), so only the
  devices of a session's area and signed-in officers hear it; mount names are random;
- the source and admin passwords are random, kept in the home (mode 0600).

Production: Icecast on its own host behind TLS, one relay per district-sized group of devices
(docs/live.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# A device presents its token to Icecast in this header; Icecast passes it on to the platform.
from grassroots_protocol.messages import LIVE_TOKEN_HEADER as TOKEN_HEADER

SOURCE_USER = "source"
HOOK_USER = "icecast"


def icecast_binary() -> str | None:
    """The Icecast 2 program (Debian names it `icecast2`)."""
    return shutil.which("icecast2") or shutil.which("icecast")


def _secret(home: Path, name: str) -> str:
    path = Path(home) / "icecast" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def source_password(home: Path) -> str:
    """The password a source (our live relay) gives Icecast to publish a mount."""
    return _secret(home, "source-password")


def hook_password(home: Path) -> str:
    """The password Icecast gives the platform when it asks about a listener (HTTP basic)."""
    return _secret(home, "hook-password")


def write_config(home: Path, port: int, auth_url: str, *, host: str = "127.0.0.1") -> Path:
    """Write `$home/icecast/icecast.xml` for a private Icecast on `host:port`; returns its path.

    `auth_url` is the platform's listener hook (`.../api/v1/live/icecast/listener`).
    """
    root = Path(home) / "icecast"
    logs = root / "log"
    logs.mkdir(parents=True, exist_ok=True)
    source = source_password(home)
    hook = hook_password(home)
    admin = _secret(home, "admin-password")
    share = Path("/usr/share/icecast2")
    owner = ""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Icecast refuses to run as root: it drops to nobody (it logs to stderr, so it needs no
        # writable directory in a home nobody may not enter).
        owner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
    text = f"""<icecast>
  <location>grassroots</location>
  <admin>root@localhost</admin>
  <limits>
    <clients>2000</clients>
    <sources>50</sources>
    <queue-size>65536</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>10</header-timeout>
    <source-timeout>5</source-timeout>
    <burst-on-connect>0</burst-on-connect>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>{escape(source)}</source-password>
    <admin-user>admin</admin-user>
    <admin-password>{escape(admin)}</admin-password>
  </authentication>
  <hostname>{escape(host)}</hostname>
  <listen-socket>
    <port>{int(port)}</port>
    <bind-address>{escape(host)}</bind-address>
  </listen-socket>
  <mount type="default">
    <public>0</public>
    <hidden>1</hidden>
    <burst-size>0</burst-size>
    <authentication type="url">
      <option name="listener_add" value={quoteattr(auth_url)}/>
      <option name="username" value="{HOOK_USER}"/>
      <option name="password" value={quoteattr(hook)}/>
      <option name="auth_header" value="icecast-auth-user: 1"/>
      <option name="headers" value="{TOKEN_HEADER.lower()}"/>
      <option name="header_prefix" value="header."/>
    </authentication>
  </mount>
  <fileserve>0</fileserve>
  <paths>
    <basedir>{escape(str(root))}</basedir>
    <logdir>{escape(str(logs))}</logdir>
    <webroot>{escape(str(share / "web"))}</webroot>
    <adminroot>{escape(str(share / "admin"))}</adminroot>
  </paths>
  <logging>
    <accesslog>-</accesslog>
    <errorlog>-</errorlog>
    <loglevel>2</loglevel>
    <logsize>10000</logsize>
  </logging>
  <security><chroot>0</chroot>{owner}</security>
</icecast>
"""
    conf = root / "icecast.xml"
    conf.write_text(text)
    conf.chmod(0o600)  # it holds the passwords; Icecast reads it before dropping root
    return conf
