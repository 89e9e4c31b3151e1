"""OBS TTS Queue core: a priority text-to-speech queue that plays one clip at a time."""

from tts_core.config import ConfigError, TTSConfig
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.engines.seed import (
    AzureTTS_Engine,
    EdgeTTSEngine,
    GTTS_Engine,
    PiperTTSEngine,
    Pyttsx3TTSEngine,
)
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.message_queue import QueueFull
from tts_core.storage.journal_store import StorageError

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
