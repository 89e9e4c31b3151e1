"""A listener process with a low open-file limit: `fd_limit_child.py NOFILE DATA_DIR OUT_DIR`.

Lowers RLIMIT_NOFILE to NOFILE, starts a persisting queue with the real espeak engine,
the wav-dir sink and the listener on a free port, prints "port <n>" and serves until
stdin closes. Logs go to stderr at INFO (what a streamer's console would show).
"""

from __future__ import annotations

import logging
import resource
import sys

from tts_core import TTSConfig, TTSQueueManager
from tts_core.listener import ListenerServer
from tts_core.sinks import WavDirSink


def main() -> None:
    nofile, data_dir, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = TTSConfig(persist=True, data_dir=data_dir, rate_limit_per_minute=0)
    config.listener.port = 0
    config.listener.unauthenticated_timeout_seconds = 120.0  # keep the idle flood open
    manager = TTSQueueManager(config, sink=WavDirSink(out_dir, speed=0.0))
    manager.start()
    server = ListenerServer(manager)
    server.start()
    print(f"port {server.port}", flush=True)
    sys.stdin.read()
    server.stop()
    manager.stop()


if __name__ == "__main__":
    main()
