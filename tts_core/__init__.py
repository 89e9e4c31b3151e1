"""OBS TTS Queue core: a priority text-to-speech queue that plays one clip at a time."""

from tts_core.config import ConfigError, TTSConfig
from tts_core.integration import StreamerBotIntegration
from tts_core.manager import TTSQueueManager
from tts_core.message import MessagePriority, TTSMessage
from tts_core.queue import QueueFull
from tts_core.seed_engines import (
    AzureTTS_Engine,
    EdgeTTSEngine,
    GTTS_Engine,
    PiperTTSEngine,
    Pyttsx3TTSEngine,
)
from tts_core.store import StorageError

__version__ = "0.1.0"

__all__ = [
    "AzureTTS_Engine",
    "ConfigError",
    "EdgeTTSEngine",
    "GTTS_Engine",
    "MessagePriority",
    "PiperTTSEngine",
    "Pyttsx3TTSEngine",
    "QueueFull",
    "StorageError",
    "StreamerBotIntegration",
    "TTSConfig",
    "TTSMessage",
    "TTSQueueManager",
    "__version__",
]
